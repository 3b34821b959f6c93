#include "cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <set>
#include <tuple>

#include "byzantine.h"
#include "chain/hash.h"
#include "consensus/engine.h"
#include "memory_signer.h"

namespace puhui::sim {

const char* BehaviourName(Behaviour behaviour) {
  switch (behaviour) {
    case Behaviour::kHonest: return "honest";
    case Behaviour::kSilent: return "silent";
    case Behaviour::kEquivocate: return "equivocating";
    case Behaviour::kGarbage: return "garbage";
  }
  return "unknown";
}

std::string Outcome::Summary() const {
  return fmt::format(
      "seed {}: {} heights {}..{}, max round {}, {} commits, {} evidence, {} faults dropped, "
      "{} messages ({} lost), healed at {} ms, ended at {} ms",
      seed, ok() ? "ok" : "FAILED (" + failure + ")", min_height, max_height, max_round, commits,
      evidence, faults_dropped, messages, lost, heal_ms, end_ms);
}

namespace {

using namespace consensus;

// Work on the simulated clock, in order of time and then of scheduling.
struct Item {
  enum class Kind { kDeliver, kTimeout, kGossip, kStart, kNetworkChange, kHeal, kGarbage, kSync };
  uint64_t at_ms = 0;
  uint64_t seq = 0;
  Kind kind = Kind::kDeliver;
  size_t node = 0;
  size_t from = 0;
  Message message{};
  TimeoutFired timeout{};
  uint64_t height = 0;        // kStart
  uint64_t last_time_ms = 0;  // kStart
};

struct Later {
  bool operator()(const Item& a, const Item& b) const {
    return std::tie(a.at_ms, a.seq) > std::tie(b.at_ms, b.seq);
  }
};

struct Decision {
  Hash32 hash{};
  std::string block;
  pb::Commit commit;
  uint64_t time_ms = 0;
};

struct Node {
  std::string name;
  Behaviour behaviour = Behaviour::kHonest;
  PrivateKey key;
  std::unique_ptr<Signer> signer{};
  std::unique_ptr<Engine> engine{};
  std::map<uint64_t, Decision> decided{};
  std::pair<uint64_t, bool> gossip_mark{0, false};  // (height, decided) at the last gossip tick
  std::map<std::pair<size_t, uint64_t>, uint64_t> synced{};  // (peer, height) -> when last sent
  std::map<std::pair<uint64_t, uint32_t>, std::string> evil_hash{};  // equivocator's 2nd blocks
};

class Cluster {
 public:
  Cluster(const Scenario& scenario, uint64_t seed, bool trace)
      : scenario_(scenario), rng_(seed), trace_(trace) {
    outcome_.seed = seed;
    PUHUI_CHECK(scenario.powers.size() == scenario.behaviours.size(), "one behaviour per node");
    pb::ValidatorSet set;
    std::vector<std::pair<std::string, size_t>> by_key;
    uint64_t faulty_power = 0;
    uint64_t total_power = 0;
    for (size_t i = 0; i < scenario.powers.size(); ++i) {
      Node node{.name = "n" + std::to_string(i),
                .behaviour = scenario.behaviours[i],
                .key = *PrivateKey::FromBytes(Sha256("sim validator " + std::to_string(i)))};
      by_key.emplace_back(ToString(ByteView(node.key.Public().bytes)), i);
      total_power += scenario.powers[i];
      if (node.behaviour != Behaviour::kHonest) faulty_power += scenario.powers[i];
      nodes_.push_back(std::move(node));
    }
    PUHUI_CHECK(faulty_power * 3 < total_power, "the scenario keeps faulty power below 1/3");
    std::sort(by_key.begin(), by_key.end());
    for (const auto& [key, i] : by_key) {
      auto* v = set.add_validators();
      v->set_pub_key(key);
      v->set_power(scenario.powers[i]);
      v->set_name(nodes_[i].name);
    }
    set_ = *ValidatorSet::FromProto(set);
    for (Node& node : nodes_) {
      EngineConfig config;
      config.chain_id = kSimChainId;
      config.validator_key = node.key.Public().bytes;
      config.timeouts = scenario.timeouts;
      config.block_hash = [](std::string_view block) -> std::optional<Hash32> {
        return Sha256(block);
      };
      if (node.behaviour == Behaviour::kEquivocate) {
        node.signer = std::make_unique<RecklessSigner>(node.key);
      } else {
        node.signer = std::make_unique<testing::MemorySigner>(kSimChainId, node.key);
      }
      node.engine = std::make_unique<Engine>(config, node.signer.get());
      if (node.behaviour == Behaviour::kHonest && victim_.empty()) {
        victim_ = ToString(ByteView(node.key.Public().bytes));
      }
    }
  }

