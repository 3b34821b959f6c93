// The engine's inputs: every message from outside is checked before it is stored, and whatever is
// not used is reported (InputDropped) with a flag saying whether it proves the sender wrong.
#include <fmt/format.h>

#include "chain/limits.h"
#include "consensus/engine.h"

namespace puhui::consensus {
namespace {

std::string Short(std::string_view key) { return Hex(AsBytes(key.substr(0, 4))); }

}  // namespace

void Engine::Drop(Status reason, bool peer_fault) {
  Emit(InputDropped{std::move(reason), peer_fault});
}

bool Engine::BufferIfNext(uint64_t height, Buffered message) {
  if (height != height_ + 1) return false;
  if (next_height_.size() < kMaxBufferedMessages) {
    next_height_.push_back(std::move(message));
  } else {
    Drop(ResourceExhausted(fmt::format("buffer for height {} is full", height)), false);
  }
  return true;
}

void Engine::OnStart(const Start& start) {
  if (start.height == 0) return Drop(InvalidArgument("consensus starts at height 1"), false);
  if (start.validators.total_power() == 0) return Drop(InvalidArgument("no validators"), false);
  if (started_ && start.height <= height_) {
    return Drop(
        FailedPrecondition(fmt::format("start of height {} at height {}", start.height, height_)),
        false);
  }
  const bool same_set = proposers_.has_value() && validators_.hash() == start.validators.hash();
  std::vector<Buffered> buffered;
  if (start.height == height_ + 1) buffered.swap(next_height_);
  next_height_.clear();

  validators_ = start.validators;
  if (same_set) {
    proposers_->MoveTo(start.height);
  } else {
    proposers_.emplace(validators_, start.height);
  }
  started_ = true;
  decided_ = false;
  height_ = start.height;
  last_block_time_ms_ = start.last_block_time_ms;
  locked_value_.reset();
  locked_round_ = -1;
  valid_value_.reset();
  valid_round_ = -1;
  votes_.clear();
  proposals_.clear();
  blocks_.clear();
  highest_round_.clear();
  evidence_reported_.clear();

  StartRound(0);
  for (const Buffered& message : buffered) {
    if (const auto* p = std::get_if<pb::SignedProposal>(&message)) {
      OnProposal(*p);
    } else {
      OnVote(std::get<pb::SignedVote>(message), VoteSource::kPeer);
    }
  }
}

void Engine::OnProposal(const pb::SignedProposal& signed_proposal) {
  pb::Proposal p;
  if (!p.ParseFromString(signed_proposal.proposal())) {
    return Drop(InvalidArgument("proposal does not parse"), true);
  }
  if (p.chain_id() != config_.chain_id) {
    return Drop(InvalidArgument(fmt::format("proposal for chain '{}'", p.chain_id())), true);
  }
  if (!started_) return Drop(FailedPrecondition("consensus has not started"), false);
  if (p.height() != height_) {
    if (BufferIfNext(p.height(), signed_proposal)) return;
    return Drop(
        FailedPrecondition(fmt::format("proposal for height {} at height {}", p.height(), height_)),
        false);
  }
  if (p.round() >= kMaxRound) {
    return Drop(InvalidArgument(fmt::format("proposal round {} is out of range", p.round())), true);
  }
  if (p.pol_round() < -1 || p.pol_round() >= int64_t{p.round()}) {
    return Drop(InvalidArgument(fmt::format("proposal pol_round {} is not in [-1, {})",
                                            p.pol_round(), p.round())),
                true);
  }
  auto block_hash = ToHash32(AsBytes(p.block_hash()));
  if (!block_hash) return Drop(InvalidArgument("proposal block hash is not 32 bytes"), true);
  if (p.block().size() > kMaxBlockBytes) {
    return Drop(InvalidArgument(fmt::format("proposed block of {} bytes", p.block().size())), true);
  }
  if (p.round() > round_ + kMaxRoundsAhead) {
    return Drop(
        FailedPrecondition(fmt::format("proposal for round {} at round {}", p.round(), round_)),
        false);
  }
  if (p.proposer() != ProposerOf(p.round())) {
    return Drop(
        PermissionDenied(fmt::format("proposal at height {} round {} from {}, not the proposer",
                                     p.height(), p.round(), Short(p.proposer()))),
        true);
  }
  auto held = proposals_.find(p.round());
  if (held != proposals_.end()) {
    for (const StoredProposal& s : held->second) {
      if (s.signed_proposal.proposal() != signed_proposal.proposal()) continue;
      if (s.signed_proposal.signature() != signed_proposal.signature() &&
          !VerifyProposalSignature(config_.chain_id, signed_proposal, p.proposer())) {
        return Drop(Unauthenticated("proposal signature does not verify"), true);
      }
      return Drop(AlreadyExists(fmt::format("proposal for round {} already held", p.round())),
                  false);
    }
  }
  if (!VerifyProposalSignature(config_.chain_id, signed_proposal, p.proposer())) {
    return Drop(Unauthenticated("proposal signature does not verify"), true);
  }
  // Checked here so that one hash names one block, and a verdict on a hash is a verdict on the
  // bytes.
  auto computed = config_.block_hash(p.block());
  if (!computed || *computed != *block_hash) {
    return Drop(InvalidArgument("proposed block does not hash to the proposal's block_hash"), true);
  }
  auto& list = proposals_[p.round()];
  if (list.size() >= kMaxProposalsPerRound) {
    return Drop(
        ResourceExhausted(fmt::format("{} proposals held for round {}", list.size(), p.round())),
        false);
  }
  list.push_back({p, signed_proposal, *block_hash});
  RegisterBlock(*block_hash, p.block(), Validity::kPending);
}

void Engine::OnVote(const pb::SignedVote& signed_vote, VoteSource source) {
  // Only messages from peers are reported; our own votes and certificate votes are known good.
  auto drop = [&](Status reason, bool peer_fault) {
    if (source == VoteSource::kPeer) Drop(std::move(reason), peer_fault);
  };
  pb::Vote v;
  if (!v.ParseFromString(signed_vote.vote()))
    return drop(InvalidArgument("vote does not parse"), true);
  if (v.chain_id() != config_.chain_id) {
    return drop(InvalidArgument(fmt::format("vote for chain '{}'", v.chain_id())), true);
  }
  if (v.type() != pb::VOTE_PREVOTE && v.type() != pb::VOTE_PRECOMMIT) {
    return drop(InvalidArgument(fmt::format("vote of unknown type {}", static_cast<int>(v.type()))),
                true);
  }
  if (!started_) return drop(FailedPrecondition("consensus has not started"), false);
  if (v.height() != height_) {
    if (BufferIfNext(v.height(), signed_vote)) return;
    return drop(
        FailedPrecondition(fmt::format("vote for height {} at height {}", v.height(), height_)),
        false);
  }
  if (v.round() >= kMaxRound) {
    return drop(InvalidArgument(fmt::format("vote round {} is out of range", v.round())), true);
  }
  if (!v.block_hash().empty() && v.block_hash().size() != 32) {
    return drop(InvalidArgument("vote block hash is neither empty nor 32 bytes"), true);
  }
  auto key = ToHash32(AsBytes(v.validator()));
  auto power = key ? validators_.PowerOf(*key) : std::nullopt;
  if (!power) {
    return drop(
        PermissionDenied(fmt::format("vote from {}, not a validator", Short(v.validator()))), true);
  }
  const VoteSet* set = Votes(v.round(), v.type());
  const VoteSet::Entry* same = set != nullptr ? set->Find(v.validator(), v.block_hash()) : nullptr;
  if (same != nullptr) {
    // A copy needs no second signature check unless its signature differs; another vote for the
    // same block (another time) adds nothing either.
    if (same->signed_vote.vote() == signed_vote.vote() && source == VoteSource::kPeer &&
        same->signed_vote.signature() != signed_vote.signature() &&
        !VerifyVoteSignature(config_.chain_id, signed_vote, v.validator())) {
      return drop(Unauthenticated("vote signature does not verify"), true);
    }
    return drop(AlreadyExists("vote for this block already held"), false);
  }
  if (source == VoteSource::kPeer &&
      !VerifyVoteSignature(config_.chain_id, signed_vote, v.validator())) {
    return drop(
        Unauthenticated(fmt::format("vote signature of {} does not verify", Short(v.validator()))),
        true);
  }

  auto [seen, fresh] = highest_round_.try_emplace(v.validator(), Seen{v.round(), *power});
  if (!fresh) seen->second.round = std::max(seen->second.round, v.round());
  // Far-future votes only count towards a round skip (above); a certificate is stored whatever its
  // round, as it is one quorum of checked votes.
  if (v.round() > round_ + kMaxRoundsAhead && source != VoteSource::kCertificate) return;

  if (set != nullptr && set->CountOf(v.validator()) > 0) {
    // Equivocation: report it once per slot, and keep counting the vote (vote_set.h says why) if
    // it can matter: for nil or a block we hold. Beyond kMaxVotesPerSlot other votes are dropped,
    // so an equivocator cannot fill memory with votes for made-up blocks.
    if (evidence_reported_.insert({v.validator(), v.round(), static_cast<int>(v.type())}).second) {
      Emit(Evidence{set->First(v.validator())->signed_vote, signed_vote});
    }
    auto hash = ToHash32(AsBytes(v.block_hash()));
    const bool matters = v.block_hash().empty() || (hash && blocks_.contains(*hash));
    if (!matters && set->CountOf(v.validator()) >= kMaxVotesPerSlot) {
      return drop(ResourceExhausted("too many conflicting votes of one validator"), false);
    }
  }
  RoundVotes& votes = votes_[v.round()];
  (v.type() == pb::VOTE_PREVOTE ? votes.prevotes : votes.precommits).Add(v, signed_vote, *power);
}

void Engine::OnTimeout(const TimeoutFired& timeout) {
  // Timers are never cancelled; one from an earlier round or height simply finds nothing to do.
  if (!started_ || decided_ || timeout.height != height_ || timeout.round != round_) return;
  switch (timeout.step) {
    case RoundStep::kPropose:
      if (step_ == RoundStep::kPropose) {
        step_ = RoundStep::kPrevote;
        CastVote(pb::VOTE_PREVOTE, std::nullopt);
      }
      break;
    case RoundStep::kPrevote:
      if (step_ == RoundStep::kPrevote) {
        step_ = RoundStep::kPrecommit;
        CastVote(pb::VOTE_PRECOMMIT, std::nullopt);
      }
      break;
    case RoundStep::kPrecommit:
      if (round_ + 1 < kMaxRound) StartRound(round_ + 1);
      break;
  }
}

void Engine::OnBlockValidated(const BlockValidated& result) {
  auto it = blocks_.find(result.block_hash);
  if (!started_ || it == blocks_.end() || it->second.validity != Validity::kPending) {
    return Drop(FailedPrecondition("no block awaits this verdict"), false);
  }
  it->second.validity = result.valid ? Validity::kValid : Validity::kInvalid;
}

void Engine::OnValueReady(const ValueReady& value) {
  if (!started_ || decided_ || value.height != height_ || value.round != round_ ||
      step_ != RoundStep::kPropose || !value_requested_) {
    return Drop(FailedPrecondition(fmt::format("no block was asked for height {} round {}",
                                               value.height, value.round)),
                false);
  }
  auto hash = config_.block_hash(value.block);
  if (!hash) return Drop(InvalidArgument("the node's own block has no hash"), false);
  value_requested_ = false;
  // The node built this block itself, so it needs no second opinion.
  RegisterBlock(*hash, value.block, Validity::kValid);
  Propose(*hash, -1);
}

void Engine::OnCommitReceived(const CommitReceived& received) {
  const pb::Commit& commit = received.commit;
  if (!started_) return Drop(FailedPrecondition("consensus has not started"), false);
  if (commit.height() != height_ || decided_) {
    return Drop(
        FailedPrecondition(fmt::format("commit for height {} at height {}{}", commit.height(),
                                       height_, decided_ ? " (decided)" : "")),
        false);
  }
  auto hash = ToHash32(AsBytes(commit.block_hash()));
  if (!hash) return Drop(InvalidArgument("commit block hash is not 32 bytes"), true);
  auto computed = config_.block_hash(received.block);
  if (!computed || *computed != *hash) {
    return Drop(InvalidArgument("synced block does not hash to the commit's block hash"), true);
  }
  Status verified = VerifyCommit(config_.chain_id, validators_, height_, *hash, commit);
  if (!verified.ok()) return Drop(std::move(verified), true);
  // The certificate's precommits join the vote sets; rule 49 then decides once the node has judged
  // the block, as for any other block.
  RegisterBlock(*hash, received.block, Validity::kPending);
  for (const pb::SignedVote& vote : commit.precommits()) OnVote(vote, VoteSource::kCertificate);
}

}  // namespace puhui::consensus
