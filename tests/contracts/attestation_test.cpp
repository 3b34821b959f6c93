// Attested behaviour: quantified by the scenario's methodology, counted once per provider and
// record id, capped per person and day, with points per kilogram; every refusal leaves state as
// it was.
#include <doctest/doctest.h>

#include "chain/merkle.h"
#include "contracts/state_keys.h"
#include "personal_fixture.h"

using namespace puhui;
using namespace puhui::testing;

TEST_CASE("a batch credits reductions and points, caps the excess and counts duplicates") {
  Personal p;
  // 10 person-km = 468 g; the third trip of the day meets the 1,000 g cap: 64 g credited.
  auto r = p.Run("prov", Attest({Rec("ann", "1", "TRIP", 10), Rec("ann", "2", "TRIP", 10),
                                 Rec("ann", "3", "TRIP", 10), Rec("bob", "4", "TRIP", 5)}));
  REQUIRE_MESSAGE(r.code() == pb::RECEIPT_OK, r.reason());
  CHECK(Personal::Attr(r, "records") == "4");
  CHECK(Personal::Attr(r, "credited") == "3");
  CHECK(Personal::Attr(r, "capped") == "1");
  CHECK(Personal::Attr(r, "duplicate") == "0");
  CHECK(Personal::Attr(r, "credited_grams") == "1234");  // 468 + 468 + 64 + 234
  CHECK(Personal::Attr(r, "capped_grams") == "404");
  CHECK(Personal::Attr(r, "capped_indexes") == "2");
  pb::PersonalAccount ann = p.Account("ann");
  CHECK(ann.credited_grams() == 1000);
  CHECK(ann.capped_grams() == 404);
  CHECK(ann.points_earned() == 1000);
  REQUIRE(ann.months_size() == 1);
  CHECK(ann.months(0).scenario() == "TRIP");
  CHECK(ann.months(0).month() == 202512);
  CHECK(ann.months(0).records() == 3);
  REQUIRE(ann.days_size() == 1);  // the cap's use on 2025-12-31 (day 20453)
  CHECK(ann.days(0).scenario() == "TRIP");
  CHECK(ann.days(0).day() == 20453);
  CHECK(ann.days(0).used() == 1000);
  CHECK(p.Account("bob").points_earned() == 234);

  // The same records again: all duplicates, nothing credited. A new record for ann the same
  // day is capped in full.
  auto again = p.Run("prov", Attest({Rec("ann", "1", "TRIP", 10), Rec("bob", "4", "TRIP", 5),
                                     Rec("ann", "5", "TRIP", 1)}));
  REQUIRE(again.code() == pb::RECEIPT_OK);
  CHECK(Personal::Attr(again, "duplicate") == "2");
  CHECK(Personal::Attr(again, "duplicate_indexes") == "0,1");
  CHECK(Personal::Attr(again, "capped") == "1");
  CHECK(Personal::Attr(again, "credited_grams") == "0");
  CHECK(p.Account("ann").credited_grams() == 1000);

  // Another day has its own cap.
  auto next_day = p.Run("prov", Attest({Rec("ann", "6", "TRIP", 10, kDay0Ms + 1)}));
  CHECK(Personal::Attr(next_day, "credited_grams") == "468");
  CHECK(p.Account("ann").months_size() == 2);  // 2025-12 and 2026-01

  pb::PersonalTotals t = p.Totals();
  CHECK(t.records() == 8);
  CHECK(t.credited_grams() == 1000 + 234 + 468);
  CHECK(t.capped_grams() == 404 + 46);
  CHECK(t.points_earned() == 1000 + 234 + 468);
  CHECK(t.accounts() == 2);
  CHECK(t.batches() == 3);
  auto stats = p.Read<pb::ActivityStats>(personal_keys::ScenarioStats("TRIP"));
  REQUIRE(stats.has_value());
  CHECK(stats->records() == 8);
  CHECK(stats->duplicate_records() == 2);
  CHECK(stats->capped_records() == 2);
  CHECK(stats->credited_records() == 4);
  auto prov = p.Read<pb::ActivityStats>(personal_keys::ProviderStats(KeyOf("prov").Public()));
  CHECK(prov->batches() == 3);
  CHECK(prov->credited_grams() == t.credited_grams());
}

