#include "contracts/tx.h"

#include <doctest/doctest.h>

#include "chain/limits.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

TEST_CASE("a well-formed signed transaction decodes and its signature verifies") {
  auto tx = DecodeTx(kChainId, Signed(TransferBody("owner", "alice", 5, 0), "owner"));
  REQUIRE(tx.ok());
  CHECK(VerifyTxSignature(*tx));
  CHECK(tx->sender == KeyOf("owner").Public());
}

TEST_CASE("a transaction signed by someone other than its sender does not verify") {
  auto tx = DecodeTx(kChainId, Signed(TransferBody("owner", "alice", 5, 0), "alice"));
  REQUIRE(tx.ok());
  CHECK_FALSE(VerifyTxSignature(*tx));
}

TEST_CASE("a transaction for another chain is refused") {
  pb::TxBody body = TransferBody("owner", "alice", 5, 0);
  body.set_chain_id("other-chain");
  auto tx = DecodeTx(kChainId, Signed(body, "owner"));
  REQUIRE_FALSE(tx.ok());
  CHECK(tx.status().code() == StatusCode::kFailedPrecondition);
  CHECK(tx.status().message().find("other-chain") != std::string::npos);
}

TEST_CASE("a signature made for one chain does not verify on another") {
  // Same body bytes, but the digest binds the chain id of the verifying node.
  pb::TxBody body = TransferBody("owner", "alice", 5, 0);
  pb::TxEnvelope env;
  env.ParseFromString(Signed(body, "owner"));
  pb::TxBody other = body;
  other.set_chain_id("other-chain");
  std::string other_env = Signed(other, "owner");
  pb::TxEnvelope e2;
  e2.ParseFromString(other_env);
  e2.set_body(env.body());  // our chain's body with a signature for the other chain
  auto tx = DecodeTx(kChainId, e2.SerializeAsString());
  REQUIRE(tx.ok());
  CHECK_FALSE(VerifyTxSignature(*tx));
}

TEST_CASE("malformed envelopes are refused with a reason") {
  CHECK(DecodeTx(kChainId, "not protobuf \xff\xff").status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(DecodeTx(kChainId, std::string(kMaxTxBytes + 1, 'a')).status().code() ==
        StatusCode::kResourceExhausted);

  pb::TxEnvelope env;
  env.ParseFromString(Signed(TransferBody("owner", "alice", 5, 0), "owner"));
  pb::TxEnvelope no_sig = env;
  no_sig.clear_signatures();
  CHECK(DecodeTx(kChainId, no_sig.SerializeAsString())
            .status()
            .message()
            .find("exactly 1 signature") != std::string::npos);
  pb::TxEnvelope short_sig = env;
  short_sig.set_signatures(0, "abc");
  CHECK(DecodeTx(kChainId, short_sig.SerializeAsString()).status().code() ==
        StatusCode::kInvalidArgument);

  pb::TxBody no_action = Body("owner", 0);
  CHECK(DecodeTx(kChainId, Signed(no_action, "owner")).status().message().find("no action") !=
        std::string::npos);
  pb::TxBody no_expiry = TransferBody("owner", "alice", 5, 0);
  no_expiry.set_expiry_height(0);
  CHECK(DecodeTx(kChainId, Signed(no_expiry, "owner")).status().message().find("expiry_height") !=
        std::string::npos);
  pb::TxBody long_memo = TransferBody("owner", "alice", 5, 0);
  long_memo.set_memo(std::string(kMaxMemoBytes + 1, 'm'));
  CHECK(DecodeTx(kChainId, Signed(long_memo, "owner")).status().message().find("memo") !=
        std::string::npos);
  pb::TxBody bad_sender = TransferBody("owner", "alice", 5, 0);
  bad_sender.set_sender(std::string(32, '\0'));
  CHECK(DecodeTx(kChainId, SignTx(bad_sender, KeyOf("owner"))).status().message().find("sender") !=
        std::string::npos);
}

TEST_CASE("a body with unknown fields is refused") {
  pb::TxBody body = TransferBody("owner", "alice", 5, 0);
  std::string bytes = body.SerializeAsString();
  bytes += std::string("\xa8\x1f\x01", 3);  // field 501, varint 1
  pb::TxEnvelope env;
  env.set_body(bytes);
  env.add_signatures(std::string(64, '\1'));
  auto tx = DecodeTx(kChainId, env.SerializeAsString());
  REQUIRE_FALSE(tx.ok());
  CHECK(tx.status().message().find("unknown fields") != std::string::npos);
}

TEST_CASE("the transaction id ignores the signature, so re-signing gives the same id") {
  pb::TxBody body = TransferBody("owner", "alice", 5, 0);
  auto a = DecodeTx(kChainId, Signed(body, "owner"));
  auto b = DecodeTx(kChainId, Signed(body, "owner"));  // fresh aux randomness
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->id == b->id);
}

