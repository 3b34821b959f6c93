#include "contracts/supply.h"

#include <fmt/format.h>

#include <map>
#include <string>

#include "contracts/registry_keys.h"
#include "contracts/state_keys.h"

namespace puhui {

namespace {

__extension__ typedef __int128 I128;

constexpr std::string_view kBalancePrefix = "bal/";
constexpr std::string_view kBatchPrefix = "batch/";

bool StartsWith(const Bytes& key, std::string_view prefix) {
  return key.size() > prefix.size() && std::equal(prefix.begin(), prefix.end(), key.begin());
}

// Σ of the batch's totals that must move with issuance, and the parts that never decrease.
struct Totals {
  I128 issued = 0, accounted = 0;  // accounted = locked + retired + cancelled
  uint64_t retired = 0, cancelled = 0;
};

Result<Totals> TotalsOf(const std::optional<Bytes>& value) {
  Totals t;
  if (!value) return t;
  pb::CreditBatch b;
  if (!b.ParseFromArray(value->data(), static_cast<int>(value->size()))) {
    return Corruption("credit batch record does not parse");
  }
  t.issued = b.issued_grams();
  t.accounted = I128(b.locked_grams()) + b.retired_grams() + b.cancelled_grams();
  t.retired = b.retired_grams();
  t.cancelled = b.cancelled_grams();
  return t;
}

}  // namespace

Status CheckSupplyConserved(const StateReader& before, const StateChanges& changes) {
  std::map<std::string, I128> imbalance;  // per serial: Δheld + Δaccounted − Δissued
  for (const auto& [key, value] : changes) {
    if (StartsWith(key, kBalancePrefix) && key.size() > kBalancePrefix.size() + 33) {
      std::string serial(key.begin() + kBalancePrefix.size(), key.end() - 33);
      auto old = ReadU64(before, key);
      if (!old.ok()) return old.status();
      std::optional<uint64_t> now = value ? DecodeU64(*value) : std::optional<uint64_t>(0);
      if (!now) return Internal(fmt::format("a balance of batch '{}' is not 8 bytes", serial));
      imbalance[serial] += I128(*now) - I128(*old);
    } else if (StartsWith(key, kBatchPrefix)) {
      std::string serial(key.begin() + kBatchPrefix.size(), key.end());
      auto old_raw = before.Get(key);
      if (!old_raw.ok()) return old_raw.status();
      auto old = TotalsOf(*old_raw);
      if (!old.ok()) return old.status();
      auto now = TotalsOf(value);
      if (!now.ok()) return now.status();
      if (now->retired < old->retired || now->cancelled < old->cancelled) {
        return Internal(fmt::format("batch '{}': retired or cancelled grams decreased", serial));
      }
      imbalance[serial] += (now->accounted - old->accounted) - (now->issued - old->issued);
    }
  }
  for (const auto& [serial, delta] : imbalance) {
    if (delta != 0) {
      return Internal(fmt::format(
          "batch '{}': issued ≠ held + locked + retired + cancelled after this block", serial));
    }
  }
  return Status::Ok();
}

}  // namespace puhui
