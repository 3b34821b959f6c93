// Exchange settlement against a running puhuid: authorisations, settlement_submit and
// submit-and-wait, retried ids, settlement_get and settlement_list, events_list, and the
// WebSocket event stream — a subscriber that disconnects mid-stream and resumes from its cursor,
// across a node restart, sees every event once.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <functional>
#include <map>
#include <set>

#include "node/audit.h"
#include "node/ws_client.h"
#include "process.h"

using namespace puhui;
using namespace puhui::testing;
using nlohmann::json;

namespace {

using Fill = std::function<void(pb::TxBody&)>;

struct Exchange {
  RunningNode& n;
  std::map<std::string, uint64_t> nonces;

  std::string Tx(const std::string& signer, const Fill& fill) {
    pb::TxBody body = Body(signer, nonces[signer]++, 100'000);
    fill(body);
    return Hex(AsBytes(Signed(body, signer)));
  }
  json Ok(const std::string& signer, const Fill& fill) {
    json sent = n.Ok("tx_submit", {{"tx", Tx(signer, fill)}});
    json r = n.WaitCommitted(sent["tx_hash"])["receipt"];
    REQUIRE_MESSAGE(r["ok"] == true, r.dump());
    return r;
  }
};

Fill GrantExchange(const std::string& who) {
  return [=](pb::TxBody& b) {
    b.mutable_grant_role()->set_account(RawAddr(who));
    b.mutable_grant_role()->set_role(pb::ROLE_EXCHANGE);
    b.mutable_grant_role()->set_region("SH");
  };
}

Fill Authorise(const std::string& exchange, uint64_t grams, const std::string& batch = kBatch) {
  return [=](pb::TxBody& b) {
    auto* a = b.mutable_set_authorisation();
    a->set_exchange(RawAddr(exchange));
    a->set_batch(batch);
    a->set_grams(grams);
    a->set_expiry_height(1'000'000);
  };
}

pb::SettlementLeg Leg(const std::string& from, const std::string& to, uint64_t grams) {
  pb::SettlementLeg l;
  l.set_from(RawAddr(from));
  l.set_to(RawAddr(to));
  l.set_batch(kBatch);
  l.set_grams(grams);
  return l;
}

Fill Settle(const std::string& id, const std::vector<pb::SettlementLeg>& legs) {
  return [=](pb::TxBody& b) {
    auto* s = b.mutable_settle();
    s->set_id(id);
    s->set_payment_ref("BANK-" + id);
    s->set_region("SH");
    for (const auto& l : legs) *s->add_legs() = l;
  };
}

// Ten legs: owner sells 10 g to alice nine times and alice passes 5 g to bob.
std::vector<pb::SettlementLeg> TenLegs() {
  std::vector<pb::SettlementLeg> legs;
  for (int i = 0; i < 9; ++i) legs.push_back(Leg("owner", "alice", 10));
  legs.push_back(Leg("alice", "bob", 5));
  return legs;
}

std::pair<uint64_t, uint32_t> At(const json& cursor) {
  return {cursor["height"].get<uint64_t>(), cursor["index"].get<uint32_t>()};
}

}  // namespace

TEST_CASE("exchange over RPC: submit, submit-and-wait, retried ids, get and list") {
  RunningNode n;
  Exchange x{n, {}};
  x.Ok("sh-auth", GrantExchange("exch"));
  x.Ok("owner", Authorise("exch", 100'000));
  x.Ok("alice", Authorise("exch", 100'000));

  // Submit-and-wait answers after the commit, with the receipt.
  json done = n.Ok("settlement_submit_wait",
                   {{"tx", x.Tx("exch", Settle("D1-0001", {Leg("owner", "alice", 700)}))}});
  CHECK(done["status"] == "committed");
  CHECK(done["receipt"]["ok"] == true);
  const uint64_t height = done["height"];
  CHECK(height > 0);

  // The same id again, in a new transaction: refused before admission, with the original.
  auto again = n.client.Call("settlement_submit",
                             {{"tx", x.Tx("exch", Settle("D1-0001", {Leg("owner", "bob", 1)}))}});
  REQUIRE_FALSE(again.ok());
  CHECK(n.client.last_error().code == 1003);
  CHECK(n.client.last_error().data["settlement"]["height"] == height);
  CHECK(n.client.last_error().data["settlement"]["tx_hash"] == done["tx_hash"]);
  --x.nonces["exch"];  // that transaction was never admitted

  // Resending the very same bytes after a timeout returns the committed result.
  pb::TxBody body = Body("exch", x.nonces["exch"]++, 100'000);
  Settle("D1-0002", TenLegs())(body);
  const std::string tx = Hex(AsBytes(Signed(body, "exch")));
  json sent = n.Ok("settlement_submit", {{"tx", tx}});
  CHECK(sent["status"] == "pending");
  json first = n.Ok("settlement_submit_wait", {{"tx", tx}});
  json retry = n.Ok("settlement_submit_wait", {{"tx", tx}});
  CHECK(first["tx_hash"] == sent["tx_hash"]);
  CHECK(retry == first);

  // A failing leg: the receipt names it; nothing moved.
  json failed = n.Ok(
      "settlement_submit_wait",
      {{"tx", x.Tx("exch", Settle("D1-0003", {Leg("owner", "bob", 1), Leg("carol", "bob", 1)}))}});
  CHECK(failed["receipt"]["ok"] == false);
  CHECK(failed["receipt"]["code"] == "not_authorised");
  CHECK(failed["receipt"]["reason"].get<std::string>().starts_with("leg 1:"));
  CHECK(n.Ok("balance_get", {{"batch", kBatch}, {"address", Addr("bob")}})["grams"] == 5);
  CHECK(n.ErrorCode("settlement_get", {{"exchange", Addr("exch")}, {"id", "D1-0003"}}) == 1002);

  json got = n.Ok("settlement_get", {{"exchange", Addr("exch")}, {"id", "D1-0002"}});
  CHECK(got["payment_ref"] == "BANK-D1-0002");
  CHECK(got["legs"].size() == 10);
  CHECK(got["tx_hash"] == first["tx_hash"]);

  json all = n.Ok("settlement_list", {{"exchange", Addr("exch")}});
  REQUIRE(all["items"].size() == 2);
  CHECK(all["items"][0]["id"] == "D1-0001");
  CHECK(all["next"].is_null());
  json page = n.Ok("settlement_list", {{"exchange", Addr("exch")}, {"limit", 1}});
  REQUIRE(page["items"].size() == 1);
  json rest =
      n.Ok("settlement_list", {{"exchange", Addr("exch")}, {"limit", 1}, {"after", page["next"]}});
  REQUIRE(rest["items"].size() == 1);
  CHECK(rest["items"][0]["id"] == "D1-0002");
  CHECK(n.Ok("settlement_list", {{"exchange", Addr("exch")}, {"to_height", height}})["items"]
            .size() == 1);

  json auth = n.Ok("authorisation_get",
                   {{"holder", Addr("owner")}, {"exchange", Addr("exch")}, {"batch", kBatch}});
  CHECK(auth["grams"] == 100'000 - 700 - 90);

  // Events: the settlement and its legs, in order, with cursors.
  json events = n.Ok("events_list", {{"kinds", {"settlement"}}});
  REQUIRE(events["events"].size() == 2);
  CHECK(events["events"][1]["attributes"]["id"] == "D1-0002");
  CHECK(events["events"][1]["attributes"]["legs"] == "10");

  // Bad input: stable codes.
  CHECK(n.ErrorCode("settlement_submit", {{"tx", x.Tx("owner", Authorise("exch", 1))}}) == -32602);
  --x.nonces["owner"];
  CHECK(n.ErrorCode("settlement_submit", {{"tx", "zz"}}) == -32602);
  CHECK(n.ErrorCode("settlement_submit_wait", {{"tx", tx}, {"timeout_ms", 0}}) == -32602);
  CHECK(n.ErrorCode("settlement_get", {{"exchange", Addr("exch")}, {"id", "bad id"}}) == -32602);
  CHECK(n.ErrorCode("events_list", {{"after", {{"height", 1'000'000}, {"index", 0}}}}) == -32602);
  CHECK(n.ErrorCode("events_list", {{"kinds", "transfer"}}) == -32602);
  CHECK(n.ErrorCode("settlement_list", {{"exchange", Addr("exch")}, {"after", "x/y"}}) == -32602);
}

TEST_CASE("event stream: a subscriber disconnects mid-stream and resumes across a restart") {
  RunningNode n;
  Exchange x{n, {}};
  x.Ok("sh-auth", GrantExchange("exch"));
  x.Ok("owner", Authorise("exch", 1'000'000));
  x.Ok("alice", Authorise("exch", 1'000'000));

  // 30 settlements of 10 legs: 300 transfers that touch alice.
  auto settle_batch = [&](int from, int to) {
    std::string last;
    for (int i = from; i < to; ++i) {
      last = n.Ok("settlement_submit",
                  {{"tx", x.Tx("exch", Settle(fmt::format("S-{:04}", i), TenLegs()))}})["tx_hash"];
    }
    n.WaitCommitted(last);
  };
  settle_batch(0, 30);

  const json filter = {{"kinds", {"transfer", "settlement"}}, {"accounts", {Addr("alice")}}};
  json params = filter;
  params["from_height"] = 1;
  const auto wait = std::chrono::seconds(10);
  auto port = std::to_string(n.process.port());
  auto sub = WsClient::Subscribe("127.0.0.1", port, params, wait);
  REQUIRE_MESSAGE(sub.ok(), sub.status().ToString());
  std::vector<json> seen;
  json cursor;
  // Take the first message only, then drop the connection mid-stream.
  auto first = (*sub)->Next(wait);
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  REQUIRE((*first)["method"] == "events");
  for (const auto& e : (*first)["params"]["events"]) seen.push_back(e);
  cursor = (*first)["params"]["cursor"];
  REQUIRE(seen.size() == 256);  // a full message: more were due
  sub->reset();

  // More settlements while it is away, and a node restart.
  settle_batch(30, 40);
  n.process.Kill(SIGTERM);
  n.process.Start();
  n.client = *RpcClient::FromUrl(n.process.url());
  port = std::to_string(n.process.port());

  params = filter;
  params["after"] = cursor;
  sub = WsClient::Subscribe("127.0.0.1", port, params, wait);
  REQUIRE_MESSAGE(sub.ok(), sub.status().ToString());
  CHECK((*sub)->ack()["cursor"] == cursor);
  // Live events: settle more while subscribed, and read until caught up past them.
  settle_batch(40, 45);
  const uint64_t final_height = n.Ok("node_status", json::object())["latest_height"];
  bool caught_up = false;
  for (int i = 0; i < 200 && !caught_up; ++i) {
    auto m = (*sub)->Next(wait);
    REQUIRE_MESSAGE(m.ok(), m.status().ToString());
    if ((*m)["method"] == "events") {
      for (const auto& e : (*m)["params"]["events"]) seen.push_back(e);
    } else if ((*m)["method"] == "caught_up") {
      caught_up = (*m)["params"]["height"].get<uint64_t>() >= final_height;
    }
  }
  REQUIRE(caught_up);

  // Exactly the events the chain holds, in order, each once: compare with events_list.
  std::vector<json> expected;
  json page_params = filter;
  page_params["from_height"] = 1;
  for (int i = 0; i < 100; ++i) {
    json page = n.Ok("events_list", page_params);
    for (const auto& e : page["events"]) expected.push_back(e);
    if (At(page["cursor"]).first >= final_height && page["events"].empty()) break;
    page_params = filter;
    page_params["after"] = page["cursor"];
  }
  while (!expected.empty() && At(expected.back()["cursor"]).first > final_height) {
    expected.pop_back();
  }
  while (!seen.empty() && At(seen.back()["cursor"]).first > final_height) seen.pop_back();
  // Ten transfers each (the settlement events name the exchange, not alice).
  REQUIRE(expected.size() == 45 * 10);
  CHECK(seen.size() == expected.size());
  std::set<std::pair<uint64_t, uint32_t>> unique;
  for (size_t i = 0; i < seen.size(); ++i) {
    unique.insert(At(seen[i]["cursor"]));
    if (i > 0) CHECK(At(seen[i - 1]["cursor"]) < At(seen[i]["cursor"]));
  }
  CHECK(unique.size() == seen.size());
  CHECK(seen == expected);

  // A subscribe with bad params is refused with a JSON-RPC error.
  auto bad = WsClient::Subscribe("127.0.0.1", port, {{"kinds", "transfer"}}, wait);
  CHECK_FALSE(bad.ok());
  auto unknown = WsClient::Subscribe("127.0.0.1", port, {{"acounts", json::array()}}, wait);
  CHECK_FALSE(unknown.ok());
}

TEST_CASE("exchange-demo settles a day of trades and reconciles them from the event stream") {
  RunningNode n;
  const std::string authority = n.dir / "sh-auth.key", seller = n.dir / "owner.key";
  REQUIRE(WriteKeyFile(authority, KeyOf("sh-auth")).ok());
  REQUIRE(WriteKeyFile(seller, KeyOf("owner")).ok());
  auto [code, out] =
      RunCommand({BinaryPath("puhui-cli"), "--node", n.process.url(), "exchange-demo",
                  "--authority", authority, "--seller", seller, "--batch", kBatch, "--trades", "24",
                  "--legs", "10", "--run", "T"});
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("reconciled exactly: 24 settlements, 240 legs") != std::string::npos);

  // An auditor replaying the day finds every settlement leg within the supply rules.
  auto genesis = LoadGenesisFile(n.home + "/genesis.json");
  REQUIRE(genesis.ok());
  TempDir scratch;
  auto source = OpenRpcSource(n.process.url());
  REQUIRE(source.ok());
  auto audit = RunAudit(*genesis, **source, scratch.path(), AuditOptions{});
  REQUIRE_MESSAGE(audit.ok(), audit.status().ToString());
  CHECK_MESSAGE(!audit->fault.has_value(), (audit->fault ? audit->fault->reason : ""));
  CHECK(audit->txs > 24);
}
