// The rules of Tendermint's Algorithm 1 (see engine.h for the list) and the engine's own actions:
// starting rounds, proposing, voting, arming timers, committing. Input checks are in
// engine_input.cpp.
#include "consensus/engine.h"

#include <fmt/format.h>

#include <algorithm>

#include "chain/limits.h"
#include "chain/signing.h"
#include "consensus/block_time.h"

namespace puhui::consensus {
namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

std::string HashString(const Hash32& hash) { return ToString(ByteView(hash)); }

// Each rule firing moves the round or step forward or sets a once-per-round flag, so a Step fires a
// bounded number of rules; a count beyond this means a rule fires without changing anything.
constexpr int kMaxFiringsPerStep = 100'000;

}  // namespace

const char* RoundStepName(RoundStep step) {
  switch (step) {
    case RoundStep::kPropose: return "propose";
    case RoundStep::kPrevote: return "prevote";
    case RoundStep::kPrecommit: return "precommit";
  }
  return "unknown";
}

std::optional<Hash32> HashOfBlock(std::string_view block) {
  if (block.size() > kMaxBlockBytes) return std::nullopt;
  pb::Block parsed;
  if (!parsed.ParseFromArray(block.data(), static_cast<int>(block.size()))) return std::nullopt;
  return BlockHash(AsBytes(parsed.header()));
}

Engine::Engine(EngineConfig config, Signer* signer) : config_(std::move(config)), signer_(signer) {
  PUHUI_CHECK(!config_.validator_key || signer_ != nullptr, "a validator engine needs a signer");
  PUHUI_CHECK(static_cast<bool>(config_.block_hash), "the engine needs a block hash function");
}

std::vector<Action> Engine::Step(const Event& event) {
  out_.clear();
  now_ms_ = event.now_ms;
  std::visit(Overloaded{
                 [this](const Start& e) { OnStart(e); },
                 [this](const ProposalReceived& e) { OnProposal(e.proposal); },
                 [this](const VoteReceived& e) { OnVote(e.vote, VoteSource::kPeer); },
                 [this](const TimeoutFired& e) { OnTimeout(e); },
                 [this](const BlockValidated& e) { OnBlockValidated(e); },
                 [this](const ValueReady& e) { OnValueReady(e); },
                 [this](const CommitReceived& e) { OnCommitReceived(e); },
             },
             event.body);
  if (started_) Advance();
  std::vector<Action> out;
  out.swap(out_);
  return out;
}

const std::string& Engine::ProposerOf(uint32_t round) {
  PUHUI_CHECK(started_ && proposers_.has_value(), "the proposer is known once started");
  return validators_.proto()
      .validators(static_cast<int>(proposers_->ProposerIndex(round)))
      .pub_key();
}

// ---------------------------------------------------------------- rules

void Engine::Advance() {
  for (int firings = 0; !decided_; ++firings) {
    PUHUI_CHECK(firings < kMaxFiringsPerStep, "consensus rules keep firing without progress");
    const bool fired = TryDecide() || TrySkipRound() || TryPrevoteProposal() ||
                       TryArmPrevoteTimeout() || TryLockOnPolka() || TryPrecommitNil() ||
                       TryArmPrecommitTimeout();
    if (!fired) break;
  }
}

bool Engine::TryDecide() {
  const uint64_t quorum = validators_.QuorumPower();
  for (const auto& [r, votes] : votes_) {
    auto block = votes.precommits.BlockWithPower(quorum);
    if (!block) continue;
    const Hash32 hash = *ToHash32(AsBytes(*block));  // vote hashes were checked to be 32 bytes
    auto it = blocks_.find(hash);
    // The paper's valid(v): the block must be known and judged valid by the node.
    if (it == blocks_.end() || it->second.validity != Validity::kValid) continue;
    CommitBlock commit;
    commit.height = height_;
    commit.round = r;
    commit.block_hash = hash;
    commit.block = it->second.bytes;
    commit.commit.set_height(height_);
    commit.commit.set_round(r);
    commit.commit.set_block_hash(*block);
    for (const auto& [key, by_block] : votes.precommits.entries()) {
      auto entry = by_block.find(*block);
      if (entry != by_block.end()) *commit.commit.add_precommits() = entry->second.signed_vote;
    }
    commit.time_ms = WeightedMedianTimeMs(commit.commit, validators_);
    decided_ = true;
    Emit(std::move(commit));
    return true;
  }
  return false;
}

