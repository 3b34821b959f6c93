// Attestation ingest on a single node: data providers' signed batches of behaviour records
// (kMaxAttestRecords each) decoded, signature-checked, executed block by block on a real
// LevelDB-backed ledger with the state root updated, and each block committed in one synced
// write. Prints records/s and the process's peak resident memory; asserts nothing.
//   puhui-bench-attest [--records N] [--people P] [--providers K] [--batches-per-block B]
//                      [--json FILE]
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_chain.h"
#include "chain/hash.h"
#include "contracts/personal_keys.h"
#include "node/ledger.h"

using namespace puhui;
using namespace puhui::bench;

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

constexpr uint64_t kGenesisMs = 1'767'312'000'000;  // 2026-01-02T00:00:00Z

}  // namespace

int main(int argc, char** argv) {
  const uint64_t total = Flag(argc, argv, "--records", 1'000'000);
  const uint64_t people = std::max<uint64_t>(1, Flag(argc, argv, "--people", 100'000));
  const uint64_t providers = std::max<uint64_t>(1, Flag(argc, argv, "--providers", 4));
  const uint64_t per_block = std::max<uint64_t>(1, Flag(argc, argv, "--batches-per-block", 16));
  const std::string chain_id = kChainId;

  std::vector<PrivateKey> keys;
  std::string accounts, provider_list;
  for (uint64_t i = 0; i < providers; ++i) {
    keys.push_back(Key("provider " + std::to_string(i)));
    const std::string a = Hex(keys.back().Public().bytes);
    accounts += fmt::format(
        R"({}{{"address": "{}", "roles": [{{"role": "data_provider", "region": "SH"}}]}})",
        i ? "," : "", a);
    provider_list += fmt::format(R"({}"{}")", i ? "," : "", a);
  }
  PrivateKey validator = Key("validator");
  std::string genesis_json = fmt::format(
      R"({{"chain_id": "{}", "genesis_time": "2026-01-02T00:00:00Z", "regions": [{{"code": "SH", "name": "Shanghai"}}],
      "validators": [{{"name": "v", "region": "SH", "power": 1, "pub_key": "{}"}}], "accounts": [{}],
      "methodologies": [{{"id": "METRO", "version": 1, "title": "Metro", "category": "personal", "region": "SH",
        "document_hash": "de8cf048272e748b246565d489d483cba2a440013af7eb92587a02993cb2e5ab",
        "formula": {{"inputs": [{{"name": "pkm", "unit": "person-km", "max_value": 200}}],
                    "factors": [{{"name": "saving", "value": 468, "decimals": 1, "unit": "g/pkm", "source": "Shenzhen 2021"}}],
                    "baseline": [{{"input": "pkm", "factors": ["saving"]}}]}}}}],
      "scenarios": [{{"id": "SH-METRO-TRIP", "region": "SH", "title": "Metro trips", "methodology_id": "METRO",
        "methodology_version": 1, "providers": [{}], "activity_unit": "person-km", "daily_cap_grams": 5000,
        "points_per_kg": 1000, "start_date": 20251201, "end_date": 20271231, "claim_window_days": 7}}],
      "params": {{"block_interval_ms": 1000, "max_block_txs": 10000}}}})",
      chain_id, Hex(validator.Public().bytes), accounts, provider_list);
  auto genesis = ParseGenesis(genesis_json);
  if (!genesis.ok()) {
    fmt::print(stderr, "{}\n", genesis.status().ToString());
    return 1;
  }

  // The providers' side, untimed: build and sign the batches.
  const uint64_t batches = (total + kMaxAttestRecords - 1) / kMaxAttestRecords;
  fmt::print("signing {} batches of up to {} records ({} records, {} people, {} providers)...\n",
             batches, kMaxAttestRecords, total, people, providers);
  std::vector<PublicKey> person(people);
  for (uint64_t i = 0; i < people; ++i) {
    person[i] = PublicKey{Sha256("bench person " + std::to_string(i))};
  }
  std::vector<std::string> envelopes(batches);
  {
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        std::mt19937_64 rng(t + 1);
        for (uint64_t b = t; b < batches; b += threads) {
          const uint64_t k = b % providers;
          pb::TxBody body;
          body.set_chain_id(chain_id);
          body.set_sender(ToString(keys[k].Public().bytes));
          body.set_nonce(b / providers);
          body.set_expiry_height(1'000'000);
          auto* a = body.mutable_attest_behaviour();
          const uint64_t first = b * kMaxAttestRecords;
          const uint64_t last = std::min(total, first + kMaxAttestRecords);
          for (uint64_t n = first; n < last; ++n) {
            auto* r = a->add_records();
            r->set_account(ToString(person[rng() % people].bytes));
            r->set_record_id(ToString(Sha256("record " + std::to_string(n))));
            r->set_scenario("SH-METRO-TRIP");
            r->set_amount(1 + rng() % 40);
            r->set_time_ms(kGenesisMs - 1 - rng() % (2 * kMsPerDay));
          }
          envelopes[b] = SignTx(body, keys[k]);
        }
      });
    }
    for (auto& t : pool) t.join();
  }

  auto scratch = ScratchLedger::Open("attest", *genesis);
  if (!scratch.ok()) {
    fmt::print(stderr, "{}\n", scratch.status().ToString());
    return 1;
  }
  Ledger& l = (*scratch)->ledger();

  // Timed: decode and verify each batch as admission does, execute, update the root, commit.
  Clock::duration decode{}, propose{}, commit{};
  uint64_t blocks = 0, committed_batches = 0, credited = 0, capped = 0, duplicate = 0;
  const auto start = Clock::now();
  for (uint64_t first = 0; first < batches; first += per_block) {
    auto t0 = Clock::now();
    std::vector<DecodedTx> txs;
    for (uint64_t b = first; b < std::min(batches, first + per_block); ++b) {
      auto tx = DecodeTx(chain_id, envelopes[b]);
      if (!tx.ok() || !VerifyTxSignature(*tx)) {
        fmt::print(stderr, "batch {} does not decode or verify\n", b);
        return 1;
      }
      txs.push_back(std::move(*tx));
    }
    auto t1 = Clock::now();
    auto block = l.Propose(std::move(txs), validator.Public(), nullptr);
    auto t2 = Clock::now();
    if (!block.ok()) {
      fmt::print(stderr, "{}\n", block.status().ToString());
      return 1;
    }
    Status s = l.Commit(*block, CertifyBlock(*block));
    auto t3 = Clock::now();
    if (!s.ok()) {
      fmt::print(stderr, "{}\n", s.ToString());
      return 1;
    }
    for (const auto& r : block->outcome.receipts) {
      if (r.code() != pb::RECEIPT_OK) {
        fmt::print(stderr, "a batch was refused: {}\n", r.reason());
        return 1;
      }
      for (const auto& a : r.events(0).attributes()) {
        if (a.key() == "credited") credited += std::stoull(a.value());
        if (a.key() == "capped") capped += std::stoull(a.value());
        if (a.key() == "duplicate") duplicate += std::stoull(a.value());
      }
    }
    decode += t1 - t0;
    propose += t2 - t1;
    commit += t3 - t2;
    committed_batches += block->txs.size();
    ++blocks;
  }
  const double wall = Seconds(Clock::now() - start);
  const uint64_t records = credited + capped + duplicate;

  fmt::print("\n| figure                                   |        value |\n");
  fmt::print("|------------------------------------------|-------------:|\n");
  fmt::print("| behaviour records committed              | {:>12} |\n", records);
  fmt::print("|   credited / capped / duplicate          | {:>4} / {} / {} |\n", credited, capped,
             duplicate);
  fmt::print("| attested batches (one signature each)    | {:>12} |\n", committed_batches);
  fmt::print("| blocks of up to {:>3} batches              | {:>12} |\n", per_block, blocks);
  fmt::print("| wall time, s (decode+verify+apply+commit)| {:>12.1f} |\n", wall);
  fmt::print("| ingest rate, records/s                   | {:>12.0f} |\n", records / wall);
  fmt::print("| decode + verify, ms per block            | {:>12.1f} |\n",
             1000 * Seconds(decode) / blocks);
  fmt::print("| execute + state root, ms per block       | {:>12.1f} |\n",
             1000 * Seconds(propose) / blocks);
  fmt::print("| synced commit, ms per block              | {:>12.1f} |\n",
             1000 * Seconds(commit) / blocks);
  fmt::print("| peak resident memory, MiB                | {:>12} |\n", PeakRssMib());
  fmt::print(
      "\nbatches were signed before timing (the providers' side); the peak memory includes the "
      "pre-signed batches held in memory\n");
  WriteJsonFlag(argc, argv,
                {{"scenario", "attest"},
                 {"records", records},
                 {"credited", credited},
                 {"capped", capped},
                 {"duplicate", duplicate},
                 {"batches", committed_batches},
                 {"blocks", blocks},
                 {"wall_s", wall},
                 {"records_per_s", records / wall},
                 {"peak_rss_mib", PeakRssMib()}});
  return records == total ? 0 : 1;
}
