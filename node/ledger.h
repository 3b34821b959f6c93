// The node's chain: the store, the genesis it belongs to, and the two steps of a block's life —
// build or check a block on top of the head (executing it and computing the next state root), then
// commit it with its certificate in one synced write. Reads are thread-safe; Propose, Validate and
// Commit run on one thread, the consensus loop (node/consensus_driver.h).
//
// Pipelined commits: CommitAsync makes a decided block the ledger's *head* at once and writes it
// to the store on a writer thread, so that the next block can be built or checked on top of it
// while it is written. The store, and everything read from it (Tip(), RPC, block sync), shows a
// block only once it is durable. At most one block is in flight: the next commit, and every
// signature of the validator (node/guarded_signer.h, WaitDurable), waits for it, so nothing about
// height h+1 leaves the node before block h is on disk.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "chain/block_store.h"
#include "chain/genesis.h"
#include "chain/smt.h"
#include "consensus/validator_set.h"
#include "contracts/executor.h"
#include "node/committed_nonces.h"
#include "node/state_cache.h"
#include "node/verifier_pool.h"
#include "puhui.pb.h"

namespace puhui {

// A block on top of the tip, executed but not yet committed.
struct ExecutedBlock {
  pb::Block block;  // with last_commit; header as bytes
  pb::BlockHeader header;
  Hash32 hash{};
  std::vector<DecodedTx> txs;
  // Positions in txs of the transactions whose signatures Validate checked itself (neither taken
  // from `known` nor found there between its slices of checks).
  std::vector<size_t> checked_here;
  BlockOutcome outcome;
  SmtUpdate tree;                          // state after this block
  std::vector<std::string> receipt_bytes;  // outcome.receipts serialised, as hashed and stored
  Hash32 receipts_root{};                  // of receipt_bytes
};

class Ledger {
 public:
  // Opens (creating if needed) the store in `data_dir` and writes genesis state on first start.
  // Fails if the store belongs to another genesis. `durable` = false only for a scratch ledger
  // that is thrown away after use (BlockStore::Open).
  // `note` hears what the store says while opening (BlockStore::Note: migrations).
  static Result<std::unique_ptr<Ledger>> Open(const std::string& data_dir,
                                              const GenesisDoc& genesis, bool durable = true,
                                              const BlockStore::Note& note = nullptr);

  const GenesisDoc& genesis() const { return genesis_; }
  const std::string& chain_id() const { return genesis_.chain_id; }
  // The set that signs the next block (tip + 1); the ledger also keeps the one that signed the tip
  // (they differ right after a validator-set change, contracts/validator_changes.h). The reference
  // is for the thread that commits; other threads take a copy with CurrentValidators().
  const ValidatorSet& validators() const { return validators_; }
  ValidatorSet CurrentValidators() const;
  const BlockStore& store() const { return *store_; }
  // The last block on disk (the store's tip): what the node reports and serves.
  pb::ChainMeta Tip() const;
  // The last committed block, on disk or still being written (CommitAsync): what the next block
  // builds on. Equal to Tip() whenever no commit is in flight.
  pb::ChainMeta Head() const;

  // The sender's next nonce after the head (recent senders' from memory: CommittedNonces).
  uint64_t CommittedNonce(const PublicKey& sender) const;

  // Builds and executes the next block from candidates whose signatures verified. Candidates that
  // are not includable (stale nonce, expired) are left out and returned in `dropped`. The block's
  // time is BlockTime of its last_commit.
  // Evidence of double signing that checks out and is not yet on chain goes in too (at most
  // kMaxEvidencePerBlock); the rest is left out silently.
  Result<ExecutedBlock> Propose(std::vector<DecodedTx> candidates, const PublicKey& proposer,
                                std::vector<Hash32>* dropped,
                                const std::vector<pb::DuplicateVoteEvidence>& evidence = {});

  // Whether evidence with this state key (node/evidence.h) is already committed (up to the head).
  bool EvidenceCommitted(const Bytes& key) const;

  // Checks a complete block for the next height — header fields against the tip, every
  // transaction's format and signature — and executes it. `check_signatures` may be false only
  // for a block whose commit certificate was verified: the validators that signed it checked them.
  // `known` may supply already decoded transactions whose signatures verified, by id (the
  // mempool's): one is used only if its envelope is byte-for-byte the block's, and then it is
  // neither decoded nor its signature checked again. The signatures are checked in slices
  // (node/signature_slices.h), and `known` is asked again before each slice but the first.
  // `on_verified`, if given, receives each slice's transactions whose signatures verified as soon
  // as they are checked, on the calling thread and before the block is executed (also when a
  // later transaction or the execution then fails: their signatures are good either way):
  // ConsensusDriver puts them in the mempool, so that the relayed copies arriving meanwhile are
  // refused as already waiting instead of being checked a second time.
  using TxLookup = std::function<std::optional<DecodedTx>(const Hash32& id)>;
  using VerifiedSink = std::function<void(std::span<const DecodedTx* const> verified)>;
  Result<ExecutedBlock> Validate(const std::string& block_bytes, VerifierPool& verifier,
                                 bool check_signatures = true, const TxLookup& known = {},
                                 const VerifiedSink& on_verified = {}) const;

