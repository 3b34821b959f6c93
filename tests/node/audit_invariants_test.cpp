#include "node/audit_invariants.h"

#include <doctest/doctest.h>

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
  auto tree = SparseMerkleTree::Update(empty, kZeroHash, state);
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
