// What an audit reports once the chain checks out (docs/audit.md): issuance history by region,
// methodology and version, project, vintage and month; retirements by kind, purpose and region;
// cancellations with their reasons. Built from the replayed state, never from a node's answers.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chain/block_store.h"
#include "chain/status.h"

namespace puhui {

struct IssuanceRow {
  std::string serial, region, methodology, project, vintage, month;  // month: YYYY-MM (UTC)
  uint32_t methodology_version = 0;
  uint64_t height = 0, grams = 0;
};

struct RetirementRow {
  std::string id, kind, batch, region, purpose, period, reason, month;
  uint64_t height = 0, grams = 0;
};

struct AuditReport {
  std::vector<IssuanceRow> issuance;       // in serial order
  std::vector<RetirementRow> retirements;  // offsets and voluntary retirements, by id
  std::vector<RetirementRow> cancellations;
};

// `block_times[h]` is the time of block h (h = 0: genesis).
Result<AuditReport> BuildAuditReport(const BlockStore& replayed,
                                     const std::vector<uint64_t>& block_times);

// The report as tables for people, as one JSON document, and as CSV files' contents.
std::string ReportTables(const AuditReport& report);
nlohmann::json ReportJson(const AuditReport& report);
std::string IssuanceCsv(const AuditReport& report);
std::string RetirementsCsv(const std::vector<RetirementRow>& rows);

}  // namespace puhui
