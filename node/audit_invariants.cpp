#include "node/audit_invariants.h"

#include <fmt/format.h>

#include <string_view>

#include "contracts/state_keys.h"

namespace puhui {
namespace {

__extension__ typedef unsigned __int128 U128;  // sums of many uint64 balances

// Prefixes of state keys whose records are written once and never changed or deleted.
constexpr std::string_view kFinalRecordPrefixes[] = {
    "retire/",     // retirements, offsets and cancellations
    "pc/rec/",     // behaviour records counted, per provider
    "pc/batch/",   // attestation batches
    "pc/redeem/",  // redemptions of points
};

bool StartsWith(ByteView key, std::string_view prefix) {
  return key.size() > prefix.size() && std::equal(prefix.begin(), prefix.end(), key.begin());
}

std::string Printable(ByteView key) {
  std::string out;
  for (uint8_t c : key) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
  return out;
}

template <typename Proto>
Result<std::optional<Proto>> Parse(const std::optional<Bytes>& raw, ByteView key) {
  if (!raw) return std::optional<Proto>();
  Proto p;
  if (!p.ParseFromArray(raw->data(), static_cast<int>(raw->size())))
    return Corruption(fmt::format("record '{}' does not parse", Printable(key)));
  return std::optional<Proto>(std::move(p));
}

Status CheckTotals(const pb::PersonalTotals& t) {
  if (t.pooled_issued_grams() > t.consigned_grams())
    return FailedPrecondition(fmt::format("{} pooled grams issued but only {} consigned",
                                          t.pooled_issued_grams(), t.consigned_grams()));
  if (t.points_redeemed() > t.points_earned())
    return FailedPrecondition(fmt::format("{} points redeemed but only {} earned",
                                          t.points_redeemed(), t.points_earned()));
  return Status::Ok();
}

}  // namespace

Status CheckPooledGramsOnce(const StateReader& before, const StateChanges& changes) {
  const std::string_view pool_prefix = "pc/pool/";
  for (auto it = changes.lower_bound(ToBytes(pool_prefix));
       it != changes.end() && StartsWith(it->first, pool_prefix); ++it) {
    auto old_raw = before.Get(it->first);
    if (!old_raw.ok()) return old_raw.status();
    auto old = Parse<pb::PoolBucket>(*old_raw, it->first);
    if (!old.ok()) return old.status();
    auto now = Parse<pb::PoolBucket>(it->second, it->first);
    if (!now.ok()) return now.status();
    const std::string name = Printable(it->first);
    if (!*now) {
      if (*old) return FailedPrecondition(fmt::format("pool bucket '{}' was deleted", name));
      continue;
    }
    const pb::PoolBucket& n = **now;
    if (n.issued_grams() > n.consigned_grams()) {
      return FailedPrecondition(fmt::format("pool bucket '{}': {} g issued but only {} g consigned",
                                            name, n.issued_grams(), n.consigned_grams()));
    }
    if (*old && (n.consigned_grams() < (*old)->consigned_grams() ||
                 n.issued_grams() < (*old)->issued_grams())) {
      return FailedPrecondition(
          fmt::format("pool bucket '{}': consigned or issued grams went down", name));
    }
  }
  const Bytes totals_key = ToBytes("pc/total");
  if (auto it = changes.find(totals_key); it != changes.end()) {
    auto totals = Parse<pb::PersonalTotals>(it->second, totals_key);
    if (!totals.ok()) return totals.status();
    if (*totals) PUHUI_RETURN_IF_ERROR(CheckTotals(**totals));
  }
  return Status::Ok();
}

Status CheckPersonalTotals(const BlockStore& store) {
  const Bytes totals_key = ToBytes("pc/total");
  auto raw = store.GetState(totals_key);
  if (!raw.ok()) return raw.status();
  auto totals = Parse<pb::PersonalTotals>(*raw, totals_key);
  if (!totals.ok()) return totals.status();
  const pb::PersonalTotals t = totals->value_or(pb::PersonalTotals());
  PUHUI_RETURN_IF_ERROR(CheckTotals(t));
  U128 credited = 0, consigned = 0, earned = 0, redeemed = 0;
  PUHUI_RETURN_IF_ERROR(ForEachState(store, "pc/acct/", [&](const Bytes& key, const Bytes& value) {
    pb::PersonalAccount a;
    if (!a.ParseFromArray(value.data(), static_cast<int>(value.size())))
      return Corruption(fmt::format("personal account '{}' does not parse", Printable(key)));
    if (a.consigned_grams() > a.credited_grams() || a.points_redeemed() > a.points_earned()) {
      return FailedPrecondition(fmt::format(
          "personal account {}: consigned {} of {} g credited, redeemed {} of {} points",
          Hex(AsBytes(a.address())), a.consigned_grams(), a.credited_grams(), a.points_redeemed(),
          a.points_earned()));
    }
    credited += a.credited_grams();
    consigned += a.consigned_grams();
    earned += a.points_earned();
    redeemed += a.points_redeemed();
    return Status::Ok();
  }));
  auto differs = [](const char* what, U128 sum, uint64_t total) {
    return FailedPrecondition(fmt::format("the personal accounts sum to {} {}, the totals say {}",
                                          static_cast<uint64_t>(sum), what, total));
  };
  if (credited != t.credited_grams())
    return differs("credited grams", credited, t.credited_grams());
  if (consigned != t.consigned_grams())
    return differs("consigned grams", consigned, t.consigned_grams());
  if (earned != t.points_earned()) return differs("points earned", earned, t.points_earned());
  if (redeemed != t.points_redeemed())
    return differs("points redeemed", redeemed, t.points_redeemed());
  U128 pool_consigned = 0, pool_issued = 0;
  PUHUI_RETURN_IF_ERROR(ForEachState(store, "pc/pool/", [&](const Bytes& key, const Bytes& value) {
    pb::PoolBucket b;
    if (!b.ParseFromArray(value.data(), static_cast<int>(value.size())))
      return Corruption(fmt::format("pool bucket '{}' does not parse", Printable(key)));
    if (b.issued_grams() > b.consigned_grams()) {
      return FailedPrecondition(fmt::format("pool bucket '{}': {} g issued but only {} g consigned",
                                            Printable(key), b.issued_grams(), b.consigned_grams()));
    }
    pool_consigned += b.consigned_grams();
    pool_issued += b.issued_grams();
    return Status::Ok();
  }));
  if (pool_consigned != t.consigned_grams())
    return FailedPrecondition(
        fmt::format("the pool buckets hold {} consigned grams, the totals say {}",
                    static_cast<uint64_t>(pool_consigned), t.consigned_grams()));
  if (pool_issued != t.pooled_issued_grams())
    return FailedPrecondition(fmt::format("the pool buckets issued {} grams, the totals say {}",
                                          static_cast<uint64_t>(pool_issued),
                                          t.pooled_issued_grams()));
  return Status::Ok();
}

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
  return ForEachState(store, "batch/", [&store](const Bytes& key, const Bytes& value) -> Status {
    pb::CreditBatch b;
    if (!b.ParseFromArray(value.data(), static_cast<int>(value.size())))
      return Corruption(fmt::format("batch record '{}' does not parse", Printable(key)));
    U128 held = 0;
    PUHUI_RETURN_IF_ERROR(ForEachState(store, fmt::format("bal/{}/", b.serial()),
                                       [&held](const Bytes& bal_key, const Bytes& grams) -> Status {
                                         auto v = DecodeU64(grams);
                                         if (!v)
                                           return Corruption(fmt::format(
                                               "balance '{}' is not 8 bytes", Printable(bal_key)));
                                         held += *v;
                                         return Status::Ok();
                                       }));
    const U128 accounted = held + b.locked_grams() + b.retired_grams() + b.cancelled_grams();
    if (accounted != b.issued_grams()) {
      return FailedPrecondition(fmt::format(
          "batch {}: issued {} g, but held {} + locked {} + retired {} + cancelled {} g",
          b.serial(), b.issued_grams(), static_cast<uint64_t>(held), b.locked_grams(),
          b.retired_grams(), b.cancelled_grams()));
    }
    return Status::Ok();
  });
}

}  // namespace puhui
