#include <doctest/doctest.h>

#include "audit_chain.h"
#include "contracts/registry_keys.h"
#include "node/proof_verify.h"
#include "node/proofs.h"

using namespace puhui;
using namespace puhui::testing;
using nlohmann::json;

namespace {

struct Proofs {
  AuditChain chain;
  std::unique_ptr<BlockStore> store = std::move(BlockStore::Open(chain.data).value());
  GenesisDoc genesis = TestGenesis();

  json Prove(const std::string& kind, const json& subject, uint64_t height) {
    auto s = MakeProofSubject(kind, subject);
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    auto proof = BuildProof(*store, genesis, height, {*s});
    REQUIRE_MESSAGE(proof.ok(), proof.status().ToString());
    return *proof;
  }
};

void CheckInvalid(const Status& s, const std::string& part) {
  REQUIRE(!s.ok());
  CHECK(s.code() == StatusCode::kFailedPrecondition);
  CHECK_MESSAGE(s.message().find(part) != std::string::npos, s.message());
}

// Flips the last hex digit of a string field.
void Flip(json& field) {
  std::string s = field.get<std::string>();
  s.back() = s.back() == '0' ? '1' : '0';
  field = s;
}

}  // namespace

TEST_CASE("a balance proof checks out offline and says which height it shows") {
  Proofs p;
  json proof = p.Prove("balance", {{"serial", kBatch}, {"address", Addr("bob")}}, 3);
  uint64_t height = 0;
  Status s = VerifyProof(p.genesis, proof, &height);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(height == 3);
  CHECK(proof["entries"][0]["record"] == 700);
  // Absence is provable too: bob held nothing after block 2.
  json before = p.Prove("balance", {{"serial", kBatch}, {"address", Addr("bob")}}, 2);
  CHECK(before["entries"][0]["value"].is_null());
  CHECK(VerifyProof(p.genesis, before).ok());
}

TEST_CASE("a proof of a state no block certifies yet is refused") {
  Proofs p;
  auto s = MakeProofSubject("batch", {{"serial", kBatch}});
  REQUIRE(s.ok());
  CHECK(BuildProof(*p.store, p.genesis, 4, {*s}).status().code() ==
        StatusCode::kFailedPrecondition);
  CHECK(MakeProofSubject("weather", json::object()).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(MakeProofSubject("balance", {{"serial", kBatch}, {"address", "zz"}}).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("a changed value, proof, header, signature or genesis makes a proof fail precisely") {
  Proofs p;
  const json good = p.Prove("balance", {{"serial", kBatch}, {"address", Addr("bob")}}, 3);
  REQUIRE(VerifyProof(p.genesis, good).ok());

  json value = good;  // 700 g claimed as something else
  Flip(value["entries"][0]["value"]);
  CheckInvalid(VerifyProof(p.genesis, value), "entry 0 (balance): the value does not match");

  json sibling = good;
  REQUIRE(!sibling["entries"][0]["smt_proof"]["siblings"].empty());
  Flip(sibling["entries"][0]["smt_proof"]["siblings"][0]);
  CheckInvalid(VerifyProof(p.genesis, sibling), "entry 0 (balance)");

  json other_key = good;  // the proof of bob's balance passed off as alice's
  other_key["entries"][0]["subject"]["address"] = Addr("alice");
  CheckInvalid(VerifyProof(p.genesis, other_key), "the key is not the one its subject names");

  json header = good;
  Flip(header["header"]);
  CheckInvalid(VerifyProof(p.genesis, header), "header of block 4");

  json commit = good;
  pb::Commit c;
  REQUIRE(c.ParseFromString(ToString(*FromHex(commit["commit"].get<std::string>()))));
  (*c.mutable_precommits(0)->mutable_signature())[3] ^= 0x01;
  commit["commit"] = Hex(AsBytes(c.SerializeAsString()));
  CheckInvalid(VerifyProof(p.genesis, commit), "commit certificate");

  json root = good;
  Flip(root["state_root"]);
  CheckInvalid(VerifyProof(p.genesis, root), "state_root");

  auto other = ParseGenesis(TestGenesisJson(/*block_interval_ms=*/99));
  REQUIRE(other.ok());
  CheckInvalid(VerifyProof(*other, good), "genesis_hash");

  json forged_change = good;  // a validator-set change the chain never made
  json change = json::object();
  change["effective_height"] = 3;
  change["set"] = "00";
  change["header"] = "00";
  change["commit"] = "00";
  change["pending_proof"] = {{"siblings", json::array()}};
  forged_change["validator_changes"] = json::array();
  forged_change["validator_changes"].push_back(change);
  CheckInvalid(VerifyProof(p.genesis, forged_change), "validator-set change 0 (height 3)");

  CheckInvalid(VerifyProof(p.genesis, json::array()), "not a JSON object");
  json missing = good;
  missing.erase("entries");
  CheckInvalid(VerifyProof(p.genesis, missing), "'entries' is missing");
}

TEST_CASE("a retirement certificate verifies and any altered fact is named") {
  Proofs p;
  auto cert = BuildCertificate(*p.store, p.genesis, "RT-1");
  REQUIRE_MESSAGE(cert.ok(), cert.status().ToString());
  Status s = VerifyCertificate(p.genesis, *cert);
  REQUIRE_MESSAGE(s.ok(), s.message());
  const json& r = (*cert)["retirement"];
  CHECK(r["grams"] == 1000);
  CHECK(r["on_behalf_of"] == "Expo 2026 organising committee");
  CHECK(r["purpose"] == "event");
  CHECK(r["retired_by"] == Addr("owner"));
  CHECK(r["height"] == 2);
  CHECK(r["time"].get<std::string>().rfind("2026-01-01T00:00:00", 0) == 0);
  CHECK((*cert)["batch"]["serial"] == kBatch);

  json grams = *cert;
  grams["retirement"]["grams"] = 5000;
  CheckInvalid(VerifyCertificate(p.genesis, grams),
               "certificate field 'retirement.grams' says 5000 but the proven record says 1000");
  json beneficiary = *cert;
  beneficiary["retirement"]["on_behalf_of"] = "someone else";
  CheckInvalid(VerifyCertificate(p.genesis, beneficiary), "retirement.on_behalf_of");
  json time = *cert;
  time["retirement"]["time_ms"] = 1;
  CheckInvalid(VerifyCertificate(p.genesis, time), "retirement.time_ms");
  json header = *cert;
  Flip(header["block_header"]);
  CheckInvalid(VerifyCertificate(p.genesis, header), "block_header");
  json record = *cert;
  Flip(record["proof"]["entries"][0]["value"]);
  CheckInvalid(VerifyCertificate(p.genesis, record), "entry 0 (retirement)");
  json format = *cert;
  format["format"] = "something/1";
  CheckInvalid(VerifyCertificate(p.genesis, format), "not a retirement certificate");

  CHECK(BuildCertificate(*p.store, p.genesis, "RT-99").status().code() == StatusCode::kNotFound);
}
