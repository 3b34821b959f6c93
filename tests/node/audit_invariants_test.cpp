#include "node/audit_invariants.h"

#include <doctest/doctest.h>

#include "contracts/personal_keys.h"
#include "contracts/registry_keys.h"
#include "contracts/state_keys.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

Bytes BatchRecord(uint64_t issued, uint64_t retired) {
  pb::CreditBatch b;
  b.set_serial(kBatch);
  b.set_region("SH");
  b.set_issued_grams(issued);
  b.set_retired_grams(retired);
  return ToBytes(b.SerializeAsString());
}

// A store whose genesis state is exactly `state`.
std::unique_ptr<BlockStore> StoreWith(const TempDir& dir, const StateChanges& state) {
  auto store = BlockStore::Open(dir / "store");
  REQUIRE(store.ok());
  MemorySmtNodes empty;
  auto tree = SparseMerkleTree::Update(empty, SmtRef(kZeroHash), state);
  REQUIRE(tree.ok());
  REQUIRE((*store)->InitGenesis(Hash32{}, state, *tree, 0, Hash32{}).ok());
  return std::move(*store);
}

}  // namespace

TEST_CASE("a final record may be written once and never changed or deleted") {
  MemoryState before;
  const Bytes key = registry_keys::Retirement("RT-1");
  StateChanges create{{key, ToBytes("record")}};
  CHECK(CheckFinalRecordsUnchanged(before, create).ok());
  before.Apply({{key, ToBytes("record")}});
  StateChanges same{{key, ToBytes("record")}};
  CHECK(CheckFinalRecordsUnchanged(before, same).ok());
  StateChanges changed{{key, ToBytes("altered")}};
  Status s = CheckFinalRecordsUnchanged(before, changed);
  CHECK(s.code() == StatusCode::kFailedPrecondition);
  CHECK(s.message() == "final record 'retire/RT-1' was changed after it was written");
  StateChanges deleted{{key, std::nullopt}};
  CHECK(CheckFinalRecordsUnchanged(before, deleted).message() ==
        "final record 'retire/RT-1' was deleted");
  // Other keys change freely.
  StateChanges other{{state_keys::Batch(kBatch), ToBytes("x")}};
  CHECK(CheckFinalRecordsUnchanged(before, other).ok());
}

TEST_CASE("the whole-state sum finds a batch whose parts do not add up to its issuance") {
  TempDir dir;
  SUBCASE("balanced") {
    auto store =
        StoreWith(dir, {{state_keys::Batch(kBatch), BatchRecord(1000, 100)},
                        {state_keys::Balance(kBatch, KeyOf("a").Public()), EncodeU64(600)},
                        {state_keys::Balance(kBatch, KeyOf("b").Public()), EncodeU64(300)}});
    CHECK(CheckAllBatchesConserved(*store).ok());
  }
  SUBCASE("a gram too many held") {
    auto store =
        StoreWith(dir, {{state_keys::Batch(kBatch), BatchRecord(1000, 100)},
                        {state_keys::Balance(kBatch, KeyOf("a").Public()), EncodeU64(601)},
                        {state_keys::Balance(kBatch, KeyOf("b").Public()), EncodeU64(300)}});
    Status s = CheckAllBatchesConserved(*store);
    CHECK(s.code() == StatusCode::kFailedPrecondition);
    CHECK(s.message() ==
          std::string("batch ") + kBatch +
              ": issued 1000 g, but held 901 + locked 0 + retired 100 + cancelled 0 g");
  }
}

TEST_CASE("a pool bucket may not issue more than was consigned nor count down") {
  auto bucket = [](uint64_t consigned, uint64_t issued) {
    pb::PoolBucket b;
    b.set_scenario("SH-METRO-TRIP");
    b.set_month(202601);
    b.set_consigned_grams(consigned);
    b.set_issued_grams(issued);
    return ToBytes(b.SerializeAsString());
  };
  const Bytes key = personal_keys::Pool("SH-METRO-TRIP", 202601);
  MemoryState before;
  CHECK(CheckPooledGramsOnce(before, {{key, bucket(100, 100)}}).ok());
  Status over = CheckPooledGramsOnce(before, {{key, bucket(100, 101)}});
  CHECK(over.code() == StatusCode::kFailedPrecondition);
  CHECK(over.message().find("101 g issued but only 100 g consigned") != std::string::npos);
  before.Apply({{key, bucket(100, 60)}});
  CHECK(CheckPooledGramsOnce(before, {{key, bucket(90, 60)}}).message().find("went down") !=
        std::string::npos);
  CHECK(CheckPooledGramsOnce(before, {{key, std::nullopt}}).message().find("was deleted") !=
        std::string::npos);
}

TEST_CASE("personal accounts and pool buckets must sum to the network totals") {
  TempDir dir;
  pb::PersonalAccount a;
  a.set_address(RawAddr("ana"));
  a.set_credited_grams(500);
  a.set_consigned_grams(200);
  a.set_points_earned(500);
  a.set_points_redeemed(100);
  pb::PoolBucket pool;
  pool.set_consigned_grams(200);
  pool.set_issued_grams(200);
  pb::PersonalTotals t;
  t.set_credited_grams(500);
  t.set_consigned_grams(200);
  t.set_points_earned(500);
  t.set_points_redeemed(100);
  t.set_pooled_issued_grams(200);
  auto state = [&](const pb::PersonalTotals& totals) -> StateChanges {
    return {{personal_keys::Account(AsBytes(a.address())), ToBytes(a.SerializeAsString())},
            {personal_keys::Pool("SH-METRO-TRIP", 202601), ToBytes(pool.SerializeAsString())},
            {personal_keys::Totals(), ToBytes(totals.SerializeAsString())}};
  };
  SUBCASE("they do") { CHECK(CheckPersonalTotals(*StoreWith(dir, state(t))).ok()); }
  SUBCASE("a gram credited that no account holds") {
    pb::PersonalTotals more = t;
    more.set_credited_grams(501);
    Status s = CheckPersonalTotals(*StoreWith(dir, state(more)));
    CHECK(s.code() == StatusCode::kFailedPrecondition);
    CHECK(s.message() == "the personal accounts sum to 500 credited grams, the totals say 501");
  }
}
