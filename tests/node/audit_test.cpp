#include "node/audit.h"

#include <doctest/doctest.h>

#include "audit_chain.h"
#include "chain/signing.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

AuditResult Audit(const std::string& data_dir, const GenesisDoc& genesis = TestGenesis()) {
  TempDir scratch;
  auto source = OpenDataDirSource(data_dir, scratch.path());
  REQUIRE_MESSAGE(source.ok(), source.status().ToString());
  auto result = RunAudit(genesis, **source, scratch.path(), AuditOptions{});
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  return *result;
}

void CheckFault(const AuditResult& r, uint64_t height, const std::string& reason_part) {
  REQUIRE(r.fault.has_value());
  CHECK(r.fault->height == height);
  CHECK_MESSAGE(r.fault->reason.find(reason_part) != std::string::npos, r.fault->reason);
}

}  // namespace

TEST_CASE("a clean chain audits clean and its report adds up") {
  AuditChain chain;
  AuditResult r = Audit(chain.data);
  REQUIRE_MESSAGE(!r.fault.has_value(), (r.fault ? r.fault->reason : std::string()));
  CHECK(r.height == 4);
  CHECK(r.txs == 3);
  CHECK(r.validator_set_changes == 0);
  REQUIRE(r.report.issuance.size() == 1);
  CHECK(r.report.issuance[0].serial == kBatch);
  CHECK(r.report.issuance[0].grams == 1000000);
  CHECK(r.report.issuance[0].month == "2026-01");
  REQUIRE(r.report.retirements.size() == 1);
  CHECK(r.report.retirements[0].kind == "voluntary");
  CHECK(r.report.retirements[0].purpose == "event");
  CHECK(r.report.retirements[0].grams == 1000);
  CHECK(r.report.retirements[0].height == 2);
  CHECK(r.report.cancellations.empty());
  const std::string tables = ReportTables(r.report);
  CHECK(tables.find("1000000") != std::string::npos);
  CHECK(IssuanceCsv(r.report).find(std::string(kBatch) + ",SH,") != std::string::npos);
  CHECK(ReportJson(r.report)["retirements"]["by_kind"]["voluntary"]["grams"] == 1000);
}

TEST_CASE("the audit refuses a chain of another genesis") {
  AuditChain chain;
  auto other = ParseGenesis(TestGenesisJson(/*block_interval_ms=*/99));
  REQUIRE(other.ok());
  CheckFault(Audit(chain.data, *other), 0, "another chain");
}

TEST_CASE("one byte changed in a stored transaction is a fault naming that transaction") {
  AuditChain chain;
  TempDir t;
  const std::string copy = chain.Copy(t / "data");
  TamperBlockLog(copy, 3, EntryPart::kBlock, [](std::string& block_bytes) {
    pb::Block block;
    REQUIRE(block.ParseFromString(block_bytes));
    std::string* tx = block.mutable_txs(0);
    (*tx)[tx->size() - 70] ^= 0x01;  // inside the body: the signature no longer matches
    block_bytes = block.SerializeAsString();
  });
  AuditResult r = Audit(copy);
  REQUIRE(r.fault.has_value());
  CHECK(r.fault->height == 3);
  CHECK(r.height == 2);  // everything before the fault checked out
  REQUIRE(r.fault->tx_index.has_value());
  CHECK(*r.fault->tx_index == 0);
  CHECK(r.fault->tx_hash.size() == 64);
}

TEST_CASE("a changed header field is a fault at its block") {
  AuditChain chain;
  TempDir t;
  const std::string copy = chain.Copy(t / "data");
  TamperBlockLog(copy, 2, EntryPart::kBlock, [](std::string& block_bytes) {
    pb::Block block;
    pb::BlockHeader header;
    REQUIRE(block.ParseFromString(block_bytes));
    REQUIRE(header.ParseFromString(block.header()));
    header.set_time_ms(header.time_ms() + 1);
    block.set_header(header.SerializeAsString());
    block_bytes = block.SerializeAsString();
  });
  CheckFault(Audit(copy), 2, "time_ms");
}

TEST_CASE("a forged commit signature is a fault naming the certificate") {
  AuditChain chain;
  TempDir t;
  const std::string copy = chain.Copy(t / "data");
  TamperBlockLog(copy, 4, EntryPart::kCommit, [](std::string& commit_bytes) {
    pb::Commit commit;
    REQUIRE(commit.ParseFromString(commit_bytes));
    (*commit.mutable_precommits(0)->mutable_signature())[5] ^= 0x01;
    commit_bytes = commit.SerializeAsString();
  });
  CheckFault(Audit(copy), 4, "commit certificate");
}

TEST_CASE("a stored state root that re-execution does not reach is a fault") {
  AuditChain chain;
  TempDir t;
  const std::string copy = chain.Copy(t / "data");
  TamperRecord(copy, HeightKey('R', 3), [](std::string& root) { root[0] ^= 0x01; });
  CheckFault(Audit(copy), 3, "claims state root");
}

TEST_CASE("an audit up to a height stops there") {
  AuditChain chain;
  TempDir scratch;
  auto source = OpenDataDirSource(chain.data, scratch.path());
  REQUIRE(source.ok());
  AuditOptions options;
  options.to_height = 2;
  std::vector<uint64_t> seen;
  options.progress = [&](const AuditProgress& p) { seen.push_back(p.height); };
  auto r = RunAudit(TestGenesis(), **source, scratch.path(), options);
  REQUIRE(r.ok());
  CHECK(!r->fault);
  CHECK(r->height == 2);
  CHECK(seen == std::vector<uint64_t>{2});
  options.to_height = 9;
  auto beyond = RunAudit(TestGenesis(), **source, scratch.path(), options);
  CHECK(beyond.status().code() == StatusCode::kInvalidArgument);
}
