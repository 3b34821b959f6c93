#include "node/mempool.h"

#include <fmt/format.h>

#include <algorithm>

namespace puhui {

Status NonceUsed(uint64_t nonce, uint64_t next_nonce) {
  return FailedPrecondition(
      fmt::format("nonce {} was already used; the sender's next nonce is {}", nonce, next_nonce));
}

Status Mempool::Add(DecodedTx tx, uint64_t committed_nonce, uint64_t next_height, size_t capacity,
                    bool found_room) {
  const uint64_t nonce = tx.body->nonce();
  if (nonce < committed_nonce) {
    return NonceUsed(nonce, committed_nonce);
  }
  if (tx.body->expiry_height() < next_height) {
    return FailedPrecondition(fmt::format("transaction expired at height {}; the next block is {}",
                                          tx.body->expiry_height(), next_height));
  }
  if (tx.body->expiry_height() - next_height > limits_.max_expiry_ahead) {
    return InvalidArgument(fmt::format(
        "expiry_height {} is more than {} blocks ahead of the next block {}; choose a nearer one",
        tx.body->expiry_height(), limits_.max_expiry_ahead, next_height));
  }
  std::lock_guard lock(mu_);
  if (by_id_.count(tx.id)) return AlreadyExists("transaction is already in the mempool");
  auto sender = senders_.find(tx.sender);
  if (sender != senders_.end() && sender->second.committed > nonce) {
    // Told a newer committed nonce by a block since the caller read its own.
    return NonceUsed(nonce, sender->second.committed);
  }
  if (nonce - committed_nonce >= limits_.max_per_sender) {
    return ResourceExhausted(fmt::format(
        "nonce {} is too far ahead of the sender's next nonce {} (at most {} pending per sender)",
        nonce, committed_nonce, limits_.max_per_sender));
  }
  if (sender != senders_.end()) {
    if (sender->second.by_nonce.count(nonce)) {
      return AlreadyExists(
          fmt::format("another pending transaction of this sender already uses nonce {}", nonce));
    }
    if (sender->second.by_nonce.size() >= limits_.max_per_sender) {
      return ResourceExhausted(
          fmt::format("sender has {} pending transactions, the limit", limits_.max_per_sender));
    }
  }
  auto displace =
      PlanRoomLocked(tx.sender, nonce, committed_nonce, tx.envelope_bytes.size(), capacity);
  if (!displace && found_room) {
    // Others took the room while its signature was checked: a checked transaction costs
    // nothing more to keep, up to the hard limits.
    displace = PlanRoomLocked(tx.sender, nonce, committed_nonce, tx.envelope_bytes.size(),
                              limits_.max_txs);
  }
  if (!displace) return NoRoomLocked(capacity, tx.sender, nonce, committed_nonce);
  for (const auto& [key, n] : *displace) {
    auto victim = senders_.find(key);
    EraseLocked(victim, n);  // behind a gap: `ready` stays
    SettleLocked(victim);
    ++displaced_;
  }
  sender = senders_.find(tx.sender);  // displacing may have erased it; look up afresh
  if (sender == senders_.end()) {
    sender = senders_.emplace(tx.sender, SenderQueue{}).first;
    sender->second.first_seq = seq_++;
    sender->second.committed = committed_nonce;
    sender->second.ready = committed_nonce;
  }
  bytes_ += tx.envelope_bytes.size();
  min_expiry_ = std::min(min_expiry_, tx.body->expiry_height());
  const OfferKey offered{next_height == 0 ? 0 : next_height - 1, seq_++};
  offers_.emplace(offered, tx.id);
  by_id_.emplace(tx.id, Held{tx.sender, nonce, offered});
  sender->second.by_nonce.emplace(nonce, std::move(tx));
  CatchUpLocked(sender, committed_nonce);
  SettleLocked(sender);
  return Status::Ok();
}

std::optional<std::vector<std::pair<PublicKey, uint64_t>>> Mempool::PlanRoomLocked(
    const PublicKey& sender, uint64_t nonce, uint64_t committed_nonce, size_t envelope_bytes,
    size_t capacity, size_t planned) const {
  const size_t limit = std::min(capacity, limits_.max_txs);
  const size_t share = GapShare(capacity);
  auto own = senders_.find(sender);
  const bool behind_gap = nonce != NextNonceLocked(sender, committed_nonce);
  if (behind_gap && gapped_txs_ >= share) return std::nullopt;
  const size_t free = limit > by_id_.size() ? limit - by_id_.size() : 0;
  const bool entry_needed = planned >= free;
  std::vector<std::pair<PublicKey, uint64_t>> out;
  if (!entry_needed && bytes_ + envelope_bytes <= limits_.max_bytes) return out;
  // Without room only a transaction that could go in the next block enters, and only in place
  // of transactions behind gaps beyond their share (those within it wait; the rest of a full
  // mempool can go in blocks, which make room). The batch's earlier ones displace theirs first.
  if (behind_gap) return std::nullopt;
  const size_t already = entry_needed ? planned - free : 0;
  if (gapped_txs_ <= share + already) return std::nullopt;
  constexpr size_t kMaxDisplaced = 64;  // to fit one newcomer's bytes, at most
  const size_t may_displace = std::min<size_t>(gapped_txs_ - share - already, kMaxDisplaced);
  // Of the sender's own, those the newcomer makes ready stay: [nonce, after) once it is held.
  uint64_t after = nonce + 1;
  if (own != senders_.end()) {
    while (own->second.by_nonce.count(after)) ++after;
  }
  size_t freed = 0;
  auto room = [&] {
    return (!entry_needed || !out.empty()) && bytes_ - freed + envelope_bytes <= limits_.max_bytes;
  };
  for (auto g = gapped_.rbegin(); g != gapped_.rend() && !room(); ++g) {
    const SenderQueue& q = senders_.at(g->second);
    const uint64_t lowest = g->second == sender ? after : q.ready;  // behind a gap from here
    for (auto it = q.by_nonce.rbegin(); it != q.by_nonce.rend() && it->first >= lowest && !room();
         ++it) {
      if (out.size() == may_displace) return std::nullopt;
      freed += it->second.envelope_bytes.size();
      out.emplace_back(g->second, it->first);
    }
  }
  if (!room()) return std::nullopt;
  return out;
}

Status Mempool::NoRoomLocked(size_t capacity) const {
  // Below the caller's capacity it was the bytes that did not fit.
  if (by_id_.size() >= limits_.max_txs || by_id_.size() < capacity) {
    return ResourceExhausted(
        fmt::format("the mempool is full ({} transactions, {} bytes); retry after the next blocks",
                    by_id_.size(), bytes_));
  }
  return ResourceExhausted(
      fmt::format("the node is busy: {} transactions are waiting for blocks (it admits clients' "
                  "transactions below {}); retry after the next blocks",
                  by_id_.size(), capacity));
}

Status Mempool::NoRoom(size_t capacity) const {
  std::lock_guard lock(mu_);
  return NoRoomLocked(capacity);
}

Status Mempool::NoRoom(size_t capacity, const PublicKey& sender, uint64_t nonce,
                       uint64_t committed_nonce) const {
  std::lock_guard lock(mu_);
  return NoRoomLocked(capacity, sender, nonce, committed_nonce);
}

Status Mempool::NoRoomLocked(size_t capacity, const PublicKey& sender, uint64_t nonce,
                             uint64_t committed_nonce) const {
  const uint64_t next = NextNonceLocked(sender, committed_nonce);
  if (nonce != next && gapped_txs_ >= GapShare(capacity)) {
    return ResourceExhausted(fmt::format(
        "the node is busy: {} transactions wait behind nonce gaps, its limit for them; this one "
        "would too (the sender's next nonce is {}): send nonce {} first, or retry after the "
        "next blocks",
        gapped_txs_, next, next));
  }
  return NoRoomLocked(capacity);
}

uint64_t Mempool::NextNonceLocked(const PublicKey& sender, uint64_t committed_nonce) const {
  auto own = senders_.find(sender);
  return own == senders_.end() ? committed_nonce : std::max(own->second.ready, committed_nonce);
}

bool Mempool::HasRoom(const PublicKey& sender, uint64_t nonce, uint64_t committed_nonce,
                      size_t envelope_bytes, size_t capacity, size_t planned) const {
  std::lock_guard lock(mu_);
  return PlanRoomLocked(sender, nonce, committed_nonce, envelope_bytes, capacity, planned)
      .has_value();
}

void Mempool::CatchUpLocked(Senders::iterator sender, uint64_t committed) {
  SenderQueue& q = sender->second;
  auto& queue = q.by_nonce;
  while (!queue.empty() && queue.begin()->first < committed)
    EraseLocked(sender, queue.begin()->first);
  q.committed = std::max(q.committed, committed);
  q.ready = std::max(q.ready, q.committed);
  for (auto it = queue.find(q.ready); it != queue.end() && it->first == q.ready; ++it) ++q.ready;
}

Mempool::Senders::iterator Mempool::SettleLocked(Senders::iterator sender) {
  SenderQueue& q = sender->second;
  const size_t behind = q.behind_gap();
  gapped_txs_ = gapped_txs_ - q.counted_behind + behind;
  if (behind > 0 && q.counted_behind == 0) gapped_.emplace(q.first_seq, sender->first);
  if (behind == 0 && q.counted_behind > 0) gapped_.erase({q.first_seq, sender->first});
  q.counted_behind = behind;
  if (q.by_nonce.empty()) return senders_.erase(sender);
  return std::next(sender);
}

std::vector<DecodedTx> Mempool::Reap(
    size_t max_txs, size_t max_bytes,
    const std::function<uint64_t(const PublicKey&)>& committed_nonce) const {
  std::lock_guard lock(mu_);
  std::vector<const SenderQueue*> order;
  order.reserve(senders_.size());
  for (const auto& [key, q] : senders_) order.push_back(&q);
  std::sort(order.begin(), order.end(),
            [](const SenderQueue* a, const SenderQueue* b) { return a->first_seq < b->first_seq; });
  std::vector<DecodedTx> out;
  size_t bytes = 0;
  for (const SenderQueue* q : order) {
    if (q->by_nonce.empty()) continue;
    uint64_t expect = committed_nonce(q->by_nonce.begin()->second.sender);
    for (auto it = q->by_nonce.find(expect); it != q->by_nonce.end() && it->first == expect;
         ++it, ++expect) {
      if (out.size() >= max_txs || bytes + it->second.envelope_bytes.size() > max_bytes) return out;
      bytes += it->second.envelope_bytes.size();
      out.push_back(it->second);
    }
  }
  return out;
}

void Mempool::EraseLocked(Senders::iterator sender, uint64_t nonce) {
  SenderQueue& q = sender->second;
  auto it = q.by_nonce.find(nonce);
  if (it == q.by_nonce.end()) return;
  if (nonce >= q.committed && nonce < q.ready) q.ready = nonce;  // what follows is behind a gap now
  bytes_ -= it->second.envelope_bytes.size();
  if (auto held = by_id_.find(it->second.id); held != by_id_.end()) {
    offers_.erase(held->second.offered);
    by_id_.erase(held);
  }
  sender->second.by_nonce.erase(it);
}

void Mempool::Update(std::span<const PublicKey> senders,
                     const std::function<uint64_t(const PublicKey&)>& committed_nonce,
                     uint64_t next_height) {
  std::vector<PublicKey> distinct(senders.begin(), senders.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  {
    // Only senders with something waiting matter (a sender admitted after this has been checked
    // against the new nonces already).
    std::lock_guard lock(mu_);
    std::erase_if(distinct, [&](const PublicKey& key) { return !senders_.contains(key); });
  }
  // Committed nonces only grow, and only commits change them: read now, they are still exact
  // when applied below.
  std::vector<uint64_t> committed_nonces;
  committed_nonces.reserve(distinct.size());
  for (const PublicKey& key : distinct) committed_nonces.push_back(committed_nonce(key));
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < distinct.size(); ++i) {
    const PublicKey& key = distinct[i];
    auto s = senders_.find(key);
    if (s == senders_.end()) continue;
    CatchUpLocked(s, committed_nonces[i]);
    SettleLocked(s);
  }
  if (next_height <= min_expiry_) return;
  min_expiry_ = UINT64_MAX;
  for (auto s = senders_.begin(); s != senders_.end();) {
    std::vector<uint64_t> expired;
    for (const auto& [nonce, tx] : s->second.by_nonce) {
      if (tx.body->expiry_height() < next_height) {
        expired.push_back(nonce);
      } else {
        min_expiry_ = std::min(min_expiry_, tx.body->expiry_height());
      }
    }
    for (uint64_t n : expired) EraseLocked(s, n);
    s = SettleLocked(s);
  }
}

void Mempool::Remove(const Hash32& id) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  auto sender = senders_.find(it->second.sender);
  EraseLocked(sender, it->second.nonce);
  SettleLocked(sender);
}

