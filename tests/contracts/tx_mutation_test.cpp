// DecodeTx against mutated envelopes: whatever the bytes, the answer is a Status with a reason or a
// decoded transaction whose signature verifies only if its body and signature are the ones signed —
// in which case it is the very same transaction, with the same id.
#include <doctest/doctest.h>
#include <google/protobuf/stubs/logging.h>

#include "chain/limits.h"
#include "chain/signing.h"
#include "contracts/tx.h"
#include "mutation.h"
#include "registry_fixture.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

// A signed transaction and the parts a mutation must not be able to change unnoticed.
struct Original {
  std::string envelope;
  std::string body;  // exactly as signed
  std::string signature;
  Hash32 id{};
};

Original Make(const pb::TxBody& body, const std::string& signer) {
  Original o;
  o.envelope = SignedDeterministically(body, signer);
  pb::TxEnvelope env;
  REQUIRE(env.ParseFromString(o.envelope));
  o.body = env.body();
  o.signature = env.signatures(0);
  o.id = TxId(AsBytes(o.body));
  return o;
}

std::vector<Original> Originals() {
  pb::TxBody with_memo = GrantBody("sh-auth", "verifier", pb::ROLE_VERIFIER, "SH", 7);
  with_memo.set_memo("碳普惠 memo");
  pb::TxBody revoke = Body("js-auth", 1);
  revoke.mutable_revoke_role()->set_account(RawAddr("alice"));
  revoke.mutable_revoke_role()->set_role(pb::ROLE_MERCHANT);
  revoke.mutable_revoke_role()->set_region("JS");
  // Registry actions with nested messages: a methodology with its formula, a report.
  pb::TxBody file = Body("sh-op", 3);
  Registry::File("PV", 1)(file);
  pb::TxBody report = Body("owner", 2);
  Registry::Report("P1", 20250101, 20250331, 1000, 536600)(report);
  // A personal-account attestation batch: repeated nested records.
  pb::TxBody attest = Body("prov", 4);
  for (int i = 0; i < 3; ++i) {
    auto* r = attest.mutable_attest_behaviour()->add_records();
    r->set_account(RawAddr("person " + std::to_string(i)));
    r->set_record_id(HashOf("record " + std::to_string(i)));
    r->set_scenario("SH-METRO-TRIP");
    r->set_amount(12 + i);
    r->set_time_ms(1'767'225'600'000 + i);
  }
  return {Make(TransferBody("owner", "alice", 5, 0), "owner"),
          Make(with_memo, "sh-auth"),
          Make(revoke, "js-auth"),
          Make(file, "sh-op"),
          Make(report, "owner"),
          Make(attest, "prov")};
}

std::string Envelope(std::string_view body, std::string_view signature) {
  pb::TxEnvelope env;
  env.set_body(std::string(body));
  env.add_signatures(std::string(signature));
  return env.SerializeAsString();
}

// The property every mutant must keep; returns true if it decoded.
bool CheckMutant(const Original& o, const std::string& bytes) {
  auto tx = DecodeTx(kChainId, bytes);
  if (!tx.ok()) {
    const StatusCode code = tx.status().code();
    CHECK_MESSAGE((code == StatusCode::kInvalidArgument || code == StatusCode::kResourceExhausted ||
                   code == StatusCode::kFailedPrecondition),
                  tx.status().ToString());
    CHECK_FALSE(tx.status().message().empty());
    return false;
  }
  pb::TxEnvelope env;
  REQUIRE(env.ParseFromString(bytes));
  REQUIRE(env.signatures_size() == 1);
  CHECK(tx->envelope_bytes == bytes);
  CHECK(tx->id == TxId(AsBytes(env.body())));
  const bool untouched = env.body() == o.body && env.signatures(0) == o.signature;
  CHECK(VerifyTxSignature(*tx) == untouched);
  if (untouched) CHECK(tx->id == o.id);
  return true;
}

constexpr uint64_t kSeed = 0x7478'6d75'7461'7465;  // "txmutate"

}  // namespace

TEST_CASE("every single-bit flip of a signed transaction is refused or fails its signature") {
  google::protobuf::LogSilencer quiet;  // proto3 logs each string field that is not UTF-8
  for (const Original& o : Originals()) {
    REQUIRE(CheckMutant(o, o.envelope));
    for (size_t bit = 0; bit < o.envelope.size() * 8; ++bit) {
      INFO("bit ", bit, " of ", Hex(AsBytes(o.envelope)));
      CheckMutant(o, FlipBit(o.envelope, bit));
    }
  }
}

