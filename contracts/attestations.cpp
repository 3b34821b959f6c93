// Attested behaviour (行为数据上链): a data provider's signed batch of records. Every rule that can
// refuse the batch is checked before anything is written; then each record is counted once per
// provider and record id, forever (a repeat is a duplicate), quantified by its scenario's
// methodology (or points only), and credited up to the per-person daily cap (the excess is
// recorded as capped). The batch's records are committed by a Merkle root so that a person can
// prove that a record was counted.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

#include "chain/merkle.h"
#include "contracts/action.h"
#include "contracts/formula.h"
#include "contracts/personal_keys.h"
#include "contracts/registry_keys.h"
#include "contracts/review.h"
#include "contracts/state_keys.h"

namespace puhui {

namespace {

__extension__ typedef unsigned __int128 U128;

// At most this many record positions are listed per kind (capped, duplicate) in the receipt.
constexpr size_t kMaxListedIndexes = 32;

struct ScenarioInfo {
  pb::Scenario scenario;
  pb::MethodologyVersion methodology;            // unset for a points-only scenario
  std::string input;                             // the methodology's one activity input
  std::map<uint64_t, uint64_t> grams_by_amount;  // the formula's result, computed once per amount
  pb::ActivityStats stats;
};

// An account as the batch changes it: the record, its months by (scenario, month) and its cap
// usage by (scenario, day).
struct AccountWork {
  pb::PersonalAccount account;
  std::map<std::pair<std::string, uint32_t>, pb::AccountMonth> months;
  std::map<std::pair<std::string, uint64_t>, uint64_t> days;
  bool is_new = false;
};

std::string IndexList(const std::vector<uint32_t>& v) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < kMaxListedIndexes; ++i) {
    if (i) out += ",";
    out += std::to_string(v[i]);
  }
  if (v.size() > kMaxListedIndexes) out += ",…";
  return out;
}

ActionOutcome RecordFail(pb::ReceiptCode code, size_t i, const std::string& why) {
  return ActionOutcome::Fail(code, fmt::format("record {}: {}; the batch is refused", i, why));
}

}  // namespace

