// Committed events for subscribers and reconciliation (docs/exchange.md "Event stream").
//
// Events are not stored apart: they are the events of the receipts each committed block stored,
// numbered in block order — (height, index), index counting the events of the block's receipts
// in transaction order. So the stream is the same on every node, after any restart, and a cursor
// (the position of the last event a client saw) resumes it without gaps or duplicates.
//
// CommitSignal tells waiters that a block was committed: the submit-and-wait RPC and the
// WebSocket subscribers (rpc/ws_session.h) through NodeEventFeed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "chain/block_store.h"
#include "chain/status.h"
#include "puhui.pb.h"
#include "rpc/event_feed.h"

namespace puhui {

// The position of an event; a cursor is the position of the last event seen. {h, kEndOfBlock} is
// "after every event of block h".
struct EventPosition {
  static constexpr uint32_t kEndOfBlock = UINT32_MAX;
  uint64_t height = 0;
  uint32_t index = 0;
  auto operator<=>(const EventPosition&) const = default;
};

struct CommittedEvent {
  EventPosition at;
  uint32_t tx_index = 0;
  Hash32 tx_hash{};
  uint64_t time_ms = 0;  // the block's agreed time
  pb::Event event;
};

// Which events a subscriber wants; an empty set matches everything.
struct EventFilter {
  static constexpr size_t kMaxEntries = 32;  // per list
  std::set<std::string> kinds;
  std::set<std::string> accounts;  // lower-case hex; matched against every attribute value
  std::set<std::string> batches;   // matched against the "batch" attribute
  bool Matches(const pb::Event& e) const;
};

// At most this many events in one page, and blocks scanned for one page.
inline constexpr size_t kMaxEventsPerPage = 500;
inline constexpr uint64_t kMaxBlocksPerPage = 2000;

struct EventPage {
  std::vector<CommittedEvent> events;
  EventPosition cursor;  // resume after this: the last event returned, or how far it scanned
};

// Matching events strictly after `after`, up to `tip`, at most `limit` (≤ kMaxEventsPerPage),
// scanning at most kMaxBlocksPerPage blocks.
Result<EventPage> ReadEvents(const BlockStore& store, uint64_t tip, EventPosition after,
                             const EventFilter& filter, size_t limit);

nlohmann::json EventToJson(const CommittedEvent& e);
nlohmann::json PositionToJson(const EventPosition& p);

// Parses {"kinds", "accounts", "batches"} and the start: "after": {"height", "index"} (resume),
// or "from_height" (every event of that height on), or neither (only events committed from now
// on). Throws rpc::RpcException for bad params.
EventFilter ParseEventFilter(const nlohmann::json& params);
EventPosition ParseEventStart(const nlohmann::json& params, uint64_t tip);

// Wakes waiters at every commit. Thread-safe.
class CommitSignal {
 public:
  void Notify(uint64_t height);
  // Waits until `done()` holds (checked at once and after each commit) or `timeout` passes.
  bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // Calls `f` after each commit until the handle is released; `f` runs on the thread that wrote
  // the block (the ledger's writer thread) and must only post work.
  std::shared_ptr<void> Watch(std::function<void()> f);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t height_ = 0;
  uint64_t next_watch_ = 0;
  std::map<uint64_t, std::function<void()>> watchers_;
};

// The WebSocket endpoint's feed: subscriptions over the node's store.
class NodeEventFeed : public rpc::EventFeed {
 public:
  NodeEventFeed(const BlockStore& store, std::function<uint64_t()> tip, CommitSignal& signal)
      : store_(store), tip_(std::move(tip)), signal_(signal) {}
  std::unique_ptr<rpc::EventSubscription> Subscribe(const nlohmann::json& params,
                                                    nlohmann::json& ack) override;
  std::shared_ptr<void> Watch(std::function<void()> wake) override {
    return signal_.Watch(std::move(wake));
  }

 private:
  const BlockStore& store_;
  std::function<uint64_t()> tip_;
  CommitSignal& signal_;
};

}  // namespace puhui
