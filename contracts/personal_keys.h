// State keys, limits and shared helpers of personal carbon accounts (docs/personal.md). Every key
// starts with pc/ (docs/formats.md):
//
//   pc/scen/<id>                         Scenario
//   pc/acct/<addr>                       PersonalAccount
//   pc/rec/<provider>/<record id>        RecordRef: the record was counted (per provider, forever)
//   pc/batch/<seq:020>                   AttestationBatch
//   pc/stat/s/<scenario>                 ActivityStats of a scenario
//   pc/stat/p/<provider>                 ActivityStats of a provider
//   pc/offer/<id>                        Offer               pc/redeem/<id>   Redemption (RD-<n>)
//   pc/pool/<scenario>/<month>           PoolBucket          pc/total         PersonalTotals
//   pc/seq/<kind>                        u64 last sequence   pc/idx/<kind>/<seq:020> record key
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chain/bytes.h"
#include "chain/keys.h"
#include "chain/limits.h"
#include "chain/status.h"
#include "contracts/action.h"
#include "contracts/state.h"
#include "puhui.pb.h"

namespace puhui {

// Records under one signature. With the largest record (kMaxPersonalRecordBytes) a full batch
// still fits one transaction.
inline constexpr size_t kMaxAttestRecords = 2048;
// account 2+32, record id 2+32, scenario 2+32, amount 1+10, time 1+10, its own tag and length 3.
inline constexpr size_t kMaxPersonalRecordBytes = 127;
static_assert(kMaxAttestRecords * kMaxPersonalRecordBytes + 2048 <= kMaxTxBytes,
              "a full attestation batch must fit one transaction");
inline constexpr size_t kMaxScenarioProviders = 16;
inline constexpr uint32_t kMaxClaimWindowDays = 31;
// A record may be stamped at most this much later than the block (clocks of providers drift).
inline constexpr uint64_t kMaxRecordClockSkewMs = 10 * 60 * 1000;
inline constexpr uint64_t kMsPerDay = 86'400'000;
inline constexpr size_t kMaxActivityUnitBytes = 64;
inline constexpr int kMaxRecentRedemptions = 20;  // redemption ids an account record lists

inline constexpr std::string_view kKindScenario = "scenario";
inline constexpr std::string_view kKindAttestation = "attestation";
inline constexpr std::string_view kKindOffer = "offer";
inline constexpr std::string_view kKindRedemption = "redemption";

}  // namespace puhui

namespace puhui::personal_keys {

Bytes Scenario(std::string_view id);
Bytes Account(ByteView address);
Bytes Record(const PublicKey& provider, ByteView record_id);
Bytes Batch(uint64_t seq);
Bytes ScenarioStats(std::string_view id);
Bytes ProviderStats(const PublicKey& provider);
Bytes Offer(std::string_view id);
Bytes Redemption(std::string_view id);
Bytes Pool(std::string_view scenario, uint32_t month);
Bytes Totals();
Bytes Seq(std::string_view kind);
Bytes Index(std::string_view kind, uint64_t seq);

}  // namespace puhui::personal_keys

namespace puhui {

// Takes the next number of `kind` and records `record_key` under it in pc/idx/<kind>/.
Result<uint64_t> AppendPersonalIndex(StateOverlay& state, std::string_view kind,
                                     const Bytes& record_key);

// The address of the custodial account an operator of `region` opens for a salted id hash:
// TaggedHash("puhui/personal-account", region || 0 || hash). Not a key: only its custodian acts.
Hash32 CustodialAddress(std::string_view region, ByteView external_id_hash);

// Civil calendar from a day number (days since 1970-01-01) and back, integers only.
uint32_t DateOfDay(uint64_t day);  // YYYYMMDD
uint64_t DayOfDate(uint32_t yyyymmdd);
inline uint32_t MonthOfDate(uint32_t yyyymmdd) { return yyyymmdd / 100; }
// First and last day (YYYYMMDD) of a YYYYMM month; false if it is not a month.
bool MonthRange(uint32_t yyyymm, uint32_t* first, uint32_t* last);

// The account a redemption or consignment acts for: the sender's own (field empty) or a custodial
// account of the sender. Sets *address; the refusal otherwise.
Result<std::optional<ActionOutcome>> ResolveActingAccount(const StateReader& state,
                                                          const TxContext& ctx,
                                                          const std::string& field,
                                                          pb::PersonalAccount* account);

Result<pb::PersonalTotals> ReadTotals(const StateReader& state);

// The outcome of record `index` of attestation batch `batch` when it was a duplicate: its leaf in
// the batch's outcomes_root (a counted record's leaf is the RecordRef stored for it).
pb::RecordRef DuplicateOutcome(uint64_t batch, uint32_t index);

}  // namespace puhui
