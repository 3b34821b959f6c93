// The node's consensus loop: one thread that owns the Tendermint engine (consensus/engine.h) and
// carries out what it asks — broadcast proposals and votes, run timers, build a block when this
// validator proposes, check a proposed block (Ledger::Validate), commit a decided block
// (Ledger::Commit) and start the next height. It also runs block sync: peers announce their
// committed height; a node behind asks for the blocks it lacks and commits each one whose
// certificate verifies against its validator set, without checking transaction signatures again
// (the validators that signed the certificate did).
//
// Pacing: a height starts no sooner than the genesis block interval after the previous one
// started, and only when transactions wait, when a peer has already moved on, or after
// `idle_intervals` intervals (an empty block keeps the chain's clock moving); a full block's worth
// of waiting transactions starts it at once.
//
// An observer (no validator key in the set) runs the same loop without signing: it follows votes
// and commits, and syncs.
//
// Threads: Run() is the loop; the On* methods queue input from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <vector>

#include "chain/bytes.h"
#include "chain/keys.h"
#include "consensus/engine.h"
#include "node/ledger.h"
#include "node/mempool.h"
#include "node/sign_guard.h"
#include "node/verifier_pool.h"
#include "puhui.pb.h"

namespace puhui {

// How the loop reaches the network; the node wires these to its PeerSet.
struct DriverNetwork {
  std::function<void(const pb::P2pMessage&)> broadcast;
  // To every peer but `from`.
  std::function<void(const pb::P2pMessage&, const PublicKey& from)> relay;
  std::function<void(const PublicKey& peer, const pb::P2pMessage&)> send_to;
  std::function<void(const PublicKey& peer, int score, const std::string& reason)> misbehaved;
  // After each commit at `height`: offer waiting transactions again to peers that missed some
  // (Node::Reoffer).
  std::function<void(uint64_t height)> reoffer;
  // This node's count of relayed transactions refused for lack of room, for its status messages.
  std::function<uint64_t()> relays_refused;
};

struct DriverOptions {
  static constexpr uint64_t kDefaultIdleIntervals = 10;
  static constexpr uint64_t kDefaultStatusIntervalMs = 1'000;

  std::function<uint64_t()> clock_ms;  // wall clock, stamped into votes only
  consensus::TimeoutConfig timeouts;
  uint64_t idle_intervals = kDefaultIdleIntervals;
  uint64_t status_interval_ms = kDefaultStatusIntervalMs;  // announce height, relay if stalled
  // A validator of a multi-validator network listens this long after starting before it signs:
  // if its sign record was restored from an older copy, the votes it signed before come back
  // from stalled peers (they relay every status interval) and are adopted first.
  uint64_t startup_listen_ms = 2 * kDefaultStatusIntervalMs;
};

// A snapshot for node_status.
struct ConsensusStatus {
  uint64_t height = 0;  // the height being decided
  uint32_t round = 0;
  std::string step;
  uint64_t best_peer_height = 0;
  uint64_t evidence_seen = 0;
  // Signatures checked in blocks: transactions of proposed (or decided) blocks that this node did
  // not hold when it checked the block. The rest of its checks were made at admission.
  uint64_t checked_in_blocks = 0;
};

inline constexpr uint32_t kMaxSyncBlocksPerRequest = 16;

class ConsensusDriver {
 public:
  // `guard` and `validator_key` are null/nullopt for an observer.
  ConsensusDriver(Ledger& ledger, Mempool& mempool, VerifierPool& verifier, SignGuard* guard,
                  std::optional<PrivateKey> validator_key, DriverNetwork network,
                  DriverOptions options);
  ~ConsensusDriver();

  // Finishes a block this validator signed before a crash when its own precommit certifies it
  // (a network it can commit alone); otherwise does nothing. Call before Run.
  Status Recover();
  // The loop; returns when stop is requested or on an error that must stop the node.
  Status Run(std::stop_token stop);

