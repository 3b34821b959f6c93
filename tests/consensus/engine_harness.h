// Helpers for the engine's unit tests: validator sets of named test keys, hand-made signed votes
// and proposals, action filters, and a tiny lossless in-order cluster that runs engines to a
// commit.
#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "consensus/engine.h"
#include "memory_signer.h"
#include "test_util.h"

namespace puhui::testing {

using consensus::Action;
using consensus::Engine;
using consensus::Event;

// Blocks in these tests are opaque strings named by their SHA-256.
inline std::optional<Hash32> TestBlockHash(std::string_view block) { return Sha256(block); }
inline Hash32 HashOf(const std::string& block) { return Sha256(block); }

// A validator set of named test keys, sorted by key as ValidatorSet requires.
inline ValidatorSet MakeSet(const std::vector<std::pair<std::string, uint64_t>>& powers) {
  auto sorted = powers;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return RawAddr(a.first) < RawAddr(b.first); });
  pb::ValidatorSet set;
  for (const auto& [name, power] : sorted) {
    auto* v = set.add_validators();
    v->set_pub_key(RawAddr(name));
    v->set_power(power);
    v->set_name(name);
  }
  return *ValidatorSet::FromProto(set);
}

inline std::string NameOf(const ValidatorSet& set, const std::string& key) {
  for (const auto& v : set.proto().validators()) {
    if (v.pub_key() == key) return v.name();
  }
  return "?";
}

inline consensus::EngineConfig ConfigFor(const std::string& name) {
  consensus::EngineConfig config;
  config.chain_id = kChainId;
  config.validator_key = KeyOf(name).Public().bytes;
  config.block_hash = TestBlockHash;
  return config;
}

inline pb::SignedVote MakeVote(const std::string& who, pb::VoteType type, uint64_t height,
                               uint32_t round, const std::optional<Hash32>& block,
                               uint64_t time_ms = 1000, const std::string& chain = kChainId) {
  pb::Vote v;
  v.set_chain_id(chain);
  v.set_type(type);
  v.set_height(height);
  v.set_round(round);
  if (block) v.set_block_hash(ToString(ByteView(*block)));
  v.set_validator(RawAddr(who));
  v.set_time_ms(time_ms);
  return SignVote(v, chain, KeyOf(who));
}

inline pb::SignedProposal MakeProposal(const std::string& who, uint64_t height, uint32_t round,
                                       const std::string& block, int64_t pol_round = -1) {
  pb::Proposal p;
  p.set_chain_id(kChainId);
  p.set_height(height);
  p.set_round(round);
  p.set_pol_round(pol_round);
  p.set_block_hash(ToString(ByteView(HashOf(block))));
  p.set_block(block);
  p.set_proposer(RawAddr(who));
  return consensus::SignProposal(p, kChainId, KeyOf(who));
}

inline Event At(uint64_t now_ms, consensus::EventBody body) {
  return Event{now_ms, std::move(body)};
}

template <class T>
std::vector<T> All(const std::vector<Action>& actions) {
  std::vector<T> out;
  for (const Action& a : actions) {
    if (const T* t = std::get_if<T>(&a)) out.push_back(*t);
  }
  return out;
}

// The votes of one type among `actions`, parsed.
inline std::vector<pb::Vote> VotesOf(const std::vector<Action>& actions, pb::VoteType type) {
  std::vector<pb::Vote> out;
  for (const auto& b : All<consensus::BroadcastVote>(actions)) {
    pb::Vote v;
    v.ParseFromString(b.vote.vote());
    if (v.type() == type) out.push_back(v);
  }
  return out;
}

// One engine under test with its signer.
struct TestNode {
  explicit TestNode(const std::string& who)
      : name(who), signer(kChainId, KeyOf(who)), engine(ConfigFor(who), &signer) {}
  std::string name;
  MemorySigner signer;
  Engine engine;
};

// Engines that hear every broadcast at once, in order, and whose node answers every request at
// once: enough to watch the happy path end to end.
class TestCluster {
 public:
  explicit TestCluster(const std::vector<std::pair<std::string, uint64_t>>& powers)
      : set_(MakeSet(powers)) {
    for (const auto& v : set_.proto().validators())
      nodes_.push_back(std::make_unique<TestNode>(v.name()));
  }

  void StartAll(uint64_t height) {
    for (size_t i = 0; i < nodes_.size(); ++i)
      queue_.push_back({i, consensus::Start{height, set_, 0}});
    Run();
  }

  void Run() {
    while (!queue_.empty()) {
      auto [to, body] = std::move(queue_.front());
      queue_.pop_front();
      for (Action& a : nodes_[to]->engine.Step(At(now_ms_, std::move(body)))) Handle(to, a);
      now_ms_ += 1;
    }
  }

  const ValidatorSet& set() const { return set_; }
  size_t size() const { return nodes_.size(); }
  TestNode& node(size_t i) { return *nodes_[i]; }
  const std::map<size_t, std::vector<consensus::CommitBlock>>& commits() const { return commits_; }

 private:
  void Handle(size_t from, Action& action) {
    if (auto* p = std::get_if<consensus::BroadcastProposal>(&action)) {
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (i != from) queue_.push_back({i, consensus::ProposalReceived{p->proposal}});
      }
    } else if (auto* v = std::get_if<consensus::BroadcastVote>(&action)) {
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (i != from) queue_.push_back({i, consensus::VoteReceived{v->vote}});
      }
    } else if (auto* r = std::get_if<consensus::RequestProposalValue>(&action)) {
      std::string block =
          std::to_string(r->height) + "/" + std::to_string(r->round) + "/" + nodes_[from]->name;
      queue_.push_back({from, consensus::ValueReady{r->height, r->round, block}});
    } else if (auto* check = std::get_if<consensus::ValidateBlock>(&action)) {
      queue_.push_back({from, consensus::BlockValidated{check->block_hash, true}});
    } else if (auto* c = std::get_if<consensus::CommitBlock>(&action)) {
      commits_[from].push_back(*c);
    }
  }

  ValidatorSet set_;
  std::vector<std::unique_ptr<TestNode>> nodes_;
  std::deque<std::pair<size_t, consensus::EventBody>> queue_;
  std::map<size_t, std::vector<consensus::CommitBlock>> commits_;
  uint64_t now_ms_ = 1'000'000;
};

}  // namespace puhui::testing