  Outcome Run() {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Item start{.kind = Item::Kind::kStart, .node = i, .height = 1};
      Push(Uniform(0, 100), std::move(start));
      Push(scenario_.gossip_interval_ms + Uniform(0, 100),
           Item{.kind = Item::Kind::kGossip, .node = i});
      if (nodes_[i].behaviour == Behaviour::kGarbage) {
        Push(200, Item{.kind = Item::Kind::kGarbage, .node = i});
      }
    }
    Push(0, Item{.kind = Item::Kind::kNetworkChange});
    Push(scenario_.chaos_ms, Item{.kind = Item::Kind::kHeal});
    const uint64_t deadline = scenario_.chaos_ms + scenario_.heal_deadline_ms;
    while (!queue_.empty() && outcome_.ok()) {
      Item item = queue_.top();
      queue_.pop();
      if (item.at_ms > deadline) break;
      now_ms_ = item.at_ms;
      Dispatch(item);
      if (healed_ && LivenessReached()) break;
    }
    if (outcome_.ok() && !LivenessReached()) {
      Fail(fmt::format("liveness: {} ms after healing, not every honest node reached height {}: {}",
                       scenario_.heal_deadline_ms, heal_target_, Heights()));
    }
    Finish();
    return outcome_;
  }

 private:
  // ------------------------------------------------------------ scheduling and the network

  uint64_t Uniform(uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_);
  }
  bool Chance(uint32_t per_mille) { return per_mille > 0 && Uniform(0, 999) < per_mille; }

  void Push(uint64_t delay_ms, Item item) {
    item.at_ms = now_ms_ + delay_ms;
    item.seq = next_seq_++;
    queue_.push(std::move(item));
  }

  void Send(size_t from, size_t to, const Message& message) {
    ++outcome_.messages;
    const bool cut = partitioned_ && group_[from] != group_[to];
    if (cut || Chance(drop_per_mille_)) {
      ++outcome_.lost;
      return;
    }
    const uint64_t copies = Chance(scenario_.duplicate_per_mille) ? 2 : 1;
    for (uint64_t c = 0; c < copies; ++c) {
      Push(Uniform(scenario_.min_delay_ms, max_delay_ms_),
           Item{.kind = Item::Kind::kDeliver, .node = to, .from = from, .message = message});
    }
  }

  // Sends `message` to every peer, or, for an equivocator, `message` to some and `twin` to others.
  void Broadcast(size_t from, const Message& message, const Message* twin = nullptr) {
    for (size_t to = 0; to < nodes_.size(); ++to) {
      if (to == from) continue;
      Send(from, to, twin != nullptr && Uniform(0, 1) == 1 ? *twin : message);
    }
  }

  void ChangeNetwork() {
    drop_per_mille_ = static_cast<uint32_t>(Uniform(0, scenario_.max_drop_per_mille));
    max_delay_ms_ = scenario_.chaos_max_delay_ms;
    partitioned_ = scenario_.partitions && Uniform(0, 1) == 1;
    if (partitioned_) {
      // A random split into two non-empty sides: a bit mask other than all zeros or all ones.
      const uint64_t mask = Uniform(1, (uint64_t{1} << nodes_.size()) - 2);
      group_.resize(nodes_.size());
      for (size_t i = 0; i < nodes_.size(); ++i) group_[i] = (mask >> i) & 1;
    }
    Trace(fmt::format("network: drop {}‰, partition {}", drop_per_mille_,
                      partitioned_ ? Groups() : std::string("none")));
    const uint64_t next = Uniform(scenario_.min_network_period_ms, scenario_.max_network_period_ms);
    if (now_ms_ + next < scenario_.chaos_ms) Push(next, Item{.kind = Item::Kind::kNetworkChange});
  }

  void Heal() {
    healed_ = true;
    partitioned_ = false;
    drop_per_mille_ = 0;
    max_delay_ms_ = scenario_.healed_max_delay_ms;
    outcome_.heal_ms = now_ms_;
    uint64_t highest = 0;
    for (const Node& node : nodes_) {
      if (node.behaviour == Behaviour::kHonest) highest = std::max(highest, TopHeight(node));
    }
    heal_target_ = highest + scenario_.heights_after_heal;
    Trace(fmt::format("healed; target height {}; {}", heal_target_, Heights()));
    TraceEngines();
  }