std::vector<std::string> Mempool::TakeStale(uint64_t tip_height) {
  std::lock_guard lock(mu_);
  // Transactions that can go in a block come first: under a flood of out-of-order nonces the
  // longest-waiting are those behind gaps, and offering them first would crowd out what peers
  // can use. Those behind gaps fill what room is left, and what is passed over keeps its place.
  // At most four times the bound is looked at.
  const size_t max = limits_.max_reoffer_txs;
  std::vector<std::map<OfferKey, Hash32>::iterator> ready, behind;
  size_t looked_at = 0;
  for (auto it = offers_.begin();
       it != offers_.end() && ready.size() < max && looked_at < 4 * max &&
       it->first.first + limits_.reoffer_after_blocks <= tip_height;
       ++it, ++looked_at) {
    const Held& held = by_id_.at(it->second);
    const bool can_go = held.nonce < senders_.at(held.sender).ready;
    if (can_go) {
      ready.push_back(it);
    } else if (behind.size() < max) {
      behind.push_back(it);
    }
  }
  behind.resize(std::min(behind.size(), max - ready.size()));
  std::vector<std::string> out;
  std::vector<std::map<OfferKey, Hash32>::node_type> taken;
  for (const auto* group : {&ready, &behind}) {
    for (auto it : *group) {
      Held& held = by_id_.at(it->second);
      out.push_back(senders_.at(held.sender).by_nonce.at(held.nonce).envelope_bytes);
      held.offered.first = tip_height;
      taken.push_back(offers_.extract(it));
    }
  }
  for (auto& node : taken) {
    node.key().first = tip_height;
    offers_.insert(std::move(node));
  }
  return out;
}

