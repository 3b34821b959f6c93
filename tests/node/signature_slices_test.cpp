// Admission's signature checks in slices: what the mempool came to hold, or a block used, while an
// earlier slice was checked is not checked again.
#include "node/signature_slices.h"

#include <doctest/doctest.h>

#include <set>

#include "node/verifier_pool.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

TEST_CASE("a slice checks only what the mempool and the chain did not take meanwhile") {
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < 10; ++n) {
    // Number 2 is signed by someone other than its sender: its signature does not verify.
    txs.push_back(Decoded(TransferBody("owner", "alice", 1, n), n == 2 ? "alice" : "owner"));
  }
  std::vector<const DecodedTx*> ptrs;
  for (const DecodedTx& tx : txs) ptrs.push_back(&tx);

  VerifierPool verifier{2};
  std::set<Hash32> held = {txs[0].id};  // held before: the first slice is checked without asking
  uint64_t committed_nonce = 0;
  std::vector<size_t> slice_sizes;
  SliceChecks how;
  how.slice = 4;
  how.held = [&](const DecodedTx& tx) { return held.count(tx.id) > 0; };
  how.used = [&](const DecodedTx& tx) { return tx.body->nonce() < committed_nonce; };
  how.verify = [&](std::span<const DecodedTx* const> slice) {
    slice_sizes.push_back(slice.size());
    if (slice_sizes.size() == 1) {
      // While the first slice is checked, a proposal's check keeps 5 and 6 in the mempool...
      held.insert(txs[5].id);
      held.insert(txs[6].id);
    } else if (slice_sizes.size() == 2) {
      // ...and while the second is, a block commits nonces 0 to 8 of the sender.
      committed_nonce = 9;
    }
    return verifier.Verify(slice);
  };

  const std::vector<SliceCheck> out = CheckInSlices(ptrs, how);
  REQUIRE(out.size() == 10);
  CHECK(out[0] == SliceCheck::kGood);
  CHECK(out[1] == SliceCheck::kGood);
  CHECK(out[2] == SliceCheck::kBad);
  CHECK(out[3] == SliceCheck::kGood);
  CHECK(out[4] == SliceCheck::kGood);
  CHECK(out[5] == SliceCheck::kHeldMeanwhile);
  CHECK(out[6] == SliceCheck::kHeldMeanwhile);
  CHECK(out[7] == SliceCheck::kGood);
  CHECK(out[8] == SliceCheck::kUsedMeanwhile);
  CHECK(out[9] == SliceCheck::kGood);
  CHECK(slice_sizes == std::vector<size_t>{4, 2, 1});
  CHECK(verifier.checked() == 7);
}

TEST_CASE("a slice left with nothing to check does not call the verifier") {
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < 4; ++n)
    txs.push_back(Decoded(TransferBody("owner", "bob", 1, n), "owner"));
  std::vector<const DecodedTx*> ptrs;
  for (const DecodedTx& tx : txs) ptrs.push_back(&tx);
  size_t calls = 0;
  SliceChecks how;
  how.slice = 2;
  how.held = [](const DecodedTx&) { return true; };
  how.used = [](const DecodedTx&) { return false; };
  how.verify = [&](std::span<const DecodedTx* const> slice) {
    ++calls;
    return std::vector<bool>(slice.size(), true);
  };
  const std::vector<SliceCheck> out = CheckInSlices(ptrs, how);
  CHECK(calls == 1);
  CHECK(out == std::vector<SliceCheck>{SliceCheck::kGood, SliceCheck::kGood,
                                       SliceCheck::kHeldMeanwhile, SliceCheck::kHeldMeanwhile});
}
