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
  std::vector<bool> ok(txs.size(), false);
  if (txs.empty()) return ok;
  checked_.fetch_add(txs.size(), std::memory_order_relaxed);
  // Split the work into one chunk per worker; std::vector<bool> is not safe for concurrent writes.
  std::vector<char> results(txs.size(), 0);
  size_t chunks = std::min(workers_.size(), txs.size());
  std::latch done(static_cast<std::ptrdiff_t>(chunks));
  {
    std::lock_guard lock(mu_);
    for (size_t c = 0; c < chunks; ++c) {
      jobs_.emplace_back([&, c] {
        const uint64_t start = ThreadCpuNs();
        for (size_t j = c; j < txs.size(); j += chunks) {
          if (VerifyTxSignature(*txs[j])) results[j] = 1;
        }
        cpu_ns_.fetch_add(ThreadCpuNs() - start, std::memory_order_relaxed);
        done.count_down();
      });
    }
  }
  cv_.notify_all();
  done.wait();
  for (size_t j = 0; j < txs.size(); ++j) ok[j] = results[j] != 0;
  return ok;
}

}  // namespace puhui
