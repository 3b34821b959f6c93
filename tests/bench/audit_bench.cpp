// Audit replay rate: builds a chain of N signed transfers (default 1,000,000) on a single-validator
// ledger, then times puhui-cli audit's replay of it from the data directory — every signature
// verified, every block re-executed, every certificate and state root checked, invariants summed
// at the end. Prints figures; asserts nothing.
//   puhui-bench-audit [--txs N] [--senders S] [--recipients R] [--block B] [--threads T]
//                     [--json FILE]
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "bench_chain.h"
#include "node/audit.h"

using namespace puhui;
using namespace puhui::bench;

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int Fail(const Status& s) {
  fmt::print(stderr, "{}\n", s.ToString());
  return 1;
}

// Writes a chain of `total` transfers (and one empty block after them) into `data`; an exit code.
int BuildChain(const GenesisDoc& genesis, const std::string& data, uint64_t total, uint64_t senders,
               uint64_t recipients, uint64_t block_size) {
  auto ledger = Ledger::Open(data, genesis, /*durable=*/false);
  if (!ledger.ok()) return Fail(ledger.status());
  auto commit = [&](std::vector<DecodedTx> txs) {
    auto block = (*ledger)->Propose(std::move(txs), Key("validator").Public(), nullptr);
    if (!block.ok()) return Fail(block.status());
    if (Status s = (*ledger)->Commit(*block, CertifyBlock(*block)); !s.ok()) return Fail(s);
    return 0;
  };
  constexpr uint64_t kChunk = 100'000;  // signed transfers held at once
  for (uint64_t first = 0; first < total; first += kChunk) {
    const uint64_t count = std::min(kChunk, total - first);
    std::vector<DecodedTx> txs = SignedTransfers(first, count, senders, recipients);
    for (uint64_t i = 0; i < count; i += block_size) {
      std::vector<DecodedTx> batch(
          txs.begin() + static_cast<std::ptrdiff_t>(i),
          txs.begin() + static_cast<std::ptrdiff_t>(std::min(count, i + block_size)));
      if (int rc = commit(std::move(batch)); rc != 0) return rc;
    }
  }
  return commit({});  // so that the last transfers' state root is in a header too
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t total = Flag(argc, argv, "--txs", 1'000'000);
  const uint64_t senders = Flag(argc, argv, "--senders", 2'000);
  const uint64_t block_size = Flag(argc, argv, "--block", 5'000);
  const uint64_t recipients = std::max<uint64_t>(1, Flag(argc, argv, "--recipients", 100'000));
  const uint64_t threads = Flag(argc, argv, "--threads", std::thread::hardware_concurrency());
  auto genesis = BenchGenesis(senders);
  if (!genesis.ok()) return Fail(genesis.status());

  namespace fs = std::filesystem;
  const fs::path work = fs::temp_directory_path() / fmt::format("puhui-bench-audit-{}", ::getpid());
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{work};
  const std::string data = (work / "data").string();

  // The chain is built in a child process, so that this process's peak memory is the audit's.
  fmt::print("building a chain of {} transfers in blocks of {}...\n", total, block_size);
  std::fflush(stdout);
  const auto build_start = Clock::now();
  const pid_t child = ::fork();
  if (child < 0) return Fail(IoError("fork failed"));
  if (child == 0) std::_Exit(BuildChain(*genesis, data, total, senders, recipients, block_size));
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Fail(Internal("building the chain failed"));
  fmt::print("built in {:.1f} s; auditing with {} verifier threads...\n",
             Seconds(Clock::now() - build_start), threads);

  const auto copy_start = Clock::now();
  auto source = OpenDataDirSource(data, (work / "scratch").string());
  if (!source.ok()) return Fail(source.status());
  const double copy_s = Seconds(Clock::now() - copy_start);
  AuditOptions options;
  options.verifier_threads = threads;
  auto result = RunAudit(*genesis, **source, (work / "scratch").string(), options);
  if (!result.ok()) return Fail(result.status());
  if (result->fault) {
    fmt::print(stderr, "the audit found a fault at block {}: {}\n", result->fault->height,
               result->fault->reason);
    return 1;
  }
  const double s = static_cast<double>(result->elapsed_ms) / 1000.0;
  fmt::print("\n| figure                                   |        value |\n");
  fmt::print("|------------------------------------------|-------------:|\n");
  fmt::print("| blocks replayed                          | {:>12} |\n", result->height);
  fmt::print("| transactions replayed                    | {:>12} |\n", result->txs);
  fmt::print("| replay time, s                           | {:>12.1f} |\n", s);
  fmt::print("| audit rate, blocks/s                     | {:>12.1f} |\n",
             static_cast<double>(result->height) / s);
  fmt::print("| audit rate, transactions/s               | {:>12.0f} |\n",
             static_cast<double>(result->txs) / s);
  fmt::print("| copy of the data directory, s            | {:>12.1f} |\n", copy_s);
  fmt::print("| peak resident memory, MiB                | {:>12} |\n", PeakRssMib());
  fmt::print(
      "\nevery signature verified, every block re-executed, certificates and state roots "
      "checked, batch totals summed at the end\n");
  WriteJsonFlag(argc, argv,
                {{"scenario", "audit"},
                 {"blocks", result->height},
                 {"transactions", result->txs},
                 {"replay_s", s},
                 {"blocks_per_s", static_cast<double>(result->height) / s},
                 {"transactions_per_s", static_cast<double>(result->txs) / s},
                 {"verifier_threads", threads},
                 {"peak_rss_mib", PeakRssMib()}});
  return 0;
}
