// Tendermint consensus (Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus", 2018) as a
// pure state machine: Step(event) returns the actions to carry out. No sockets, threads, clocks,
// disk or randomness; the node owns those (consensus/events.h lists what flows each way).
//
// One height at a time. Each round has a proposer (consensus/proposer.h) and three steps: propose,
// prevote, precommit. "Quorum" is more than 2/3 of the voting power (ValidatorSet::QuorumPower); a
// "polka" is a quorum of prevotes for one block in one round. The rules, numbered as the paper's
// Algorithm 1 lines:
//  11  Starting round r, the proposer re-proposes its valid value with pol_round = its valid round,
//      or asks the node for a new block (RequestProposalValue). Every node arms the propose
//      timeout.
//  22  Proposal with pol_round -1, at step propose: prevote it if the node finds it valid and this
//      validator is unlocked or locked on that block; otherwise prevote nil.
//  28  Proposal with pol_round vr < r backed by a polka in round vr, at step propose: prevote it if
//      valid and locked in round <= vr or on that block; otherwise nil.
//  34  Any prevote quorum in the current round, at step prevote: arm the prevote timeout (once).
//  36  A polka for a valid block in the current round, at step prevote or later (once per round):
//      at step prevote, lock on it and precommit it; in any case remember it as the valid value.
//  44  A polka for nil in the current round, at step prevote: precommit nil.
//  47  Any precommit quorum in the current round: arm the precommit timeout (once).
//  49  A precommit quorum for a valid block in any round of this height: commit it (CommitBlock
//  with
//      the certificate), then wait for Start of the next height.
//  55  Round skip: when validators holding more than 1/3 of the power have been seen voting in
//      rounds above ours, move to the highest round r such that those seen at r or above still hold
//      more than 1/3. Among them is an honest validator, so no faulty minority can drag us ahead.
//  57-65 Timeouts: propose -> prevote nil; prevote -> precommit nil; precommit -> next round.
// Locks and valid values last for one height. Safety needs nothing but these rules and less than
// 1/3 faulty power; liveness also needs every message to reach every honest node eventually, which
// the node provides by relaying what Gossip() returns while progress stalls, and by block sync
// (CommitReceived) for a node that fell a height behind.
//
// Every input is checked: chain id, height, a known validator, the signature over
// SigningHash(chain_id, kVote or kProposal, bytes), the round's proposer, the block's hash. Bad
// input is dropped and reported (InputDropped, with a peer_fault flag for scoring); it never
// aborts. Two votes of one validator for different blocks in one slot become Evidence; only the
// first counts. Messages for the next height are kept (up to kMaxBufferedMessages) until it starts.
//
// Values are blocks the engine treats as opaque bytes, named by a hash (EngineConfig::block_hash)
// and judged by the node (ValidateBlock -> BlockValidated); the node's own proposal counts as
// valid.
//
// Not thread-safe: one caller at a time, in the node's consensus loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "consensus/events.h"
#include "consensus/proposer.h"
#include "consensus/signer.h"
#include "consensus/timeouts.h"
#include "consensus/validator_set.h"
#include "consensus/vote_set.h"

namespace puhui::consensus {

// Votes and proposals more than this many rounds ahead are not stored (they still count towards a
// round skip): a faulty validator cannot fill memory with far-future rounds.
inline constexpr uint32_t kMaxRoundsAhead = 100;
// Rounds at or beyond this are malformed; no honest network gets near it, and round + 1 never
// wraps.
inline constexpr uint32_t kMaxRound = 1u << 30;
// Distinct proposals kept per round; more can only come from a proposer that signs many.
inline constexpr size_t kMaxProposalsPerRound = 4;
// Votes kept per validator, round and type: more than one only from an equivocator (vote_set.h);
// beyond this, only its votes for nil or for blocks this node holds are kept.
inline constexpr size_t kMaxVotesPerSlot = 2;
// Messages for the next height held until it starts.
inline constexpr size_t kMaxBufferedMessages = 1024;

// Names a block: returns its hash, or nullopt if the bytes are not a block at all.
using BlockHashFn = std::function<std::optional<Hash32>(std::string_view block)>;
// The hash of a serialised pb::Block: BlockHash of its header bytes.
std::optional<Hash32> HashOfBlock(std::string_view block);

struct EngineConfig {
  std::string chain_id;
  std::optional<Hash32> validator_key;  // this node's key; nullopt to follow without voting
  TimeoutConfig timeouts;
  BlockHashFn block_hash = HashOfBlock;
};

class Engine {
 public:
  // `signer` signs with `config.validator_key`; it may be null if there is no key and must outlive
  // the engine.
  Engine(EngineConfig config, Signer* signer);

  std::vector<Action> Step(const Event& event);