  // ------------------------------------------------------------ dispatch

  void Dispatch(Item& item) {
    Node& node = nodes_[item.node];
    switch (item.kind) {
      case Item::Kind::kDeliver: return Deliver(item);
      case Item::Kind::kTimeout: return Feed(item.node, item.timeout, item.node);
      case Item::Kind::kStart:
        return Feed(item.node, Start{item.height, set_, item.last_time_ms}, item.node);
      case Item::Kind::kGossip: {
        const std::pair<uint64_t, bool> mark{node.engine->height(), node.engine->decided()};
        if (Speaks(node) && node.engine->started() && mark == node.gossip_mark) {
          for (const Action& a : node.engine->Gossip()) SendOwn(item.node, a, /*honestly=*/true);
        }
        node.gossip_mark = mark;
        Push(scenario_.gossip_interval_ms, Item{.kind = Item::Kind::kGossip, .node = item.node});
        return;
      }
      case Item::Kind::kSync: return Send(item.node, item.from, item.message);  // to the peer
      case Item::Kind::kNetworkChange: return ChangeNetwork();
      case Item::Kind::kHeal: return Heal();
      case Item::Kind::kGarbage:
        if (node.engine->started()) {
          Message junk = Garbage(rng_, *node.engine, node.key, victim_);
          if (Uniform(0, 3) == 0) {
            Broadcast(item.node, junk);
          } else {
            size_t to = Uniform(0, nodes_.size() - 2);
            Send(item.node, to >= item.node ? to + 1 : to, junk);
          }
        }
        Push(Uniform(50, 400), Item{.kind = Item::Kind::kGarbage, .node = item.node});
        return;
    }
  }

  void Deliver(const Item& item) {
    const Message& m = item.message;
    switch (m.kind) {
      case Message::Kind::kProposal: {
        pb::SignedProposal sp;
        if (!sp.ParseFromString(m.bytes)) return;  // the transport drops undecodable frames
        pb::Proposal p;
        if (p.ParseFromString(sp.proposal())) MaybeSync(item.node, item.from, p.height());
        return Feed(item.node, ProposalReceived{sp}, item.from);
      }
      case Message::Kind::kVote: {
        pb::SignedVote sv;
        if (!sv.ParseFromString(m.bytes)) return;
        pb::Vote v;
        if (v.ParseFromString(sv.vote())) MaybeSync(item.node, item.from, v.height());
        return Feed(item.node, VoteReceived{sv}, item.from);
      }
      case Message::Kind::kSync: {
        pb::Commit commit;
        if (!commit.ParseFromString(m.bytes)) return;
        return Feed(item.node, CommitReceived{m.block, commit}, item.from);
      }
    }
  }

  // Block sync: a peer is still at a height this node has committed.
  void MaybeSync(size_t self, size_t peer, uint64_t peer_height) {
    Node& node = nodes_[self];
    auto it = node.decided.find(peer_height);
    if (!Speaks(node) || it == node.decided.end() || node.engine->height() <= peer_height) return;
    auto [last, fresh] = node.synced.try_emplace({peer, peer_height}, now_ms_);
    if (!fresh && now_ms_ < last->second + scenario_.sync_delay_ms) return;
    last->second = now_ms_;
    Item sync{
        .kind = Item::Kind::kSync,
        .node = self,
        .from = peer,
        .message = {Message::Kind::kSync, it->second.commit.SerializeAsString(), it->second.block}};
    Push(scenario_.sync_delay_ms, std::move(sync));
  }

  // Steps a node's engine with `body` and everything its simulated node answers at once.
  void Feed(size_t self, EventBody body, size_t from) {
    std::deque<EventBody> local;
    local.push_back(std::move(body));
    while (!local.empty() && outcome_.ok()) {
      auto actions = nodes_[self].engine->Step(Event{now_ms_, std::move(local.front())});
      local.pop_front();
      for (Action& a : actions) Handle(self, a, from, local);
      from = self;  // answers to our own requests come from no peer
    }
    if (nodes_[self].behaviour == Behaviour::kHonest) {
      outcome_.max_round = std::max(outcome_.max_round, nodes_[self].engine->round());
    }
  }

