#include "node/verifier_pool.h"

#include <atomic>
#include <latch>

#include "chain/hash.h"

namespace puhui {

Hash32 SigCache::KeyOf(const DecodedTx& tx) {
  Sha256Hasher h;
  h.Update(tx.signing_hash).Update(ByteView(tx.signature)).Update(tx.sender.bytes);
  return h.Finish();
}

bool SigCache::Contains(const DecodedTx& tx) const {
  Hash32 key = KeyOf(tx);
  std::lock_guard lock(mu_);
  return entries_.count(key) != 0;
}

void SigCache::Insert(const DecodedTx& tx) {
  Hash32 key = KeyOf(tx);
  std::lock_guard lock(mu_);
  if (!entries_.insert(key).second) return;
  order_.push_back(key);
  while (order_.size() > max_entries_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
}

size_t SigCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

VerifierPool::VerifierPool(size_t threads, size_t cache_entries) : cache_(cache_entries) {
  if (threads == 0) threads = 1;
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

VerifierPool::~VerifierPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void VerifierPool::WorkerLoop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

std::vector<bool> VerifierPool::Verify(std::span<const DecodedTx* const> txs) {
  std::vector<bool> ok(txs.size(), false);
  std::vector<size_t> todo;
  for (size_t i = 0; i < txs.size(); ++i) {
    if (cache_.Contains(*txs[i])) {
      ok[i] = true;
    } else {
      todo.push_back(i);
    }
  }
  if (todo.empty()) return ok;
  // Split the work into one chunk per worker; std::vector<bool> is not safe for concurrent writes.
  std::vector<char> results(todo.size(), 0);
  size_t chunks = std::min(workers_.size(), todo.size());
  std::latch done(static_cast<std::ptrdiff_t>(chunks));
  {
    std::lock_guard lock(mu_);
    for (size_t c = 0; c < chunks; ++c) {
      jobs_.emplace_back([&, c] {
        for (size_t j = c; j < todo.size(); j += chunks) {
          const DecodedTx& tx = *txs[todo[j]];
          if (VerifyTxSignature(tx)) {
            results[j] = 1;
            cache_.Insert(tx);
          }
        }
        done.count_down();
      });
    }
  }
  cv_.notify_all();
  done.wait();
  for (size_t j = 0; j < todo.size(); ++j) ok[todo[j]] = results[j] != 0;
  return ok;
}

}  // namespace puhui