TEST_CASE("another provider's record with the same id is its own record") {
  Personal p;
  p.Ok("sh-op", [](pb::TxBody& b) {
    auto* a = b.mutable_register_scenario();
    a->set_id("TRIP2");
    a->set_region("SH");
    a->set_title("Metro trips, second operator");
    a->set_methodology_id("METRO");
    a->set_methodology_version(1);
    a->add_providers(RawAddr("prov2"));
    a->set_activity_unit("person-km");
    a->set_daily_cap_grams(1000);
    a->set_points_per_kg(500);
    a->set_start_date(20251201);
    a->set_end_date(20261231);
    a->set_claim_window_days(7);
  });
  p.Ok("prov", Attest({Rec("ann", "1", "TRIP", 10)}));
  auto r = p.Run("prov2", Attest({Rec("ann", "1", "TRIP2", 10)}));
  CHECK(Personal::Attr(r, "credited") == "1");
  CHECK(p.Account("ann").points_earned() == 468 + 234);  // 1,000 and 500 points per kg
}

TEST_CASE("a points-only scenario pays points per unit up to its daily points cap, no grams") {
  Personal p;
  auto r = p.Run("prov", Attest({Rec("ann", "1", "SORT", 3), Rec("ann", "2", "SORT", 2)}));
  CHECK(Personal::Attr(r, "points") == "20");  // 15, then 5 of 10 under the 20-point cap
  CHECK(Personal::Attr(r, "capped") == "1");
  CHECK(Personal::Attr(r, "credited_grams") == "0");
  pb::PersonalAccount ann = p.Account("ann");
  CHECK(ann.points_earned() == 20);
  CHECK(ann.credited_grams() == 0);
}

TEST_CASE("the batch's records root proves each counted record") {
  Personal p;
  std::vector<pb::BehaviourRecord> recs;
  for (int i = 0; i < 7; ++i)
    recs.push_back(Rec("p" + std::to_string(i), std::to_string(i), "TRIP", 3));
  p.Ok("prov", Attest(recs));
  auto batch = p.Read<pb::AttestationBatch>(personal_keys::Batch(1));
  REQUIRE(batch.has_value());
  std::vector<Hash32> leaves;
  for (const auto& r : recs) leaves.push_back(MerkleLeafHash(AsBytes(r.SerializeAsString())));
  CHECK(batch->records_root() == ToString(MerkleRoot(leaves)));
  auto ref = p.Read<pb::RecordRef>(
      personal_keys::Record(KeyOf("prov").Public(), AsBytes(recs[5].record_id())));
  REQUIRE(ref.has_value());
  CHECK(ref->batch() == 1);
  CHECK(ref->index() == 5);
  CHECK(MerkleVerify(MerkleRoot(leaves), leaves[5], MerkleProve(leaves, 5)));
}

TEST_CASE("the batch's outcomes root commits to what each record earned, duplicates included") {
  Personal p;
  p.Ok("prov", Attest({Rec("bob", "9", "TRIP", 3)}));
  // Record 1 repeats an id counted in batch 1 (a repeat inside one batch is refused at decoding).
  std::vector<pb::BehaviourRecord> recs = {Rec("ann", "1", "TRIP", 3), Rec("bob", "9", "TRIP", 3),
                                           Rec("cat", "2", "TRIP", 3)};
  p.Ok("prov", Attest(recs));
  auto batch = p.Read<pb::AttestationBatch>(personal_keys::Batch(2));
  REQUIRE(batch.has_value());
  CHECK(batch->duplicate_records() == 1);
  std::vector<Hash32> outcomes;
  for (uint32_t i = 0; i < recs.size(); ++i) {
    pb::RecordRef expected;
    expected.set_batch(2);
    expected.set_index(i);
    if (i == 1) {
      expected.set_duplicate(true);
    } else {
      auto ref = p.Read<pb::RecordRef>(
          personal_keys::Record(KeyOf("prov").Public(), AsBytes(recs[i].record_id())));
      REQUIRE(ref.has_value());
      CHECK(ref->batch() == 2);
      CHECK(ref->index() == i);
      CHECK(ref->credited_grams() > 0);
      CHECK(ref->points() > 0);
      expected = *ref;
    }
    outcomes.push_back(MerkleLeafHash(AsBytes(expected.SerializeAsString())));
  }
  CHECK(batch->outcomes_root() == ToString(MerkleRoot(outcomes)));
  // The counted-record index is the one family of keys outside the state tree.
  CHECK_FALSE(InStateTree(personal_keys::Record(KeyOf("prov").Public(), AsBytes("1"))));
  CHECK(InStateTree(personal_keys::Batch(2)));
  CHECK(InStateTree(personal_keys::Account(AsBytes(recs[0].account()))));
}

