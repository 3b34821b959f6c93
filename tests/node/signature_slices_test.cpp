// Signature checks in slices: what the mempool came to hold, or a block used, before a transaction
// reached its check is not checked.
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
  std::set<Hash32> held = {txs[0].id};  // held already when the check starts
  uint64_t committed_nonce = 0;
  std::vector<size_t> slice_sizes;
  SliceChecks how;
  how.slice = 4;
  how.held = [&](const DecodedTx& tx) { return held.count(tx.id) > 0; };
  how.used = [&](const DecodedTx& tx) { return tx.body->nonce() < committed_nonce; };
  how.verify = [&](std::span<const DecodedTx* const> slice, const TxPredicate& needed) {
    slice_sizes.push_back(slice.size());
    auto checks = verifier.Verify(slice, needed);
    if (slice_sizes.size() == 1) {
      // While the first slice is checked, a proposal's check keeps 5 and 6 in the mempool...
      held.insert(txs[5].id);
      held.insert(txs[6].id);
    } else if (slice_sizes.size() == 2) {
      // ...and while the second is, a block commits nonces 0 to 8 of the sender.
      committed_nonce = 9;
    }
    return checks;
  };

  const std::vector<SliceCheck> out = CheckInSlices(ptrs, how);
  REQUIRE(out.size() == 10);
  CHECK(out[0] == SliceCheck::kHeldMeanwhile);
  CHECK(out[1] == SliceCheck::kGood);
  CHECK(out[2] == SliceCheck::kBad);
  CHECK(out[3] == SliceCheck::kGood);
  CHECK(out[4] == SliceCheck::kGood);
  CHECK(out[5] == SliceCheck::kHeldMeanwhile);
  CHECK(out[6] == SliceCheck::kHeldMeanwhile);
  CHECK(out[7] == SliceCheck::kGood);
  CHECK(out[8] == SliceCheck::kUsedMeanwhile);
  CHECK(out[9] == SliceCheck::kGood);
  CHECK(slice_sizes == std::vector<size_t>{4, 4, 2});
  CHECK(verifier.checked() == 6);
}

TEST_CASE("a transaction the mempool took while its slice waited for a worker is not checked") {
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < 3; ++n)
    txs.push_back(Decoded(TransferBody("owner", "bob", 1, n), "owner"));
  std::vector<const DecodedTx*> ptrs;
  for (const DecodedTx& tx : txs) ptrs.push_back(&tx);
  // One worker checks the slice in order. By the time it reaches the third transaction, two
  // checks are done and the mempool holds it (a relayed copy admitted meanwhile, say): the worker
  // asks right before each check, not when the slice was queued, and skips it.
  VerifierPool verifier{1};
  SliceChecks how;
  how.held = [&](const DecodedTx& tx) { return &tx == &txs[2] && verifier.checked() >= 2; };
  how.used = [](const DecodedTx&) { return false; };
  how.verify = [&](std::span<const DecodedTx* const> slice, const TxPredicate& needed) {
    return verifier.Verify(slice, needed);
  };
  const std::vector<SliceCheck> out = CheckInSlices(ptrs, how);
  CHECK(out ==
        std::vector<SliceCheck>{SliceCheck::kGood, SliceCheck::kGood, SliceCheck::kHeldMeanwhile});
  CHECK(verifier.checked() == 2);
}
