// What the WebSocket endpoint (ws_session.h) streams: committed events, provided by the node
// (node/events.h) behind this interface so that rpc/ never reads the chain itself.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

namespace puhui::rpc {

// One subscriber's position in the stream of committed events.
class EventSubscription {
 public:
  virtual ~EventSubscription() = default;
  // The next message for the subscriber: a JSON-RPC notification {"method": "events", …} with up
  // to a bounded number of events after the subscription's cursor, which it advances, or
  // {"method": "caught_up", …} once when the cursor reaches the tip, or null when there is nothing
  // to send (caught up already, or a stretch of blocks had no matching event; call again). Reads
  // committed data only; safe on any thread, one call at a time.
  virtual nlohmann::json Next() = 0;
  // Whether the cursor is at the committed tip.
  virtual bool caught_up() const = 0;
};

class EventFeed {
 public:
  virtual ~EventFeed() = default;
  // A subscription from a "subscribe" request's params; throws RpcException for bad params.
  // `ack` receives the result to answer the request with.
  virtual std::unique_ptr<EventSubscription> Subscribe(const nlohmann::json& params,
                                                       nlohmann::json& ack) = 0;
  // Calls `wake` (from the committing thread; it must only post work) after every commit until
  // the returned handle is released.
  virtual std::shared_ptr<void> Watch(std::function<void()> wake) = 0;
};

}  // namespace puhui::rpc
