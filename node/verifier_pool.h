// Signature checks on a fixed pool of worker threads, with a cache of outcomes so that each
// transaction's signature is checked once per node, however often it is submitted or gossiped.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_set>
#include <vector>

#include "chain/bytes.h"
#include "chain/hash.h"
#include "contracts/tx.h"

namespace puhui {

// Bounded set of (tx id, signature) pairs known to verify; the oldest entries leave first.
class SigCache {
 public:
  explicit SigCache(size_t max_entries) : max_entries_(max_entries) {}
  bool Contains(const DecodedTx& tx) const;
  void Insert(const DecodedTx& tx);
  size_t size() const;

 private:
  static Hash32 KeyOf(const DecodedTx& tx);
  const size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_set<Hash32, SeededHash32> entries_;  // looked up, never iterated
  std::deque<Hash32> order_;
};

class VerifierPool {
 public:
  VerifierPool(size_t threads, size_t cache_entries);
  ~VerifierPool();
  VerifierPool(const VerifierPool&) = delete;
  VerifierPool& operator=(const VerifierPool&) = delete;

  // Verifies every transaction's signature, in parallel, skipping those already cached.
  // Returns one flag per input, true where the signature is valid.
  std::vector<bool> Verify(std::span<const DecodedTx* const> txs);

  const SigCache& cache() const { return cache_; }
  size_t threads() const { return workers_.size(); }

 private:
  void WorkerLoop();

  SigCache cache_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace puhui