bool Mempool::HasIncludable(
    const std::function<uint64_t(const PublicKey&)>& committed_nonce) const {
  std::lock_guard lock(mu_);
  for (const auto& [sender, q] : senders_) {
    if (q.by_nonce.count(committed_nonce(sender))) return true;
  }
  return false;
}

std::optional<DecodedTx> Mempool::Get(const Hash32& id) const {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  auto sender = senders_.find(it->second.sender);
  if (sender == senders_.end()) return std::nullopt;
  auto tx = sender->second.by_nonce.find(it->second.nonce);
  if (tx == sender->second.by_nonce.end()) return std::nullopt;
  return tx->second;
}

bool Mempool::Full(size_t capacity) const {
  std::lock_guard lock(mu_);
  const bool at_limit =
      by_id_.size() >= std::min(capacity, limits_.max_txs) || bytes_ >= limits_.max_bytes;
  return at_limit && gapped_txs_ <= GapShare(capacity);
}

bool Mempool::Contains(const Hash32& id) const {
  std::lock_guard lock(mu_);
  return by_id_.count(id) != 0;
}

uint64_t Mempool::PendingNonce(const PublicKey& sender, uint64_t committed_nonce) const {
  std::lock_guard lock(mu_);
  auto s = senders_.find(sender);
  uint64_t n = committed_nonce;
  if (s == senders_.end()) return n;
  for (auto it = s->second.by_nonce.find(n); it != s->second.by_nonce.end() && it->first == n; ++it)
    ++n;
  return n;
}

size_t Mempool::size() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

size_t Mempool::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t Mempool::behind_gaps() const {
  std::lock_guard lock(mu_);
  return gapped_txs_;
}

uint64_t Mempool::displaced() const {
  std::lock_guard lock(mu_);
  return displaced_;
}

}  // namespace puhui
