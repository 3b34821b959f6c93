#include "node/audit_invariants.h"

#include <fmt/format.h>

#include <string_view>

#include "contracts/state_keys.h"

namespace puhui {
namespace {

__extension__ typedef unsigned __int128 U128;  // sums of many uint64 balances

// Prefixes of state keys whose records are written once and never changed or deleted.
constexpr std::string_view kFinalRecordPrefixes[] = {
    "retire/",  // retirements, offsets and cancellations
};

bool StartsWith(ByteView key, std::string_view prefix) {
  return key.size() > prefix.size() && std::equal(prefix.begin(), prefix.end(), key.begin());
}

std::string Printable(ByteView key) {
  std::string out;
  for (uint8_t c : key) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
  return out;
}

}  // namespace

Status CheckFinalRecordsUnchanged(const StateReader& before, const StateChanges& changes) {
  for (std::string_view prefix : kFinalRecordPrefixes) {
    Bytes start(prefix.begin(), prefix.end());
    for (auto it = changes.lower_bound(start); it != changes.end() && StartsWith(it->first, prefix);
         ++it) {
      auto old = before.Get(it->first);
      if (!old.ok()) return old.status();
      if (!old->has_value()) continue;  // a new record
      if (!it->second) {
        return FailedPrecondition(
            fmt::format("final record '{}' was deleted", Printable(it->first)));
      }
      if (*it->second != **old) {
        return FailedPrecondition(fmt::format("final record '{}' was changed after it was written",
                                              Printable(it->first)));
      }
    }
  }
  return Status::Ok();
}

Status CheckAllBatchesConserved(const BlockStore& store) {
  constexpr size_t kPage = 1024;
  const Bytes batch_prefix = ToBytes("batch/");
  Bytes after = batch_prefix;
  for (;;) {
    auto page = store.ScanState(batch_prefix, after, kPage);
    if (!page.ok()) return page.status();
    for (const auto& [key, value] : *page) {
      pb::CreditBatch b;
      if (!b.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        return Corruption(fmt::format("batch record '{}' does not parse", Printable(key)));
      }
      const Bytes bal_prefix = ToBytes(fmt::format("bal/{}/", b.serial()));
      U128 held = 0;
      Bytes bal_after = bal_prefix;
      for (;;) {
        auto balances = store.ScanState(bal_prefix, bal_after, kPage);
        if (!balances.ok()) return balances.status();
        for (const auto& [bal_key, grams] : *balances) {
          auto v = DecodeU64(grams);
          if (!v) return Corruption(fmt::format("balance '{}' is not 8 bytes", Printable(bal_key)));
          held += *v;
        }
        if (balances->size() < kPage) break;
        bal_after = balances->back().first;
      }
      const U128 accounted = held + b.locked_grams() + b.retired_grams() + b.cancelled_grams();
      if (accounted != b.issued_grams()) {
        return FailedPrecondition(fmt::format(
            "batch {}: issued {} g, but held {} + locked {} + retired {} + cancelled {} g",
            b.serial(), b.issued_grams(), static_cast<uint64_t>(held), b.locked_grams(),
            b.retired_grams(), b.cancelled_grams()));
      }
    }
    if (page->size() < kPage) break;
    after = page->back().first;
  }
  return Status::Ok();
}

}  // namespace puhui