TEST_CASE("actions with malformed fields are refused before they can reach a block") {
  auto error_of = [](const pb::TxBody& body) {
    auto tx = DecodeTx(kChainId, Signed(body, "owner"));
    REQUIRE_FALSE(tx.ok());
    CHECK(tx.status().code() == StatusCode::kInvalidArgument);
    return tx.status().message();
  };
  CHECK(error_of(TransferBody("owner", "alice", 0, 0)).find("grams must be > 0") !=
        std::string::npos);
  CHECK(error_of(TransferBody("owner", "owner", 5, 0)).find("oneself") != std::string::npos);
  CHECK(error_of(TransferBody("owner", "alice", 5, 0, "bad/serial")).find("serial") !=
        std::string::npos);
  pb::TxBody off_curve = TransferBody("owner", "alice", 5, 0);
  off_curve.mutable_transfer()->set_to(
      std::string(32, '\xff'));  // not an x coordinate on the curve
  CHECK(error_of(off_curve).find("recipient") != std::string::npos);
  pb::TxBody short_to = TransferBody("owner", "alice", 5, 0);
  short_to.mutable_transfer()->set_to("short");
  CHECK(error_of(short_to).find("recipient") != std::string::npos);
  CHECK(error_of(GrantBody("owner", "alice", pb::ROLE_UNSPECIFIED, "SH", 0)).find("role") !=
        std::string::npos);
  CHECK(error_of(GrantBody("owner", "alice", static_cast<pb::Role>(99), "SH", 0)).find("role") !=
        std::string::npos);
  CHECK(error_of(GrantBody("owner", "alice", pb::ROLE_VERIFIER, "", 0)).find("region") !=
        std::string::npos);
  pb::TxBody bad_account = GrantBody("owner", "alice", pb::ROLE_VERIFIER, "SH", 0);
  bad_account.mutable_grant_role()->set_account("x");
  CHECK(error_of(bad_account).find("account") != std::string::npos);
}

TEST_CASE("a transaction's id can be read from its envelope without decoding it") {
  const std::string envelope = Signed(TransferBody("owner", "alice", 5, 0), "owner");
  auto decoded = DecodeTx(kChainId, envelope);
  REQUIRE(decoded.ok());
  auto peeked = PeekTxId(envelope);
  REQUIRE(peeked.has_value());
  CHECK(*peeked == decoded->id);
  CHECK_FALSE(PeekTxId("\xff\xff\xff").has_value());
  CHECK_FALSE(PeekTxId(std::string(kMaxTxBytes + 1, '\0')).has_value());
  // An envelope with an unknown field (field 9, varint 1) still names its transaction, so an
  // auditor's report can say which one it refuses.
  const std::string unknown = envelope + std::string("\x48\x01", 2);
  CHECK(PeekTxId(unknown) == decoded->id);
  CHECK(DecodeTx(kChainId, unknown).status().message() ==
        "transaction envelope has unknown fields");
  // A field 0, or a length that runs past the end, is malformed.
  CHECK_FALSE(PeekTxId(envelope + std::string("\x00\x01", 2)).has_value());
  CHECK_FALSE(PeekTxId(envelope + std::string("\x0a\x05\x01", 3)).has_value());
}
