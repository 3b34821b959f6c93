#include "node/relay_queue.h"

namespace puhui {
namespace {

size_t EnvelopeBytes(const std::vector<std::string>& envelopes) {
  size_t bytes = 0;
  for (const auto& e : envelopes) bytes += e.size();
  return bytes;
}

}  // namespace

bool RelayQueue::Push(const PublicKey& from, std::vector<std::string> envelopes) {
  const size_t bytes = EnvelopeBytes(envelopes);
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= max_batches_ || bytes_ + bytes > max_bytes_) return false;
    bytes_ += bytes;
    queue_.push_back(Batch{from, std::move(envelopes)});
  }
  cv_.notify_one();
  return true;
}

std::optional<RelayQueue::Batch> RelayQueue::Pop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, stop, [&] { return !queue_.empty(); });
  if (stop.stop_requested()) return std::nullopt;
  Batch batch = std::move(queue_.front());
  queue_.pop_front();
  bytes_ -= EnvelopeBytes(batch.envelopes);
  return batch;
}

size_t RelayQueue::batches() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

size_t RelayQueue::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace puhui
