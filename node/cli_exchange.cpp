#include "node/cli_exchange.h"

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "chain/keys.h"
#include "contracts/tx.h"
#include "node/files.h"
#include "node/rpc_client.h"
#include "node/ws_client.h"

namespace puhui::cli {

namespace {

using nlohmann::json;

struct Leg {
  std::string from, to;  // hex
  uint64_t grams = 0;
  bool retire = false;
};
struct Trade {
  std::string id;
  std::string payment_ref;
  std::vector<Leg> legs;
};

int Fail(const std::string& m) {
  fmt::print(stderr, "exchange-demo: {}\n", m);
  return 1;
}

class Demo {
 public:
  Demo(RpcClient client, std::string url) : client_(std::move(client)), url_(std::move(url)) {}

  std::optional<json> Call(const std::string& method, const json& params) {
    auto r = client_.Call(method, params);
    if (!r.ok()) {
      error_ = fmt::format("{}: {}", method, r.status().message());
      return std::nullopt;
    }
    return *r;
  }

  // Signs and submits a transaction of `key` and waits for it; true if its receipt is ok.
  bool Send(const PrivateKey& key, uint64_t& nonce, const std::function<void(pb::TxBody&)>& fill,
            const std::string& what) {
    pb::TxBody body;
    body.set_chain_id(chain_id_);
    body.set_sender(ToString(key.Public().bytes));
    body.set_nonce(nonce++);
    body.set_expiry_height(tip_ + 10'000);
    fill(body);
    auto sent = Call("tx_submit", {{"tx", Hex(AsBytes(SignTx(body, key)))}});
    if (!sent) return false;
    for (int i = 0; i < 600; ++i) {
      auto r = client_.Call("tx_get", {{"hash", (*sent)["tx_hash"]}});
      if (r.ok() && (*r)["status"] == "committed") {
        if ((*r)["receipt"]["ok"] == true) {
          fmt::print("  {} ok at height {}\n", what, (*r)["height"].get<uint64_t>());
          return true;
        }
        error_ = fmt::format("{}: {}", what, (*r)["receipt"].dump());
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    error_ = what + ": not committed within 60 s";
    return false;
  }

  uint64_t NonceOf(const PrivateKey& key) {
    auto a = Call("account_get", {{"address", Hex(key.Public().bytes)}});
    return a ? (*a)["pending_nonce"].get<uint64_t>() : 0;
  }

  RpcClient client_;
  std::string url_;
  std::string chain_id_;
  uint64_t tip_ = 0;
  std::string error_;
};

}  // namespace

int ExchangeDemo(const std::string& url, const std::map<std::string, std::string>& flags) {
  auto flag = [&](const char* name) -> std::optional<std::string> {
    auto it = flags.find(name);
    if (it == flags.end()) return std::nullopt;
    return it->second;
  };
  auto authority_path = flag("authority"), seller_path = flag("seller"), batch = flag("batch");
  const std::string region = flag("region").value_or("SH");
  if (!authority_path || !seller_path || !batch) {
    return Fail(
        "needs --authority KEY --seller KEY --batch SERIAL [--region CODE] [--trades N] "
        "[--legs N] [--run ID]");
  }
  const uint64_t trades = std::stoull(flag("trades").value_or("96"));
  const uint64_t legs_per_trade = std::stoull(flag("legs").value_or("10"));
  const std::string run =
      flag("run").value_or(std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count()));
  if (trades == 0 || trades > 10'000 || legs_per_trade == 0 || legs_per_trade > 64) {
    return Fail("--trades must be 1..10000 and --legs 1..64");
  }
  auto authority = ReadKeyFile(*authority_path);
  auto seller = ReadKeyFile(*seller_path);
  if (!authority.ok() || !seller.ok()) return Fail("cannot read --authority or --seller key");
  auto client = RpcClient::FromUrl(url);
  if (!client.ok()) return Fail(client.status().message());
  Demo d(*client, url);
  d.client_.set_timeout(std::chrono::seconds(30));

  auto status = d.Call("node_status", json::object());
  if (!status) return Fail(d.error_);
  d.chain_id_ = (*status)["chain_id"];
  d.tip_ = (*status)["latest_height"];
  fmt::print("== {} on chain {} at height {}\n", url, d.chain_id_, d.tip_);

  // A fresh exchange for this run, appointed by the authority; the seller authorises it.
  const PrivateKey exchange = PrivateKey::Generate();
  const std::string exchange_hex = Hex(exchange.Public().bytes);
  std::vector<std::string> buyers;
  for (int i = 0; i < 8; ++i) buyers.push_back(Hex(PrivateKey::Generate().Public().bytes));
  std::vector<Trade> book;
  uint64_t total = 0;
  for (uint64_t t = 0; t < trades; ++t) {
    Trade trade;
    trade.id = fmt::format("D{}-{:05}", run, t + 1);
    trade.payment_ref = fmt::format("CNAPS-{}-{:05}", run, t + 1);
    for (uint64_t l = 0; l < legs_per_trade; ++l) {
      Leg leg;
      leg.from = Hex(seller->Public().bytes);
      leg.to = buyers[(t * legs_per_trade + l) % buyers.size()];
      leg.grams = 1000 + (t * 37 + l * 101) % 9000;
      leg.retire = (t * legs_per_trade + l) % 7 == 3;
      total += leg.grams;
      trade.legs.push_back(leg);
    }
    book.push_back(std::move(trade));
  }
  fmt::print("== exchange {}\n   {} trades of {} legs, {} g in all\n", exchange_hex, trades,
             legs_per_trade, total);
  uint64_t authority_nonce = d.NonceOf(*authority), seller_nonce = d.NonceOf(*seller);
  if (!d.Send(
          *authority, authority_nonce,
          [&](pb::TxBody& b) {
            b.mutable_grant_role()->set_account(ToString(exchange.Public().bytes));
            b.mutable_grant_role()->set_role(pb::ROLE_EXCHANGE);
            b.mutable_grant_role()->set_region(region);
          },
          "grant exchange role")) {
    return Fail(d.error_);
  }
  if (!d.Send(
          *seller, seller_nonce,
          [&](pb::TxBody& b) {
            auto* a = b.mutable_set_authorisation();
            a->set_exchange(ToString(exchange.Public().bytes));
            a->set_batch(*batch);
            a->set_grams(total);
            a->set_expiry_height(d.tip_ + 100'000);
          },
          "seller authorises the exchange")) {
    return Fail(d.error_);
  }

  // Follow the stream from here on: everything that names the exchange.
  status = d.Call("node_status", json::object());
  if (!status) return Fail(d.error_);
  const uint64_t start_height = (*status)["latest_height"];
  auto sub = WsClient::Subscribe(
      d.client_.host(), d.client_.port(),
      {{"accounts", {exchange_hex}}, {"after", {{"height", start_height}, {"index", UINT32_MAX}}}},
      std::chrono::seconds(10));
  if (!sub.ok()) return Fail(sub.status().ToString());
  fmt::print("== subscribed to the event stream after height {}\n", start_height);

  // Settle: all but the last by settlement_submit, the last by submit-and-wait.
  uint64_t nonce = 0;
  std::string last_hash;
  uint64_t last_height = 0;
  for (size_t t = 0; t < book.size(); ++t) {
    pb::TxBody body;
    body.set_chain_id(d.chain_id_);
    body.set_sender(ToString(exchange.Public().bytes));
    body.set_nonce(nonce++);
    body.set_expiry_height(start_height + 10'000);
    auto* s = body.mutable_settle();
    s->set_id(book[t].id);
    s->set_payment_ref(book[t].payment_ref);
    s->set_region(region);
    for (const auto& leg : book[t].legs) {
      auto* l = s->add_legs();
      l->set_from(ToString(*Hash32FromHex(leg.from)));
      l->set_to(ToString(*Hash32FromHex(leg.to)));
      l->set_batch(*batch);
      l->set_grams(leg.grams);
      if (leg.retire) {
        l->set_retire(true);
        l->set_beneficiary("Yangtze River Delta green commute week");
        l->set_purpose(pb::RETIREMENT_PURPOSE_EVENT);
      }
    }
    const std::string tx = Hex(AsBytes(SignTx(body, exchange)));
    const bool wait = t + 1 == book.size();
    std::optional<json> r;
    for (int attempt = 0; attempt < 100 && !r; ++attempt) {
      r = d.Call(wait ? "settlement_submit_wait" : "settlement_submit", {{"tx", tx}});
      if (!r && d.client_.last_error().code == 1006) {  // mempool full: retry shortly
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      if (!r && d.client_.last_error().code == 1100) continue;  // not yet committed: wait again
      if (!r) return Fail(d.error_);
    }
    if (!r) return Fail(d.error_);
    if (wait) {
      last_hash = (*r)["tx_hash"];
      last_height = (*r)["height"];
      if ((*r)["receipt"]["ok"] != true) return Fail("last settlement: " + (*r)["receipt"].dump());
    }
  }
  fmt::print("== {} settlements submitted; the last committed at height {} (tx {})\n", book.size(),
             last_height, last_hash);

  // Retrying a used id is refused with a pointer to the original.
  {
    pb::TxBody body;
    body.set_chain_id(d.chain_id_);
    body.set_sender(ToString(exchange.Public().bytes));
    body.set_nonce(nonce);
    body.set_expiry_height(start_height + 10'000);
    auto* s = body.mutable_settle();
    s->set_id(book[0].id);
    s->set_payment_ref(book[0].payment_ref);
    s->set_region(region);
    auto* l = s->add_legs();
    l->set_from(ToString(seller->Public().bytes));
    l->set_to(ToString(*Hash32FromHex(buyers[0])));
    l->set_batch(*batch);
    l->set_grams(1);
    auto again = d.Call("settlement_submit", {{"tx", Hex(AsBytes(SignTx(body, exchange)))}});
    if (again || d.client_.last_error().code != 1003) {
      return Fail("a retried settlement id was not refused with code 1003");
    }
    fmt::print("== retry of {} refused: {}\n", book[0].id, d.client_.last_error().message);
  }

  // Read the stream up to the last settlement's height.
  std::vector<json> events;
  bool caught_up = false;
  while (!caught_up) {
    auto m = (*sub)->Next(std::chrono::seconds(30));
    if (!m.ok()) return Fail("event stream: " + m.status().ToString());
    if ((*m)["method"] == "events") {
      for (const auto& e : (*m)["params"]["events"]) events.push_back(e);
    } else if ((*m)["method"] == "caught_up") {
      caught_up = (*m)["params"]["height"].get<uint64_t>() >= last_height;
    }
  }
  (*sub)->Close();
  fmt::print("== event stream: {} events up to height {}\n", events.size(), last_height);

  // Reconcile 1: the stream against the trade book, event by event.
  size_t mismatches = 0;
  auto mismatch = [&](const std::string& what) {
    if (++mismatches <= 10) fmt::print("   MISMATCH {}\n", what);
  };
  std::map<std::string, std::vector<json>> transfers, retirements;
  std::map<std::string, json> settled;
  for (const auto& e : events) {
    const json& a = e["attributes"];
    if (e["kind"] == "transfer") transfers[a.value("settlement", "")].push_back(a);
    if (e["kind"] == "credits_retired") retirements[a.value("settlement", "")].push_back(a);
    if (e["kind"] == "settlement") {
      if (settled.count(a["id"])) mismatch("settlement " + a["id"].get<std::string>() + " twice");
      settled[a["id"]] = a;
    }
  }
  uint64_t legs_seen = 0, retired_seen = 0;
  for (const auto& t : book) {
    if (!settled.count(t.id)) {
      mismatch("settlement " + t.id + " missing from the stream");
      continue;
    }
    if (settled[t.id]["payment_ref"] != t.payment_ref) mismatch(t.id + ": payment_ref");
    const auto& tr = transfers[t.id];
    if (tr.size() != t.legs.size()) mismatch(t.id + ": transfer count");
    size_t retire_count = 0;
    for (size_t l = 0; l < t.legs.size() && l < tr.size(); ++l) {
      if (tr[l]["from"] != t.legs[l].from || tr[l]["to"] != t.legs[l].to ||
          tr[l]["grams"] != std::to_string(t.legs[l].grams) || tr[l]["batch"] != *batch) {
        mismatch(fmt::format("{} leg {}", t.id, l));
      }
      retire_count += t.legs[l].retire;
      ++legs_seen;
    }
    if (retirements[t.id].size() != retire_count) mismatch(t.id + ": retirements");
    retired_seen += retirements[t.id].size();
  }
  if (settled.size() != book.size()) mismatch("settlement count in the stream");

  // Reconcile 2: settlement_list for the period against the book.
  std::map<std::string, json> listed;
  json params = {{"exchange", exchange_hex},
                 {"from_height", start_height + 1},
                 {"to_height", last_height},
                 {"limit", 1000}};
  while (true) {
    auto page = d.Call("settlement_list", params);
    if (!page) return Fail(d.error_);
    for (const auto& s : (*page)["items"]) listed[s["id"]] = s;
    if ((*page)["next"].is_null()) break;
    params["after"] = (*page)["next"];
  }
  for (const auto& t : book) {
    if (!listed.count(t.id)) {
      mismatch("settlement " + t.id + " missing from settlement_list");
    } else if (listed[t.id]["legs"].size() != t.legs.size()) {
      mismatch(t.id + ": listed legs");
    }
  }
  if (listed.size() != book.size()) mismatch("settlement_list count");

  // Reconcile 3: every buyer's balance is what it bought and did not retire.
  std::map<std::string, uint64_t> held;
  for (const auto& t : book) {
    for (const auto& l : t.legs) held[l.to] += l.retire ? 0 : l.grams;
  }
  for (const auto& [buyer, grams] : held) {
    auto b = d.Call("balance_get", {{"batch", *batch}, {"address", buyer}});
    if (!b || (*b)["grams"] != grams) mismatch("balance of " + buyer);
  }

  if (mismatches > 0) {
    fmt::print("== NOT reconciled: {} mismatches\n", mismatches);
    return 1;
  }
  fmt::print(
      "== reconciled exactly: {} settlements, {} legs ({} bought and retired), {} g; stream, "
      "settlement_list and {} buyers' balances agree with the trade book\n",
      book.size(), legs_seen, retired_seen, total, held.size());
  return 0;
}

}  // namespace puhui::cli
