#include "node/audit_report.h"

#include <fmt/format.h>

#include <chrono>
#include <map>

#include "rpc/encode.h"

namespace puhui {
namespace {

using nlohmann::json;

std::string Month(uint64_t time_ms) {
  using namespace std::chrono;
  const year_month_day d{floor<days>(sys_time<milliseconds>(milliseconds(time_ms)))};
  return fmt::format("{:04}-{:02}", static_cast<int>(d.year()), static_cast<unsigned>(d.month()));
}

template <typename E>
std::string Name(const google::protobuf::EnumDescriptor* d, E value) {
  const auto* v = d->FindValueByNumber(static_cast<int>(value));
  return v ? rpc::EnumValueName(v) : fmt::format("{}", static_cast<int>(value));
}

uint64_t TimeAt(const std::vector<uint64_t>& times, uint64_t height) {
  return height < times.size() ? times[height] : (times.empty() ? 0 : times.back());
}

// Σ grams by one column, for the summary tables.
template <typename Row, typename Key>
std::map<std::string, std::pair<uint64_t, uint64_t>> SumBy(const std::vector<Row>& rows, Key key) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> out;  // key -> (count, grams)
  for (const auto& r : rows) {
    auto& [count, grams] = out[key(r)];
    ++count;
    grams += r.grams;
  }
  return out;
}

void Table(std::string& out, const std::string& title, const std::string& column,
           const std::map<std::string, std::pair<uint64_t, uint64_t>>& sums) {
  out += fmt::format("\n{}\n  {:<40} {:>8} {:>20}\n", title, column, "records", "grams CO2e");
  uint64_t count = 0, grams = 0;
  for (const auto& [k, v] : sums) {
    out += fmt::format("  {:<40} {:>8} {:>20}\n", k.empty() ? "-" : k, v.first, v.second);
    count += v.first;
    grams += v.second;
  }
  out += fmt::format("  {:<40} {:>8} {:>20}\n", "total", count, grams);
}

json Sums(const std::map<std::string, std::pair<uint64_t, uint64_t>>& sums) {
  json out = json::object();
  for (const auto& [k, v] : sums) out[k] = {{"records", v.first}, {"grams", v.second}};
  return out;
}

std::string Methodology(const IssuanceRow& r) {
  return r.methodology.empty() ? "(genesis)"
                               : fmt::format("{} v{}", r.methodology, r.methodology_version);
}

// A CSV field, quoted when it holds a separator, quote or line break.
std::string Csv(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

Result<AuditReport> BuildAuditReport(const BlockStore& replayed,
                                     const std::vector<uint64_t>& block_times) {
  AuditReport report;
  PUHUI_RETURN_IF_ERROR(ForEachState(replayed, "batch/", [&](const Bytes&, const Bytes& value) {
    pb::CreditBatch b;
    if (!b.ParseFromArray(value.data(), static_cast<int>(value.size())))
      return Corruption("a batch record does not parse");
    IssuanceRow r;
    r.serial = b.serial();
    r.region = b.region();
    r.methodology = b.methodology_id();
    r.methodology_version = b.methodology_version();
    r.project = b.project();
    if (b.vintage_start() != 0)
      r.vintage = fmt::format("{}-{}", b.vintage_start(), b.vintage_end());
    r.height = b.issued_height();
    r.month = Month(TimeAt(block_times, r.height));
    r.grams = b.issued_grams();
    report.issuance.push_back(std::move(r));
    return Status::Ok();
  }));
  PUHUI_RETURN_IF_ERROR(ForEachState(replayed, "retire/", [&](const Bytes&, const Bytes& value) {
    pb::Retirement t;
    if (!t.ParseFromArray(value.data(), static_cast<int>(value.size())))
      return Corruption("a retirement record does not parse");
    RetirementRow r;
    r.id = t.id();
    r.kind = Name(pb::RetirementKind_descriptor(), t.kind());
    r.batch = t.batch();
    r.region = t.region();
    r.period = t.period();
    r.height = t.height();
    r.month = Month(TimeAt(block_times, r.height));
    r.grams = t.grams();
    if (t.kind() == pb::RETIREMENT_KIND_CANCELLATION) {
      r.reason = Name(pb::CancelReason_descriptor(), t.cancel_reason());
      report.cancellations.push_back(std::move(r));
    } else {
      if (t.kind() == pb::RETIREMENT_KIND_VOLUNTARY)
        r.purpose = Name(pb::RetirementPurpose_descriptor(), t.purpose());
      report.retirements.push_back(std::move(r));
    }
    return Status::Ok();
  }));
  return report;
}

std::string ReportTables(const AuditReport& report) {
  std::string out = "Issuance\n";
  const auto& is = report.issuance;
  Table(out, "by region", "region", SumBy(is, [](const auto& r) { return r.region; }));
  Table(out, "by methodology and version", "methodology", SumBy(is, Methodology));
  Table(out, "by project", "project", SumBy(is, [](const auto& r) { return r.project; }));
  Table(out, "by vintage", "vintage", SumBy(is, [](const auto& r) { return r.vintage; }));
  Table(out, "by month of issuance", "month", SumBy(is, [](const auto& r) { return r.month; }));
  const auto& rs = report.retirements;
  out += "\nRetirements\n";
  Table(out, "by kind", "kind", SumBy(rs, [](const auto& r) { return r.kind; }));
  std::vector<RetirementRow> voluntary;
  for (const auto& r : rs) {
    if (r.kind == "voluntary") voluntary.push_back(r);
  }
  Table(out, "voluntary, by purpose", "purpose",
        SumBy(voluntary, [](const auto& r) { return r.purpose; }));
  Table(out, "by region", "region", SumBy(rs, [](const auto& r) { return r.region; }));
  out += fmt::format("\nCancellations\n  {:<10} {:<20} {:>14}  {}\n", "id", "reason", "grams CO2e",
                     "batch");
  for (const auto& c : report.cancellations)
    out += fmt::format("  {:<10} {:<20} {:>14}  {}\n", c.id, c.reason, c.grams, c.batch);
  if (report.cancellations.empty()) out += "  (none)\n";
  return out;
}

json ReportJson(const AuditReport& report) {
  json batches = json::array();
  for (const auto& r : report.issuance) {
    batches.push_back({{"serial", r.serial},
                       {"region", r.region},
                       {"methodology", r.methodology},
                       {"methodology_version", r.methodology_version},
                       {"project", r.project},
                       {"vintage", r.vintage},
                       {"issued_height", r.height},
                       {"month", r.month},
                       {"grams", r.grams}});
  }
  auto rows = [](const std::vector<RetirementRow>& in) {
    json out = json::array();
    for (const auto& r : in) {
      out.push_back({{"id", r.id},
                     {"kind", r.kind},
                     {"batch", r.batch},
                     {"region", r.region},
                     {"purpose", r.purpose},
                     {"period", r.period},
                     {"reason", r.reason},
                     {"height", r.height},
                     {"month", r.month},
                     {"grams", r.grams}});
    }
    return out;
  };
  const auto& is = report.issuance;
  const auto& rs = report.retirements;
  return {{"issuance",
           {{"batches", batches},
            {"by_region", Sums(SumBy(is, [](const auto& r) { return r.region; }))},
            {"by_methodology", Sums(SumBy(is, Methodology))},
            {"by_project", Sums(SumBy(is, [](const auto& r) { return r.project; }))},
            {"by_vintage", Sums(SumBy(is, [](const auto& r) { return r.vintage; }))},
            {"by_month", Sums(SumBy(is, [](const auto& r) { return r.month; }))}}},
          {"retirements",
           {{"records", rows(rs)},
            {"by_kind", Sums(SumBy(rs, [](const auto& r) { return r.kind; }))},
            {"by_purpose", Sums(SumBy(rs, [](const auto& r) { return r.purpose; }))},
            {"by_region", Sums(SumBy(rs, [](const auto& r) { return r.region; }))}}},
          {"cancellations", rows(report.cancellations)}};
}

std::string IssuanceCsv(const AuditReport& report) {
  std::string out =
      "serial,region,methodology,methodology_version,project,vintage,issued_height,month,grams\n";
  for (const auto& r : report.issuance) {
    out += fmt::format("{},{},{},{},{},{},{},{},{}\n", Csv(r.serial), Csv(r.region),
                       Csv(r.methodology), r.methodology_version, Csv(r.project), Csv(r.vintage),
                       r.height, r.month, r.grams);
  }
  return out;
}

std::string RetirementsCsv(const std::vector<RetirementRow>& rows) {
  std::string out = "id,kind,batch,region,purpose,period,reason,height,month,grams\n";
  for (const auto& r : rows) {
    out +=
        fmt::format("{},{},{},{},{},{},{},{},{},{}\n", Csv(r.id), r.kind, Csv(r.batch),
                    Csv(r.region), r.purpose, Csv(r.period), r.reason, r.height, r.month, r.grams);
  }
  return out;
}

}  // namespace puhui