  void Handle(size_t self, Action& action, size_t from, std::deque<EventBody>& local) {
    Node& node = nodes_[self];
    const bool honest = node.behaviour == Behaviour::kHonest;
    if (auto* request = std::get_if<RequestProposalValue>(&action)) {
      local.push_back(ValueReady{request->height, request->round,
                                 SimBlock(request->height, request->round, node.name)});
    } else if (auto* check = std::get_if<ValidateBlock>(&action)) {
      local.push_back(BlockValidated{
          check->block_hash, SimBlockValid(check->height, check->block, check->block_hash)});
    } else if (auto* timer = std::get_if<ScheduleTimeout>(&action)) {
      Push(timer->duration_ms, Item{.kind = Item::Kind::kTimeout,
                                    .node = self,
                                    .timeout = {timer->height, timer->round, timer->step}});
    } else if (auto* commit = std::get_if<CommitBlock>(&action)) {
      OnCommit(self, *commit);
    } else if (auto* evidence = std::get_if<Evidence>(&action)) {
      OnEvidence(self, *evidence);
    } else if (auto* dropped = std::get_if<InputDropped>(&action)) {
      if (!dropped->peer_fault) return;
      ++outcome_.faults_dropped;
      if (from != self && nodes_[from].behaviour == Behaviour::kHonest) {
        Fail(fmt::format("{} dropped a message of honest {} as faulty: {}", node.name,
                         nodes_[from].name, dropped->reason.ToString()));
      }
    } else if (auto* failed = std::get_if<SignFailed>(&action)) {
      if (honest)
        Fail(fmt::format("honest {} asked to sign a conflict: {}", node.name,
                         failed->status.ToString()));
    } else {
      SendOwn(self, action, /*honestly=*/false);
    }
  }

  // A broadcast of a node's engine, shaped by the node's behaviour.
  void SendOwn(size_t self, const Action& action, bool honestly) {
    Node& node = nodes_[self];
    if (!Speaks(node)) return;
    const bool equivocate = !honestly && node.behaviour == Behaviour::kEquivocate;
    if (const auto* p = std::get_if<BroadcastProposal>(&action)) {
      Message message{Message::Kind::kProposal, p->proposal.SerializeAsString(), {}};
      if (!equivocate) return Broadcast(self, message);
      pb::SignedProposal evil = ConflictingProposal(p->proposal, node.name, node.key);
      pb::Proposal parsed;
      parsed.ParseFromString(evil.proposal());
      node.evil_hash[{parsed.height(), parsed.round()}] = parsed.block_hash();
      Message twin{Message::Kind::kProposal, evil.SerializeAsString(), {}};
      return Broadcast(self, message, &twin);
    }
    if (const auto* v = std::get_if<BroadcastVote>(&action)) {
      Message message{Message::Kind::kVote, v->vote.SerializeAsString(), {}};
      if (!equivocate) return Broadcast(self, message);
      pb::Vote parsed;
      parsed.ParseFromString(v->vote.vote());
      auto evil = node.evil_hash.find({parsed.height(), parsed.round()});
      pb::SignedVote twin_vote = ConflictingVote(
          v->vote, evil == node.evil_hash.end() ? std::string() : evil->second, node.key);
      Message twin{Message::Kind::kVote, twin_vote.SerializeAsString(), {}};
      return Broadcast(self, message, &twin);
    }
  }

  static bool Speaks(const Node& node) {
    return node.behaviour == Behaviour::kHonest || node.behaviour == Behaviour::kEquivocate;
  }

  // ------------------------------------------------------------ checks

  void OnCommit(size_t self, const CommitBlock& c) {
    Node& node = nodes_[self];
    if (node.behaviour != Behaviour::kHonest) {
      node.decided[c.height] = Decision{c.block_hash, c.block, c.commit, c.time_ms};
      Push(scenario_.commit_pause_ms, Item{.kind = Item::Kind::kStart,
                                           .node = self,
                                           .height = c.height + 1,
                                           .last_time_ms = c.time_ms});
      return;
    }
    ++outcome_.commits;
    const std::string where = fmt::format("{} at height {}", node.name, c.height);
    if (!SimBlockValid(c.height, c.block, c.block_hash))
      return Fail("invalid block committed by " + where);
    const std::string key = c.commit.SerializeAsString();
    if (!verified_.contains(key)) {
      Status s = VerifyCommit(kSimChainId, set_, c.height, c.block_hash, c.commit);
      if (!s.ok()) return Fail("certificate of " + where + " does not verify: " + s.ToString());
      verified_.insert(key);
    }
    if (node.decided.contains(c.height)) return Fail("second commit by " + where);
    auto [agreed, first] = agreed_.try_emplace(c.height, std::make_pair(c.block_hash, node.name));
    if (!first && agreed->second.first != c.block_hash) {
      return Fail(fmt::format("safety: {} committed '{}' but {} committed another block", where,
                              c.block, agreed->second.second));
    }
    auto previous = node.decided.find(c.height - 1);
    if (previous != node.decided.end() && c.time_ms <= previous->second.time_ms) {
      return Fail(fmt::format("block time of {} is {} ms, not after {} ms", where, c.time_ms,
                              previous->second.time_ms));
    }
    node.decided[c.height] = Decision{c.block_hash, c.block, c.commit, c.time_ms};
    Trace(fmt::format("{} commits '{}' in round {}", where, c.block, c.round));
    Push(scenario_.commit_pause_ms, Item{.kind = Item::Kind::kStart,
                                         .node = self,
                                         .height = c.height + 1,
                                         .last_time_ms = c.time_ms});
  }

