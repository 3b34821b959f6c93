// Scenarios, custodial accounts, merchants' offers and pooling: each rule refused with its own code
// and no state change; points always reconcile with reductions; pooled grams are issued once.
#include <doctest/doctest.h>

#include "personal_fixture.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

std::function<void(pb::TxBody&)> Scenario(const std::string& id, const std::string& meth,
                                          const std::string& provider = "prov") {
  return [=](pb::TxBody& b) {
    auto* a = b.mutable_register_scenario();
    a->set_id(id);
    a->set_region("SH");
    a->set_title("a scenario");
    a->set_methodology_id(meth);
    a->set_methodology_version(1);
    a->add_providers(RawAddr(provider));
    a->set_activity_unit("person-km");
    a->set_daily_cap_grams(1000);
    a->set_points_per_kg(1000);
    a->set_start_date(20251201);
    a->set_end_date(20261231);
    a->set_claim_window_days(7);
  };
}

std::function<void(pb::TxBody&)> Offer(const std::string& id, uint64_t price, uint64_t stock,
                                       uint32_t from = 20251201, uint32_t to = 20261231) {
  return [=](pb::TxBody& b) {
    auto* a = b.mutable_publish_offer();
    a->set_id(id);
    a->set_region("SH");
    a->set_title("a coffee");
    a->set_points_price(price);
    a->set_stock(stock);
    a->set_valid_from(from);
    a->set_valid_to(to);
  };
}

std::function<void(pb::TxBody&)> Redeem(const std::string& offer, const std::string& account = "") {
  return [=](pb::TxBody& b) {
    b.mutable_redeem_offer()->set_offer(offer);
    b.mutable_redeem_offer()->set_account(account);
    b.mutable_redeem_offer()->set_code_hash(HashOf("code " + offer));
  };
}

std::function<void(pb::TxBody&)> Consign(const std::string& scenario, uint64_t grams,
                                         uint32_t month = 202512) {
  return [=](pb::TxBody& b) {
    b.mutable_consign_reductions()->set_scenario(scenario);
    b.mutable_consign_reductions()->set_month(month);
    b.mutable_consign_reductions()->set_grams(grams);
  };
}

std::function<void(pb::TxBody&)> IssuePool(const std::string& scenario, uint32_t month = 202512) {
  return [=](pb::TxBody& b) {
    b.mutable_issue_pooled_credits()->set_scenario(scenario);
    b.mutable_issue_pooled_credits()->set_month(month);
  };
}

}  // namespace

TEST_CASE("an operator registers a scenario under a filed one-input personal methodology") {
  Personal p;
  p.Ok("sh-op", Scenario("BUS", "METRO"));
  auto s = p.Read<pb::Scenario>(personal_keys::Scenario("BUS"));
  REQUIRE(s.has_value());
  CHECK(s->registered_by() == RawAddr("sh-op"));
  CHECK_FALSE(s->points_only());
  p.Refused("sh-op", Scenario("BUS", "METRO"), pb::RECEIPT_ALREADY_EXISTS, "exists already");
  p.Refused("owner", Scenario("B2", "METRO"), pb::RECEIPT_PERMISSION_DENIED, "operator");
  p.Refused("sh-op", Scenario("B2", "NOPE"), pb::RECEIPT_METHODOLOGY_NOT_FOUND, "does not exist");
  p.Refused("sh-op", Scenario("B2", "PV"), pb::RECEIPT_SCENARIO_METHODOLOGY,
            "not of the personal category");
  p.Refused("sh-op", Scenario("B2", "METRO", "ann"), pb::RECEIPT_PROVIDER_NOT_ALLOWED,
            "is not a data provider of region 'SH'");
  p.Refused("sh-op", Scenario("B2", "METRO", "jsprov"), pb::RECEIPT_PROVIDER_NOT_ALLOWED,
            "is not a data provider of region 'SH'");
  // Stateless: a points-only scenario must say why and pay points per unit.
  pb::TxBody body = Body("sh-op", 0);
  Scenario("B3", "")(body);
  body.mutable_register_scenario()->set_methodology_version(0);
  body.mutable_register_scenario()->set_daily_cap_grams(0);
  body.mutable_register_scenario()->set_points_per_kg(0);
  CHECK(DecodeTx(kChainId, Signed(body, "sh-op")).status().message().find("points_per_unit") !=
        std::string::npos);
}