  // The agreed time of the block after `tip` that carries `last_commit`: the weighted median of
  // its precommit times, at least 1 ms after the tip (genesis time + 1 ms for block 1).
  uint64_t BlockTime(const pb::ChainMeta& tip, const pb::Commit& last_commit) const;

  // Commits an executed block for the next height with its certificate: durable on return.
  Status Commit(const ExecutedBlock& block, const pb::Commit& commit);
  // Commits it as the new head and writes it on the writer thread (after the block before it is
  // durable). A failed write is returned by the next WaitDurable or commit; the node must stop.
  Status CommitAsync(std::shared_ptr<const ExecutedBlock> block, const pb::Commit& commit);
  // Returns once the head is durable, or the error that stopped its write.
  Status WaitDurable();
  // Called with the height after each commit, once it is durable (on the writer thread for
  // CommitAsync); set before the node runs.
  void SetOnCommit(std::function<void(uint64_t height)> f) { on_commit_ = std::move(f); }
  // Called on the writer thread before it writes a block: tests hold a write open with it.
  void SetBeforeWrite(std::function<void(uint64_t height)> f) { before_write_ = std::move(f); }

  ~Ledger();

 private:
  Ledger(GenesisDoc genesis, ValidatorSet validators, std::unique_ptr<BlockStore> store)
      : genesis_(std::move(genesis)),
        genesis_validators_(validators),
        validators_(validators),
        tip_validators_(std::move(validators)),
        store_(std::move(store)) {}
  // A committed block whose write is in flight.
  struct Pending {
    std::shared_ptr<const ExecutedBlock> block;
    std::string commit_bytes;
    pb::ChainMeta meta;
  };
  class HeadReader;  // state as of the head
  class HeadNodes;   // tree nodes as of the head

  std::shared_ptr<const Pending> PendingBlock() const;
  // Everything one block adds to the store (pointing into `b`, which must outlive it).
  static BlockCommit MakeBlockCommit(const ExecutedBlock& b, std::string commit_bytes);
  static pb::ChainMeta MetaAfter(const ExecutedBlock& b);  // the tip once `b` is committed
  // After the store or the head took a block: nonces, validator sets.
  Status Advance(const StateChanges& changes);
  // Reads the sets for head and head + 1 from committed state.
  Status LoadValidators();
  Result<ExecutedBlock> Finish(ExecutedBlock b) const;
  // Checks the block's evidence (each valid, new, once) and records it in the block's changes.
  Status RecordEvidence(ExecutedBlock& b) const;
  // Hands the block's account changes to nonces_ (after the store has them).
  void RememberNonces(const StateChanges& changes);

  GenesisDoc genesis_;
  const ValidatorSet genesis_validators_;
  mutable std::mutex validators_mu_;  // writes (loop thread) and CurrentValidators()
  ValidatorSet validators_;
  ValidatorSet tip_validators_;
  std::unique_ptr<BlockStore> store_;
  std::function<void(uint64_t)> on_commit_;
  std::function<void(uint64_t)> before_write_;
  // ~80 bytes a sender: 20 MiB at most.
  static constexpr size_t kNonceCacheSenders = 1 << 18;
  mutable CommittedNonces nonces_{kNonceCacheSenders};
  mutable StateCache state_cache_{64u << 20};  // for execution, on the committing thread only

  mutable std::mutex pending_mu_;
  std::shared_ptr<const Pending> pending_;  // guarded by pending_mu_; null when Head() == Tip()
  // The block last made durable, kept until the next block's write is done and released on the
  // writer thread: freeing a block (tens of thousands of receipts, records and map nodes) costs
  // ~3 ms, which the committing thread would otherwise pay in the next block's execution, where
  // its last readers let go of it. Guarded by pending_mu_.
  std::shared_ptr<const Pending> retired_;
  // The writer: one thread for the ledger's life, running one write at a time. Long-lived rather
  // than one per block so that its allocations (the block's record, LevelDB's batch) come back
  // from the same allocator arena, whose freed pages are reused instead of faulted in afresh.
  void WriterLoop();
  std::mutex writer_mu_;
  std::condition_variable writer_cv_;
  std::function<Status()> write_;  // the write to run next; guarded by writer_mu_
  bool writing_ = false;           // a write is queued or running; guarded by writer_mu_
  bool stopping_ = false;          // guarded by writer_mu_
  Status write_status_;            // of the last write; guarded by writer_mu_
  std::thread writer_;             // started by the first CommitAsync
};

}  // namespace puhui