  // Input from the network: proposals, votes, peers' status and synced blocks.
  void OnPeerMessage(const PublicKey& peer, pb::P2pMessage message);
  void OnPeerConnected(const PublicKey& peer);
  // Transactions entered the mempool: a waiting height may start.
  void OnTxsAdmitted();

  ConsensusStatus Snapshot() const;
  // Duplicate-vote evidence seen and not yet committed (committed evidence is in state).
  std::vector<pb::DuplicateVoteEvidence> PendingEvidence() const;

 private:
  struct Input {
    PublicKey peer;
    pb::P2pMessage message;
  };

  uint64_t Now() const { return options_.clock_ms(); }
  pb::P2pMessage StatusMessage() const;
  // Whether this node's key is in the set that signs the next block.
  bool Votes() const;
  Status HandleInput(Input input);
  Status Step(consensus::EventBody body, const PublicKey* from = nullptr);
  // Carries out actions; block checks and built values queue their answers on `pending`.
  Status Carry(std::vector<consensus::Action> actions, const PublicKey* from,
               std::deque<consensus::EventBody>* pending);
  Status BuildValue(const consensus::RequestProposalValue& request,
                    std::deque<consensus::EventBody>& next);
  Status CommitDecided(const consensus::CommitBlock& decided);
  Status OnSyncBlock(const PublicKey& peer, const pb::SyncBlock& block);
  // Keeps evidence for the next proposal (and relays it) unless already kept or committed.
  void AddEvidence(const pb::DuplicateVoteEvidence& evidence, const Bytes& key,
                   const PublicKey* from);
  Status StartHeight();
  bool ReadyToStart() const;
  void RequestBlocksIfBehind();
  void AfterCommit(const ExecutedBlock& block);
  // Drops from the mempool what the block consumed (its senders' used nonces) and what expired.
  void UpdateMempool(const ExecutedBlock& block);
  // Adds a checked block's own signature checks to status_.checked_in_blocks.
  void CountChecked(const ExecutedBlock& block);
  // Puts transactions whose signatures a proposal's check verified into the mempool, as each
  // slice of them is checked (Ledger::Validate's on_verified).
  void KeepChecked(std::span<const DecodedTx* const> verified, uint64_t height);
  Status TickAll();
  void PublishStatus();

  Ledger& ledger_;
  Mempool& mempool_;
  VerifierPool& verifier_;
  SignGuard* guard_;
  std::optional<PrivateKey> key_;
  PublicKey pub_{};  // key_'s, derived once (an EC multiplication each time otherwise)
  DriverNetwork network_;
  DriverOptions options_;
  std::unique_ptr<consensus::Signer> signer_;
  std::unique_ptr<consensus::Engine> engine_;

  // Loop state (the loop thread only).
  std::map<Hash32, ExecutedBlock> executed_;  // blocks of the current height, checked or built
  std::multimap<uint64_t, consensus::TimeoutFired> timers_;  // by deadline
  bool waiting_to_start_ = true;
  uint64_t start_not_before_ms_ = 0;
  uint64_t listen_until_ms_ = 0;  // no signing before (DriverOptions::startup_listen_ms)
  uint64_t last_commit_ms_ = 0;
  uint64_t height_started_ms_ = 0;
  bool next_height_seen_ = false;
  uint64_t next_status_ms_ = 0;
  uint64_t last_progress_ms_ = 0;
  uint64_t progress_height_ = 0;
  uint32_t progress_round_ = 0;
  std::map<PublicKey, uint64_t> peer_heights_;
  std::optional<PublicKey> sync_peer_;  // asked for blocks up to sync_until_
  uint64_t sync_until_ = 0;
  uint64_t sync_deadline_ms_ = 0;
  uint64_t behind_since_ms_ = 0;

  // Queued input and snapshots (shared).
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Input> inputs_;
  bool txs_admitted_ = false;
  ConsensusStatus status_;
  std::map<Bytes, pb::DuplicateVoteEvidence> evidence_;  // pending, by state key
};

}  // namespace puhui
