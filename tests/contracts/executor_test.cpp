#include "contracts/executor.h"

#include <doctest/doctest.h>

#include "contracts/action.h"
#include "contracts/genesis_state.h"
#include "contracts/state_keys.h"
#include "counting_reader.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

struct Fixture {
  MemoryState state;
  uint64_t height = 1;
  Fixture() { state.Apply(GenesisState(TestGenesis())); }

  BlockContext Ctx() const { return {kChainId, height, 1'767'225'600'000 + height}; }

  // Applies one transaction as its own block and returns its receipt.
  pb::Receipt Run(const pb::TxBody& body, const std::string& signer) {
    DecodedTx tx = Decoded(body, signer);
    auto out = ApplyBlock(state, Ctx(), std::span<const DecodedTx>(&tx, 1));
    REQUIRE_MESSAGE(out.ok(), out.status().ToString());
    state.Apply(out->changes);
    ++height;
    return out->receipts.at(0);
  }

  uint64_t Balance(const std::string& who) {
    return *ReadU64(state, state_keys::Balance(kBatch, KeyOf(who).Public()));
  }
  uint64_t Nonce(const std::string& who) {
    return ReadAccount(state, KeyOf(who).Public())->nonce();
  }
  bool Has(const std::string& who, pb::Role role, const std::string& region) {
    return *HasRole(state, region, role, KeyOf(who).Public());
  }
};

// Every key except the sender's account record, to show a refused action changed nothing else.
std::map<Bytes, Bytes> WithoutAccount(const MemoryState& s, const std::string& who) {
  auto values = s.values();
  values.erase(state_keys::Account(KeyOf(who).Public()));
  return values;
}

}  // namespace

TEST_CASE("an authority grants a role in its own region") {
  Fixture f;
  auto r = f.Run(GrantBody("sh-auth", "op", pb::ROLE_OPERATOR, "SH", 0), "sh-auth");
  CHECK(r.code() == pb::RECEIPT_OK);
  CHECK(f.Has("op", pb::ROLE_OPERATOR, "SH"));
  CHECK(f.Nonce("sh-auth") == 1);
  REQUIRE(r.events_size() == 1);
  CHECK(r.events(0).kind() == "role_granted");
}

TEST_CASE("an authority cannot grant roles in another region, and nothing but the nonce changes") {
  Fixture f;
  auto before = WithoutAccount(f.state, "js-auth");
  auto r = f.Run(GrantBody("js-auth", "op", pb::ROLE_OPERATOR, "SH", 0), "js-auth");
  CHECK(r.code() == pb::RECEIPT_PERMISSION_DENIED);
  CHECK(r.reason().find("not an authority of region 'SH'") != std::string::npos);
  CHECK(WithoutAccount(f.state, "js-auth") == before);
  CHECK(f.Nonce("js-auth") == 1);
}

TEST_CASE("an account without a role cannot grant roles") {
  Fixture f;
  auto r = f.Run(GrantBody("owner", "owner", pb::ROLE_VERIFIER, "SH", 0), "owner");
  CHECK(r.code() == pb::RECEIPT_PERMISSION_DENIED);
  CHECK_FALSE(f.Has("owner", pb::ROLE_VERIFIER, "SH"));
}

TEST_CASE("the authority role is not granted by a single authority") {
  Fixture f;
  auto r = f.Run(GrantBody("sh-auth", "x", pb::ROLE_AUTHORITY, "SH", 0), "sh-auth");
  CHECK(r.code() == pb::RECEIPT_PERMISSION_DENIED);
  CHECK_FALSE(f.Has("x", pb::ROLE_AUTHORITY, "SH"));
}

TEST_CASE("granting a held role or in an unknown region is refused") {
  Fixture f;
  CHECK(f.Run(GrantBody("sh-auth", "op", pb::ROLE_OPERATOR, "SH", 0), "sh-auth").code() ==
        pb::RECEIPT_OK);
  CHECK(f.Run(GrantBody("sh-auth", "op", pb::ROLE_OPERATOR, "SH", 1), "sh-auth").code() ==
        pb::RECEIPT_ALREADY_EXISTS);
  CHECK(f.Run(GrantBody("sh-auth", "op", pb::ROLE_OPERATOR, "XX", 2), "sh-auth").code() ==
        pb::RECEIPT_NOT_FOUND);
}

TEST_CASE("revoking removes a role, revoking a role not held is refused") {
  Fixture f;
  f.Run(GrantBody("sh-auth", "op", pb::ROLE_VERIFIER, "SH", 0), "sh-auth");
  pb::TxBody revoke = Body("sh-auth", 1);
  revoke.mutable_revoke_role()->set_account(RawAddr("op"));
  revoke.mutable_revoke_role()->set_role(pb::ROLE_VERIFIER);
  revoke.mutable_revoke_role()->set_region("SH");
  CHECK(f.Run(revoke, "sh-auth").code() == pb::RECEIPT_OK);
  CHECK_FALSE(f.Has("op", pb::ROLE_VERIFIER, "SH"));
  revoke.set_nonce(2);
  CHECK(f.Run(revoke, "sh-auth").code() == pb::RECEIPT_NOT_FOUND);
}

