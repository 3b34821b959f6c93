// Single-node apply rate: pre-signed, pre-verified transfers executed block by block on a real
// LevelDB-backed ledger, with the state root updated and each block committed in one synced write
// (pipelined as in a node: a block is written while the next one executes; --sync to compare).
// Prints figures; asserts nothing.
//   puhui-bench-apply [--txs N] [--senders S] [--recipients R] [--block B] [--repeat N]
//                     [--sync] [--digest] [--json FILE]
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "bench_chain.h"
#include "chain/hash.h"

using namespace puhui;
using namespace puhui::bench;

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU time of the whole process (every thread: the tree update's and the commit's helpers, and
// LevelDB's compaction), which a busy or shared machine disturbs less than the wall clock.
double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Absorbs a byte string with its length first, so that consecutive strings cannot run together.
void AbsorbSized(Sha256Hasher& h, ByteView data) {
  Bytes size;
  AppendBigEndian(size, data.size(), 8);
  h.Update(size).Update(data);
}

// What execution produced, for checking that a change to the executor left every result alone:
// every block's receipts (bytes, as hashed into the receipts root) and state changes (including
// the keys outside the state tree) in one digest.
void AbsorbOutcome(Sha256Hasher& h, const ExecutedBlock& block) {
  for (const std::string& r : block.receipt_bytes) AbsorbSized(h, AsBytes(r));
  for (const auto& [key, value] : block.outcome.changes) {
    AbsorbSized(h, key);
    if (value) {
      AbsorbSized(h, *value);
    } else {
      h.Update(AsBytes("deleted"));
    }
  }
}

// One pass of the apply path over `txs` on a fresh scratch ledger: its figures.
struct Run {
  bool sync = false;
  uint64_t committed = 0, blocks = 0, state_writes = 0, tree_nodes = 0;
  double wall = 0, cpu = 0;
  Clock::duration propose{}, commit{}, tree{};
  Hash32 last_state_root{}, last_receipts_root{}, outcomes{};
  double Rate() const { return committed / wall; }
};

Result<Run> ApplyOnce(const GenesisDoc& genesis, const std::vector<DecodedTx>& txs,
                      uint64_t block_size, bool sync, bool digest) {
  const uint64_t total = txs.size();
  const PrivateKey validator = Key("validator");
  auto scratch = ScratchLedger::Open("apply", genesis);
  if (!scratch.ok()) return scratch.status();
  Ledger& l = (*scratch)->ledger();
  Run run;
  run.sync = sync;
  const double cpu_start = ProcessCpuSeconds();
  double cpu_excluded = 0;
  auto start = Clock::now();
  Clock::duration excluded{};
  // Runs `f` outside the timing: its wall and CPU time are taken out of the figures.
  auto untimed = [&](auto&& f) {
    const double cpu0 = ProcessCpuSeconds();
    const auto t = Clock::now();
    f();
    const auto spent = Clock::now() - t;
    excluded += spent;
    cpu_excluded += ProcessCpuSeconds() - cpu0;
    return spent;
  };
  Sha256Hasher outcomes;
  for (uint64_t first = 0; first < total; first += block_size) {
    std::vector<DecodedTx> batch(txs.begin() + first,
                                 txs.begin() + std::min(total, first + block_size));
    const SmtRef tip_root = sync ? *l.store().StateTreeAt(l.Tip().height()) : SmtRef();
    auto t0 = Clock::now();
    auto executed = l.Propose(std::move(batch), validator.Public(), nullptr);
    auto t1 = Clock::now();
    if (!executed.ok()) return executed.status();
    auto block = std::make_shared<const ExecutedBlock>(std::move(*executed));
    Status s =
        sync ? l.Commit(*block, CertifyBlock(*block)) : l.CommitAsync(block, CertifyBlock(*block));
    auto t2 = Clock::now();
    if (!s.ok()) return s;
    if (sync) {
      // The state-root share of Propose, measured by repeating the (pure) tree update.
      Result<SmtUpdate> again = Internal("not run");
      run.tree += untimed(
          [&] { again = SparseMerkleTree::Update(l.store(), tip_root, block->outcome.changes); });
      if (!again.ok() || again->root != block->tree.root) {
        return Internal("state root not reproducible");
      }
    }
    if (digest) untimed([&] { AbsorbOutcome(outcomes, *block); });
    run.last_state_root = block->tree.root;
    run.last_receipts_root = block->receipts_root;
    run.propose += t1 - t0;
    run.commit += t2 - t1;
    run.state_writes += block->outcome.changes.size();
    run.tree_nodes += block->tree.new_nodes.size();
    run.committed += block->txs.size();
    ++run.blocks;
  }
  auto w0 = Clock::now();
  PUHUI_RETURN_IF_ERROR(l.WaitDurable());
  run.commit += Clock::now() - w0;
  run.wall = Seconds(Clock::now() - start - excluded);
  run.cpu = ProcessCpuSeconds() - cpu_start - cpu_excluded;
  run.outcomes = outcomes.Finish();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t total = Flag(argc, argv, "--txs", 100'000);
  const uint64_t senders = Flag(argc, argv, "--senders", 2'000);
  const uint64_t block_size = Flag(argc, argv, "--block", 5'000);
  const uint64_t recipients = std::max<uint64_t>(1, Flag(argc, argv, "--recipients", 100'000));
  // --repeat N: N passes over the same transfers, each on a fresh ledger; the table is the median
  // pass's (by rate), and every pass's rate is printed: this VM's speed drifts within minutes.
  const uint64_t repeat = std::max<uint64_t>(1, Flag(argc, argv, "--repeat", 1));
  auto genesis = BenchGenesis(senders);
  if (!genesis.ok()) {
    fmt::print(stderr, "{}\n", genesis.status().ToString());
    return 1;
  }
  fmt::print("signing and decoding {} transfers from {} senders...\n", total, senders);
  const std::vector<DecodedTx> txs = SignedTransfers(0, total, senders, recipients);

  // Pipelined (the node's way, Ledger::CommitAsync): block h is written on the ledger's writer
  // thread while block h+1 executes. --sync commits each block before the next one starts, and
  // measures the state root's share by repeating the (pure) tree update outside the timing.
  const bool sync = HasFlag(argc, argv, "--sync");
  // --digest: a digest of every block's receipts and state changes, to check that a change to
  // execution left every result alone (computed outside the timing).
  const bool digest = HasFlag(argc, argv, "--digest");
  std::vector<Run> runs;
  for (uint64_t i = 0; i < repeat; ++i) {
    auto run = ApplyOnce(*genesis, txs, block_size, sync, digest);
    if (!run.ok()) {
      fmt::print(stderr, "{}\n", run.status().ToString());
      return 1;
    }
    runs.push_back(*run);
  }
  std::vector<double> rates;
  for (const Run& r : runs) {
    rates.push_back(r.Rate());
    if (r.committed != txs.size()) {
      fmt::print(stderr, "{} of {} transfers committed: every one is valid\n", r.committed,
                 txs.size());
      return 1;
    }
    // The same transfers on the same genesis: every pass must end in the same state.
    if (r.last_state_root != runs[0].last_state_root ||
        r.last_receipts_root != runs[0].last_receipts_root || r.outcomes != runs[0].outcomes) {
      fmt::print(stderr, "passes over the same transfers ended in different states\n");
      return 1;
    }
  }
  std::sort(runs.begin(), runs.end(),
            [](const Run& a, const Run& b) { return a.Rate() < b.Rate(); });
  const Run& m = runs[runs.size() / 2];  // the median (the upper one of an even count)
  const uint64_t committed = m.committed, blocks = m.blocks, state_writes = m.state_writes;
  const double wall = m.wall, cpu = m.cpu;
  fmt::print("\n| figure                                   |        value |\n");
  fmt::print("|------------------------------------------|-------------:|\n");
  fmt::print("| commits                                  | {:>12} |\n",
             sync ? "synchronous" : "pipelined");
  fmt::print("| transfers committed                      | {:>12} |\n", committed);
  fmt::print("| blocks of up to {:>5} transfers          | {:>12} |\n", block_size, blocks);
  fmt::print("| apply rate, transfers/s                  | {:>12.0f} |\n", committed / wall);
  if (rates.size() > 1) {
    fmt::print("| {:<40} | {:>12} |\n",
               fmt::format("  median of {} passes; each pass:", rates.size()), "");
    for (double r : rates) fmt::print("| {:<40} | {:>12.0f} |\n", "", r);
  }
  fmt::print("| CPU per block, all threads, ms           | {:>12.1f} |\n", 1000 * cpu / blocks);
  fmt::print("| state writes/s (changed keys, root kept) | {:>12.0f} |\n", state_writes / wall);
  fmt::print("| execute + state root, ms per block       | {:>12.1f} |\n",
             1000 * Seconds(m.propose) / blocks);
  if (sync) {
    fmt::print("|   of which state root update, ms per block | {:>10.1f} |\n",
               1000 * Seconds(m.tree) / blocks);
  }
  fmt::print("| new state-tree nodes per changed key     | {:>12.1f} |\n",
             double(m.tree_nodes) / state_writes);
  fmt::print("| {:<40} | {:>12.1f} |\n",
             sync ? "synced commit, ms per block" : "waiting for the write, ms per block",
             1000 * Seconds(m.commit) / blocks);
  // Identical before and after any change to execution: receipts and state are consensus.
  fmt::print("\nfinal state root: {}\n", Hex(m.last_state_root));
  fmt::print("final receipts root: {}\n", Hex(m.last_receipts_root));
  if (digest) {
    fmt::print("receipts and state changes of every block, digest: {}\n", Hex(m.outcomes));
  }
  fmt::print(
      "\nsignatures were verified before timing (pre-verified transfers); one synced LevelDB write "
      "per block{}\n",
      sync ? "" : ", each written while the next block executes");
  WriteJsonFlag(argc, argv,
                {{"scenario", "apply"},
                 {"transfers", committed},
                 {"blocks", blocks},
                 {"apply_tps", committed / wall},
                 {"apply_tps_passes", rates},
                 {"cpu_ms_per_block", 1000 * cpu / blocks},
                 {"state_writes_per_s", state_writes / wall},
                 {"execute_ms_per_block", 1000 * Seconds(m.propose) / blocks},
                 {"state_root_ms_per_block", sync ? 1000 * Seconds(m.tree) / blocks : -1.0},
                 {"commits", sync ? "synchronous" : "pipelined"},
                 {"commit_ms_per_block", 1000 * Seconds(m.commit) / blocks}});
  return 0;
}
