#include "node/verifier_pool.h"

#include <time.h>

#include <algorithm>
#include <latch>

#include "node/thread_name.h"

namespace puhui {
namespace {

uint64_t ThreadCpuNs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_nsec);
}

}  // namespace

VerifierPool::VerifierPool(size_t threads) {
  if (threads == 0) threads = 1;
  for (size_t i = 0; i < threads; ++i)
    workers_.emplace_back([this] {
      NameThisThread("verify");
      WorkerLoop();
    });
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
  const std::vector<SignatureCheck> checks = Verify(txs, nullptr);
  std::vector<bool> ok(checks.size(), false);
  for (size_t j = 0; j < checks.size(); ++j) ok[j] = checks[j] == SignatureCheck::kGood;
  return ok;
}

std::vector<SignatureCheck> VerifierPool::Verify(std::span<const DecodedTx* const> txs,
                                                 const TxPredicate& needed) {
  // One chunk per worker, each writing only its own entries.
  std::vector<SignatureCheck> out(txs.size(), SignatureCheck::kBad);
  if (txs.empty()) return out;
  size_t chunks = std::min(workers_.size(), txs.size());
  std::latch done(static_cast<std::ptrdiff_t>(chunks));
  {
    std::lock_guard lock(mu_);
    for (size_t c = 0; c < chunks; ++c) {
      jobs_.emplace_back([&, c] {
        const uint64_t start = ThreadCpuNs();
        for (size_t j = c; j < txs.size(); j += chunks) {
          if (needed && !needed(*txs[j])) {
            out[j] = SignatureCheck::kSkipped;
            continue;
          }
          out[j] = VerifyTxSignature(*txs[j]) ? SignatureCheck::kGood : SignatureCheck::kBad;
          checked_.fetch_add(1, std::memory_order_relaxed);
        }
        cpu_ns_.fetch_add(ThreadCpuNs() - start, std::memory_order_relaxed);
        done.count_down();
      });
    }
  }
  cv_.notify_all();
  done.wait();
  return out;
}

}  // namespace puhui