TEST_CASE("an operator opens a custodial account for a salted id hash and acts for it") {
  Personal p;
  const std::string id_hash = HashOf("salt" + std::string("13800000000"));
  auto open = [&](pb::TxBody& b) {
    b.mutable_open_personal_account()->set_region("SH");
    b.mutable_open_personal_account()->set_external_id_hash(id_hash);
  };
  p.Ok("sh-op", open);
  const Hash32 address = CustodialAddress("SH", AsBytes(id_hash));
  auto acct = p.Read<pb::PersonalAccount>(personal_keys::Account(ByteView(address)));
  REQUIRE(acct.has_value());
  CHECK(acct->custodian() == RawAddr("sh-op"));
  p.Refused("sh-op", open, pb::RECEIPT_ALREADY_EXISTS, "exists already");
  p.Refused("owner", open, pb::RECEIPT_PERMISSION_DENIED, "operator");

  // The provider credits the custodial address; the custodian redeems for it; nobody else may.
  auto rec = Rec("x", "1", "TRIP", 10);
  rec.set_account(ToString(ByteView(address)));
  p.Ok("prov", Attest({rec}));
  p.Ok("shop", Offer("TEA", 100, 5));
  p.Refused("ver", Redeem("TEA", ToString(ByteView(address))), pb::RECEIPT_NOT_CUSTODIAN,
            "only its own key, or the operator that opened it");
  p.Ok("sh-op", Redeem("TEA", ToString(ByteView(address))));
  acct = p.Read<pb::PersonalAccount>(personal_keys::Account(ByteView(address)));
  CHECK(acct->points_earned() == 468);
  CHECK(acct->points_redeemed() == 100);
  CHECK(p.Totals().accounts() == 1);
}

TEST_CASE("points are burnt on redemption, stock goes down, and every refusal changes nothing") {
  Personal p;
  p.Ok("prov", Attest({Rec("ann", "1", "TRIP", 10)}));  // 468 points
  p.Refused("ann", Offer("TEA", 100, 1), pb::RECEIPT_PERMISSION_DENIED, "merchant");
  p.Ok("shop", Offer("TEA", 300, 1));
  p.Ok("shop", Offer("OLD", 1, 5, 20250101, 20250131));
  p.Refused("shop", Offer("TEA", 1, 1), pb::RECEIPT_ALREADY_EXISTS, "exists already");
  p.Refused("ann", Redeem("NOPE"), pb::RECEIPT_OFFER_NOT_FOUND, "does not exist");
  p.Refused("bob", Redeem("TEA"), pb::RECEIPT_ACCOUNT_NOT_FOUND, "no personal account");
  p.Refused("ann", Redeem("OLD"), pb::RECEIPT_OFFER_NOT_VALID, "valid 20250101..20250131");
  p.Ok("ann", Redeem("TEA"));
  auto rd = p.Read<pb::Redemption>(personal_keys::Redemption("RD-1"));
  REQUIRE(rd.has_value());
  CHECK(rd->merchant() == RawAddr("shop"));
  CHECK(rd->code_hash() == HashOf("code TEA"));
  CHECK(p.Read<pb::Offer>(personal_keys::Offer("TEA"))->stock() == 0);
  p.Refused("ann", Redeem("TEA"), pb::RECEIPT_OFFER_SOLD_OUT, "sold out");
  p.Ok("shop", Offer("CAKE", 200, 9));
  p.Refused("ann", Redeem("CAKE"), pb::RECEIPT_INSUFFICIENT_POINTS,
            "costs 200 points; the account has 168");
  pb::PersonalAccount ann = p.Account("ann");
  CHECK(ann.points_earned() - ann.points_redeemed() == 168);
  REQUIRE(ann.recent_redemptions_size() == 1);
  CHECK(ann.recent_redemptions(0) == "RD-1");
  pb::PersonalTotals t = p.Totals();
  CHECK(t.points_earned() == 468);
  CHECK(t.points_redeemed() == 300);
}

