// Signature checks on a fixed pool of worker threads. Each transaction's signature is checked
// once per node without a cache of outcomes: a copy already waiting is refused before it is
// decoded, one already committed before its signature is checked (node/node.h: Admit), and a
// proposed block's transactions that the mempool holds are not checked again (Ledger::Validate).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "contracts/tx.h"

namespace puhui {

// What came of one transaction's signature check.
enum class SignatureCheck : uint8_t { kBad, kGood, kSkipped };

// A question asked of one transaction (does it still need its check? does the mempool hold it?).
using TxPredicate = std::function<bool(const DecodedTx&)>;

class VerifierPool {
 public:
  explicit VerifierPool(size_t threads);
  ~VerifierPool();
  VerifierPool(const VerifierPool&) = delete;
  VerifierPool& operator=(const VerifierPool&) = delete;

  // Verifies every transaction's signature, in parallel. Returns one flag per input, true where
  // the signature is valid.
  std::vector<bool> Verify(std::span<const DecodedTx* const> txs);
  // As Verify, but asks `needed` of each transaction on the worker right before checking it: one
  // no longer needed (its copy checked elsewhere meanwhile) is not checked and comes back
  // kSkipped. Asking then, not when the work is queued, matters under load: a slice may wait in
  // the queue behind another caller's slices holding the same transactions.
  std::vector<SignatureCheck> Verify(std::span<const DecodedTx* const> txs,
                                     const TxPredicate& needed);

  size_t threads() const { return workers_.size(); }
  // Signatures checked so far (not counting those skipped), and the CPU time the workers spent
  // checking them (each worker's own thread CPU time, so time it waited for a core is not counted;
  // asking `needed`, a mempool lookup of well under 1 % of a check, is counted with it).
  uint64_t checked() const { return checked_.load(std::memory_order_relaxed); }
  uint64_t cpu_ns() const { return cpu_ns_.load(std::memory_order_relaxed); }

 private:
  void WorkerLoop();

  std::atomic<uint64_t> checked_{0};
  std::atomic<uint64_t> cpu_ns_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace puhui