TEST_CASE("a batch with a record the rules refuse is refused whole and changes nothing") {
  Personal p;
  p.Ok("prov", Attest({Rec("ann", "0", "TRIP", 1)}));
  p.Refused("prov", Attest({Rec("ann", "1", "TRIP", 1), Rec("ann", "2", "BUS", 1)}),
            pb::RECEIPT_SCENARIO_NOT_FOUND, "record 1: scenario 'BUS' does not exist");
  p.Refused("prov2", Attest({Rec("ann", "1", "TRIP", 1)}), pb::RECEIPT_PROVIDER_NOT_ALLOWED,
            "not an allowed provider for scenario 'TRIP'");
  p.Refused("prov", Attest({Rec("ann", "1", "TRIP", 1, kDay0Ms - 8 * 24 * kHourMs)}),
            pb::RECEIPT_RECORD_TOO_OLD, "claim window");
  p.Refused("prov", Attest({Rec("ann", "1", "TRIP", 1, kDay0Ms + kHourMs)}),
            pb::RECEIPT_RECORD_IN_FUTURE, "later than the block time");
  p.Refused("prov", Attest({Rec("ann", "1", "TRIP", 201)}), pb::RECEIPT_ACTIVITY_INVALID,
            "does not fit methodology METRO v1");
  // Revoked: the provider is listed but no longer holds the role.
  p.Ok("sh-auth", [](pb::TxBody& b) {
    b.mutable_revoke_role()->set_account(RawAddr("prov"));
    b.mutable_revoke_role()->set_role(pb::ROLE_DATA_PROVIDER);
    b.mutable_revoke_role()->set_region("SH");
  });
  p.Refused("prov", Attest({Rec("ann", "1", "TRIP", 1)}), pb::RECEIPT_PROVIDER_NOT_ALLOWED,
            "any more");
}

TEST_CASE("records outside the scenario's active period or under a deprecated methodology") {
  Personal p;
  p.Ok("sh-op", [](pb::TxBody& b) {
    auto* a = b.mutable_register_scenario();
    a->set_id("LATER");
    a->set_region("SH");
    a->set_title("Starts in 2027");
    a->set_methodology_id("METRO");
    a->set_methodology_version(1);
    a->add_providers(RawAddr("prov"));
    a->set_activity_unit("person-km");
    a->set_daily_cap_grams(1000);
    a->set_start_date(20270101);
    a->set_end_date(20271231);
    a->set_claim_window_days(7);
  });
  p.Refused("prov", Attest({Rec("ann", "1", "LATER", 1)}), pb::RECEIPT_SCENARIO_INACTIVE,
            "outside the active period 20270101..20271231");
  p.Ok("sh-auth", [&](pb::TxBody& b) {
    b.mutable_deprecate_methodology()->set_id("METRO");
    b.mutable_deprecate_methodology()->set_version(1);
    b.mutable_deprecate_methodology()->set_from_height(p.height);
  });
  p.Refused("prov", Attest({Rec("ann", "1", "TRIP", 1)}), pb::RECEIPT_METHODOLOGY_DEPRECATED,
            "deprecated");
}

TEST_CASE("DecodeTx refuses malformed batches before they reach a block") {
  auto decode = [](std::vector<pb::BehaviourRecord> recs) {
    pb::TxBody body = Body("prov", 0);
    Attest(std::move(recs))(body);
    return DecodeTx(kChainId, Signed(body, "prov")).status();
  };
  CHECK(decode({Rec("a", "1", "TRIP", 1)}).ok());
  Status dup = decode({Rec("a", "1", "TRIP", 1), Rec("b", "1", "TRIP", 2)});
  CHECK(dup.code() == StatusCode::kInvalidArgument);
  CHECK(dup.message().find("appears twice in this batch") != std::string::npos);
  CHECK(decode({}).message().find("1..2048 records") != std::string::npos);
  CHECK(decode({Rec("a", "1", "TRIP", 0)}).message().find("amount must be > 0") !=
        std::string::npos);
  auto bad_id = Rec("a", "1", "TRIP", 1);
  bad_id.set_record_id("short");
  CHECK(decode({bad_id}).message().find("must be 32 bytes") != std::string::npos);
  auto bad_scenario = Rec("a", "1", "no spaces", 1);
  CHECK(decode({bad_scenario}).message().find("scenario must be a scenario id") !=
        std::string::npos);
  // The largest batch fits one transaction.
  std::vector<pb::BehaviourRecord> full;
  for (size_t i = 0; i < kMaxAttestRecords; ++i) {
    auto r = Rec("a", std::to_string(i), std::string(kMaxRegistryIdBytes, 'S'), UINT64_MAX,
                 kMaxBlockTimeMs);
    full.push_back(r);
  }
  CHECK(decode(full).ok());
  full.push_back(Rec("a", "extra", "TRIP", 1));
  CHECK(decode(full).message().find("1..2048 records") != std::string::npos);
}
