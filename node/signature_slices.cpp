#include "node/signature_slices.h"

#include <algorithm>

namespace puhui {

std::vector<SliceCheck> CheckInSlices(std::span<const DecodedTx* const> txs,
                                      const SliceChecks& how) {
  const size_t step = std::max<size_t>(how.slice, 1);
  std::vector<SliceCheck> out(txs.size(), SliceCheck::kBad);
  std::vector<const DecodedTx*> slice;
  std::vector<size_t> at;
  for (size_t from = 0; from < txs.size(); from += step) {
    slice.clear();
    at.clear();
    for (size_t k = from; k < std::min(txs.size(), from + step); ++k) {
      if (from > 0 && how.held(*txs[k])) {
        out[k] = SliceCheck::kHeldMeanwhile;
        continue;
      }
      if (from > 0 && how.used(*txs[k])) {
        out[k] = SliceCheck::kUsedMeanwhile;
        continue;
      }
      slice.push_back(txs[k]);
      at.push_back(k);
    }
    if (slice.empty()) continue;
    const std::vector<bool> ok = how.verify(slice);
    for (size_t n = 0; n < ok.size() && n < at.size(); ++n) {
      out[at[n]] = ok[n] ? SliceCheck::kGood : SliceCheck::kBad;
    }
  }
  return out;
}

}  // namespace puhui
