#include "node/rpc_exchange.h"

#include <fmt/format.h>

#include <atomic>

#include "chain/genesis.h"
#include "chain/limits.h"
#include "contracts/exchange_keys.h"
#include "contracts/registry_keys.h"
#include "node/events.h"
#include "node/node.h"
#include "node/rpc_handler_util.h"
#include "rpc/encode.h"
#include "rpc/params.h"

namespace puhui {

namespace {

using namespace rpc_handler;

using nlohmann::json;
using rpc::Param;

constexpr uint64_t kDefaultListLimit = 100;
constexpr uint64_t kMaxListLimit = 1000;

[[noreturn]] void Bad(std::string_view param, std::string message) {
  throw rpc::RpcException(rpc::InvalidParams(param, std::move(message)));
}

std::string GetSettlementId(const json& params, Param p) {
  std::string id = rpc::GetString(params, p);
  if (!IsValidId(id) || id.size() > kMaxSettlementIdBytes) {
    Bad(p.name, fmt::format("param '{}' must be 1..{} characters of [A-Za-z0-9._:-]", p.name,
                            kMaxSettlementIdBytes));
  }
  return id;
}

// The settlement transaction a client sent: decoded and checked like admission would, so a
// malformed one is refused with DecodeTx's reason before anything else.
DecodedTx DecodeSettlement(const Node& node, const json& params) {
  std::string text = rpc::GetString(params, {"tx", 0});
  if (text.size() > 2 * kMaxTxBytes + 2) {
    Throw(ResourceExhausted(fmt::format("transaction exceeds {} bytes", kMaxTxBytes)));
  }
  if (text.rfind("0x", 0) == 0) text = text.substr(2);
  auto bytes = FromHex(text);
  if (!bytes) Bad("tx", "param 'tx' is not valid hex");
  DecodedTx tx = OrThrow(DecodeTx(node.ledger().chain_id(), AsString(*bytes)));
  if (tx.body->action_case() != pb::TxBody::kSettle) {
    Bad("tx",
        "param 'tx' is not a settlement (action 'settle'); send other transactions with "
        "tx_submit");
  }
  return tx;
}

json SettlementJson(const pb::Settlement& s) {
  json j = rpc::ProtoToJson(s);
  j["status"] = "committed";
  return j;
}

std::optional<pb::Settlement> ReadSettlement(const Node& node, const PublicKey& exchange,
                                             const std::string& id) {
  StoreStateReader reader(node.ledger().store());
  return OrThrow(ReadProto<pb::Settlement>(reader, exchange_keys::Settlement(exchange, id)));
}

// A used id: refused before admission with a pointer to the original, the same rule execution
// applies (RECEIPT_SETTLEMENT_EXISTS) for one that races in.
void RefuseUsedId(const Node& node, const DecodedTx& tx) {
  auto original = ReadSettlement(node, tx.sender, tx.body->settle().id());
  if (!original) return;
  rpc::RpcError e = rpc::StatusToRpcError(AlreadyExists(fmt::format(
      "settlement '{}' of this exchange was settled already at height {} by transaction {}; "
      "nothing was submitted",
      original->id(), original->height(), rpc::HexOf(original->tx_hash()))));
  e.data["settlement"] = {{"id", original->id()},
                          {"height", original->height()},
                          {"tx_hash", rpc::HexOf(original->tx_hash())}};
  throw rpc::RpcException(std::move(e));
}

// Admits the settlement; the very same transaction already waiting or committed counts as
// submitted (a retry). Another transaction on its nonce is refused like any conflict.
Hash32 Submit(Node& node, const DecodedTx& tx) {
  auto results = node.SubmitTxs({tx.envelope_bytes});
  if (!results[0].ok()) {
    const bool same =
        node.mempool().Contains(tx.id) || node.ledger().store().GetTxLocation(tx.id).has_value();
    if (results[0].status().code() != StatusCode::kAlreadyExists || !same) {
      Throw(results[0].status());
    }
  }
  return tx.id;
}

json CommittedResult(const Node& node, const Hash32& id) {
  const BlockStore& store = node.ledger().store();
  auto loc = store.GetTxLocation(id);
  auto receipt_bytes = loc ? store.GetReceipt(loc->height(), loc->index()) : std::nullopt;
  pb::Receipt receipt;
  if (!loc || !receipt_bytes || !receipt.ParseFromString(*receipt_bytes)) {
    Throw(Corruption(fmt::format("committed transaction {} has no receipt", Hex(id))));
  }
  return json{{"tx_hash", Hex(id)},
              {"status", "committed"},
              {"height", loc->height()},
              {"index", loc->index()},
              {"receipt", rpc::ReceiptToJson(receipt)}};
}

}  // namespace

void RegisterExchangeRpcMethods(rpc::Dispatcher& d, Node& node) {
  d.Register(
      "settlement_submit",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"tx"});
        DecodedTx tx = DecodeSettlement(node, params);
        RefuseUsedId(node, tx);
        Hash32 id = Submit(node, tx);
        return json{{"tx_hash", Hex(id)},
                    {"exchange", Hex(tx.sender.bytes)},
                    {"id", tx.body->settle().id()},
                    {"status", "pending"}};
      },
      "admits a signed settlement (hex TxEnvelope with action 'settle'); a settlement id the "
      "exchange used already is refused with the original's height and tx_hash");

  // Each waiting call holds an RPC thread: leave one free for everything else.
  auto waiting = std::make_shared<std::atomic<uint32_t>>(0);
  d.Register(
      "settlement_submit_wait",
      [&node, waiting](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"tx", "timeout_ms"});
        DecodedTx tx = DecodeSettlement(node, params);
        const uint64_t max_ms = node.config().settle_wait_timeout_ms;
        const uint64_t timeout_ms =
            rpc::GetOptionalUint64(params, {"timeout_ms", 1}).value_or(max_ms);
        if (timeout_ms == 0 || timeout_ms > max_ms) {
          Bad("timeout_ms", fmt::format("param 'timeout_ms' must be 1..{} (the node's "
                                        "settle_wait_timeout_ms)",
                                        max_ms));
        }
        const BlockStore& store = node.ledger().store();
        // A retry of a transaction that committed already gets its result, not a refusal.
        if (store.GetTxLocation(tx.id)) return CommittedResult(node, tx.id);
        RefuseUsedId(node, tx);
        const uint32_t most = std::max<uint32_t>(1, node.config().rpc_threads - 1);
        if (waiting->fetch_add(1) >= most) {
          waiting->fetch_sub(1);
          Throw(ResourceExhausted(fmt::format(
              "{} submit-and-wait calls are waiting already (one fewer than rpc_threads); use "
              "settlement_submit and poll tx_get, or retry",
              most)));
        }
        struct Leave {
          std::atomic<uint32_t>& n;
          ~Leave() { n.fetch_sub(1); }
        } leave{*waiting};
        Hash32 id = Submit(node, tx);
        const uint64_t expiry = tx.body->expiry_height();
        bool expired = false;
        const bool committed = node.commits().WaitUntil(
            [&] {
              if (store.GetTxLocation(id)) return true;
              expired = node.ledger().Tip().height() >= expiry;
              return expired;
            },
            std::chrono::milliseconds(timeout_ms));
        if (committed && !expired) return CommittedResult(node, id);
        if (store.GetTxLocation(id)) return CommittedResult(node, id);
        if (expired) {
          Throw(FailedPrecondition(fmt::format(
              "transaction {} was not committed by its expiry height {}; nothing was applied. "
              "Sign it again with a new nonce and expiry",
              Hex(id), expiry)));
        }
        rpc::RpcError e{rpc::kCommitWaitTimeout,
                        fmt::format("transaction {} was not committed within {} ms; it may still "
                                    "commit: poll tx_get or settlement_get, or call again",
                                    Hex(id), timeout_ms),
                        json{{"tx_hash", Hex(id)}, {"status", "pending"}}};
        throw rpc::RpcException(std::move(e));
      },
      "as settlement_submit, then waits for the commit (at most timeout_ms, default and limit "
      "the node's settle_wait_timeout_ms): height, index, tx_hash and receipt, or error 1100 "
      "with the tx_hash on timeout");

  d.Register(
      "settlement_get",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"exchange", "id"});
        PublicKey exchange = GetAddress(params, {"exchange", 0});
        std::string id = GetSettlementId(params, {"id", 1});
        auto s = ReadSettlement(node, exchange, id);
        if (!s) {
          Throw(NotFound(fmt::format("exchange {} has no committed settlement '{}'",
                                     Hex(exchange.bytes), id)));
        }
        return SettlementJson(*s);
      },
      "a committed settlement by exchange and id: payment reference, legs, height, tx_hash, "
      "block time, retirement certificates");

  d.Register(
      "settlement_list",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"exchange", "from_height", "to_height", "after", "limit"});
        PublicKey exchange = GetAddress(params, {"exchange", 0});
        const uint64_t from = rpc::GetOptionalUint64(params, {"from_height", 1}).value_or(1);
        const uint64_t to =
            rpc::GetOptionalUint64(params, {"to_height", 2}).value_or(node.ledger().Tip().height());
        auto after_text = rpc::GetOptionalString(params, {"after", 3});
        const uint64_t limit =
            rpc::GetOptionalUint64(params, {"limit", 4}).value_or(kDefaultListLimit);
        if (limit == 0 || limit > kMaxListLimit) {
          Bad("limit", fmt::format("param 'limit' must be 1..{}", kMaxListLimit));
        }
        if (from == 0 || from > to) Bad("from_height", "need 1 ≤ from_height ≤ to_height");
        const Bytes prefix = exchange_keys::ListPrefix(exchange);
        Bytes after = exchange_keys::ListFrom(exchange, from);
        if (after_text) {
          // "<height>/<id>" from a previous page's "next".
          const size_t slash = after_text->find('/');
          const std::string digits = after_text->substr(0, slash);
          uint64_t h = 0;
          bool number = !digits.empty() && digits.size() <= 19;
          for (char c : digits) {
            number = number && c >= '0' && c <= '9';
            if (number) h = h * 10 + static_cast<uint64_t>(c - '0');
          }
          if (slash == std::string::npos || !number || h == 0 ||
              !IsValidId(after_text->substr(slash + 1))) {
            Bad("after", "param 'after' must be a previous page's 'next' (\"<height>/<id>\")");
          }
          Bytes resume = exchange_keys::ListEntry(exchange, h, after_text->substr(slash + 1));
          if (resume > after) after = std::move(resume);
        }
        auto rows = OrThrow(node.ledger().store().ScanState(prefix, after, limit + 1));
        StoreStateReader reader(node.ledger().store());
        json items = json::array();
        json next = nullptr;
        for (size_t i = 0; i < rows.size(); ++i) {
          const std::string id(rows[i].second.begin(), rows[i].second.end());
          auto s =
              OrThrow(ReadProto<pb::Settlement>(reader, exchange_keys::Settlement(exchange, id)));
          if (!s) Throw(Corruption("a settlement listed is missing"));
          if (s->height() > to) break;
          if (i == limit) {
            next = fmt::format("{}/{}", items.back()["height"].get<uint64_t>(),
                               items.back()["id"].get<std::string>());
            break;
          }
          items.push_back(SettlementJson(*s));
        }
        return json{{"items", std::move(items)}, {"next", next}};
      },
      "an exchange's committed settlements with from_height ≤ height ≤ to_height, in height "
      "order, for reconciliation; 'next' resumes a long list");

  d.Register(
      "authorisation_get",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"holder", "exchange", "batch"});
        PublicKey holder = GetAddress(params, {"holder", 0});
        PublicKey exchange = GetAddress(params, {"exchange", 1});
        std::string batch = rpc::GetOptionalString(params, {"batch", 2}).value_or("");
        if (!batch.empty() && !IsValidId(batch)) Bad("batch", "param 'batch' is not a serial");
        StoreStateReader reader(node.ledger().store());
        auto a = OrThrow(ReadProto<pb::Authorisation>(
            reader, exchange_keys::Authorisation(holder, exchange, batch)));
        if (!a) {
          Throw(NotFound(fmt::format("holder {} has no authorisation of exchange {} for {}",
                                     Hex(holder.bytes), Hex(exchange.bytes),
                                     batch.empty() ? "any batch" : "batch '" + batch + "'")));
        }
        json j = rpc::ProtoToJson(*a);
        j["expired"] = a->expiry_height() <= node.ledger().Tip().height();
        return j;
      },
      "what a holder has authorised an exchange to move (for one batch, or any batch if batch is "
      "omitted): grams left and expiry height");

  d.Register(
      "events_list",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"kinds", "accounts", "batches", "after", "from_height", "limit"});
        if (!params.is_object()) Bad("params", "params must be an object");
        const uint64_t limit =
            rpc::GetOptionalUint64(params, {"limit", 0}).value_or(kMaxEventsPerPage);
        if (limit == 0 || limit > kMaxEventsPerPage) {
          Bad("limit", fmt::format("param 'limit' must be 1..{}", kMaxEventsPerPage));
        }
        EventFilter filter = ParseEventFilter(params);
        const uint64_t tip = node.ledger().Tip().height();
        EventPosition start = ParseEventStart(params, tip);
        if (!params.contains("after") && !params.contains("from_height")) start = {0, 0};
        auto page = OrThrow(ReadEvents(node.ledger().store(), tip, start, filter, limit));
        json events = json::array();
        for (const auto& e : page.events) events.push_back(EventToJson(e));
        return json{{"events", std::move(events)},
                    {"cursor", PositionToJson(page.cursor)},
                    {"height", tip}};
      },
      "committed events after a cursor (or from_height, or from the first block), filtered by "
      "kinds, accounts and batches; 'cursor' resumes. The same events as the WebSocket stream at "
      "GET /ws");
}

}  // namespace puhui