bool Engine::TrySkipRound() {
  std::vector<Seen> ahead;
  for (const auto& [key, seen] : highest_round_) {
    if (seen.round > round_) ahead.push_back(seen);
  }
  if (ahead.empty()) return false;
  std::sort(ahead.begin(), ahead.end(),
            [](const Seen& a, const Seen& b) { return a.round > b.round; });
  uint64_t power = 0;
  for (const Seen& seen : ahead) {
    power += seen.power;
    if (power >= validators_.OneThirdPlusPower()) {
      StartRound(seen.round);
      return true;
    }
  }
  return false;
}

bool Engine::TryPrevoteProposal() {
  if (step_ != RoundStep::kPropose) return false;
  auto it = proposals_.find(round_);
  if (it == proposals_.end()) return false;
  for (const StoredProposal& p : it->second) {
    const int64_t pol_round = p.proposal.pol_round();
    if (pol_round >= 0) {  // line 28 waits for the polka the proposal refers to
      const VoteSet* polka = Votes(static_cast<uint32_t>(pol_round), pb::VOTE_PREVOTE);
      if (polka == nullptr ||
          polka->PowerFor(HashString(p.block_hash)) < validators_.QuorumPower()) {
        continue;
      }
    }
    const Validity validity = ValidityOf(p.block_hash);
    if (validity == Validity::kPending) continue;  // the node has not judged the block yet
    const bool lock_allows = pol_round >= 0 ? locked_round_ <= pol_round : locked_round_ == -1;
    const bool accept =
        validity == Validity::kValid && (lock_allows || locked_value_ == p.block_hash);
    step_ = RoundStep::kPrevote;
    CastVote(pb::VOTE_PREVOTE, accept ? std::optional<Hash32>(p.block_hash) : std::nullopt);
    return true;
  }
  return false;
}

bool Engine::TryArmPrevoteTimeout() {
  if (step_ != RoundStep::kPrevote || prevote_timeout_armed_) return false;
  const VoteSet* prevotes = Votes(round_, pb::VOTE_PREVOTE);
  if (prevotes == nullptr || prevotes->total_power() < validators_.QuorumPower()) return false;
  prevote_timeout_armed_ = true;
  ArmTimeout(RoundStep::kPrevote);
  return true;
}

bool Engine::TryLockOnPolka() {
  if (step_ == RoundStep::kPropose || polka_handled_) return false;
  const VoteSet* prevotes = Votes(round_, pb::VOTE_PREVOTE);
  if (prevotes == nullptr) return false;
  auto block = prevotes->BlockWithPower(validators_.QuorumPower());
  if (!block) return false;
  const Hash32 hash = *ToHash32(AsBytes(*block));
  if (ValidityOf(hash) != Validity::kValid) return false;  // unknown or pending: wait for it
  polka_handled_ = true;
  if (step_ == RoundStep::kPrevote) {
    locked_value_ = hash;
    locked_round_ = round_;
    step_ = RoundStep::kPrecommit;
    CastVote(pb::VOTE_PRECOMMIT, hash);
  }
  valid_value_ = hash;
  valid_round_ = round_;
  return true;
}

