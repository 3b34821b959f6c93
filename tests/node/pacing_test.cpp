// The consensus loop's pacing rules, on a lone validator with a clock the test moves: a height
// starts one block interval after the previous one started; a full block's worth of waiting
// transactions starts it at once; with nothing to do, an empty block comes after `idle_intervals`
// intervals.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "node/consensus_driver.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t kInterval = 1000;  // ms, the genesis block interval
constexpr uint64_t kMaxBlockTxs = 10;

GenesisDoc PacingGenesis() {
  std::string json = TestGenesisJson(kInterval);
  const std::string from = "\"max_block_txs\": 5000";
  json.replace(json.find(from), from.size(), "\"max_block_txs\": " + std::to_string(kMaxBlockTxs));
  return *ParseGenesis(json);
}

struct Paced {
  TempDir dir;
  std::unique_ptr<Ledger> ledger = std::move(Ledger::Open(dir / "chain", PacingGenesis()).value());
  SignGuard guard = *SignGuard::Open(dir / "last_signed");
  Mempool mempool{{}};
  VerifierPool verifier{1};
  std::atomic<uint64_t> now_ms{100'000};
  std::unique_ptr<ConsensusDriver> driver;
  std::jthread loop;
  uint64_t next_nonce = 0;

  void Start() {
    DriverOptions options;
    options.clock_ms = [this] { return now_ms.load(); };
    driver = std::make_unique<ConsensusDriver>(*ledger, mempool, verifier, &guard,
                                               KeyOf("validator"), DriverNetwork{}, options);
    loop = std::jthread([this](std::stop_token stop) {
      Status s = driver->Run(stop);
      CHECK_MESSAGE(s.ok(), s.ToString());
    });
  }
  ~Paced() {
    if (!loop.joinable()) return;
    loop.request_stop();
    loop.join();
  }

  void AddTransfers(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t committed = ledger->CommittedNonce(KeyOf("owner").Public());
      REQUIRE(mempool
                  .Add(Decoded(TransferBody("owner", "alice", 1, next_nonce++), "owner"), committed,
                       ledger->Tip().height() + 1)
                  .ok());
    }
    if (driver) driver->OnTxsAdmitted();
  }
  int TxsIn(uint64_t height) {
    pb::Block b;
    auto bytes = ledger->store().GetBlock(height);
    REQUIRE(bytes.has_value());
    REQUIRE(b.ParseFromString(*bytes));
    return b.txs_size();
  }
  // True if the tip reaches `height` within `wait` of real time.
  bool Reaches(uint64_t height, std::chrono::milliseconds wait = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ledger->Tip().height() >= height) return true;
      std::this_thread::sleep_for(5ms);
    }
    return ledger->Tip().height() >= height;
  }
};

}  // namespace

TEST_CASE("heights start one interval apart, at once for a full block, and idle ones after ten") {
  Paced p;
  // A transaction waits when the loop starts: height 1 starts at once, at t = 100,000.
  p.AddTransfers(1);
  p.Start();
  REQUIRE(p.Reaches(1));
  CHECK(p.TxsIn(1) == 1);

  // One more: height 2 waits until one interval after height 1 started.
  p.AddTransfers(1);
  CHECK_FALSE(p.Reaches(2, 300ms));
  p.now_ms = 100'000 + kInterval - 1;
  CHECK_FALSE(p.Reaches(2, 300ms));
  p.now_ms = 100'000 + kInterval;
  REQUIRE(p.Reaches(2));
  CHECK(p.TxsIn(2) == 1);

  // A full block's worth waiting starts height 3 at once, though the interval has not passed.
  p.AddTransfers(kMaxBlockTxs);
  REQUIRE(p.Reaches(3));
  CHECK(p.TxsIn(3) == static_cast<int>(kMaxBlockTxs));
  CHECK(p.mempool.size() == 0);

  // Nothing waiting: an empty block ten intervals after the last commit, not before.
  const uint64_t last_commit = p.now_ms;
  p.now_ms = last_commit + 10 * kInterval - 1;
  CHECK_FALSE(p.Reaches(4, 300ms));
  p.now_ms = last_commit + 10 * kInterval;
  REQUIRE(p.Reaches(4));
  CHECK(p.TxsIn(4) == 0);
}