TEST_CASE("a transfer moves grams and keeps the batch's total") {
  Fixture f;
  auto r = f.Run(TransferBody("owner", "alice", 250'000, 0), "owner");
  CHECK(r.code() == pb::RECEIPT_OK);
  CHECK(f.Balance("owner") == 750'000);
  CHECK(f.Balance("alice") == 250'000);
  CHECK(f.Balance("owner") + f.Balance("alice") == 1'000'000);
  CHECK(r.events(0).kind() == "transfer");
}

TEST_CASE("a transfer's event has the bytes MakeEvent gives for its batch, parties and grams") {
  Fixture f;
  auto r = f.Run(TransferBody("owner", "alice", 250'000, 0), "owner");
  REQUIRE(r.events_size() == 1);
  const pb::Event expected = MakeEvent(
      "transfer",
      {{"batch", kBatch}, {"from", Addr("owner")}, {"to", Addr("alice")}, {"grams", "250000"}});
  CHECK(r.events(0).SerializeAsString() == expected.SerializeAsString());
}

TEST_CASE("transferring more than the free balance fails and changes nothing but the nonce") {
  Fixture f;
  auto before = WithoutAccount(f.state, "owner");
  auto r = f.Run(TransferBody("owner", "alice", 1'000'001, 0), "owner");
  CHECK(r.code() == pb::RECEIPT_INSUFFICIENT_FUNDS);
  CHECK(r.reason().find("1000000 g") != std::string::npos);
  CHECK(WithoutAccount(f.state, "owner") == before);
  CHECK(f.Nonce("owner") == 1);
}

TEST_CASE("a transfer of an unknown batch is refused and moves nothing") {
  Fixture f;
  CHECK(f.Run(TransferBody("owner", "alice", 1, 0, "NO-SUCH-BATCH"), "owner").code() ==
        pb::RECEIPT_NOT_FOUND);
  CHECK(f.Balance("owner") == 1'000'000);
}

TEST_CASE("a replayed transaction (a used nonce) makes the block invalid") {
  Fixture f;
  f.Run(TransferBody("owner", "alice", 1, 0), "owner");
  DecodedTx replay = Decoded(TransferBody("owner", "alice", 1, 0), "owner");
  auto out = ApplyBlock(f.state, f.Ctx(), std::span<const DecodedTx>(&replay, 1));
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().code() == StatusCode::kFailedPrecondition);
  CHECK(out.status().message().find("nonce 0 is not the sender's next nonce 1") !=
        std::string::npos);
}

TEST_CASE("a nonce from the future makes the block invalid") {
  Fixture f;
  DecodedTx tx = Decoded(TransferBody("owner", "alice", 1, 5), "owner");
  CHECK_FALSE(ApplyBlock(f.state, f.Ctx(), std::span<const DecodedTx>(&tx, 1)).ok());
}

TEST_CASE("an expired transaction makes the block invalid") {
  Fixture f;
  f.height = 11;
  pb::TxBody body = TransferBody("owner", "alice", 1, 0);
  body.set_expiry_height(10);
  DecodedTx tx = Decoded(body, "owner");
  auto out = ApplyBlock(f.state, f.Ctx(), std::span<const DecodedTx>(&tx, 1));
  REQUIRE_FALSE(out.ok());
  CHECK(out.status().message().find("expired") != std::string::npos);
}

TEST_CASE("one sender's consecutive nonces apply in one block") {
  Fixture f;
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < 5; ++n)
    txs.push_back(Decoded(TransferBody("owner", "alice", 10, n), "owner"));
  auto out = ApplyBlock(f.state, f.Ctx(), txs);
  REQUIRE(out.ok());
  f.state.Apply(out->changes);
  CHECK(f.Balance("alice") == 50);
  CHECK(f.Nonce("owner") == 5);
  CHECK(out->receipts.size() == 5);
  CHECK(out->receipts[4].index() == 4);
}

TEST_CASE("applying the same block twice gives the same changes and receipts root") {
  Fixture f;
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < 20; ++n) {
    txs.push_back(Decoded(TransferBody("owner", n % 2 ? "alice" : "bob", 7 + n, n), "owner"));
  }
  auto a = ApplyBlock(f.state, f.Ctx(), txs);
  auto b = ApplyBlock(f.state, f.Ctx(), txs);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->changes == b->changes);
  CHECK(ReceiptsRoot(a->receipts) == ReceiptsRoot(b->receipts));
  CHECK(ReceiptsRoot(a->receipts) != kZeroHash);
}

TEST_CASE("a block reads each key of its base once, however many transactions read it") {
  Fixture f;
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < 20; ++n)
    txs.push_back(Decoded(TransferBody("owner", "alice", 10, n), "owner"));
  CountingReader counted(&f.state);
  auto a = ApplyBlock(counted, f.Ctx(), txs);
  auto b = ApplyBlock(f.state, f.Ctx(), txs);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->changes == b->changes);
  CHECK(ReceiptsRoot(a->receipts) == ReceiptsRoot(b->receipts));
  // The same few keys (the owner's account, the batch, both balances) are read by every transfer,
  // four reads each: from the base once each. Besides those, the supply check reads the two
  // balances again and the end-of-block rule its validator-set key: 7 in all, against 80 if every
  // read went through.
  CHECK(counted.reads <= 7);
}