  void OnEvidence(size_t self, const Evidence& e) {
    ++outcome_.evidence;
    pb::Vote a;
    pb::Vote b;
    if (!a.ParseFromString(e.first.vote()) || !b.ParseFromString(e.second.vote()) ||
        a.validator() != b.validator() || a.height() != b.height() || a.round() != b.round() ||
        a.type() != b.type() || a.block_hash() == b.block_hash() ||
        !VerifyVoteSignature(kSimChainId, e.first, a.validator()) ||
        !VerifyVoteSignature(kSimChainId, e.second, b.validator())) {
      return Fail(nodes_[self].name + " reported evidence that proves nothing");
    }
    for (const Node& node : nodes_) {
      if (ToString(ByteView(node.key.Public().bytes)) == a.validator() &&
          node.behaviour == Behaviour::kHonest) {
        return Fail(nodes_[self].name + " reported evidence against honest " + node.name);
      }
    }
  }

  bool LivenessReached() const {
    for (const Node& node : nodes_) {
      if (node.behaviour == Behaviour::kHonest && TopHeight(node) < heal_target_) return false;
    }
    return true;
  }

  static uint64_t TopHeight(const Node& node) {
    return node.decided.empty() ? 0 : node.decided.rbegin()->first;
  }

  void Finish() {
    outcome_.end_ms = now_ms_;
    outcome_.min_height = UINT64_MAX;
    for (const Node& node : nodes_) {
      if (node.behaviour != Behaviour::kHonest) continue;
      outcome_.min_height = std::min(outcome_.min_height, TopHeight(node));
      outcome_.max_height = std::max(outcome_.max_height, TopHeight(node));
    }
  }

  void Fail(const std::string& why) {
    if (outcome_.ok()) outcome_.failure = fmt::format("at {} ms: {}", now_ms_, why);
    Trace("FAILURE: " + why);
    TraceEngines();
  }

  void TraceEngines() const {
    for (const Node& node : nodes_)
      Trace(fmt::format("  {}: {}", node.name, node.engine->DebugString()));
  }

  std::string Heights() const {
    std::string out;
    for (const Node& node : nodes_) {
      out += fmt::format("{}{}({}) h{} r{} ", node.name,
                         node.behaviour == Behaviour::kHonest ? "" : "*",
                         BehaviourName(node.behaviour), TopHeight(node), node.engine->round());
    }
    return out;
  }

  std::string Groups() const {
    std::string out;
    for (size_t i = 0; i < nodes_.size(); ++i)
      out += fmt::format("{}:{} ", nodes_[i].name, group_[i]);
    return out;
  }

  void Trace(const std::string& line) const {
    if (trace_) fmt::print("[{:>7} ms] {}\n", now_ms_, line);
  }

  const Scenario& scenario_;
  std::mt19937_64 rng_;
  bool trace_ = false;
  std::vector<Node> nodes_;
  ValidatorSet set_;
  std::string victim_;  // an honest key the garbage node impersonates

  std::priority_queue<Item, std::vector<Item>, Later> queue_;
  uint64_t now_ms_ = 0;
  uint64_t next_seq_ = 0;
  uint32_t drop_per_mille_ = 0;
  uint64_t max_delay_ms_ = 0;
  bool partitioned_ = false;
  std::vector<size_t> group_;
  bool healed_ = false;
  uint64_t heal_target_ = 0;

  std::map<uint64_t, std::pair<Hash32, std::string>> agreed_;  // height -> (block, first node)
  std::set<std::string> verified_;                             // certificates already checked
  Outcome outcome_;
};

}  // namespace

Outcome Run(const Scenario& scenario, uint64_t seed, bool trace) {
  Cluster cluster(scenario, seed, trace);
  return cluster.Run();
}

}  // namespace puhui::sim
