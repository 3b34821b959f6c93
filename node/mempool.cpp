#include "node/mempool.h"

#include <fmt/format.h>

#include <algorithm>

namespace puhui {

Status Mempool::Add(DecodedTx tx, uint64_t committed_nonce, uint64_t next_height) {
  const uint64_t nonce = tx.body->nonce();
  if (nonce < committed_nonce) {
    return FailedPrecondition(fmt::format(
        "nonce {} was already used; the sender's next nonce is {}", nonce, committed_nonce));
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
  if (nonce - committed_nonce >= limits_.max_per_sender) {
    return ResourceExhausted(fmt::format(
        "nonce {} is too far ahead of the sender's next nonce {} (at most {} pending per sender)",
        nonce, committed_nonce, limits_.max_per_sender));
  }
  auto sender = senders_.find(tx.sender);
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
  if (by_id_.size() >= limits_.max_txs) {
    return ResourceExhausted(
        fmt::format("mempool is full ({} transactions); retry later", limits_.max_txs));
  }
  if (bytes_ + tx.envelope_bytes.size() > limits_.max_bytes) {
    return ResourceExhausted(
        fmt::format("mempool is full ({} bytes); retry later", limits_.max_bytes));
  }
  if (sender == senders_.end()) {
    sender = senders_.emplace(tx.sender, SenderQueue{}).first;
    sender->second.first_seq = seq_++;
  }
  bytes_ += tx.envelope_bytes.size();
  min_expiry_ = std::min(min_expiry_, tx.body->expiry_height());
  const OfferKey offered{next_height == 0 ? 0 : next_height - 1, seq_++};
  offers_.emplace(offered, tx.id);
  by_id_.emplace(tx.id, Held{tx.sender, nonce, offered});
  sender->second.by_nonce.emplace(nonce, std::move(tx));
  return Status::Ok();
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

void Mempool::EraseLocked(std::map<PublicKey, SenderQueue>::iterator sender, uint64_t nonce) {
  auto it = sender->second.by_nonce.find(nonce);
  if (it == sender->second.by_nonce.end()) return;
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
    const uint64_t committed = committed_nonces[i];
    auto& queue = s->second.by_nonce;
    while (!queue.empty() && queue.begin()->first < committed) {
      EraseLocked(s, queue.begin()->first);
    }
    if (queue.empty()) senders_.erase(s);
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
    if (s->second.by_nonce.empty()) {
      s = senders_.erase(s);
    } else {
      ++s;
    }
  }
}

void Mempool::Remove(const Hash32& id) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  auto sender = senders_.find(it->second.sender);
  EraseLocked(sender, it->second.nonce);
  if (sender->second.by_nonce.empty()) senders_.erase(sender);
}

std::vector<std::string> Mempool::TakeStale(uint64_t tip_height) {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  std::vector<std::map<OfferKey, Hash32>::node_type> taken;
  for (auto it = offers_.begin(); it != offers_.end() && out.size() < limits_.max_reoffer_txs &&
                                  it->first.first + limits_.reoffer_after_blocks <= tip_height;) {
    Held& held = by_id_.at(it->second);
    const DecodedTx& tx = senders_.at(held.sender).by_nonce.at(held.nonce);
    out.push_back(tx.envelope_bytes);
    held.offered.first = tip_height;
    taken.push_back(offers_.extract(it++));
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

bool Mempool::Full() const {
  std::lock_guard lock(mu_);
  return by_id_.size() >= limits_.max_txs || bytes_ >= limits_.max_bytes;
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

}  // namespace puhui
