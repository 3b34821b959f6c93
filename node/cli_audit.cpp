#include "node/cli_audit.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "chain/genesis.h"
#include "node/audit.h"
#include "node/cli_proofs.h"
#include "node/files.h"

namespace puhui::cli {

const char kAuditUsage[] = R"(
audit (docs/audit.md)
  audit --genesis FILE [--data DIR]  replay the chain from genesis and check everything: blocks,
        certificates, signatures, state roots, registry invariants; report issuance history.
        Reads a node's data directory (copied first, never written) or, without --data, the node
        at --node URL.  [--to HEIGHT] [--json FILE] [--csv DIR] [--scratch DIR] [--quiet]
        exit 0: clean; 1: a fault (height, transaction, reason); 2: usage; 3: could not run
  proof batch SERIAL | balance SERIAL ADDRESS | retirement ID | record PROVIDER RECORD_ID
        a value with its proof to a certified header (JSON)  [--height H] [--out FILE]
  verify-proof FILE --genesis FILE    check a proof offline: valid, or exactly what fails
  certificate get RETIREMENT_ID [--out FILE]   a self-contained retirement certificate
  certificate verify FILE --genesis FILE       check a certificate offline
)";

namespace {

using Flags = std::map<std::string, std::string>;

std::optional<std::string> Get(const Flags& f, const std::string& name) {
  auto it = f.find(name);
  if (it == f.end()) return std::nullopt;
  return it->second;
}

int UsageError(const std::string& msg) {
  fmt::print(stderr, "puhui-cli: {}\n{}", msg, kAuditUsage);
  return 2;
}

int CannotRun(const std::string& msg) {
  fmt::print(stderr, "puhui-cli audit: {}\n", msg);
  return 3;
}

void ShowProgress(const AuditProgress& p) {
  constexpr int kWidth = 30;
  const int filled = p.tip == 0 ? kWidth : static_cast<int>(p.height * kWidth / p.tip);
  fmt::print(stderr, "\r  [{:#<{}}{:.<{}}] block {}/{}, {} transactions", "", filled, "",
             kWidth - filled, p.height, p.tip, p.txs);
  if (p.height == p.tip) fmt::print(stderr, "\n");
}

int Audit(const Flags& flags, const std::string& node_url) {
  auto genesis_path = Get(flags, "genesis");
  if (!genesis_path) return UsageError("audit needs --genesis FILE (the network's genesis.json)");
  auto genesis = LoadGenesisFile(*genesis_path);
  if (!genesis.ok()) return CannotRun(genesis.status().message());
  AuditOptions options;
  if (auto to = Get(flags, "to")) {
    char* end = nullptr;
    options.to_height = std::strtoull(to->c_str(), &end, 10);
    if (to->empty() || *end != '\0' || options.to_height == 0)
      return UsageError("--to must be a positive block height");
  }
  const bool quiet = Get(flags, "quiet").has_value();
  if (!quiet && isatty(STDERR_FILENO)) options.progress = ShowProgress;

  namespace fs = std::filesystem;
  std::error_code ec;
  const bool own_scratch = !Get(flags, "scratch");
  fs::path scratch = own_scratch
                         ? fs::temp_directory_path(ec) / fmt::format("puhui-audit-{}", ::getpid())
                         : fs::path(*Get(flags, "scratch"));
  fs::create_directories(scratch, ec);
  if (ec) return CannotRun(fmt::format("cannot create '{}': {}", scratch.string(), ec.message()));
  struct Cleanup {
    fs::path dir;
    bool active;
    ~Cleanup() {
      std::error_code e;
      if (active) fs::remove_all(dir, e);
    }
  } cleanup{scratch, own_scratch};

  auto source = Get(flags, "data") ? OpenDataDirSource(*Get(flags, "data"), scratch.string())
                                   : OpenRpcSource(node_url);
  if (!source.ok()) return CannotRun(source.status().message());
  fmt::print("audit of {} against genesis {} (chain {})\n", (*source)->Describe(),
             Hex(genesis->doc_hash), genesis->chain_id);
  auto result = RunAudit(*genesis, **source, scratch.string(), options);
  if (!result.ok()) return CannotRun(result.status().message());
  const AuditResult& r = *result;
  const double secs = std::max<double>(1e-3, static_cast<double>(r.elapsed_ms) / 1000.0);
  fmt::print(
      "  blocks 1..{} replayed, {} transactions, {} validator-set changes, in {:.1f} s "
      "({:.0f} blocks/s, {:.0f} transactions/s)\n",
      r.height, r.txs, r.validator_set_changes, secs, static_cast<double>(r.height) / secs,
      static_cast<double>(r.txs) / secs);
  if (r.fault) {
    const AuditFault& f = *r.fault;
    std::string where = fmt::format("block {}", f.height);
    if (f.tx_index) where += fmt::format(", transaction {} ({})", *f.tx_index, f.tx_hash);
    fmt::print("FAULT at {}: {}\n", where, f.reason);
    return 1;
  }
  fmt::print(
      "  state root after block {}: {}\nCLEAN: every block, certificate, signature, state "
      "root and registry invariant checks out\n",
      r.height, Hex(r.state_root));
  if (!quiet) fmt::print("\n{}", ReportTables(r.report));
  if (auto path = Get(flags, "json")) {
    nlohmann::json doc = {{"chain_id", genesis->chain_id},
                          {"genesis_hash", Hex(genesis->doc_hash)},
                          {"height", r.height},
                          {"transactions", r.txs},
                          {"state_root", Hex(r.state_root)},
                          {"result", "clean"},
                          {"report", ReportJson(r.report)}};
    if (Status s = WriteFileDurably(*path, doc.dump(2) + "\n"); !s.ok())
      return CannotRun(s.message());
  }
  if (auto dir = Get(flags, "csv")) {
    fs::create_directories(*dir, ec);
    const std::pair<const char*, std::string> files[] = {
        {"issuance.csv", IssuanceCsv(r.report)},
        {"retirements.csv", RetirementsCsv(r.report.retirements)},
        {"cancellations.csv", RetirementsCsv(r.report.cancellations)}};
    for (const auto& [name, text] : files) {
      if (Status s = WriteFileDurably((fs::path(*dir) / name).string(), text); !s.ok())
        return CannotRun(s.message());
    }
  }
  return 0;
}

}  // namespace

int RunAuditCommand(const std::vector<std::string>& words, const Flags& flags,
                    const std::string& node_url) {
  if (words.empty()) return -1;
  if (words[0] == "audit") {
    if (words.size() != 1) return UsageError("audit takes flags only");
    return Audit(flags, node_url);
  }
  return RunProofCommand(words, flags, node_url);
}

}  // namespace puhui::cli