TEST_CASE("every truncation and every deleted byte of a transaction is refused with a reason") {
  google::protobuf::LogSilencer quiet;
  for (const Original& o : Originals()) {
    for (size_t len = 0; len < o.envelope.size(); ++len) {
      INFO("truncated to ", len, " bytes");
      CHECK_FALSE(CheckMutant(o, o.envelope.substr(0, len)));
    }
    for (size_t i = 0; i < o.envelope.size(); ++i) {
      INFO("byte ", i, " deleted");
      CHECK_FALSE(CheckMutant(o, DeleteByte(o.envelope, i)));
    }
  }
}

TEST_CASE("a byte inserted anywhere in a transaction is refused or fails its signature") {
  google::protobuf::LogSilencer quiet;
  Mutator m(kSeed);
  for (const Original& o : Originals()) {
    for (size_t i = 0; i <= o.envelope.size(); ++i) {
      for (char c : {'\x00', '\x01', '\x80', '\xff', m.Byte()}) {
        INFO("seed ", kSeed, " byte ", static_cast<int>(static_cast<uint8_t>(c)), " inserted at ",
             i);
        CheckMutant(o, InsertByte(o.envelope, i, c));
      }
    }
  }
}

TEST_CASE("random edits of a transaction are refused or fail the signature") {
  google::protobuf::LogSilencer quiet;
  constexpr int kIterations = 3000;
  for (const Original& o : Originals()) {
    Mutator m(kSeed);
    for (int i = 0; i < kIterations; ++i) {
      std::string mutant = m.Mutate(o.envelope);
      INFO("seed ", kSeed, " iteration ", i, " mutant ", Hex(AsBytes(mutant)));
      CheckMutant(o, mutant);
    }
  }
}

TEST_CASE("an edited body under the original signature decodes at most, and never verifies") {
  // The envelope stays well formed, so the edits reach the body's decoder and checks.
  google::protobuf::LogSilencer quiet;
  constexpr int kIterations = 3000;
  for (const Original& o : Originals()) {
    Mutator m(kSeed + 1);
    for (int i = 0; i < kIterations; ++i) {
      std::string body = m.Mutate(o.body);
      INFO("seed ", kSeed + 1, " iteration ", i, " body ", Hex(AsBytes(body)));
      CheckMutant(o, Envelope(body, o.signature));
    }
    for (const auto& [name, body] : WireMutations(o.body)) {
      INFO("body with ", name);
      CheckMutant(o, Envelope(body, o.signature));
    }
  }
}

TEST_CASE("re-encoded envelopes keep the transaction's id, and framing attacks are refused") {
  google::protobuf::LogSilencer quiet;
  for (const Original& o : Originals()) {
    int decoded = 0;
    for (const auto& [name, bytes] : WireMutations(o.envelope)) {
      INFO("envelope with ", name);
      decoded += CheckMutant(o, bytes) ? 1 : 0;
    }
    // Fields swapped or in reverse order, padded lengths and a repeated body (the last one counts)
    // are the same transaction in another encoding, and must decode as exactly that.
    CHECK(decoded >= 4);
  }
}

TEST_CASE("random bytes and oversized envelopes are refused with a reason") {
  google::protobuf::LogSilencer quiet;
  const Original o = Originals()[0];
  Mutator m(kSeed + 2);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = m.RandomBytes(i % 10 == 0 ? 4096 : 256);
    INFO("seed ", kSeed + 2, " iteration ", i, " bytes ", Hex(AsBytes(bytes)));
    CHECK_FALSE(CheckMutant(o, bytes));
  }
  // A valid envelope padded with an unknown field to one byte over the limit.
  std::string padded = o.envelope + LengthDelimited(15, std::string(kMaxTxBytes, 'x'));
  auto big = DecodeTx(kChainId, padded);
  CHECK(big.status().code() == StatusCode::kResourceExhausted);
  CHECK(big.status().message().find("limit") != std::string::npos);
  // Within the limit, the same padding is an unknown field and refused as such.
  std::string unknown =
      o.envelope + LengthDelimited(15, std::string(kMaxTxBytes - o.envelope.size() - 8, 'x'));
  REQUIRE(unknown.size() <= kMaxTxBytes);
  CHECK(DecodeTx(kChainId, unknown).status().message().find("unknown fields") != std::string::npos);
  // A body so large that the envelope's length prefix runs past the end.
  std::string lying = Varint(1 << 3 | 2) + Varint(uint64_t{1} << 62) + o.body;
  CHECK(DecodeTx(kChainId, lying).status().code() == StatusCode::kInvalidArgument);
}
