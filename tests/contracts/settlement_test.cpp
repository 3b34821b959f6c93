// Exchange settlement: holders' authorisations and multi-leg settlements that apply all or none.
// Every refusal is checked for its code, a reason naming the leg and rule, and unchanged state.
#include <doctest/doctest.h>

#include "chain/limits.h"
#include "contracts/exchange_keys.h"
#include "registry_fixture.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

using Fill = std::function<void(pb::TxBody&)>;

// "owner" holds 1,000,000 g of kBatch; "exch" becomes an exchange of SH.
Registry ExchangeRegistry() {
  Registry r;
  r.Ok("sh-auth", [](pb::TxBody& b) {
    b.mutable_grant_role()->set_account(RawAddr("exch"));
    b.mutable_grant_role()->set_role(pb::ROLE_EXCHANGE);
    b.mutable_grant_role()->set_region("SH");
  });
  return r;
}

Fill Authorise(const std::string& exchange, uint64_t grams, uint64_t expiry,
               const std::string& batch = kBatch) {
  return [=](pb::TxBody& b) {
    auto* a = b.mutable_set_authorisation();
    a->set_exchange(RawAddr(exchange));
    a->set_batch(batch);
    a->set_grams(grams);
    a->set_expiry_height(expiry);
  };
}

pb::SettlementLeg Leg(const std::string& from, const std::string& to, uint64_t grams,
                      const std::string& batch = kBatch) {
  pb::SettlementLeg l;
  l.set_from(RawAddr(from));
  l.set_to(RawAddr(to));
  l.set_batch(batch);
  l.set_grams(grams);
  return l;
}

pb::SettlementLeg RetireLeg(const std::string& from, const std::string& to, uint64_t grams) {
  pb::SettlementLeg l = Leg(from, to, grams);
  l.set_retire(true);
  l.set_beneficiary("Jiangnan Expo 2025");
  l.set_purpose(pb::RETIREMENT_PURPOSE_EVENT);
  l.set_purpose_text("bought and retired at the exchange");
  return l;
}

Fill Settle(const std::string& id, std::vector<pb::SettlementLeg> legs,
            const std::string& region = "SH") {
  return [=](pb::TxBody& b) {
    auto* s = b.mutable_settle();
    s->set_id(id);
    s->set_payment_ref("BANK-" + id);
    s->set_region(region);
    for (const auto& l : legs) *s->add_legs() = l;
  };
}

std::optional<pb::Authorisation> AuthOf(Registry& r, const std::string& holder,
                                        const std::string& batch = kBatch) {
  return r.Read<pb::Authorisation>(
      exchange_keys::Authorisation(KeyOf(holder).Public(), KeyOf("exch").Public(), batch));
}

// DecodeTx's verdict on a transaction of `signer` with `fill`.
Status Decode(const std::string& signer, const Fill& fill) {
  pb::TxBody body = Body(signer, 0);
  fill(body);
  return DecodeTx(kChainId, Signed(body, signer)).status();
}

}  // namespace

