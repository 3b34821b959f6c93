// Single-threaded throughput of the node's cryptographic primitives on this machine, to size
// block limits and the verification pipeline. Usage: puhui-bench-crypto [--seconds N]
#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "chain/bytes.h"
#include "chain/hash.h"
#include "chain/keys.h"
#include "chain/merkle.h"

namespace puhui {
namespace {

using Clock = std::chrono::steady_clock;

// Folded into the output so the compiler cannot discard the measured work.
uint8_t g_sink = 0;

// Runs `op(i)` in batches until `seconds` have passed; returns operations per second.
template <typename Op>
double Measure(double seconds, Op op) {
  const auto budget = std::chrono::duration<double>(seconds);
  const auto start = Clock::now();
  uint64_t done = 0;
  uint64_t batch = 1;
  std::chrono::duration<double> elapsed{};
  do {
    for (uint64_t i = 0; i < batch; ++i) op(done + i);
    done += batch;
    elapsed = Clock::now() - start;
    // Grow the batch so clock reads stay a negligible share of the time.
    if (elapsed < budget / 100) batch *= 2;
  } while (elapsed < budget);
  return static_cast<double>(done) / elapsed.count();
}

int Run(double seconds) {
  const PrivateKey key = PrivateKey::Generate();
  const PublicKey pub = key.Public();

  // A pool of distinct messages and signatures, so nothing is accidentally cached.
  constexpr size_t kPool = 256;
  std::vector<Hash32> msgs;
  std::vector<Signature> sigs;
  for (size_t i = 0; i < kPool; ++i) {
    msgs.push_back(Sha256(std::string_view(std::to_string(i))));
    sigs.push_back(key.Sign(msgs.back()));
  }

  std::vector<uint8_t> input64(64, 0xab);
  constexpr size_t kMerkleLeaves = 10'000;
  std::vector<Hash32> leaves;
  for (size_t i = 0; i < kMerkleLeaves; ++i) {
    leaves.push_back(MerkleLeafHash(AsBytes(std::to_string(i))));
  }

  struct Row {
    std::string_view what;
    double per_second;
  };
  std::vector<Row> rows;

  rows.push_back({"BIP340 verify", Measure(seconds, [&](uint64_t i) {
                    g_sink ^= VerifySchnorr(pub, msgs[i % kPool], sigs[i % kPool]) ? 1 : 0;
                  })});
  rows.push_back({"BIP340 sign",
                  Measure(seconds, [&](uint64_t i) { g_sink ^= key.Sign(msgs[i % kPool])[0]; })});
  rows.push_back({"SHA-256, 64-byte input", Measure(seconds, [&](uint64_t i) {
                    input64[0] = static_cast<uint8_t>(i);
                    g_sink ^= Sha256(ByteView(input64))[0];
                  })});
  rows.push_back({"TaggedHash, 64-byte input", Measure(seconds, [&](uint64_t i) {
                    input64[0] = static_cast<uint8_t>(i);
                    g_sink ^= TaggedHash("puhui/bench", ByteView(input64))[0];
                  })});
  rows.push_back({"Merkle root, 10,000 leaves", Measure(seconds, [&](uint64_t i) {
                    leaves[0][0] = static_cast<uint8_t>(i);
                    g_sink ^= MerkleRoot(leaves)[0];
                  })});

  fmt::print("puhui crypto benchmark: one thread, ~{} s per figure\n\n", seconds);
  fmt::print("{:<28} {:>14}\n", "operation", "per second");
  fmt::print("{:-<28} {:->14}\n", "", "");
  for (const Row& r : rows) {
    fmt::print("{:<28} {:>14.0f}\n", r.what, r.per_second);
  }
  fmt::print("\n(sink {})\n", g_sink);
  return 0;
}

}  // namespace
}  // namespace puhui

int main(int argc, char** argv) {
  double seconds = 1.0;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      char* end = nullptr;
      seconds = std::strtod(argv[++i], &end);
      if (end == argv[i] || *end != '\0' || !(seconds > 0)) {
        fmt::print(stderr, "--seconds needs a positive number, got '{}'\n", argv[i]);
        return 2;
      }
    } else {
      fmt::print(stderr, "usage: {} [--seconds N]\n", argv[0]);
      return 2;
    }
  }
  return puhui::Run(seconds);
}