Result<ActionOutcome> ApplyAttestBehaviour(StateOverlay& state, const TxContext& ctx,
                                           const pb::AttestBehaviour& a) {
  const PublicKey& provider = ctx.tx.sender;
  const std::string provider_raw = ToString(provider.bytes);
  const uint64_t now_ms = ctx.block.time_ms;
  const uint64_t today = now_ms / kMsPerDay;

  // 1. The scenarios named, and the provider's right to attest each.
  std::map<std::string, ScenarioInfo> scenarios;
  for (int i = 0; i < a.records_size(); ++i) {
    const std::string& id = a.records(i).scenario();
    if (scenarios.contains(id)) continue;
    PUHUI_TRY(s, ReadProto<pb::Scenario>(state, personal_keys::Scenario(id)));
    if (!s) {
      return RecordFail(pb::RECEIPT_SCENARIO_NOT_FOUND, i,
                        fmt::format("scenario '{}' does not exist", id));
    }
    bool listed = false;
    for (const auto& p : s->providers()) listed = listed || p == provider_raw;
    PUHUI_TRY(holds, HasRole(state, s->region(), pb::ROLE_DATA_PROVIDER, provider));
    if (!listed || !holds) {
      return RecordFail(
          pb::RECEIPT_PROVIDER_NOT_ALLOWED, i,
          fmt::format("the sender is not {} for scenario '{}'",
                      listed ? "a data provider of region '" + s->region() + "' any more"
                             : "an allowed provider",
                      id));
    }
    ScenarioInfo info;
    if (!s->points_only()) {
      PUHUI_TRY(unusable,
                RefuseUnusableMethodology(state, ctx, s->methodology_id(), s->methodology_version(),
                                          s->region(), &info.methodology));
      if (unusable) return std::move(*unusable);
      info.input = info.methodology.formula().inputs(0).name();
    }
    PUHUI_TRY(stats, ReadProto<pb::ActivityStats>(state, personal_keys::ScenarioStats(id)));
    if (stats) info.stats = std::move(*stats);
    info.scenario = std::move(*s);
    scenarios.emplace(id, std::move(info));
  }

  // 2. Each record's time and quantity; nothing is written until every record passes.
  std::vector<uint64_t> quantity(a.records_size());  // grams, or points for points-only
  for (int i = 0; i < a.records_size(); ++i) {
    const pb::BehaviourRecord& r = a.records(i);
    ScenarioInfo& info = scenarios.at(r.scenario());
    const pb::Scenario& s = info.scenario;
    if (r.time_ms() > now_ms + kMaxRecordClockSkewMs) {
      return RecordFail(
          pb::RECEIPT_RECORD_IN_FUTURE, i,
          fmt::format("its time {} ms is later than the block time {} ms", r.time_ms(), now_ms));
    }
    const uint64_t day = r.time_ms() / kMsPerDay;
    if (day + s.claim_window_days() < today) {
      return RecordFail(
          pb::RECEIPT_RECORD_TOO_OLD, i,
          fmt::format("it happened on {}, more than the {} days of scenario '{}''s "
                      "claim window before {}",
                      DateOfDay(day), s.claim_window_days(), s.id(), DateOfDay(today)));
    }
    const uint32_t date = DateOfDay(day);
    if (date < s.start_date() || date > s.end_date()) {
      return RecordFail(pb::RECEIPT_SCENARIO_INACTIVE, i,
                        fmt::format("it happened on {}, outside the active period {}..{} of "
                                    "scenario '{}'",
                                    date, s.start_date(), s.end_date(), s.id()));
    }
    if (s.points_only()) {
      const U128 points = U128(r.amount()) * s.points_per_unit();
      if (points > UINT64_MAX) {
        return RecordFail(pb::RECEIPT_ACTIVITY_INVALID, i, "its points would not fit 64 bits");
      }
      quantity[i] = static_cast<uint64_t>(points);
      continue;
    }
    if (auto known = info.grams_by_amount.find(r.amount()); known != info.grams_by_amount.end()) {
      quantity[i] = known->second;
      continue;
    }
    auto result = EvaluateFormula(info.methodology.formula(), {{info.input, r.amount()}});
    if (!result.ok()) {
      if (result.status().code() != StatusCode::kFailedPrecondition) {
        return RecordFail(
            pb::RECEIPT_ACTIVITY_INVALID, i,
            fmt::format("its amount does not fit methodology {} v{}: {}", info.methodology.id(),
                        info.methodology.version(), result.status().message()));
      }
      result = FormulaResult{};  // a negative reduction earns nothing
    }
    quantity[i] = result->reduction_grams;
    info.grams_by_amount.emplace(r.amount(), quantity[i]);
  }

  // 3. Count, cap and credit, in record order.
  PUHUI_TRY(totals, ReadTotals(state));
  PUHUI_TRY(seq_before, ReadU64(state, personal_keys::Seq(kKindAttestation)));
  const uint64_t batch_seq = seq_before + 1;
  pb::AttestationBatch batch;
  batch.set_seq(batch_seq);
  batch.set_provider(provider_raw);
  batch.set_tx_hash(ToString(ctx.tx.id));
  batch.set_height(ctx.block.height);
  batch.set_record_count(static_cast<uint32_t>(a.records_size()));
  std::map<std::string, AccountWork> accounts;
  std::vector<uint32_t> capped_at, duplicate_at;
  std::vector<Hash32> leaves, outcomes;
  leaves.reserve(a.records_size());
  outcomes.reserve(a.records_size());
  for (int i = 0; i < a.records_size(); ++i) {
    const pb::BehaviourRecord& r = a.records(i);
    leaves.push_back(MerkleLeafHash(AsBytes(r.SerializeAsString())));
    ScenarioInfo& info = scenarios.at(r.scenario());
    const pb::Scenario& s = info.scenario;
    info.stats.set_records(info.stats.records() + 1);
    Bytes record_key = personal_keys::Record(provider, AsBytes(r.record_id()));
    PUHUI_TRY(seen, state.Get(record_key));
    if (seen) {
      batch.set_duplicate_records(batch.duplicate_records() + 1);
      info.stats.set_duplicate_records(info.stats.duplicate_records() + 1);
      duplicate_at.push_back(static_cast<uint32_t>(i));
      outcomes.push_back(MerkleLeafHash(
          AsBytes(DuplicateOutcome(batch_seq, static_cast<uint32_t>(i)).SerializeAsString())));
      continue;
    }

    auto [it, inserted] = accounts.try_emplace(r.account());
    AccountWork& w = it->second;
    if (inserted) {
      PUHUI_TRY(existing, ReadProto<pb::PersonalAccount>(
                              state, personal_keys::Account(AsBytes(r.account()))));
      if (existing) {
        w.account = std::move(*existing);
        for (auto& m : *w.account.mutable_months()) {
          w.months[{m.scenario(), m.month()}] = std::move(m);
        }
        for (const auto& d : w.account.days()) w.days[{d.scenario(), d.day()}] = d.used();
        w.account.clear_months();
        w.account.clear_days();
      } else {
        w.is_new = true;
        w.account.set_address(r.account());
        w.account.set_opened_height(ctx.block.height);
      }
    }
    const uint64_t day = r.time_ms() / kMsPerDay;
    uint64_t& used = w.days[{s.id(), day}];
    const uint64_t cap = s.points_only() ? s.daily_cap_points() : s.daily_cap_grams();
    const uint64_t room = cap > used ? cap - used : 0;
    const uint64_t credit = std::min(quantity[i], room);
    const uint64_t excess = quantity[i] - credit;
    used += credit;

    pb::AccountMonth& m = w.months[{s.id(), MonthOfDate(DateOfDay(day))}];
    m.set_scenario(s.id());
    m.set_month(MonthOfDate(DateOfDay(day)));
    m.set_records(m.records() + 1);
    uint64_t points = 0;
    if (s.points_only()) {
      points = credit;
    } else {
      m.set_credited_grams(m.credited_grams() + credit);
      m.set_capped_grams(m.capped_grams() + excess);
      const uint64_t now_points =
          static_cast<uint64_t>(U128(m.credited_grams()) * s.points_per_kg() / 1000);
      points = now_points - m.points();
      w.account.set_credited_grams(w.account.credited_grams() + credit);
      w.account.set_capped_grams(w.account.capped_grams() + excess);
      batch.set_credited_grams(batch.credited_grams() + credit);
      batch.set_capped_grams(batch.capped_grams() + excess);
      info.stats.set_credited_grams(info.stats.credited_grams() + credit);
      info.stats.set_capped_grams(info.stats.capped_grams() + excess);
    }
    m.set_points(m.points() + points);
    w.account.set_points_earned(w.account.points_earned() + points);
    batch.set_points(batch.points() + points);
    info.stats.set_points(info.stats.points() + points);
    pb::RecordRef ref;
    ref.set_batch(batch_seq);
    ref.set_index(static_cast<uint32_t>(i));
    ref.set_credited_grams(s.points_only() ? 0 : credit);
    ref.set_capped(excess);
    ref.set_points(points);
    const std::string ref_bytes = ref.SerializeAsString();
    outcomes.push_back(MerkleLeafHash(AsBytes(ref_bytes)));
    state.Put(std::move(record_key), ToBytes(ref_bytes));
    if (excess > 0) {
      batch.set_capped_records(batch.capped_records() + 1);
      info.stats.set_capped_records(info.stats.capped_records() + 1);
      capped_at.push_back(static_cast<uint32_t>(i));
    } else {
      batch.set_credited_records(batch.credited_records() + 1);
      info.stats.set_credited_records(info.stats.credited_records() + 1);
    }
  }
  batch.set_records_root(ToString(MerkleRoot(leaves)));
  batch.set_outcomes_root(ToString(MerkleRoot(outcomes)));

  // 4. Write what changed, in key order.
  for (auto& [address, w] : accounts) {
    for (auto& [k, m] : w.months) *w.account.add_months() = std::move(m);
    for (const auto& [k, used] : w.days) {
      // A day before the longest claim window can take no more records: drop it.
      if (k.second + kMaxClaimWindowDays < today || used == 0) continue;
      pb::DayUsage* d = w.account.add_days();
      d->set_scenario(k.first);
      d->set_day(k.second);
      d->set_used(used);
    }
    WriteProto(state, personal_keys::Account(AsBytes(address)), w.account);
    if (w.is_new) totals.set_accounts(totals.accounts() + 1);
  }
  for (auto& [id, info] : scenarios) {
    info.stats.set_batches(info.stats.batches() + 1);
    WriteProto(state, personal_keys::ScenarioStats(id), info.stats);
  }
  Bytes provider_stats_key = personal_keys::ProviderStats(provider);
  PUHUI_TRY(ps, ReadProto<pb::ActivityStats>(state, provider_stats_key));
  pb::ActivityStats pstats = ps ? *ps : pb::ActivityStats();
  pstats.set_batches(pstats.batches() + 1);
  pstats.set_records(pstats.records() + batch.record_count());
  pstats.set_credited_records(pstats.credited_records() + batch.credited_records());
  pstats.set_capped_records(pstats.capped_records() + batch.capped_records());
  pstats.set_duplicate_records(pstats.duplicate_records() + batch.duplicate_records());
  pstats.set_credited_grams(pstats.credited_grams() + batch.credited_grams());
  pstats.set_capped_grams(pstats.capped_grams() + batch.capped_grams());
  pstats.set_points(pstats.points() + batch.points());
  WriteProto(state, std::move(provider_stats_key), pstats);
  totals.set_batches(totals.batches() + 1);
  totals.set_records(totals.records() + batch.record_count());
  totals.set_credited_grams(totals.credited_grams() + batch.credited_grams());
  totals.set_capped_grams(totals.capped_grams() + batch.capped_grams());
  totals.set_points_earned(totals.points_earned() + batch.points());
  WriteProto(state, personal_keys::Totals(), totals);
  Bytes batch_key = personal_keys::Batch(batch_seq);
  WriteProto(state, batch_key, batch);
  PUHUI_TRY(seq, AppendPersonalIndex(state, kKindAttestation, batch_key));
  if (seq != batch_seq) return Internal("attestation sequence moved during a batch");

  ActionOutcome ok;
  ok.events.push_back(
      MakeEvent("behaviour_attested", {{"batch", std::to_string(batch_seq)},
                                       {"records", std::to_string(batch.record_count())},
                                       {"credited", std::to_string(batch.credited_records())},
                                       {"capped", std::to_string(batch.capped_records())},
                                       {"duplicate", std::to_string(batch.duplicate_records())},
                                       {"credited_grams", std::to_string(batch.credited_grams())},
                                       {"capped_grams", std::to_string(batch.capped_grams())},
                                       {"points", std::to_string(batch.points())},
                                       {"records_root", Hex(AsBytes(batch.records_root()))},
                                       {"capped_indexes", IndexList(capped_at)},
                                       {"duplicate_indexes", IndexList(duplicate_at)}}));
  return ok;
}

}  // namespace puhui
