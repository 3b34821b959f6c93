// A day of a small city against a running puhuid on the dev genesis: scripts/personal-demo
// attests, caps, refuses duplicates, redeems, pools and issues with puhui-cli and checks its own
// totals; this test then reads the chain's totals over JSON-RPC and checks that they add up.
#include <doctest/doctest.h>

#include "chain/hash.h"
#include "contracts/personal_keys.h"
#include "node/audit.h"
#include "node/proof_verify.h"
#include "process.h"

using namespace puhui;
using namespace puhui::testing;
using nlohmann::json;

TEST_CASE("scripts/personal-demo runs a day of a small city and its totals add up") {
  TempDir dir;
  const std::string home = InitDevHome(dir);
  NodeProcess node(home, dir / "node.log");
  node.Start();
  auto [code, out] = RunDemoScript("personal-demo", node.url());
  CHECK_MESSAGE(code == 0, out, "\nnode log:\n", node.log());
  CHECK(out.find("personal-demo: done") != std::string::npos);

  auto client = RpcClient::FromUrl(node.url());
  REQUIRE(client.ok());
  auto totals = client->Call("personal_totals", json::object());
  REQUIRE(totals.ok());
  // Four batches of 8, 2, 5 and 8 records (the last all duplicates).
  CHECK((*totals)["records"] == 23);
  CHECK((*totals)["batches"] == 4);
  CHECK((*totals)["credited_grams"] == 13248 + 14560 + 1609 + 320);
  CHECK((*totals)["capped_grams"] == 616 + 40);
  CHECK((*totals)["points_earned"] == 13248 + 14560 + 1609 + 320 + 35);
  CHECK((*totals)["points_redeemed"] == 1000);
  CHECK((*totals)["consigned_grams"] == 6000);
  CHECK((*totals)["pooled_issued_grams"] == 6000);
  CHECK((*totals)["accounts"] == 4);
  // Per scenario and per provider, credited + capped + duplicate = records.
  auto metro = client->Call("scenario_get", {{"id", "SH-METRO-TRIP"}});
  REQUIRE(metro.ok());
  const json& s = (*metro)["stats"];
  CHECK(s["records"] == 10);
  CHECK(s["credited_records"].get<int>() + s["capped_records"].get<int>() +
            s["duplicate_records"].get<int>() ==
        10);
  auto transit = client->Call(
      "provider_stats_get",
      {{"address", "f93498f0e1d6aad17c7847c2feec4ea79ba3fd5e06081a95977852145002efd3"}});
  REQUIRE(transit.ok());
  CHECK((*transit)["records"] == 16);
  CHECK((*transit)["duplicate_records"] == 8);
  // Queries refuse what does not exist with stable codes.
  CHECK_FALSE(client->Call("scenario_get", {{"id", "NOPE"}}).ok());
  CHECK(client->last_error().code == 1002);
  CHECK_FALSE(client
                  ->Call("record_proof",
                         {{"provider", std::string(64, '1')}, {"record_id", std::string(64, '2')}})
                  .ok());
  CHECK(client->last_error().code == 1002);
  CHECK_FALSE(client->Call("personal_account_get", {{"address", "xyz"}}).ok());
  CHECK(client->last_error().code == -32602);

  // A person's record, proven to a certified header: checkable offline from the genesis file.
  auto genesis = LoadGenesisFile(home + "/genesis.json");
  REQUIRE(genesis.ok());
  const std::string provider = "f93498f0e1d6aad17c7847c2feec4ea79ba3fd5e06081a95977852145002efd3";
  const std::string record_id = Hex(Sha256("demo test 3"));
  auto proof = client->Call("proof_get",
                            {{"kind", "record"}, {"provider", provider}, {"record_id", record_id}});
  REQUIRE_MESSAGE(proof.ok(), proof.status().ToString());
  REQUIRE((*proof)["entries"].size() == 2);
  CHECK((*proof)["entries"][1]["kind"] == "attestation");
  Status valid = VerifyProof(*genesis, *proof);
  CHECK_MESSAGE(valid.ok(), valid.message());
  json altered = *proof;  // the record claimed to be another amount
  pb::BehaviourRecord record;
  REQUIRE(record.ParseFromString(
      ToString(*FromHex(altered["entries"][0]["inclusion"]["record"].get<std::string>()))));
  record.set_amount(record.amount() + 1);
  altered["entries"][0]["inclusion"]["record"] = Hex(AsBytes(record.SerializeAsString()));
  CHECK(VerifyProof(*genesis, altered).message().find("not in its batch's records_root") !=
        std::string::npos);
  // The counted-record index is outside the state tree: the outcome is proven by its batch's
  // outcomes_root, so claiming more grams, or a duplicate, fails.
  pb::RecordRef outcome;
  REQUIRE(outcome.ParseFromString(
      ToString(*FromHex((*proof)["entries"][0]["value"].get<std::string>()))));
  CHECK_FALSE(outcome.duplicate());
  altered = *proof;
  outcome.set_credited_grams(outcome.credited_grams() + 1000);
  altered["entries"][0]["value"] = Hex(AsBytes(outcome.SerializeAsString()));
  CHECK(VerifyProof(*genesis, altered).message().find("not in its batch's outcomes_root") !=
        std::string::npos);
  altered["entries"][0]["value"] = nullptr;
  CHECK(VerifyProof(*genesis, altered).message().find("must show a counted record") !=
        std::string::npos);
  pb::RecordRef as_duplicate;  // a real batch's leaf for a duplicate is no proof of counting
  REQUIRE(as_duplicate.ParseFromString(
      ToString(*FromHex((*proof)["entries"][0]["value"].get<std::string>()))));
  as_duplicate.set_duplicate(true);
  altered["entries"][0]["value"] = Hex(AsBytes(as_duplicate.SerializeAsString()));
  CHECK(VerifyProof(*genesis, altered).message().find("is a duplicate") != std::string::npos);
  altered = *proof;  // the paths claimed for another position
  altered["entries"][0]["inclusion"]["index"] =
      (*proof)["entries"][0]["inclusion"]["index"].get<uint64_t>() + 1;
  CHECK(VerifyProof(*genesis, altered).message().find("position does not match") !=
        std::string::npos);
  auto index_key = client->Call(
      "state_get", {{"key", Hex(personal_keys::Record(PublicKey{*Hash32FromHex(provider)},
                                                      ByteView(*Hash32FromHex(record_id))))}});
  CHECK_FALSE(index_key.ok());
  CHECK(client->last_error().code == -32602);
  CHECK(client->last_error().message.find("outside the state tree") != std::string::npos);
  CHECK_FALSE(
      client
          ->Call("proof_get",
                 {{"kind", "record"}, {"provider", provider}, {"record_id", std::string(64, '7')}})
          .ok());
  CHECK(client->last_error().message.find("has not been counted") != std::string::npos);

  // The whole day audits clean: no record and no pooled gram counted twice, totals add up.
  TempDir scratch;
  auto source = OpenRpcSource(node.url());
  REQUIRE(source.ok());
  auto audit = RunAudit(*genesis, **source, scratch.path(), AuditOptions{});
  REQUIRE_MESSAGE(audit.ok(), audit.status().ToString());
  CHECK_MESSAGE(!audit->fault.has_value(), (audit->fault ? audit->fault->reason : ""));
}
