#include "node/events.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "chain/hash.h"
#include "rpc/errors.h"
#include "rpc/params.h"

namespace puhui {

namespace {

using nlohmann::json;

[[noreturn]] void Bad(std::string_view param, std::string message) {
  throw rpc::RpcException(rpc::InvalidParams(param, std::move(message)));
}

std::set<std::string> StringList(const json& params, const char* name, bool lower) {
  std::set<std::string> out;
  if (!params.is_object() || !params.contains(name) || params[name].is_null()) return out;
  const json& list = params[name];
  if (!list.is_array() || list.size() > EventFilter::kMaxEntries) {
    Bad(name, fmt::format("param '{}' must be an array of at most {} strings", name,
                          EventFilter::kMaxEntries));
  }
  for (const auto& v : list) {
    if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 128) {
      Bad(name, fmt::format("param '{}' must hold strings of 1..128 characters", name));
    }
    std::string s = v.get<std::string>();
    if (lower) {
      if (s.rfind("0x", 0) == 0) s = s.substr(2);
      std::transform(s.begin(), s.end(), s.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    out.insert(std::move(s));
  }
  return out;
}

// One subscriber's cursor and filter.
class Subscription : public rpc::EventSubscription {
 public:
  // Events per WebSocket message: small enough that a message is a few hundred KiB at most.
  static constexpr size_t kEventsPerMessage = 256;

  Subscription(const BlockStore& store, std::function<uint64_t()> tip, EventFilter filter,
               EventPosition start)
      : store_(store), tip_(std::move(tip)), filter_(std::move(filter)), cursor_(start) {}

  json Next() override {
    const EventPosition end{tip_(), EventPosition::kEndOfBlock};
    if (cursor_ >= end) {
      if (announced_ == cursor_) return nullptr;
      announced_ = cursor_;
      return json{{"jsonrpc", "2.0"},
                  {"method", "caught_up"},
                  {"params", {{"cursor", PositionToJson(cursor_)}, {"height", end.height}}}};
    }
    auto page = ReadEvents(store_, end.height, cursor_, filter_, kEventsPerMessage);
    if (!page.ok()) throw std::runtime_error(page.status().ToString());
    cursor_ = page->cursor;
    if (page->events.empty()) return nullptr;
    json events = json::array();
    for (const auto& e : page->events) events.push_back(EventToJson(e));
    return json{{"jsonrpc", "2.0"},
                {"method", "events"},
                {"params", {{"events", std::move(events)}, {"cursor", PositionToJson(cursor_)}}}};
  }
  bool caught_up() const override {
    return cursor_ >= EventPosition{tip_(), EventPosition::kEndOfBlock};
  }

 private:
  const BlockStore& store_;
  std::function<uint64_t()> tip_;
  const EventFilter filter_;
  EventPosition cursor_;
  std::optional<EventPosition> announced_;
};

}  // namespace

bool EventFilter::Matches(const pb::Event& e) const {
  if (!kinds.empty() && !kinds.count(e.kind())) return false;
  if (!batches.empty()) {
    bool hit = false;
    for (const auto& a : e.attributes()) hit |= a.key() == "batch" && batches.count(a.value());
    if (!hit) return false;
  }
  if (!accounts.empty()) {
    bool hit = false;
    for (const auto& a : e.attributes()) hit |= accounts.count(a.value()) > 0;
    if (!hit) return false;
  }
  return true;
}

Result<EventPage> ReadEvents(const BlockStore& store, uint64_t tip, EventPosition after,
                             const EventFilter& filter, size_t limit) {
  limit = std::clamp<size_t>(limit, 1, kMaxEventsPerPage);
  EventPage page;
  page.cursor = after;
  uint64_t h = after.index == EventPosition::kEndOfBlock ? after.height + 1 : after.height;
  h = std::max<uint64_t>(h, 1);
  for (uint64_t scanned = 0; h <= tip && scanned < kMaxBlocksPerPage; ++h, ++scanned) {
    auto block_bytes = store.GetBlock(h);
    pb::Block block;
    pb::BlockHeader header;
    if (!block_bytes || !block.ParseFromString(*block_bytes) ||
        !header.ParseFromString(block.header())) {
      return Corruption(fmt::format("stored block {} is missing or does not parse", h));
    }
    uint32_t index = 0;
    for (uint32_t i = 0; i < header.tx_count(); ++i) {
      auto receipt_bytes = store.GetReceipt(h, i);
      pb::Receipt receipt;
      if (!receipt_bytes || !receipt.ParseFromString(*receipt_bytes)) {
        return Corruption(fmt::format("stored receipt {} of block {} is missing", i, h));
      }
      for (auto& event : *receipt.mutable_events()) {
        const EventPosition at{h, index++};
        if (at <= after || !filter.Matches(event)) continue;
        CommittedEvent e;
        e.at = at;
        e.tx_index = i;
        e.tx_hash = *ToHash32(AsBytes(receipt.tx_hash()));
        e.time_ms = header.time_ms();
        e.event = std::move(event);
        page.events.push_back(std::move(e));
        if (page.events.size() == limit) {
          page.cursor = at;
          return page;
        }
      }
    }
    page.cursor = {h, EventPosition::kEndOfBlock};
  }
  return page;
}

json PositionToJson(const EventPosition& p) {
  return json{{"height", p.height}, {"index", p.index}};
}

json EventToJson(const CommittedEvent& e) {
  json attrs = json::object();
  for (const auto& a : e.event.attributes()) attrs[a.key()] = a.value();
  return json{{"cursor", PositionToJson(e.at)}, {"kind", e.event.kind()},
              {"tx_hash", Hex(e.tx_hash)},      {"tx_index", e.tx_index},
              {"time_ms", e.time_ms},           {"attributes", std::move(attrs)}};
}

EventFilter ParseEventFilter(const json& params) {
  if (!params.is_null() && !params.is_object()) Bad("params", "params must be an object");
  EventFilter f;
  f.kinds = StringList(params, "kinds", false);
  f.accounts = StringList(params, "accounts", true);
  f.batches = StringList(params, "batches", false);
  return f;
}

EventPosition ParseEventStart(const json& params, uint64_t tip) {
  if (params.is_object() && params.contains("after") && !params["after"].is_null()) {
    const json& a = params["after"];
    if (params.contains("from_height")) Bad("after", "give 'after' or 'from_height', not both");
    if (!a.is_object()) Bad("after", "param 'after' must be a cursor {\"height\", \"index\"}");
    EventPosition p;
    p.height = rpc::GetUint64(a, {"height", 0});
    const uint64_t index = rpc::GetUint64(a, {"index", 1});
    if (index > EventPosition::kEndOfBlock) Bad("after", "cursor index must fit 32 bits");
    p.index = static_cast<uint32_t>(index);
    if (p.height > tip) {
      Bad("after", fmt::format("cursor height {} is above the committed tip {}; was it from "
                               "another chain?",
                               p.height, tip));
    }
    return p;
  }
  if (params.is_object() && params.contains("from_height")) {
    const uint64_t from = rpc::GetUint64(params, {"from_height", 0});
    if (from == 0) Bad("from_height", "param 'from_height' must be ≥ 1 (the first block)");
    return {from - 1, EventPosition::kEndOfBlock};
  }
  return {tip, EventPosition::kEndOfBlock};
}

void CommitSignal::Notify(uint64_t height) {
  std::vector<std::function<void()>> watchers;
  {
    std::lock_guard lock(mu_);
    height_ = height;
    for (const auto& [id, f] : watchers_) watchers.push_back(f);
  }
  cv_.notify_all();
  for (const auto& f : watchers) f();
}

bool CommitSignal::WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, done);
}

std::shared_ptr<void> CommitSignal::Watch(std::function<void()> f) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_watch_++;
  watchers_.emplace(id, std::move(f));
  return std::shared_ptr<void>(nullptr, [this, id](void*) {
    std::lock_guard inner(mu_);
    watchers_.erase(id);
  });
}

std::unique_ptr<rpc::EventSubscription> NodeEventFeed::Subscribe(const json& params, json& ack) {
  static const std::set<std::string> kKnown = {"kinds", "accounts", "batches", "after",
                                               "from_height"};
  if (params.is_object()) {
    for (const auto& [k, v] : params.items()) {
      if (!kKnown.count(k)) Bad(k, fmt::format("unknown param '{}'", k));
    }
  }
  EventFilter filter = ParseEventFilter(params);
  const uint64_t tip = tip_();
  EventPosition start = ParseEventStart(params, tip);
  ack = json{{"subscribed", true}, {"cursor", PositionToJson(start)}, {"height", tip}};
  return std::make_unique<Subscription>(store_, tip_, std::move(filter), start);
}

}  // namespace puhui