  // What a peer that missed some traffic needs at this height, as Broadcast actions: this
  // validator's own votes of every round, all votes held for the previous, current and later
  // rounds, the proposals held for the current round and the valid round, and the polka behind the
  // valid value. Tendermint's liveness assumes that correct nodes relay what they receive; this is
  // that relay, for the node to send while progress stalls. Receivers drop copies they hold without
  // checking signatures again, so resending is cheap.
  std::vector<Action> Gossip() const;

  bool started() const { return started_; }
  uint64_t height() const { return height_; }
  uint32_t round() const { return round_; }
  RoundStep step() const { return step_; }
  // True from CommitBlock until the next Start.
  bool decided() const { return decided_; }
  int64_t locked_round() const { return locked_round_; }
  const std::optional<Hash32>& locked_value() const { return locked_value_; }
  int64_t valid_round() const { return valid_round_; }
  const std::optional<Hash32>& valid_value() const { return valid_value_; }
  const ValidatorSet& validators() const { return validators_; }

  // Key of the proposer of `round` at the current height (requires started()).
  const std::string& ProposerOf(uint32_t round);

  // One line for logs: height, round, step, lock, valid value and the power behind each block in
  // the rounds held.
  std::string DebugString() const;

 private:
  enum class Validity { kPending, kValid, kInvalid };
  enum class VoteSource { kPeer, kSelf, kCertificate };

  struct StoredProposal {
    pb::Proposal proposal;
    pb::SignedProposal signed_proposal;
    Hash32 block_hash{};
  };
  struct Candidate {
    std::string bytes;
    Validity validity = Validity::kPending;
  };
  struct RoundVotes {
    VoteSet prevotes;
    VoteSet precommits;
  };
  using Buffered = std::variant<pb::SignedProposal, pb::SignedVote>;

  // Inputs (engine_input.cpp): check, store, report.
  void OnStart(const Start& start);
  void OnProposal(const pb::SignedProposal& signed_proposal);
  void OnVote(const pb::SignedVote& signed_vote, VoteSource source);
  void OnTimeout(const TimeoutFired& timeout);
  void OnBlockValidated(const BlockValidated& result);
  void OnValueReady(const ValueReady& value);
  void OnCommitReceived(const CommitReceived& received);
  // Keeps a message for height_ + 1; false if it is for any other height.
  bool BufferIfNext(uint64_t height, Buffered message);
  void Drop(Status reason, bool peer_fault);

  // The rules (engine.cpp). Advance fires enabled rules until none is.
  void Advance();
  bool TryDecide();               // 49
  bool TrySkipRound();            // 55
  bool TryPrevoteProposal();      // 22, 28
  bool TryArmPrevoteTimeout();    // 34
  bool TryLockOnPolka();          // 36
  bool TryPrecommitNil();         // 44
  bool TryArmPrecommitTimeout();  // 47

  void StartRound(uint32_t round);
  void Propose(const Hash32& block_hash, int64_t pol_round);
  void CastVote(pb::VoteType type, const std::optional<Hash32>& block_hash);
  void RegisterBlock(const Hash32& block_hash, const std::string& bytes, Validity validity);
  Validity ValidityOf(const Hash32& block_hash) const;
  const VoteSet* Votes(uint32_t round, pb::VoteType type) const;
  void ArmTimeout(RoundStep step);
  void Emit(Action action) { out_.push_back(std::move(action)); }

  EngineConfig config_;
  Signer* signer_ = nullptr;

  bool started_ = false;
  bool decided_ = false;
  uint64_t height_ = 0;
  uint32_t round_ = 0;
  RoundStep step_ = RoundStep::kPropose;
  ValidatorSet validators_;
  std::optional<ProposerSchedule> proposers_;
  uint64_t last_block_time_ms_ = 0;
  uint64_t now_ms_ = 0;

  std::optional<Hash32> locked_value_;
  int64_t locked_round_ = -1;
  std::optional<Hash32> valid_value_;
  int64_t valid_round_ = -1;

  // "For the first time" conditions of the current round.
  bool prevote_timeout_armed_ = false;
  bool precommit_timeout_armed_ = false;
  bool polka_handled_ = false;
  bool value_requested_ = false;

  // Everything received for this height.
  std::map<uint32_t, RoundVotes> votes_;
  std::map<uint32_t, std::vector<StoredProposal>> proposals_;
  std::map<Hash32, Candidate> blocks_;
  struct Seen {
    uint32_t round = 0;  // the highest round this validator voted in
    uint64_t power = 0;
  };
  std::map<std::string, Seen> highest_round_;                           // by validator key
  std::set<std::tuple<std::string, uint32_t, int>> evidence_reported_;  // validator, round, type
  std::vector<Buffered> next_height_;

  std::vector<Action> out_;  // actions of the Step in progress
};

}  // namespace puhui::consensus