bool Engine::TryPrecommitNil() {
  if (step_ != RoundStep::kPrevote) return false;
  const VoteSet* prevotes = Votes(round_, pb::VOTE_PREVOTE);
  if (prevotes == nullptr || prevotes->PowerFor("") < validators_.QuorumPower()) return false;
  step_ = RoundStep::kPrecommit;
  CastVote(pb::VOTE_PRECOMMIT, std::nullopt);
  return true;
}

bool Engine::TryArmPrecommitTimeout() {
  if (precommit_timeout_armed_) return false;
  const VoteSet* precommits = Votes(round_, pb::VOTE_PRECOMMIT);
  if (precommits == nullptr || precommits->total_power() < validators_.QuorumPower()) return false;
  precommit_timeout_armed_ = true;
  ArmTimeout(RoundStep::kPrecommit);
  return true;
}

// ---------------------------------------------------------------- own actions

void Engine::StartRound(uint32_t round) {
  round_ = round;
  step_ = RoundStep::kPropose;
  prevote_timeout_armed_ = false;
  precommit_timeout_armed_ = false;
  polka_handled_ = false;
  value_requested_ = false;
  // Armed for the proposer too (the paper arms it only for others): if the node never supplies a
  // value, the round still ends.
  ArmTimeout(RoundStep::kPropose);
  if (!config_.validator_key || ProposerOf(round) != HashString(*config_.validator_key)) return;
  if (valid_value_) {
    Propose(*valid_value_, valid_round_);
  } else {
    value_requested_ = true;
    Emit(RequestProposalValue{height_, round});
  }
}

void Engine::Propose(const Hash32& block_hash, int64_t pol_round) {
  auto it = blocks_.find(block_hash);
  PUHUI_CHECK(it != blocks_.end(), "a proposed block is held");
  pb::Proposal proposal;
  proposal.set_chain_id(config_.chain_id);
  proposal.set_height(height_);
  proposal.set_round(round_);
  proposal.set_pol_round(pol_round);
  proposal.set_block_hash(HashString(block_hash));
  proposal.set_block(it->second.bytes);
  proposal.set_proposer(HashString(*config_.validator_key));
  auto signed_proposal = signer_->SignProposal(proposal);
  if (!signed_proposal.ok()) {
    Emit(SignFailed{signed_proposal.status()});
    return;
  }
  if (signed_proposal->proposal() != EncodeProposal(proposal)) {
    Emit(SignFailed{Internal("the signer returned a proposal other than the one asked for")});
    return;
  }
  proposals_[round_].push_back({proposal, *signed_proposal, block_hash});
  Emit(BroadcastProposal{*signed_proposal});
}

void Engine::CastVote(pb::VoteType type, const std::optional<Hash32>& block_hash) {
  if (!config_.validator_key || !validators_.PowerOf(*config_.validator_key)) return;
  pb::Vote vote;
  vote.set_chain_id(config_.chain_id);
  vote.set_type(type);
  vote.set_height(height_);
  vote.set_round(round_);
  if (block_hash) vote.set_block_hash(HashString(*block_hash));
  vote.set_validator(HashString(*config_.validator_key));
  // Block time must increase, whatever this node's clock says (consensus/block_time.h).
  vote.set_time_ms(std::max(now_ms_, last_block_time_ms_ + 1));
  auto signed_vote = signer_->SignVote(vote);
  if (!signed_vote.ok()) {
    Emit(SignFailed{signed_vote.status()});
    return;
  }
  if (signed_vote->vote() != EncodeVote(vote)) {
    Emit(SignFailed{Internal("the signer returned a vote other than the one asked for")});
    return;
  }
  OnVote(*signed_vote, VoteSource::kSelf);
  Emit(BroadcastVote{*signed_vote});
}

void Engine::ArmTimeout(RoundStep step) {
  Emit(ScheduleTimeout{height_, round_, step, config_.timeouts.DurationMs(step, round_)});
}

