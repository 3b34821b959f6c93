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
#include <set>
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

// The refusal of a transaction whose nonce is used: the sender's next nonce is `next_nonce`.
Status NonceUsed(uint64_t nonce, uint64_t next_nonce);

class Mempool {
 public:
  explicit Mempool(MempoolLimits limits) : limits_(limits) {}

  // Adds a verified transaction: its signature checked out, and Ledger::Validate does not check
  // again the transactions it gets from Get. `committed_nonce` is the sender's next nonce in
  // committed state; `next_height` the height of the next block; `capacity` how many transactions
  // this caller may fill the mempool to (limits().max_txs for peers' relays, max_txs_for_clients
  // for clients'). Refusals: kAlreadyExists (same id, or another transaction holds that nonce),
  // kFailedPrecondition (nonce used, or expired), kResourceExhausted.
  //
  // Transactions behind a nonce gap (their sender's earlier nonce is neither committed nor held)
  // may fill at most half of `capacity` (GapShare); past that another is refused. Without room,
  // a transaction that could go in the next block (its nonce follows its sender's committed and
  // held ones) displaces transactions behind gaps beyond that share, the highest nonces of the
  // sender behind a gap that arrived last. So transactions behind gaps — a client's admitted
  // while their predecessors were refused, say — cannot fill the mempool and lock out the ones
  // that would close the gaps: what else fills it can go in blocks, which make room.
  //
  // `found_room`: HasRoom said yes before the caller checked the signature. If concurrent
  // admissions took that room meanwhile, the transaction still enters up to limits().max_txs.
  Status Add(DecodedTx tx, uint64_t committed_nonce, uint64_t next_height, size_t capacity,
             bool found_room = false);
  Status Add(DecodedTx tx, uint64_t committed_nonce, uint64_t next_height) {
    return Add(std::move(tx), committed_nonce, next_height, limits_.max_txs);
  }
  // Whether Add would find room for a transaction of this sender, nonce and size, displacing
  // others if need be, after `planned` more transactions took the free room (and, once it is
  // gone, one transaction behind a gap each): callers ask before spending a signature check on
  // it, counting the ones of the same batch they let through.
  bool HasRoom(const PublicKey& sender, uint64_t nonce, uint64_t committed_nonce,
               size_t envelope_bytes, size_t capacity, size_t planned = 0) const;

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
  // longest-waiting first, those that can go in a block before those behind a nonce gap; each
  // is marked as offered at `tip_height`.
  std::vector<std::string> TakeStale(uint64_t tip_height);

  // True if some sender's next nonce is pending, i.e. Reap would return something.
  bool HasIncludable(const std::function<uint64_t(const PublicKey&)>& committed_nonce) const;

  bool Contains(const Hash32& id) const;
  // A copy of a waiting transaction, if there is one with this id.
  std::optional<DecodedTx> Get(const Hash32& id) const;
  // True when any other transaction would be refused for lack of room up to `capacity` (entries)
  // or max_bytes, there being none held behind a nonce gap to displace: callers can refuse before
  // spending a decode and a signature check on it.
  bool Full(size_t capacity) const;
  bool Full() const { return Full(limits_.max_txs); }
  // The refusal for a transaction that finds no room up to `capacity` (kResourceExhausted);
  // with the transaction's sender and nonce, it says when its gap is what keeps it out.
  Status NoRoom(size_t capacity) const;
  Status NoRoom(size_t capacity, const PublicKey& sender, uint64_t nonce,
                uint64_t committed_nonce) const;
  // The nonce a sender should use next, counting its consecutive pending transactions.
  uint64_t PendingNonce(const PublicKey& sender, uint64_t committed_nonce) const;
  size_t size() const;
  size_t bytes() const;
  // Transactions held behind a nonce gap, and how many were displaced since the start.
  size_t behind_gaps() const;
  uint64_t displaced() const;
  const MempoolLimits& limits() const { return limits_; }

 private:
  struct SenderQueue {
    uint64_t first_seq = 0;  // arrival order of the sender's oldest pending tx
    // The sender's next nonce in committed state as last told (Add, Update), and the first nonce
    // from it not held: nonces [committed, ready) are all held and can go in blocks, the rest of
    // by_nonce waits behind a gap.
    uint64_t committed = 0;
    uint64_t ready = 0;
    size_t counted_behind = 0;  // this queue's share of gapped_txs_
    std::map<uint64_t, DecodedTx> by_nonce;
    size_t behind_gap() const { return by_nonce.size() - static_cast<size_t>(ready - committed); }
  };
  using Senders = std::map<PublicKey, SenderQueue>;
  // When a transaction was last offered to peers (the tip height then) and its arrival order.
  using OfferKey = std::pair<uint64_t, uint64_t>;
  struct Held {
    PublicKey sender;
    uint64_t nonce;
    OfferKey offered;
  };
  void EraseLocked(Senders::iterator sender, uint64_t nonce);
  // After the sender's committed nonce is known to be `committed`: drops the nonces it used and
  // moves `ready` on.
  void CatchUpLocked(Senders::iterator sender, uint64_t committed);
  // Keeps gapped_ and gapped_txs_ true to the sender's queue, and drops the queue once empty.
  // Returns the next sender.
  Senders::iterator SettleLocked(Senders::iterator sender);
  Status NoRoomLocked(size_t capacity) const;
  Status NoRoomLocked(size_t capacity, const PublicKey& sender, uint64_t nonce,
                      uint64_t committed_nonce) const;
  // The nonce that follows the sender's committed and held ones: a transaction with it can go in
  // the next block, one with a later nonce waits behind a gap.
  uint64_t NextNonceLocked(const PublicKey& sender, uint64_t committed_nonce) const;
  // How many transactions behind gaps may wait, of `capacity`: half, rounded up.
  size_t GapShare(size_t capacity) const { return (std::min(capacity, limits_.max_txs) + 1) / 2; }
  // The transactions to displace so that one of `envelope_bytes` fits below `capacity`: empty if
  // none need to go, nullopt if there is no room to be made.
  std::optional<std::vector<std::pair<PublicKey, uint64_t>>> PlanRoomLocked(
      const PublicKey& sender, uint64_t nonce, uint64_t committed_nonce, size_t envelope_bytes,
      size_t capacity, size_t planned = 0) const;

  const MempoolLimits limits_;
  mutable std::mutex mu_;
  Senders senders_;
  // Senders holding transactions behind a gap, by arrival (first_seq), and how many they hold.
  std::set<std::pair<uint64_t, PublicKey>> gapped_;
  size_t gapped_txs_ = 0;
  uint64_t displaced_ = 0;
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
