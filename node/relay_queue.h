// Relayed transaction batches waiting for admission on the node's relay thread (node/node.h),
// bounded in batches and in bytes: a batch can be megabytes. Beyond either bound a new batch is
// refused (the caller drops it and counts it as refused: the node is overloaded, and whoever
// relayed it keeps it in its own mempool and offers it again, node/missed_gossip.h). Thread-safe:
// any thread pushes, one thread pops.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "chain/keys.h"

namespace puhui {

class RelayQueue {
 public:
  struct Batch {
    PublicKey from;                      // the peer that relayed it
    std::vector<std::string> envelopes;  // serialised transactions
  };

  RelayQueue(size_t max_batches, size_t max_bytes)
      : max_batches_(max_batches), max_bytes_(max_bytes) {}

  // Queues the batch; false (and nothing queued) if it would pass either bound.
  bool Push(const PublicKey& from, std::vector<std::string> envelopes);
  // The oldest batch, waiting for one; nullopt once `stop` is requested.
  std::optional<Batch> Pop(std::stop_token stop);

  size_t batches() const;
  size_t bytes() const;  // envelope bytes queued

 private:
  const size_t max_batches_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Batch> queue_;  // guarded by mu_
  size_t bytes_ = 0;         // guarded by mu_
};

}  // namespace puhui