TEST_CASE("consigned reductions leave the balance and are issued once as a credit batch") {
  Personal p;
  p.Ok("prov", Attest({Rec("ann", "1", "TRIP", 10), Rec("bob", "2", "TRIP", 20),
                       Rec("ann", "3", "SORT", 1)}));
  p.Refused("ann", Consign("TRIP", 469), pb::RECEIPT_INSUFFICIENT_REDUCTIONS,
            "468 unconsigned g of scenario 'TRIP' in 202512; 469 g asked");
  p.Refused("ann", Consign("TRIP", 1, 202601), pb::RECEIPT_INSUFFICIENT_REDUCTIONS, "has 0");
  p.Refused("ann", Consign("SORT", 1), pb::RECEIPT_POINTS_ONLY_SCENARIO, "points-only");
  p.Refused("ann", Consign("NOPE", 1), pb::RECEIPT_SCENARIO_NOT_FOUND, "does not exist");
  p.Refused("carl", Consign("TRIP", 1), pb::RECEIPT_ACCOUNT_NOT_FOUND, "no personal account");
  p.Refused("sh-op", IssuePool("TRIP"), pb::RECEIPT_NOTHING_TO_ISSUE, "no unissued");
  p.Ok("ann", Consign("TRIP", 400));
  p.Ok("bob", Consign("TRIP", 936));
  CHECK(p.Account("ann").consigned_grams() == 400);
  CHECK(p.Account("ann").months(1).consigned_grams() == 400);  // months: SORT, TRIP
  p.Refused("owner", IssuePool("TRIP"), pb::RECEIPT_PERMISSION_DENIED, "operator");
  p.Ok("sh-op", IssuePool("TRIP"));
  const std::string serial = "SH-METRO-v1-POOL-TRIP-20251201-20251231-1";
  pb::CreditBatch b = p.Batch(serial);
  CHECK(b.issued_grams() == 1336);
  CHECK(b.methodology_id() == "METRO");
  CHECK(b.vintage_start() == 20251201);
  CHECK(b.vintage_end() == 20251231);
  CHECK(p.Balance(serial, "sh-op") == 1336);
  p.Refused("sh-op", IssuePool("TRIP"), pb::RECEIPT_NOTHING_TO_ISSUE, "no unissued");
  // More consigned later: a second batch with only the new grams.
  p.Ok("ann", Consign("TRIP", 68));
  p.Ok("sh-op", IssuePool("TRIP"));
  CHECK(p.Batch("SH-METRO-v1-POOL-TRIP-20251201-20251231-2").issued_grams() == 68);
  p.Refused("ann", Consign("TRIP", 1), pb::RECEIPT_INSUFFICIENT_REDUCTIONS, "has 0");
  auto pool = p.Read<pb::PoolBucket>(personal_keys::Pool("TRIP", 202512));
  CHECK(pool->consigned_grams() == 1404);
  CHECK(pool->issued_grams() == 1404);
  pb::PersonalTotals t = p.Totals();
  CHECK(t.consigned_grams() == 1404);
  CHECK(t.pooled_issued_grams() == 1404);
  CHECK(t.credited_grams() == 468 + 936);
  // The pooled batch moves and retires like any other.
  p.Ok("sh-op", [&](pb::TxBody& tx) {
    tx.mutable_transfer()->set_batch(serial);
    tx.mutable_transfer()->set_to(RawAddr("ent"));
    tx.mutable_transfer()->set_grams(1000);
  });
  p.Ok("ent", [&](pb::TxBody& tx) {
    auto* a = tx.mutable_retire_voluntary();
    a->set_batch(serial);
    a->set_grams(1000);
    a->set_beneficiary("a green commuters' club");
    a->set_purpose(pb::RETIREMENT_PURPOSE_ORGANISATION);
  });
  CHECK(p.Batch(serial).retired_grams() == 1000);
}

TEST_CASE(
    "points and reductions reconcile over many random batches, redemptions and consignments") {
  Personal p;
  p.Ok("shop", Offer("GIFT", 50, 1'000'000));
  std::mt19937_64 rng(7);
  const std::vector<std::string> people = {"a", "b", "c", "d", "e"};
  uint64_t submitted = 0, next_id = 0;
  for (int round = 0; round < 40; ++round) {
    std::vector<pb::BehaviourRecord> recs;
    const int n = 1 + static_cast<int>(rng() % 20);
    for (int i = 0; i < n; ++i) {
      // Some ids repeat earlier ones on purpose (duplicates across batches).
      uint64_t id = rng() % 4 == 0 && next_id > 0 ? rng() % next_id : next_id++;
      bool fresh = true;
      for (const auto& r : recs)
        fresh = fresh && r.record_id() != HashOf("record " + std::to_string(id));
      if (!fresh) continue;
      recs.push_back(Rec(people[rng() % people.size()], std::to_string(id),
                         rng() % 3 == 0 ? "SORT" : "TRIP", 1 + rng() % 30,
                         kDay0Ms - (1 + rng() % 72) * kHourMs));
    }
    submitted += recs.size();
    p.Ok("prov", Attest(recs));
    const std::string who = people[rng() % people.size()];
    p.Run(who, Redeem("GIFT"));
    p.Run(who, Consign("TRIP", 1 + rng() % 300));
  }
  pb::PersonalTotals t = p.Totals();
  uint64_t credited = 0, capped = 0, earned = 0, redeemed = 0, consigned = 0;
  for (const auto& who : people) {
    auto a = p.Read<pb::PersonalAccount>(personal_keys::Account(AsBytes(RawAddr(who))));
    if (!a) continue;
    credited += a->credited_grams();
    capped += a->capped_grams();
    earned += a->points_earned();
    redeemed += a->points_redeemed();
    consigned += a->consigned_grams();
    uint64_t month_points = 0;
    for (const auto& m : a->months()) {
      month_points += m.points();
      if (m.scenario() == "TRIP") CHECK(m.points() == m.credited_grams());  // 1,000 points/kg
      CHECK(m.consigned_grams() <= m.credited_grams());
    }
    CHECK(month_points == a->points_earned());
    CHECK(a->points_redeemed() <= a->points_earned());
  }
  CHECK(t.records() == submitted);
  CHECK(t.credited_grams() == credited);
  CHECK(t.capped_grams() == capped);
  CHECK(t.points_earned() == earned);
  CHECK(t.points_redeemed() == redeemed);
  CHECK(t.consigned_grams() == consigned);
  auto stats = p.Read<pb::ActivityStats>(personal_keys::ProviderStats(KeyOf("prov").Public()));
  CHECK(stats->records() == submitted);
  CHECK(stats->credited_records() + stats->capped_records() + stats->duplicate_records() ==
        submitted);
  CHECK(stats->duplicate_records() > 0);
  CHECK(stats->capped_records() > 0);
}
