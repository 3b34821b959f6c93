// Throughput of the sparse Merkle tree on an in-memory store: building a tree of N keys, batches
// of updates to existing keys and of new keys, proof generation and verification.
//   puhui-bench-smt [--keys N] [--batch B] [--rounds R]
// The store is MemorySmtNodes, so the figures measure the tree's own work (hashing, encoding,
// node reads); a LevelDB-backed store adds its read latency on top. Times are CPU time of this
// thread, so that figures taken on a machine shared with other jobs stay comparable.
#include <fmt/core.h>
#include <time.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "chain/hash.h"
#include "chain/smt.h"

namespace puhui {
namespace {

using Changes = StateChanges;

double CpuNow() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double Seconds(double since) { return CpuNow() - since; }

// State-like keys: a short prefix and an 8-byte id; 32-byte values.
Bytes Key(uint64_t id) {
  Bytes k = ToBytes("acct/");
  for (int i = 7; i >= 0; --i) k.push_back(static_cast<uint8_t>(id >> (8 * i)));
  return k;
}
Bytes Value(std::mt19937_64& rng) {
  Bytes v(32);
  for (size_t i = 0; i < v.size(); i += 8) {
    const uint64_t r = rng();
    std::memcpy(v.data() + i, &r, 8);
  }
  return v;
}

void Row(const std::string& what, size_t count, double seconds, const std::string& note = "") {
  fmt::print("| {:<36} | {:>9} | {:>7.3f} | {:>10.0f} | {:<28} |\n", what, count, seconds,
             static_cast<double>(count) / seconds, note);
}

[[noreturn]] void Fail(const Status& s) {
  fmt::print(stderr, "smt bench: {}\n", s.ToString());
  std::exit(1);
}

int Main(int argc, char** argv) {
  size_t keys = 1'000'000, batch = 5'000, rounds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const size_t v = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--keys")
      keys = v;
    else if (flag == "--batch")
      batch = v;
    else if (flag == "--rounds")
      rounds = v;
    else {
      fmt::print(stderr, "usage: puhui-bench-smt [--keys N] [--batch B] [--rounds R]\n");
      return 2;
    }
  }
  if (keys == 0 || batch == 0) return 2;
  std::mt19937_64 rng(42);
  MemorySmtNodes nodes;
  Hash32 root = kZeroHash;

  fmt::print("sparse Merkle tree, {} keys, batches of {}, {} rounds per measurement\n\n", keys,
             batch, rounds);
  fmt::print("| {:<36} | {:>9} | {:>7} | {:>10} | {:<28} |\n", "operation", "count", "cpu s",
             "per second", "note");
  fmt::print("|{:-<38}|{:->11}|{:->9}|{:->12}|{:-<30}|\n", "", ":", ":", ":", "");

  // Build.
  {
    double update_s = 0;
    const auto start = CpuNow();
    for (size_t done = 0; done < keys;) {
      Changes c;
      const size_t n = std::min(batch, keys - done);
      for (size_t i = 0; i < n; ++i) c[Key(done + i)] = Value(rng);
      const auto t = CpuNow();
      auto u = SparseMerkleTree::Update(nodes, SmtRef(root), c);
      update_s += Seconds(t);
      if (!u.ok()) Fail(u.status());
      nodes.Put(*u);
      root = u->root;
      done += n;
    }
    Row("build: Update (inserts)", keys, update_s);
    Row("build: Update + store Put", keys, Seconds(start),
        fmt::format("{} nodes stored", nodes.size()));
  }

  // Batches of writes, measured on Update alone and with the store write.
  auto measure = [&](const std::string& what, auto&& make_key) {
    double update_s = 0, put_s = 0;
    size_t written = 0, new_nodes = 0;
    for (size_t r = 0; r < rounds; ++r) {
      Changes c;
      while (c.size() < batch) c[make_key()] = Value(rng);
      auto t = CpuNow();
      auto u = SparseMerkleTree::Update(nodes, SmtRef(root), c);
      update_s += Seconds(t);
      if (!u.ok()) Fail(u.status());
      t = CpuNow();
      nodes.Put(*u);
      put_s += Seconds(t);
      root = u->root;
      written += c.size();
      new_nodes += u->new_nodes.size();
    }
    Row(what + ": Update", written, update_s,
        fmt::format("{:.1f} new nodes per key", static_cast<double>(new_nodes) / written));
    Row(what + ": Update + store Put", written, update_s + put_s);
  };
  size_t next_id = keys;
  measure("existing keys", [&] { return Key(rng() % keys); });
  measure("new keys", [&] { return Key(next_id++); });

  // Proofs.
  {
    const size_t n = std::max<size_t>(rounds * batch, 1);
    std::vector<Bytes> ks;
    ks.reserve(n);
    for (size_t i = 0; i < n; ++i)
      ks.push_back(Key(rng() % (next_id + next_id / 4)));  // ~20% absent
    std::vector<SmtProof> proofs;
    proofs.reserve(n);
    std::vector<std::optional<Bytes>> values;
    values.reserve(n);
    size_t siblings = 0;
    auto t = CpuNow();
    for (const Bytes& k : ks) {
      auto p = SparseMerkleTree::Prove(nodes, SmtRef(root), k);
      if (!p.ok()) Fail(p.status());
      siblings += p->siblings.size();
      proofs.push_back(std::move(*p));
    }
    Row("Prove", n, Seconds(t),
        fmt::format("{:.1f} siblings on average", static_cast<double>(siblings) / n));
    t = CpuNow();
    for (const Bytes& k : ks) {
      auto v = SparseMerkleTree::Get(nodes, SmtRef(root), k);
      if (!v.ok()) Fail(v.status());
      values.push_back(std::move(*v));
    }
    Row("Get", n, Seconds(t));
    t = CpuNow();
    size_t good = 0;
    for (size_t i = 0; i < n; ++i) good += VerifySmtProof(root, ks[i], values[i], proofs[i]);
    Row("VerifySmtProof", n, Seconds(t));
    if (good != n) {
      fmt::print(stderr, "smt bench: {} of {} proofs failed to verify\n", n - good, n);
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace puhui

int main(int argc, char** argv) { return puhui::Main(argc, argv); }
