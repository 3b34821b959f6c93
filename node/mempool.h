// Transactions waiting for a block: verified, deduplicated by id, ordered per sender by nonce, and
// bounded by named limits (entries, bytes, per sender). A transaction enters only after its
// signature verified and its nonce was checked against committed state; Update drops what a block
// consumed and what expired. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "chain/hash.h"
#include "chain/status.h"
#include "contracts/tx.h"

namespace puhui {

struct MempoolLimits {
  size_t max_txs = 100'000;
  // Clients' submissions (RPC) are refused while this many transactions wait; peers' relays are
  // still taken up to max_txs. A node flooded with submissions would otherwise spend its CPU
  // admitting (decoding and verifying, on every validator) faster than blocks drain the mempool,
  // and its blocks would starve. The default is four blocks of the bundled networks'
  // max_block_txs (5,000): a transaction admitted waits about four blocks at most.
  size_t max_txs_for_clients = 20'000;
  size_t max_bytes = 128u << 20;
  size_t max_per_sender = 5'000;  // also the furthest a nonce may run ahead of the committed one
  // A transaction may wait at most this many blocks: a signed transaction stuck behind a nonce gap
  // cannot occupy the mempool for ever.
  uint64_t max_expiry_ahead = 100'000;
  // Gossip is best effort: a peer whose mempool was full, or that was down, refused or never saw
  // a relayed transaction. A transaction still waiting this many blocks after it was last offered
  // is offered again to the peers that missed some (node/missed_gossip.h), at most
  // max_reoffer_txs of them after a block (TakeStale).
  uint64_t reoffer_after_blocks = 3;
  size_t max_reoffer_txs = 4'096;
};

class Mempool {
 public:
  explicit Mempool(MempoolLimits limits) : limits_(limits) {}

  // Adds a verified transaction: its signature checked out, and Ledger::Validate does not check
  // again the transactions it gets from Get. `committed_nonce` is the sender's next nonce in
  // committed state; `next_height` the height of the next block. Refusals: kAlreadyExists (same id,
  // or another transaction holds that nonce), kFailedPrecondition (nonce used, or expired),
  // kResourceExhausted.
  Status Add(DecodedTx tx, uint64_t committed_nonce, uint64_t next_height);

  // Up to max_txs / max_bytes transactions for the next block: for each sender in order of first
  // arrival, its consecutive nonces from the committed one.
  std::vector<DecodedTx> Reap(
      size_t max_txs, size_t max_bytes,
      const std::function<uint64_t(const PublicKey&)>& committed_nonce) const;

  // After a block: drops the transactions whose nonce is now used — only the senders of the
  // block's transactions (`senders`, in any order, repeats allowed) can have used one, so only
  // their nonces are read, before the mempool is locked, so admission is not held up by the
  // reads — and every transaction that expired before next_height.
  void Update(std::span<const PublicKey> senders,
              const std::function<uint64_t(const PublicKey&)>& committed_nonce,
              uint64_t next_height);
  // Drops one transaction (e.g. one a block could not include).
  void Remove(const Hash32& id);

  // The envelopes of up to limits().max_reoffer_txs transactions last offered to peers at least
  // limits().reoffer_after_blocks blocks before `tip_height` (admission counts as an offer), the
  // longest-waiting first; each is marked as offered at `tip_height`.
  std::vector<std::string> TakeStale(uint64_t tip_height);

  // True if some sender's next nonce is pending, i.e. Reap would return something.
  bool HasIncludable(const std::function<uint64_t(const PublicKey&)>& committed_nonce) const;

  bool Contains(const Hash32& id) const;
  // A copy of a waiting transaction, if there is one with this id.
  std::optional<DecodedTx> Get(const Hash32& id) const;
  // True when another transaction would be refused for lack of room (entries or bytes): callers
  // can refuse before spending a decode and a signature check on it.
  bool Full() const;
  // The nonce a sender should use next, counting its consecutive pending transactions.
  uint64_t PendingNonce(const PublicKey& sender, uint64_t committed_nonce) const;
  size_t size() const;
  size_t bytes() const;
  const MempoolLimits& limits() const { return limits_; }

 private:
  struct SenderQueue {
    uint64_t first_seq = 0;  // arrival order of the sender's oldest pending tx
    std::map<uint64_t, DecodedTx> by_nonce;
  };
  // When a transaction was last offered to peers (the tip height then) and its arrival order.
  using OfferKey = std::pair<uint64_t, uint64_t>;
  struct Held {
    PublicKey sender;
    uint64_t nonce;
    OfferKey offered;
  };
  void EraseLocked(std::map<PublicKey, SenderQueue>::iterator sender, uint64_t nonce);

  const MempoolLimits limits_;
  mutable std::mutex mu_;
  std::map<PublicKey, SenderQueue> senders_;
  // id -> where the transaction is held; looked up, never iterated
  std::unordered_map<Hash32, Held, SeededHash32> by_id_;
  // Every held transaction by when it was last offered to peers.
  std::map<OfferKey, Hash32> offers_;
  // No transaction held expires before this height (a lower bound: Update scans for expired ones
  // only once the chain passes it).
  uint64_t min_expiry_ = UINT64_MAX;
  size_t bytes_ = 0;
  uint64_t seq_ = 0;
};

}  // namespace puhui
