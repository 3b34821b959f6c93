#include "node/signature_slices.h"

#include <algorithm>

namespace puhui {

std::vector<SliceCheck> CheckInSlices(std::span<const DecodedTx* const> txs,
                                      const SliceChecks& how) {
  const size_t step = std::max<size_t>(how.slice, 1);
  std::vector<SliceCheck> out(txs.size(), SliceCheck::kBad);
  const auto needed = [&](const DecodedTx& tx) { return !how.held(tx) && !how.used(tx); };
  for (size_t from = 0; from < txs.size(); from += step) {
    const auto slice = txs.subspan(from, std::min(step, txs.size() - from));
    const std::vector<SignatureCheck> checks = how.verify(slice, needed);
    for (size_t n = 0; n < checks.size() && n < slice.size(); ++n) {
      switch (checks[n]) {
        case SignatureCheck::kGood: out[from + n] = SliceCheck::kGood; break;
        case SignatureCheck::kBad: out[from + n] = SliceCheck::kBad; break;
        case SignatureCheck::kSkipped:
          // Held, or its nonce used, when asked; a held one may have been committed since.
          out[from + n] =
              how.held(*slice[n]) ? SliceCheck::kHeldMeanwhile : SliceCheck::kUsedMeanwhile;
          break;
      }
    }
  }
  return out;
}

}  // namespace puhui