void Engine::RegisterBlock(const Hash32& block_hash, const std::string& bytes, Validity validity) {
  auto [it, inserted] = blocks_.try_emplace(block_hash, Candidate{bytes, validity});
  if (!inserted) {
    // Bytes with one hash are one block (the hash was checked), so only the verdict can change.
    if (it->second.validity == Validity::kPending && validity == Validity::kValid) {
      it->second.validity = Validity::kValid;
    }
    return;
  }
  if (validity == Validity::kPending) Emit(ValidateBlock{height_, block_hash, bytes});
}

Engine::Validity Engine::ValidityOf(const Hash32& block_hash) const {
  auto it = blocks_.find(block_hash);
  return it == blocks_.end() ? Validity::kPending : it->second.validity;
}

const VoteSet* Engine::Votes(uint32_t round, pb::VoteType type) const {
  auto it = votes_.find(round);
  if (it == votes_.end()) return nullptr;
  return type == pb::VOTE_PREVOTE ? &it->second.prevotes : &it->second.precommits;
}

// ---------------------------------------------------------------- gossip and logs

std::string Engine::DebugString() const {
  auto short_hash = [](std::string_view hash) {
    return hash.empty() ? std::string("nil") : Hex(AsBytes(hash.substr(0, 3)));
  };
  auto opt_hash = [&](const std::optional<Hash32>& h) {
    return h ? short_hash(AsString(ByteView(*h))) : std::string("-");
  };
  std::string out =
      fmt::format("h{} r{} {}{} locked {}@{} valid {}@{}", height_, round_, RoundStepName(step_),
                  decided_ ? " decided" : "", opt_hash(locked_value_), locked_round_,
                  opt_hash(valid_value_), valid_round_);
  for (const auto& [r, votes] : votes_) {
    out += fmt::format(" | r{}", r);
    for (const VoteSet* set : {&votes.prevotes, &votes.precommits}) {
      out += set == &votes.prevotes ? " pv" : " pc";
      std::map<std::string, uint64_t> power;
      for (const auto& [key, by_block] : set->entries()) {
        for (const auto& [block, entry] : by_block) power[block] += entry.power;
      }
      for (const auto& [block, p] : power) out += fmt::format(" {}:{}", short_hash(block), p);
    }
    auto proposals = proposals_.find(r);
    if (proposals != proposals_.end()) {
      for (const StoredProposal& p : proposals->second) {
        out += fmt::format(" prop {}", short_hash(p.proposal.block_hash()));
      }
    }
  }
  return out;
}

std::vector<Action> Engine::Gossip() const {
  std::vector<Action> out;
  if (!started_) return out;
  auto add_proposals = [&](int64_t r) {
    if (r < 0) return;
    auto it = proposals_.find(static_cast<uint32_t>(r));
    if (it == proposals_.end()) return;
    for (const StoredProposal& p : it->second) out.push_back(BroadcastProposal{p.signed_proposal});
  };
  add_proposals(round_);
  if (valid_round_ != int64_t{round_}) add_proposals(valid_round_);

  const std::string own =
      config_.validator_key ? HashString(*config_.validator_key) : std::string();
  const std::string valid = valid_value_ ? HashString(*valid_value_) : std::string();
  for (const auto& [r, votes] : votes_) {
    // The previous round too: the precommit quorum that timed it out may have included a vote that
    // only this node received, and peers still in that round need the same quorum to leave it.
    const bool recent = r + 1 >= round_;
    for (const auto& [key, by_block] : votes.prevotes.entries()) {
      for (const auto& [block, entry] : by_block) {
        const bool polka = int64_t{r} == valid_round_ && block == valid;
        if (key == own || recent || polka) out.push_back(BroadcastVote{entry.signed_vote});
      }
    }
    for (const auto& [key, by_block] : votes.precommits.entries()) {
      for (const auto& [block, entry] : by_block) {
        if (key == own || recent) out.push_back(BroadcastVote{entry.signed_vote});
      }
    }
  }
  return out;
}

}  // namespace puhui::consensus
