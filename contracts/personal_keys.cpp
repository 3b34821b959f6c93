#include "contracts/personal_keys.h"

#include <fmt/format.h>

#include "chain/hash.h"
#include "contracts/registry_keys.h"
#include "contracts/state_keys.h"

namespace puhui::personal_keys {

namespace {
Bytes Join(std::initializer_list<std::string_view> parts) {
  Bytes out;
  for (std::string_view p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
std::string_view Raw(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}
}  // namespace

Bytes Scenario(std::string_view id) { return Join({"pc/scen/", id}); }
Bytes Account(ByteView address) { return Join({"pc/acct/", Raw(address)}); }
Bytes Record(const PublicKey& provider, ByteView record_id) {
  return Join({"pc/rec/", Raw(ByteView(provider.bytes)), "/", Raw(record_id)});
}
Bytes Batch(uint64_t seq) { return Join({"pc/batch/", fmt::format("{:020}", seq)}); }
Bytes ScenarioStats(std::string_view id) { return Join({"pc/stat/s/", id}); }
Bytes ProviderStats(const PublicKey& provider) {
  return Join({"pc/stat/p/", Raw(ByteView(provider.bytes))});
}
Bytes Offer(std::string_view id) { return Join({"pc/offer/", id}); }
Bytes Redemption(std::string_view id) { return Join({"pc/redeem/", id}); }
Bytes Pool(std::string_view scenario, uint32_t month) {
  return Join({"pc/pool/", scenario, "/", fmt::format("{:06}", month)});
}
Bytes Totals() { return Join({"pc/total"}); }
Bytes Seq(std::string_view kind) { return Join({"pc/seq/", kind}); }
Bytes Index(std::string_view kind, uint64_t seq) {
  return Join({"pc/idx/", kind, "/", fmt::format("{:020}", seq)});
}

}  // namespace puhui::personal_keys

namespace puhui {

Result<uint64_t> AppendPersonalIndex(StateOverlay& state, std::string_view kind,
                                     const Bytes& record_key) {
  auto last = ReadU64(state, personal_keys::Seq(kind));
  if (!last.ok()) return last.status();
  const uint64_t seq = *last + 1;
  WriteU64(state, personal_keys::Seq(kind), seq);
  state.Put(personal_keys::Index(kind, seq), record_key);
  return seq;
}

Hash32 CustodialAddress(std::string_view region, ByteView external_id_hash) {
  Bytes data(region.begin(), region.end());
  data.push_back(0);
  data.insert(data.end(), external_id_hash.begin(), external_id_hash.end());
  return TaggedHash("puhui/personal-account", data);
}

// Howard Hinnant's days_from_civil / civil_from_days, for days ≥ 0.
uint32_t DateOfDay(uint64_t day) {
  const int64_t z = static_cast<int64_t>(day) + 719468;
  const int64_t era = z / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return static_cast<uint32_t>(y * 10000 + m * 100 + d);
}

uint64_t DayOfDate(uint32_t yyyymmdd) {
  int64_t y = yyyymmdd / 10000;
  const int64_t m = yyyymmdd / 100 % 100, d = yyyymmdd % 100;
  y -= m <= 2 ? 1 : 0;
  const int64_t era = y / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<uint64_t>(era * 146097 + doe - 719468);
}

bool MonthRange(uint32_t yyyymm, uint32_t* first, uint32_t* last) {
  const uint32_t start = yyyymm * 100 + 1;
  if (!IsValidDate(start)) return false;
  *first = start;
  uint32_t end = yyyymm * 100 + 31;
  while (!IsValidDate(end)) --end;
  *last = end;
  return true;
}

Result<std::optional<ActionOutcome>> ResolveActingAccount(const StateReader& state,
                                                          const TxContext& ctx,
                                                          const std::string& field,
                                                          pb::PersonalAccount* account) {
  using R = std::optional<ActionOutcome>;
  const std::string sender = ToString(ctx.tx.sender.bytes);
  const std::string address = field.empty() ? sender : field;
  PUHUI_TRY(a, ReadProto<pb::PersonalAccount>(state, personal_keys::Account(AsBytes(address))));
  if (!a) {
    return R(ActionOutcome::Fail(
        pb::RECEIPT_ACCOUNT_NOT_FOUND,
        fmt::format("no personal account at {}; an account exists once it is opened or credited",
                    Hex(AsBytes(address)))));
  }
  const bool own = address == sender && a->custodian().empty();
  const bool custodian = !a->custodian().empty() && a->custodian() == sender;
  if (!own && !custodian) {
    return R(ActionOutcome::Fail(
        pb::RECEIPT_NOT_CUSTODIAN,
        fmt::format("the sender may not act for personal account {}: only its own key, or the "
                    "operator that opened it, may",
                    Hex(AsBytes(address)))));
  }
  *account = std::move(*a);
  return R();
}

Result<pb::PersonalTotals> ReadTotals(const StateReader& state) {
  PUHUI_TRY(t, ReadProto<pb::PersonalTotals>(state, personal_keys::Totals()));
  return t ? *t : pb::PersonalTotals();
}

pb::RecordRef DuplicateOutcome(uint64_t batch, uint32_t index) {
  pb::RecordRef ref;
  ref.set_batch(batch);
  ref.set_index(index);
  ref.set_duplicate(true);
  return ref;
}

}  // namespace puhui
