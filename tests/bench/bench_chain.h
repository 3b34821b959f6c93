// What the single-node benchmarks share: a genesis where every sender owns a batch of its own,
// pre-signed transfers from those senders to many recipients, a ledger in a scratch directory,
// and a commit certificate from the one validator.
#pragma once

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "chain/genesis.h"
#include "chain/hash.h"
#include "consensus/validator_set.h"
#include "node/ledger.h"

namespace puhui::bench {

inline constexpr char kChainId[] = "puhui-bench";

inline PrivateKey Key(const std::string& name) {
  return *PrivateKey::FromBytes(Sha256("bench key: " + name));
}

// This process's peak resident memory so far (Linux reports KiB).
inline uint64_t PeakRssMib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<uint64_t>(u.ru_maxrss) / 1024;
}

inline uint64_t Flag(int argc, char** argv, const char* name, uint64_t fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::strtoull(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

// Whether a flag without a value (--sync) is given.
inline bool HasFlag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return true;
  }
  return false;
}

inline std::string StringFlag(int argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return "";
}

// Writes `figures` to the file named by --json, if given.
inline void WriteJsonFlag(int argc, char** argv, const nlohmann::json& figures) {
  const std::string path = StringFlag(argc, argv, "--json");
  if (path.empty()) return;
  std::ofstream(path) << figures.dump(2) << "\n";
  fmt::print("figures written to {}\n", path);
}

// Genesis with one validator (Key("validator")) and `senders` batches B-<i> owned by
// Key("sender <i>").
inline Result<GenesisDoc> BenchGenesis(uint64_t senders) {
  std::string batches;
  for (uint64_t i = 0; i < senders; ++i) {
    batches += fmt::format(
        "{}{{\"serial\": \"B-{}\", \"region\": \"SH\", \"owner\": \"{}\", \"grams\": "
        "1000000000000}}",
        i ? "," : "", i, Hex(Key("sender " + std::to_string(i)).Public().bytes));
  }
  return ParseGenesis(fmt::format(
      R"({{"chain_id": "{}", "genesis_time": "2026-01-01T00:00:00Z", "regions": [{{"code": "SH", "name": "Shanghai"}}],
      "validators": [{{"name": "v", "region": "SH", "power": 1, "pub_key": "{}"}}], "credit_batches": [{}],
      "params": {{"block_interval_ms": 1000, "max_block_txs": 10000}}}})",
      kChainId, Hex(Key("validator").Public().bytes), batches));
}

// Signed and decoded transfers number `first` .. `first + count - 1` of a sequence where transfer n
// comes from sender n % senders with nonce n / senders; signed on every core.
inline std::vector<DecodedTx> SignedTransfers(uint64_t first, uint64_t count, uint64_t senders,
                                              uint64_t recipients) {
  std::vector<PrivateKey> keys;
  for (uint64_t i = 0; i < senders; ++i) keys.push_back(Key("sender " + std::to_string(i)));
  std::vector<DecodedTx> txs(count);
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (uint64_t i = t; i < count; i += threads) {
        const uint64_t n = first + i;
        const uint64_t s = n % senders;
        pb::TxBody body;
        body.set_chain_id(kChainId);
        body.set_sender(ToString(keys[s].Public().bytes));
        body.set_nonce(n / senders);
        body.set_expiry_height(1'000'000);
        body.mutable_transfer()->set_batch("B-" + std::to_string(s));
        body.mutable_transfer()->set_to(
            ToString(Key("recipient " + std::to_string(n % recipients)).Public().bytes));
        body.mutable_transfer()->set_grams(1 + n % 1000);
        txs[i] = *DecodeTx(kChainId, SignTx(body, keys[s]));
      }
    });
  }
  for (auto& t : pool) t.join();
  return txs;
}

// A ledger in a fresh directory under the system's temporary one; on destruction the ledger is
// closed (LevelDB's compaction thread with it) before its files are removed.
class ScratchLedger {
 public:
  static Result<std::unique_ptr<ScratchLedger>> Open(const std::string& name,
                                                     const GenesisDoc& genesis) {
    std::unique_ptr<ScratchLedger> s(new ScratchLedger());
    s->dir_ = (std::filesystem::temp_directory_path() /
               fmt::format("puhui-bench-{}-{}", name, ::getpid()))
                  .string();
    auto ledger = Ledger::Open(s->dir_, genesis);
    if (!ledger.ok()) return ledger.status();
    s->ledger_ = std::move(*ledger);
    return s;
  }
  ~ScratchLedger() {
    ledger_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  ScratchLedger(const ScratchLedger&) = delete;
  ScratchLedger& operator=(const ScratchLedger&) = delete;

  Ledger& ledger() { return *ledger_; }

 private:
  ScratchLedger() = default;
  std::string dir_;
  std::unique_ptr<Ledger> ledger_;
};

// The validator's certificate for an executed block.
inline pb::Commit CertifyBlock(const ExecutedBlock& block) {
  const PrivateKey validator = Key("validator");
  pb::Vote v;
  v.set_chain_id(kChainId);
  v.set_type(pb::VOTE_PRECOMMIT);
  v.set_height(block.header.height());
  v.set_block_hash(ToString(block.hash));
  v.set_validator(ToString(validator.Public().bytes));
  pb::Commit c;
  c.set_height(block.header.height());
  c.set_block_hash(ToString(block.hash));
  *c.add_precommits() = SignVote(v, kChainId, validator);
  return c;
}

}  // namespace puhui::bench