TEST_CASE("a settlement moves authorised credits along every leg and consumes the authorisations") {
  Registry r = ExchangeRegistry();
  r.Ok("owner", Authorise("exch", 300'000, r.height + 100));
  r.Ok("owner", Authorise("exch", 50'000, r.height + 100, ""));  // any batch
  auto receipt =
      r.Run("exch", Settle("S-1", {Leg("owner", "alice", 200'000), Leg("owner", "bob", 120'000)}));
  REQUIRE_MESSAGE(receipt.code() == pb::RECEIPT_OK, receipt.reason());
  CHECK(r.Balance(kBatch, "owner") == 680'000);
  CHECK(r.Balance(kBatch, "alice") == 200'000);
  CHECK(r.Balance(kBatch, "bob") == 120'000);
  CHECK(AuthOf(r, "owner")->grams() == 0);           // the batch's own first
  CHECK(AuthOf(r, "owner", "")->grams() == 30'000);  // then any batch's
  auto s = r.Read<pb::Settlement>(exchange_keys::Settlement(KeyOf("exch").Public(), "S-1"));
  REQUIRE(s.has_value());
  CHECK(s->payment_ref() == "BANK-S-1");
  CHECK(s->legs_size() == 2);
  CHECK(s->height() == r.height - 1);
  CHECK(s->tx_hash() == receipt.tx_hash());
  // Events: one transfer per leg, then the settlement.
  REQUIRE(receipt.events_size() == 3);
  CHECK(receipt.events(0).kind() == "transfer");
  CHECK(receipt.events(2).kind() == "settlement");
}

TEST_CASE("one failing leg applies none and names the leg") {
  Registry r = ExchangeRegistry();
  r.Ok("owner", Authorise("exch", 500'000, r.height + 100));
  r.Ok("alice", Authorise("exch", 500'000, r.height + 100));  // alice holds nothing
  r.Refused(
      "exch",
      Settle("S-1", {Leg("owner", "bob", 10), Leg("owner", "carol", 20), Leg("alice", "bob", 5)}),
      pb::RECEIPT_INSUFFICIENT_FUNDS, "leg 2: free balance of batch");
  r.Refused("exch", Settle("S-1", {Leg("owner", "bob", 10), Leg("owner", "carol", 10, "NOPE")}),
            pb::RECEIPT_BATCH_NOT_FOUND, "leg 1: credit batch 'NOPE' does not exist");
  r.Refused("exch", Settle("S-1", {Leg("owner", "bob", 10), Leg("carol", "bob", 10)}),
            pb::RECEIPT_NOT_AUTHORISED, "leg 1: holder");
  // The id was not used by the refused attempts.
  r.Ok("exch", Settle("S-1", {Leg("owner", "bob", 10)}));
}

TEST_CASE("a retried settlement id is refused with a pointer to the original") {
  Registry r = ExchangeRegistry();
  r.Ok("owner", Authorise("exch", 500'000, r.height + 100));
  auto first = r.Run("exch", Settle("S-7", {Leg("owner", "bob", 1000)}));
  REQUIRE(first.code() == pb::RECEIPT_OK);
  const uint64_t height = r.height - 1;
  r.Refused("exch", Settle("S-7", {Leg("owner", "bob", 1000)}), pb::RECEIPT_SETTLEMENT_EXISTS,
            "settled already at height " + std::to_string(height) + " by transaction " +
                Hex(AsBytes(first.tx_hash())));
  CHECK(r.Balance(kBatch, "bob") == 1000);
  // Ids are per exchange: another exchange may use the same one.
  r.Ok("sh-auth", [](pb::TxBody& b) {
    b.mutable_grant_role()->set_account(RawAddr("exch2"));
    b.mutable_grant_role()->set_role(pb::ROLE_EXCHANGE);
    b.mutable_grant_role()->set_region("SH");
  });
  r.Ok("owner", Authorise("exch2", 10, r.height + 100));
  r.Ok("exch2", Settle("S-7", {Leg("owner", "bob", 10)}));
}

TEST_CASE("expired, revoked, exhausted and lowered authorisations are refused") {
  Registry r = ExchangeRegistry();
  r.Ok("owner", Authorise("exch", 100, r.height + 1));
  r.Ok("alice", Authorise("exch", 1, r.height + 100));  // padding: one block passes
  r.Ok("alice", Authorise("exch", 1, r.height + 100));
  r.Refused("exch", Settle("S-1", {Leg("owner", "bob", 10)}), pb::RECEIPT_AUTHORISATION_EXPIRED,
            "leg 0: holder");
  r.Refused("exch", Settle("S-1", {Leg("owner", "bob", 10)}), pb::RECEIPT_AUTHORISATION_EXPIRED,
            "expired at height");

  r.Ok("owner", Authorise("exch", 100, r.height + 100));
  r.Ok("exch", Settle("S-2", {Leg("owner", "bob", 60)}));
  r.Refused("exch", Settle("S-3", {Leg("owner", "bob", 41)}), pb::RECEIPT_AUTHORISATION_EXHAUSTED,
            "to move 40 g more of batch");
  // Two legs that together exceed what is left.
  r.Refused("exch", Settle("S-3", {Leg("owner", "bob", 30), Leg("owner", "carol", 11)}),
            pb::RECEIPT_AUTHORISATION_EXHAUSTED, "leg 1: holder");

  r.Ok("owner", Authorise("exch", 5, r.height + 100));  // lowered
  r.Refused("exch", Settle("S-3", {Leg("owner", "bob", 6)}), pb::RECEIPT_AUTHORISATION_EXHAUSTED,
            "to move 5 g more");
  r.Ok("exch", Settle("S-3", {Leg("owner", "bob", 5)}));

  r.Ok("owner", Authorise("exch", 0, 0));  // revoked
  CHECK_FALSE(AuthOf(r, "owner").has_value());
  r.Refused("exch", Settle("S-4", {Leg("owner", "bob", 1)}), pb::RECEIPT_NOT_AUTHORISED,
            "has not authorised exchange");
  r.Refused("owner", Authorise("exch", 0, 0), pb::RECEIPT_NOT_FOUND, "to revoke");
  r.Refused("owner", Authorise("exch", 10, 1), pb::RECEIPT_EXPIRY_IN_PAST, "below the current");
  r.Refused("owner", Authorise("exch", 10, r.height + 10, "NOPE"), pb::RECEIPT_BATCH_NOT_FOUND,
            "'NOPE' does not exist");
  CHECK(r.Balance(kBatch, "bob") == 65);
}

TEST_CASE("locked and retired grams do not settle") {
  Registry r = ExchangeRegistry();
  r.Ok("owner", Authorise("exch", 1'000'000, r.height + 100));
  r.Ok("owner", [](pb::TxBody& b) {
    b.mutable_pledge_credits()->set_batch(kBatch);
    b.mutable_pledge_credits()->set_grams(600'000);
    b.mutable_pledge_credits()->set_pledgee(RawAddr("ver2"));
  });
  r.Ok("owner", [](pb::TxBody& b) {
    auto* a = b.mutable_retire_voluntary();
    a->set_batch(kBatch);
    a->set_grams(300'000);
    a->set_beneficiary("Shanghai Marathon 2025");
    a->set_purpose(pb::RETIREMENT_PURPOSE_EVENT);
  });
  r.Refused("exch", Settle("S-1", {Leg("owner", "bob", 100'001)}), pb::RECEIPT_INSUFFICIENT_FUNDS,
            "is 100000 g; 100001 g to move (locked and retired grams cannot move)");
  r.Ok("exch", Settle("S-1", {Leg("owner", "bob", 100'000)}));
  CHECK(r.Batch(kBatch).locked_grams() == 600'000);
  CHECK(r.Batch(kBatch).retired_grams() == 300'000);
}

TEST_CASE("buy-and-retire leaves the usual voluntary retirement record with the buyer as holder") {
  Registry r = ExchangeRegistry();
  r.Ok("owner", Authorise("exch", 10'000, r.height + 100));
  auto receipt =
      r.Run("exch", Settle("S-1", {RetireLeg("owner", "buyer", 4000), Leg("owner", "bob", 1000)}));
  REQUIRE_MESSAGE(receipt.code() == pb::RECEIPT_OK, receipt.reason());
  CHECK(r.Balance(kBatch, "buyer") == 0);
  CHECK(r.Balance(kBatch, "bob") == 1000);
  CHECK(r.Batch(kBatch).retired_grams() == 4000);
  auto rt = r.Read<pb::Retirement>(registry_keys::Retirement("RT-1"));
  REQUIRE(rt.has_value());
  CHECK(rt->kind() == pb::RETIREMENT_KIND_VOLUNTARY);
  CHECK(rt->holder() == RawAddr("buyer"));
  CHECK(rt->grams() == 4000);
  CHECK(rt->beneficiary() == "Jiangnan Expo 2025");
  CHECK(rt->tx_hash() == receipt.tx_hash());
  auto s = r.Read<pb::Settlement>(exchange_keys::Settlement(KeyOf("exch").Public(), "S-1"));
  REQUIRE(s->retirements_size() == 1);
  CHECK(s->retirements(0) == "RT-1");
  // transfer, credits_retired, transfer, settlement
  REQUIRE(receipt.events_size() == 4);
  CHECK(receipt.events(1).kind() == "credits_retired");
}

TEST_CASE("only an exchange of the named region settles, and it may move its own credits") {
  Registry r = ExchangeRegistry();
  r.Ok("owner", Authorise("ver2", 100, r.height + 100));
  r.Refused("ver2", Settle("S-1", {Leg("owner", "bob", 1)}), pb::RECEIPT_PERMISSION_DENIED,
            "only its exchanges may settle trades");
  r.Refused("exch", Settle("S-1", {Leg("owner", "bob", 1)}, "JS"), pb::RECEIPT_PERMISSION_DENIED,
            "region 'JS'");
  r.Refused("exch", Settle("S-1", {Leg("owner", "bob", 1)}, "XX"), pb::RECEIPT_NOT_FOUND,
            "region 'XX' does not exist");
  r.Ok("owner", Authorise("exch", 100, r.height + 100));
  r.Ok("exch", Settle("S-1", {Leg("owner", "exch", 100)}));
  r.Ok("exch", Settle("S-2", {Leg("exch", "bob", 100)}));  // its own: no authorisation needed
  CHECK(r.Balance(kBatch, "bob") == 100);
}

TEST_CASE("many settlements touching the same accounts in one block apply in order") {
  Registry r = ExchangeRegistry();
  r.Ok("owner", Authorise("exch", 1'000'000, r.height + 100));
  r.Ok("alice", Authorise("exch", 1'000'000, r.height + 100, ""));
  r.Ok("bob", Authorise("exch", 1'000'000, r.height + 100, ""));
  // 40 settlements in one block pass grams around owner → alice → bob → alice; settlement 39
  // asks for more than alice holds by then and alone is refused.
  std::vector<DecodedTx> txs;
  uint64_t nonce = r.nonces["exch"];
  for (int i = 0; i < 40; ++i) {
    pb::TxBody body = Body("exch", nonce + i, r.height + 10);
    std::vector<pb::SettlementLeg> legs = {Leg("owner", "alice", 100), Leg("alice", "bob", 150),
                                           Leg("bob", "alice", 60)};
    if (i == 39) legs = {Leg("alice", "bob", 1'000'000)};
    Settle("S-" + std::to_string(i), legs)(body);
    txs.push_back(Decoded(body, "exch"));
  }
  BlockContext ctx{kChainId, r.height, 1'767'225'600'000 + r.height};
  auto out = ApplyBlock(r.state, ctx, txs);
  REQUIRE_MESSAGE(out.ok(), out.status().ToString());
  r.state.Apply(out->changes);
  // The first settlement fails: alice holds nothing before it (the legs run in order).
  CHECK(out->receipts[0].code() == pb::RECEIPT_INSUFFICIENT_FUNDS);
  CHECK(out->receipts[0].reason().starts_with("leg 1:"));
  int ok = 0;
  for (int i = 0; i < 39; ++i) ok += out->receipts[i].code() == pb::RECEIPT_OK;
  CHECK(out->receipts[39].code() == pb::RECEIPT_INSUFFICIENT_FUNDS);
  // From the second on, alice has received 100 before she sends 150: 0+100 < 150 at i=1, then
  // 10 more each round; every settlement that applies moves 100 in, 150 out, 60 back.
  uint64_t owner = 1'000'000, alice = 0, bob = 0;
  int expected_ok = 0;
  for (int i = 0; i < 39; ++i) {
    if (alice + 100 >= 150) {
      owner -= 100;
      alice += 100 - 150 + 60;
      bob += 150 - 60;
      ++expected_ok;
    }
  }
  CHECK(ok == expected_ok);
  CHECK(r.Balance(kBatch, "owner") == owner);
  CHECK(r.Balance(kBatch, "alice") == alice);
  CHECK(r.Balance(kBatch, "bob") == bob);
}

TEST_CASE("settlements across blocks keep the supply and authorisations exact") {
  Registry r = ExchangeRegistry();
  r.Ok("owner", Authorise("exch", 10'000, r.height + 1000));
  r.Ok("alice", Authorise("exch", 10'000, r.height + 1000));
  for (int i = 0; i < 20; ++i) {
    r.Ok("exch",
         Settle("S-" + std::to_string(i), {Leg("owner", "alice", 300), Leg("alice", "bob", 200),
                                           RetireLeg("owner", "carol", 100)}));
  }
  CHECK(r.Balance(kBatch, "owner") == 1'000'000 - 20 * 400);
  CHECK(r.Balance(kBatch, "alice") == 20 * 100);
  CHECK(r.Balance(kBatch, "bob") == 20 * 200);
  CHECK(r.Balance(kBatch, "carol") == 0);
  CHECK(r.Batch(kBatch).retired_grams() == 20 * 100);
  CHECK(AuthOf(r, "owner")->grams() == 10'000 - 20 * 400);
  CHECK(AuthOf(r, "alice")->grams() == 10'000 - 20 * 200);
  r.Refused("exch", Settle("S-20", {Leg("owner", "alice", 2001)}),
            pb::RECEIPT_AUTHORISATION_EXHAUSTED, "2000 g more");
}

TEST_CASE("malformed settlements and authorisations are refused before execution") {
  auto legs = [](int n) {
    std::vector<pb::SettlementLeg> v;
    for (int i = 0; i < n; ++i) v.push_back(Leg("owner", "bob", 1));
    return v;
  };
  CHECK(Decode("exch", Settle("S-1", legs(kMaxSettlementLegs))).ok());
  Status s = Decode("exch", Settle("S-1", legs(kMaxSettlementLegs + 1)));
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message().find("at most 64 legs") != std::string::npos);
  CHECK(Decode("exch", Settle("S-1", {})).message().find("at least one leg") != std::string::npos);
  CHECK(Decode("exch", Settle("bad id", legs(1))).message().find("settlement id") !=
        std::string::npos);
  CHECK(Decode("exch", Settle(std::string(65, 'a'), legs(1))).code() ==
        StatusCode::kInvalidArgument);
  CHECK(Decode("exch", Settle("S-1", {Leg("owner", "owner", 1)})).message() ==
        "leg 0: from and to must differ");
  CHECK(Decode("exch", Settle("S-1", {Leg("owner", "bob", 1), Leg("owner", "bob", 0)})).message() ==
        "leg 1: grams must be > 0");
  pb::SettlementLeg bad_key = Leg("owner", "bob", 1);
  bad_key.set_to("short");
  CHECK(Decode("exch", Settle("S-1", {bad_key})).message().starts_with("leg 0: to must be"));
  pb::SettlementLeg half = Leg("owner", "bob", 1);
  half.set_beneficiary("someone");
  CHECK(Decode("exch", Settle("S-1", {half})).message().find("retire set") != std::string::npos);
  pb::SettlementLeg no_purpose = RetireLeg("owner", "bob", 1);
  no_purpose.set_purpose(pb::RETIREMENT_PURPOSE_UNSPECIFIED);
  CHECK(Decode("exch", Settle("S-1", {no_purpose})).message().starts_with("leg 0: purpose"));
  CHECK(Decode("exch",
               [](pb::TxBody& b) {
                 Settle("S-1", {Leg("owner", "bob", 1)})(b);
                 b.mutable_settle()->set_payment_ref(std::string(kMaxPaymentRefBytes + 1, 'x'));
               })
            .message()
            .find("payment_ref") != std::string::npos);
  CHECK(Decode("owner", Authorise("owner", 1, 10)).message().find("another account") !=
        std::string::npos);
  CHECK(Decode("owner", Authorise("exch", 1, 0)).message().find("expiry_height") !=
        std::string::npos);
  CHECK(Decode("owner", Authorise("exch", 1, 10, "bad/batch")).code() ==
        StatusCode::kInvalidArgument);
  CHECK(Decode("owner", Authorise("exch", 0, 0)).ok());  // revoking needs no expiry
}
