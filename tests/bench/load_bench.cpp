// puhui-bench: committed throughput and commit latency of a running network under a transfer load,
// with the machine's own ceilings measured in the same run.
//
//   puhui-bench --nodes URL[,URL...] --funder-key FILE --batch SERIAL [--accounts A] [--txs N]
//               [--rate R] [--submit-batch B] [--duration-s D] [--window-s W] [--json FILE]
//               [--pids PID,...] [--validators V] [--seed S] [--drain-timeout-s T]
//               [--ceiling-seconds C] [--scenario transfers|retirements] [--affine]
//
// 1. fund: A accounts derived from the seed each receive enough grams from the funder;
// 2. pre-sign N one-gram transfers between them, or with --scenario retirements N one-gram
//    voluntary retirements (nonces interleaved across accounts; not timed);
// 3. submit open-loop, one thread per node, at R tx/s (0: as fast as the nodes accept), in
//    tx_submit_batch calls of B; refusals are counted by error code and retried after the next
//    block, as the node's "retry after the next blocks" advises. A batch holds B senders' next
//    transactions and goes to whichever node's thread takes it next, so a sender's consecutive
//    nonces reach different nodes; with --affine each sender's go to one node (as a wallet's or
//    an exchange's would), which needs A a multiple of B × the nodes;
// 4. observe commits by polling the first node's blocks; report committed tx/s over a steady
//    window, end-to-end latency percentiles, blocks/s, transactions per block, each node's CPU and
//    peak resident memory, and the machine's BIP340 / SHA-256 / synced LevelDB ceilings; then the
//    ratio to the verification bound in its three factors (the checks' share of the machine,
//    checks needed per check made, a check's CPU alone per its CPU in the nodes) and where the
//    rest of the machine went (the nodes' other threads, the load generator, idle).
#include <fmt/core.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "chain/bytes.h"
#include "chain/hash.h"
#include "chain/keys.h"
#include "chain/signing.h"
#include "contracts/tx.h"
#include "node/files.h"
#include "node/rpc_client.h"
#include "puhui.pb.h"
#include "thread_cpu.h"

namespace puhui {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int kTransportError = 0;  // refusal "code" for a call that got no JSON-RPC answer
constexpr int kAlreadyExistsCode = 1003;
constexpr int kResourceExhaustedCode = 1006;
constexpr int kServerBusyCode = -32003;

struct Options {
  std::vector<std::string> nodes;
  std::string funder_key;
  std::string batch;
  size_t accounts = 2000;
  size_t txs = 60000;
  double rate = 0;
  size_t submit_batch = 500;
  double duration_s = 0;  // stop submitting after this long (0: submit all N)
  double window_s = 0;    // steady window length (0: the middle 80 % of the commit span)
  std::string json_path;
  std::vector<int> pids;
  size_t validators = 0;  // 0: the number of nodes
  uint64_t seed = 1;
  double drain_timeout_s = 60;
  double ceiling_seconds = 1;
  std::string scenario = "transfers";  // or "retirements"
  bool affine = false;                 // each sender's transactions to one node
};

[[noreturn]] void Die(const std::string& why) {
  fmt::print(stderr, "puhui-bench: {}\n", why);
  std::exit(1);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  auto number = [](const std::string& flag, const std::string& v) {
    try {
      size_t used = 0;
      double d = std::stod(v, &used);
      if (used != v.size() || d < 0) throw std::invalid_argument(v);
      return d;
    } catch (const std::exception&) {
      Die(fmt::format("{} needs a non-negative number, not '{}'", flag, v));
    }
  };
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      fmt::print(
          "usage: puhui-bench --nodes URL[,URL...] --funder-key FILE --batch SERIAL [--accounts "
          "A]\n"
          "         [--txs N] [--rate R] [--submit-batch B] [--duration-s D] [--window-s W]\n"
          "         [--json FILE] [--pids PID,...] [--validators V] [--seed S]\n"
          "         [--drain-timeout-s T] [--ceiling-seconds C]\n"
          "         [--scenario transfers|retirements] [--affine]\n");
      std::exit(0);
    }
    if (flag == "--affine") {
      o.affine = true;
      continue;
    }
    if (i + 1 >= argc) Die(fmt::format("{} needs a value (see --help)", flag));
    std::string v = argv[++i];
    if (flag == "--nodes") {
      o.nodes = Split(v, ',');
    } else if (flag == "--funder-key") {
      o.funder_key = v;
    } else if (flag == "--batch") {
      o.batch = v;
    } else if (flag == "--accounts") {
      o.accounts = static_cast<size_t>(number(flag, v));
    } else if (flag == "--txs") {
      o.txs = static_cast<size_t>(number(flag, v));
    } else if (flag == "--rate") {
      o.rate = number(flag, v);
    } else if (flag == "--submit-batch") {
      o.submit_batch = static_cast<size_t>(number(flag, v));
    } else if (flag == "--duration-s") {
      o.duration_s = number(flag, v);
    } else if (flag == "--window-s") {
      o.window_s = number(flag, v);
    } else if (flag == "--json") {
      o.json_path = v;
    } else if (flag == "--pids") {
      for (const auto& p : Split(v, ',')) o.pids.push_back(static_cast<int>(number(flag, p)));
    } else if (flag == "--validators") {
      o.validators = static_cast<size_t>(number(flag, v));
    } else if (flag == "--seed") {
      o.seed = static_cast<uint64_t>(number(flag, v));
    } else if (flag == "--drain-timeout-s") {
      o.drain_timeout_s = number(flag, v);
    } else if (flag == "--ceiling-seconds") {
      o.ceiling_seconds = number(flag, v);
    } else if (flag == "--scenario") {
      if (v != "transfers" && v != "retirements")
        Die("--scenario must be transfers or retirements");
      o.scenario = v;
    } else {
      Die(fmt::format("unknown option {} (see --help)", flag));
    }
  }
  if (o.nodes.empty() || o.funder_key.empty() || o.batch.empty()) {
    Die("--nodes, --funder-key and --batch are required (see --help)");
  }
  if (o.accounts < 2) Die("--accounts must be at least 2");
  if (o.txs == 0) Die("--txs must be at least 1");
  if (o.submit_batch == 0) Die("--submit-batch must be at least 1");
  if (o.validators == 0) o.validators = o.nodes.size();
  if (o.affine && o.accounts % (o.submit_batch * o.nodes.size()) != 0) {
    Die("--affine needs --accounts to be a multiple of --submit-batch times the number of nodes");
  }
  return o;
}

RpcClient Client(const std::string& url, std::chrono::milliseconds timeout) {
  auto c = RpcClient::FromUrl(url);
  if (!c.ok()) Die(c.status().ToString());
  c->set_timeout(timeout);
  return *c;
}

json CallOrDie(RpcClient& c, const std::string& method, const json& params) {
  auto r = c.Call(method, params);
  if (!r.ok())
    Die(fmt::format("{} on {}:{}: {}", method, c.host(), c.port(), r.status().ToString()));
  return *r;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// ------------------------------------------------------------------ the machine's ceilings

template <typename Op>
double PerSecond(double seconds, Op op) {
  const auto start = Clock::now();
  uint64_t done = 0;
  uint64_t batch = 1;
  double elapsed = 0;
  do {
    for (uint64_t i = 0; i < batch; ++i) op(done + i);
    done += batch;
    elapsed = Seconds(Clock::now() - start);
    if (elapsed < seconds / 100) batch *= 2;
  } while (elapsed < seconds);
  return static_cast<double>(done) / elapsed;
}

struct Ceilings {
  double verify_per_s = 0;
  double sha256_per_s = 0;
  double key_parse_per_s = 0;  // x-only public key decoding (a square root), as DecodeTx does
  double leveldb_synced_batches_per_s = 0;
};

uint8_t g_sink = 0;  // folded into the output so the measured work cannot be optimised away

double MeasureVerify(double seconds) {
  const PrivateKey key = PrivateKey::Generate();
  const PublicKey pub = key.Public();
  std::vector<Hash32> msgs;
  std::vector<Signature> sigs;
  for (int i = 0; i < 64; ++i) {
    msgs.push_back(Sha256(std::string_view(std::to_string(i))));
    sigs.push_back(key.Sign(msgs.back()));
  }
  return PerSecond(seconds, [&](uint64_t i) {
    g_sink ^= VerifySchnorr(pub, msgs[i % 64], sigs[i % 64]) ? 1 : 0;
  });
}

Ceilings MeasureCeilings(double seconds) {
  Ceilings c;
  c.verify_per_s = MeasureVerify(seconds);
  std::vector<Hash32> pubs;
  for (int i = 0; i < 64; ++i) {
    pubs.push_back(PrivateKey::FromBytes(Sha256(fmt::format("parse {}", i)))->Public().bytes);
  }
  c.key_parse_per_s = PerSecond(
      seconds, [&](uint64_t i) { g_sink ^= ParsePublicKey(ByteView(pubs[i % 64])).ok() ? 1 : 0; });
  std::vector<uint8_t> input(64, 0x5a);
  c.sha256_per_s = PerSecond(seconds, [&](uint64_t i) {
    input[0] = static_cast<uint8_t>(i);
    g_sink ^= Sha256(ByteView(input))[0];
  });

  // Synced LevelDB write batches of 16 small records, in a throw-away directory.
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() /
             fmt::format("puhui-bench-leveldb-{}-{}", ::getpid(), rd());
  leveldb::Options opts;
  opts.create_if_missing = true;
  leveldb::DB* raw = nullptr;
  if (leveldb::DB::Open(opts, dir.string(), &raw).ok()) {
    std::unique_ptr<leveldb::DB> db(raw);
    leveldb::WriteOptions sync;
    sync.sync = true;
    std::string value(100, 'v');
    c.leveldb_synced_batches_per_s = PerSecond(seconds, [&](uint64_t i) {
      leveldb::WriteBatch wb;
      for (int k = 0; k < 16; ++k) wb.Put(fmt::format("k{:012}-{:02}", i, k), value);
      g_sink ^= db->Write(sync, &wb).ok() ? 1 : 0;
    });
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return c;
}

// ------------------------------------------------------------------ node processes: CPU and memory

struct ProcSample {
  double t = 0;                 // seconds since the load started
  std::vector<double> cpu_s;    // utime + stime, seconds
  std::vector<double> rss_kb;   // VmRSS
  std::vector<double> anon_kb;  // RssAnon: VmRSS less file-backed pages (the program, libraries)
  bench::ThreadTimes node_threads;  // the nodes' threads (not the load generator's)
};

std::optional<double> CpuSeconds(int pid) {
  return bench::StatCpuSeconds(fmt::format("/proc/{}/stat", pid));
}

// A field of /proc/<pid>/status in KiB (VmRSS, VmHWM, RssAnon).
double StatusKb(int pid, const std::string& field) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1));
  }
  return 0;
}

std::vector<int> FindPuhuidProcesses() {
  std::vector<int> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string argv0;
    std::getline(in, argv0, '\0');
    if (std::filesystem::path(argv0).filename() == "puhuid") pids.push_back(std::stoi(name));
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

// ------------------------------------------------------------------ the load

struct PreparedTx {
  std::string hex;
  std::string id_hex;
};

struct TxTimes {
  double accepted = -1;  // seconds since the load started; -1 if never admitted
  double committed = -1;
};

struct BlockSeen {
  uint64_t height = 0;
  double t = 0;  // when the poller first saw it
  size_t txs = 0;
  size_t bench_txs = 0;
  size_t mempool = 0;  // the polled node's mempool when it was seen
};

PrivateKey AccountKey(uint64_t seed, size_t i) {
  return *PrivateKey::FromBytes(Sha256(fmt::format("puhui bench account {} {}", seed, i)));
}

pb::TxBody TransferBody(const std::string& chain_id, const PublicKey& from, uint64_t nonce,
                        uint64_t expiry, const std::string& batch, const PublicKey& to,
                        uint64_t grams) {
  pb::TxBody b;
  b.set_chain_id(chain_id);
  b.set_sender(ToString(ByteView(from.bytes)));
  b.set_nonce(nonce);
  b.set_expiry_height(expiry);
  b.mutable_transfer()->set_batch(batch);
  b.mutable_transfer()->set_to(ToString(ByteView(to.bytes)));
  b.mutable_transfer()->set_grams(grams);
  return b;
}

// A voluntary retirement of `grams` of `batch` by `from`, for an event.
pb::TxBody RetireBody(const std::string& chain_id, const PublicKey& from, uint64_t nonce,
                      uint64_t expiry, const std::string& batch, uint64_t grams) {
  pb::TxBody b;
  b.set_chain_id(chain_id);
  b.set_sender(ToString(ByteView(from.bytes)));
  b.set_nonce(nonce);
  b.set_expiry_height(expiry);
  auto* r = b.mutable_retire_voluntary();
  r->set_batch(batch);
  r->set_grams(grams);
  r->set_beneficiary(fmt::format("bench event {}", nonce));
  r->set_purpose(pb::RETIREMENT_PURPOSE_EVENT);
  return b;
}

PreparedTx Prepare(const pb::TxBody& body, const PrivateKey& key) {
  std::string env = SignTx(body, key);
  return {Hex(AsBytes(env)), Hex(TxId(AsBytes(body.SerializeAsString())))};
}

// Runs f(i) for i in [0, n) on every core.
template <typename F>
void ParallelFor(size_t n, F f) {
  size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < n;) f(i);
    });
  }
  for (auto& th : pool) th.join();
}

class Refusals {
 public:
  void Add(int code, size_t n) {
    std::lock_guard lock(mu_);
    by_code_[code] += n;
  }
  std::map<int, uint64_t> Get() const {
    std::lock_guard lock(mu_);
    return by_code_;
  }

 private:
  mutable std::mutex mu_;
  std::map<int, uint64_t> by_code_;
};

std::string CodeName(int code) {
  switch (code) {
    case kTransportError: return "transport (no answer)";
    case kServerBusyCode: return "server busy";
    case 1001: return "invalid argument";
    case 1003: return "already exists";
    case 1005: return "failed precondition";
    case kResourceExhaustedCode: return "resource exhausted (mempool full)";
    case 1007: return "unauthenticated";
    default: return "other";
  }
}

// Submits txs[ids] to one node, retrying what was refused for a limit (mempool full, server busy)
// until admitted or `give_up` passes. Marks admitted ones in times[]. A refusal for room says
// "retry after the next blocks", and so it is retried: once `tip` (the height the observer last
// saw) has grown, or after a second without a block.
void SubmitBatch(RpcClient& c, const std::vector<PreparedTx>& txs, std::vector<size_t> ids,
                 std::vector<TxTimes>& times, Clock::time_point t0, Clock::time_point give_up,
                 const std::atomic<uint64_t>& tip, Refusals& refusals, std::atomic<uint64_t>& calls,
                 std::atomic<size_t>& admitted) {
  while (!ids.empty()) {
    const uint64_t tip_when_sent = tip.load();
    json hexes = json::array();
    for (size_t i : ids) hexes.push_back(txs[i].hex);
    const double sent = Seconds(Clock::now() - t0);
    auto r = c.Call("tx_submit_batch", {{"txs", std::move(hexes)}});
    calls.fetch_add(1);
    std::vector<size_t> retry;
    if (!r.ok()) {
      int code = r.status().code() == StatusCode::kIoError ? kTransportError : c.last_error().code;
      refusals.Add(code, ids.size());
      retry = ids;
    } else {
      for (size_t k = 0; k < ids.size() && k < r->size(); ++k) {
        const json& one = (*r)[k];
        if (one.contains("tx_hash")) {
          times[ids[k]].accepted = sent;
          admitted.fetch_add(1);
          continue;
        }
        int code = one.contains("error") ? one["error"].value("code", -1) : -1;
        refusals.Add(code, 1);
        if (code == kAlreadyExistsCode) {
          times[ids[k]].accepted = sent;  // admitted by an earlier call that timed out
          admitted.fetch_add(1);
        } else if (code == kResourceExhaustedCode || code == kServerBusyCode) {
          retry.push_back(ids[k]);
        }  // anything else will never be admitted: given up
      }
    }
    ids = std::move(retry);
    if (ids.empty() || Clock::now() > give_up) break;
    const auto at_most = Clock::now() + std::chrono::seconds(1);
    while (tip.load() <= tip_when_sent && Clock::now() < at_most) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t idx = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) - 1;
  return v[std::min(idx, v.size() - 1)];
}

// What every node reports of its signature checks (node_status.signatures), summed; zero from a
// node that does not report them.
struct SignatureWork {
  uint64_t checked = 0;
  uint64_t cpu_ms = 0;
  uint64_t in_blocks = 0;  // of `checked`, made checking blocks (transactions not yet held)
};

SignatureWork ReadSignatureWork(const std::vector<std::string>& nodes,
                                std::chrono::milliseconds timeout) {
  SignatureWork sum;
  for (const auto& url : nodes) {
    RpcClient c = Client(url, timeout);
    const json st = CallOrDie(c, "node_status", json::object());
    if (!st.contains("signatures")) continue;
    sum.checked += st["signatures"].value("checked", uint64_t{0});
    sum.cpu_ms += st["signatures"].value("cpu_ms", uint64_t{0});
    sum.in_blocks += st["signatures"].value("in_blocks", uint64_t{0});
  }
  return sum;
}

int Run(const Options& o) {
  const auto call_timeout = std::chrono::milliseconds(30'000);
  RpcClient first = Client(o.nodes[0], call_timeout);
  json status = CallOrDie(first, "node_status", json::object());
  const std::string chain_id = status["chain_id"];
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  fmt::print("puhui-bench: chain {} at height {}, {} node(s), {} core(s)\n", chain_id,
             status["latest_height"].get<uint64_t>(), o.nodes.size(), cores);

  // ---- ceilings, while the network is idle
  fmt::print("measuring this machine's ceilings ({:.1f} s each)...\n", o.ceiling_seconds);
  const Ceilings ceil = MeasureCeilings(o.ceiling_seconds);
  fmt::print("  (checksum {})\n", g_sink);

  // ---- phase 1: fund the accounts
  auto funder = ReadKeyFile(o.funder_key);
  if (!funder.ok()) Die(fmt::format("--funder-key: {}", funder.status().ToString()));
  const PublicKey funder_pub = funder->Public();
  std::vector<PrivateKey> keys;
  std::vector<PublicKey> addrs;
  for (size_t i = 0; i < o.accounts; ++i) {
    keys.push_back(AccountKey(o.seed, i));
    addrs.push_back(keys.back().Public());
  }
  const size_t per_account = (o.txs + o.accounts - 1) / o.accounts;
  const uint64_t expiry = status["latest_height"].get<uint64_t>() + 50'000;
  {
    const auto start = Clock::now();
    json acct = CallOrDie(first, "account_get", {{"address", Hex(funder_pub.bytes)}});
    uint64_t nonce = acct["pending_nonce"];
    constexpr size_t kChunk = 2000;  // well under the mempool's per-sender limit
    for (size_t from = 0; from < o.accounts; from += kChunk) {
      const size_t to = std::min(o.accounts, from + kChunk);
      std::vector<PreparedTx> fund(to - from);
      ParallelFor(to - from, [&](size_t k) {
        fund[k] = Prepare(TransferBody(chain_id, funder_pub, nonce + k, expiry, o.batch,
                                       addrs[from + k], per_account),
                          *funder);
      });
      for (size_t k = 0; k < fund.size(); k += o.submit_batch) {
        json hexes = json::array();
        for (size_t j = k; j < std::min(fund.size(), k + o.submit_batch); ++j) {
          hexes.push_back(fund[j].hex);
        }
        json res = CallOrDie(first, "tx_submit_batch", {{"txs", hexes}});
        for (const auto& one : res) {
          if (!one.contains("tx_hash")) Die(fmt::format("funding refused: {}", one.dump()));
        }
      }
      nonce += fund.size();
      // Wait until the funder's committed nonce shows every funding transfer in a block.
      const auto deadline = Clock::now() + std::chrono::seconds(120);
      while (CallOrDie(first, "account_get", {{"address", Hex(funder_pub.bytes)}})["nonce"]
                 .get<uint64_t>() < nonce) {
        if (Clock::now() > deadline) Die("funding did not commit within 120 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    fmt::print("funded {} accounts with {} g each in {:.1f} s\n", o.accounts, per_account,
               Seconds(Clock::now() - start));
  }

  // ---- phase 2: pre-sign N transfers, interleaved: tx j is account j % A's (j / A)-th
  std::vector<uint64_t> base_nonce(o.accounts);
  ParallelFor(o.accounts, [&](size_t i) {
    RpcClient c = Client(o.nodes[0], call_timeout);
    base_nonce[i] = CallOrDie(c, "account_get", {{"address", Hex(addrs[i].bytes)}})["pending_nonce"]
                        .get<uint64_t>();
  });
  std::vector<PreparedTx> txs(o.txs);
  {
    const auto start = Clock::now();
    ParallelFor(o.txs, [&](size_t j) {
      const size_t a = j % o.accounts;
      const size_t round = j / o.accounts;
      const size_t to = (a + 1 + round % (o.accounts - 1)) % o.accounts;
      txs[j] =
          Prepare(o.scenario == "retirements"
                      ? RetireBody(chain_id, addrs[a], base_nonce[a] + round, expiry, o.batch, 1)
                      : TransferBody(chain_id, addrs[a], base_nonce[a] + round, expiry, o.batch,
                                     addrs[to], 1),
                  keys[a]);
    });
    fmt::print("signed {} {} from {} accounts in {:.1f} s (not measured)\n", o.txs, o.scenario,
               o.accounts, Seconds(Clock::now() - start));
  }
  std::unordered_map<std::string, size_t> by_id;
  by_id.reserve(txs.size());
  for (size_t j = 0; j < txs.size(); ++j) by_id.emplace(txs[j].id_hex, j);

  // ---- phases 3 and 4: submit and observe
  std::vector<int> pids = o.pids.empty() ? FindPuhuidProcesses() : o.pids;
  // The load generator's own share of the machine is sampled too, as the last entry.
  std::vector<int> sampled = pids;
  sampled.push_back(::getpid());
  std::vector<TxTimes> times(o.txs);
  std::vector<BlockSeen> blocks;
  std::vector<ProcSample> samples;
  Refusals refusals;
  std::atomic<uint64_t> calls{0};
  std::atomic<bool> submitting{true};
  std::atomic<bool> stop{false};
  std::atomic<size_t> next_batch{0};
  const size_t nbatches = (o.txs + o.submit_batch - 1) / o.submit_batch;
  const uint64_t start_height = CallOrDie(first, "node_status", json::object())["latest_height"];
  const SignatureWork work_before = ReadSignatureWork(o.nodes, call_timeout);
  const auto t0 = Clock::now();
  std::atomic<double> submit_end{0};
  std::atomic<size_t> committed_count{0};
  std::atomic<size_t> admitted_count{0};
  std::atomic<uint64_t> tip{start_height};  // the latest height the observer saw

  std::thread sampler([&] {
    while (!stop.load()) {
      ProcSample s;
      s.t = Seconds(Clock::now() - t0);
      for (int pid : sampled) {
        s.cpu_s.push_back(CpuSeconds(pid).value_or(0));
        s.rss_kb.push_back(StatusKb(pid, "VmRSS"));
        s.anon_kb.push_back(StatusKb(pid, "RssAnon"));
      }
      s.node_threads = bench::ReadThreadTimes(pids);
      samples.push_back(std::move(s));
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });

  std::thread observer([&] {
    RpcClient c = Client(o.nodes[0], call_timeout);
    uint64_t seen = start_height;
    double last_progress = 0;
    while (!stop.load()) {
      auto st = c.Call("node_status", json::object());
      const double now = Seconds(Clock::now() - t0);
      if (st.ok()) {
        const uint64_t latest = (*st)["latest_height"];
        tip.store(latest);
        for (uint64_t h = seen + 1; h <= latest; ++h) {
          auto b = c.Call("block_get", {{"height", h}, {"hashes_only", true}});
          if (!b.ok()) break;
          BlockSeen bs{h, now, (*b)["txs"].size(), 0, (*st)["mempool"].value("txs", size_t{0})};
          for (const auto& tx : (*b)["txs"]) {
            auto it = by_id.find(tx["hash"].get<std::string>());
            if (it != by_id.end() && times[it->second].committed < 0) {
              times[it->second].committed = now;
              ++bs.bench_txs;
            }
          }
          committed_count.fetch_add(bs.bench_txs);
          if (bs.bench_txs > 0) last_progress = now;
          blocks.push_back(bs);
          seen = h;
        }
      }
      if (!submitting.load()) {
        const size_t accepted = admitted_count.load();
        if (committed_count.load() >= accepted) break;
        if (now - std::max(last_progress, submit_end.load()) > o.drain_timeout_s) {
          fmt::print(stderr, "no commits for {:.0f} s; {} admitted transfers never committed\n",
                     o.drain_timeout_s, accepted - committed_count.load());
          break;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  });

  fmt::print("submitting {} transfers to {} node(s) at {}...\n", o.txs, o.nodes.size(),
             o.rate > 0 ? fmt::format("{:.0f} tx/s", o.rate) : std::string("the rate they accept"));
  std::vector<std::thread> submitters;
  for (size_t n = 0; n < o.nodes.size(); ++n) {
    submitters.emplace_back([&, n] {
      RpcClient c = Client(o.nodes[n], call_timeout);
      // Affine: batch b holds the senders of block b mod (A / B), and A / B is a multiple of the
      // nodes, so the batches b = n (mod nodes) are node n's senders', in nonce order.
      size_t own = n;
      for (;;) {
        const auto now = Clock::now();
        if (o.duration_s > 0 && Seconds(now - t0) >= o.duration_s) break;
        size_t b = 0;
        if (o.affine) {
          b = own;
          own += o.nodes.size();
        } else {
          b = next_batch.fetch_add(1);
        }
        if (b >= nbatches) break;
        if (o.rate > 0) {
          std::this_thread::sleep_until(
              t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                       static_cast<double>(b * o.submit_batch) / o.rate)));
        }
        std::vector<size_t> ids;
        for (size_t j = b * o.submit_batch; j < std::min(o.txs, (b + 1) * o.submit_batch); ++j) {
          ids.push_back(j);
        }
        // A batch once started is finished (retrying refusals) so no account is left with a
        // nonce gap, but not for ever.
        SubmitBatch(c, txs, std::move(ids), times, t0, Clock::now() + std::chrono::seconds(120),
                    tip, refusals, calls, admitted_count);
      }
    });
  }
  for (auto& th : submitters) th.join();
  submit_end.store(Seconds(Clock::now() - t0));
  submitting.store(false);
  observer.join();
  stop.store(true);
  sampler.join();
  const double end = Seconds(Clock::now() - t0);
  std::vector<double> hwm_kb;
  for (int pid : pids) hwm_kb.push_back(StatusKb(pid, "VmHWM"));
  // The signature checks the nodes did, and the verification ceiling again now that the network
  // is idle: a shared machine's speed drifts over a run, and the bound takes the mean of the two.
  const SignatureWork work_after = ReadSignatureWork(o.nodes, call_timeout);
  const double verify_after = MeasureVerify(o.ceiling_seconds);
  const double verify_per_s = (ceil.verify_per_s + verify_after) / 2;
  const double verify_bound =
      static_cast<double>(cores) * verify_per_s / static_cast<double>(o.validators);
  const double checked = static_cast<double>(work_after.checked - work_before.checked);
  const double in_network_us =
      checked > 0 ? static_cast<double>(work_after.cpu_ms - work_before.cpu_ms) * 1000 / checked
                  : 0;
  const double isolated_us = 1e6 / verify_per_s;

  // ---- results
  size_t accepted = 0, committed = 0;
  std::vector<double> latencies;
  for (const auto& t : times) {
    if (t.accepted >= 0) ++accepted;
    if (t.committed >= 0) {
      ++committed;
      if (t.accepted >= 0) latencies.push_back(t.committed - t.accepted);
    }
  }
  if (committed == 0) Die("no transfer committed");

  // The steady window: commits while the load is still being submitted (input and output at
  // once, the sustained state), less the ramp-up (the first 10 % of it, at most 5 s). What commits
  // after submission ends is the drain, reported apart. If submission was too short to hold two
  // blocks (everything fitted in the mempools at once), the window is the middle 80 % of the whole
  // commit span instead. Rates count the transactions of the blocks after the window's first block
  // up to its last, over the time between those two blocks.
  std::vector<BlockSeen> load;
  for (const auto& b : blocks) {
    if (b.bench_txs > 0) load.push_back(b);
  }
  const double span_start = load.front().t;
  const double span_end = load.back().t;
  const double loaded_end = std::min(span_end, submit_end.load());
  double want_start = span_start + std::min(5.0, 0.1 * (loaded_end - span_start));
  double want_end = loaded_end;
  std::string window_kind = "while submitting";
  auto blocks_in = [&](double from, double to) {
    return std::count_if(load.begin(), load.end(),
                         [&](const BlockSeen& b) { return b.t >= from && b.t <= to; });
  };
  if (blocks_in(want_start, want_end) < 2) {
    window_kind = "whole commit span (submission too short)";
    want_start = span_start + 0.1 * (span_end - span_start);
    want_end = span_end - 0.1 * (span_end - span_start);
  }
  if (o.window_s > 0 && o.window_s < want_end - want_start) want_end = want_start + o.window_s;
  size_t wi = 0, wj = load.size() - 1;
  while (wi + 1 < load.size() && load[wi].t < want_start) ++wi;
  while (wj > wi && load[wj].t > want_end) --wj;
  double window_txs = 0, window_blocks = 0;
  size_t max_block = 0;
  for (const auto& b : blocks) {
    max_block = std::max(max_block, b.txs);
    if (b.t > load[wi].t && b.t <= load[wj].t) {
      window_txs += static_cast<double>(b.bench_txs);
      window_blocks += 1;
    }
  }
  const double window_len = load[wj].t - load[wi].t;
  const bool window_ok = window_len > 0;
  const double tps = window_ok ? window_txs / window_len
                               : static_cast<double>(committed) / std::max(1e-9, span_end);
  const double blocks_per_s = window_ok ? window_blocks / window_len : 0;
  const double txs_per_block = window_blocks > 0 ? window_txs / window_blocks : 0;
  const double overall_tps = static_cast<double>(committed) / std::max(1e-9, span_end);
  // Commit rate while transfers were still being submitted, and after (the drain): the first is
  // the sustained rate with admission competing for the cores, the second commits alone.
  auto rate_between = [&](double from, double to) {
    const BlockSeen* a = nullptr;
    const BlockSeen* z = nullptr;
    double n = 0;
    for (const auto& b : load) {
      if (b.t < from || b.t > to) continue;
      if (!a) {
        a = &b;
      } else {
        n += static_cast<double>(b.bench_txs);
      }
      z = &b;
    }
    return a && z->t > a->t ? n / (z->t - a->t) : 0.0;
  };
  const double tps_submitting = rate_between(0, submit_end.load());
  const double tps_draining = rate_between(submit_end.load(), end);

  // CPU over the window: the samples closest to its ends.
  auto sample_at = [&](double t) -> const ProcSample* {
    const ProcSample* best = nullptr;
    for (const auto& s : samples) {
      if (!best || std::abs(s.t - t) < std::abs(best->t - t)) best = &s;
    }
    return best;
  };
  const double cpu_from = window_ok ? load[wi].t : 0;
  const double cpu_to = window_ok ? load[wj].t : end;
  const ProcSample* s0 = sample_at(cpu_from);
  const ProcSample* s1 = sample_at(cpu_to);
  if (s0 && s1 && s1->t <= s0->t && samples.size() > 1) {
    // A window shorter than the sampling interval (a smoke run): the whole run instead.
    s0 = &samples.front();
    s1 = &samples.back();
  }
  json nodes_json = json::array();
  // pid, cpu %, peak RSS MiB, peak anonymous RSS MiB (sampled)
  std::vector<std::tuple<int, double, double, double>> node_rows;
  for (size_t k = 0; k < pids.size(); ++k) {
    double cpu = 0;
    if (s0 && s1 && s1->t > s0->t) cpu = 100.0 * (s1->cpu_s[k] - s0->cpu_s[k]) / (s1->t - s0->t);
    double peak_kb = hwm_kb[k];
    double anon_kb = 0;
    for (const auto& s : samples) {
      peak_kb = std::max(peak_kb, s.rss_kb[k]);
      anon_kb = std::max(anon_kb, s.anon_kb[k]);
    }
    node_rows.emplace_back(pids[k], cpu, peak_kb / 1024.0, anon_kb / 1024.0);
    nodes_json.push_back({{"pid", pids[k]},
                          {"cpu_percent", cpu},
                          {"peak_rss_mib", peak_kb / 1024},
                          {"peak_anon_rss_mib", anon_kb / 1024}});
  }
  // The nodes' CPU by thread role over the same span (node/thread_name.h), % of one core.
  std::vector<std::pair<std::string, double>> by_role;
  json by_role_json = json::object();
  if (s0 && s1 && s1->t > s0->t) {
    double nodes_cpu_s = 0;
    for (size_t k = 0; k < pids.size(); ++k) nodes_cpu_s += s1->cpu_s[k] - s0->cpu_s[k];
    by_role = bench::CpuByRole(s0->node_threads, s1->node_threads, nodes_cpu_s, s1->t - s0->t);
    for (const auto& [role, percent] : by_role) by_role_json[role] = percent;
  }
  double bench_cpu = 0;
  if (s0 && s1 && s1->t > s0->t) {
    bench_cpu = 100.0 * (s1->cpu_s.back() - s0->cpu_s.back()) / (s1->t - s0->t);
  }
  double peak_rss_mib = 0;
  for (const auto& r : node_rows) peak_rss_mib = std::max(peak_rss_mib, std::get<2>(r));
  // The ratio to the bound in three factors. Committed tx/s = verify CPU / (checks per tx x CPU
  // per check in the nodes), and the bound = cores / (validators x CPU per check alone), so
  //   ratio = (verify CPU / machine) x (validators / checks per tx) x (CPU alone / CPU in nodes).
  // The first is taken over the steady window, the other two over the whole run, so the product
  // is close to the measured ratio rather than equal to it. 2/3 of the bound needs the checks to
  // hold 2/3 of the machine with no check repeated and none dearer than alone: everything else
  // the nodes and the load generator do must fit in the last third.
  const double machine_percent = 100.0 * static_cast<double>(cores);
  double verify_percent = 0, nodes_percent = 0;
  for (const auto& [role, percent] : by_role) {
    if (role == "verify") verify_percent = percent;
  }
  for (const auto& r : node_rows) nodes_percent += std::get<1>(r);
  const double checks_share = verify_percent / machine_percent;
  const double needed_per_made =
      checked > 0 ? static_cast<double>(o.validators) * static_cast<double>(committed) / checked
                  : 0;
  const double alone_per_in_nodes = in_network_us > 0 ? isolated_us / in_network_us : 0;
  const double others_share = std::max(0.0, nodes_percent - verify_percent) / machine_percent;
  const double generator_share = bench_cpu / machine_percent;
  const double idle_share =
      std::max(0.0, machine_percent - nodes_percent - bench_cpu) / machine_percent;

  const double p50 = Percentile(latencies, 50), p95 = Percentile(latencies, 95),
               p99 = Percentile(latencies, 99), pmax = Percentile(latencies, 100);
  const auto refused = refusals.Get();
  uint64_t refused_total = 0;
  json refused_json = json::object();
  for (const auto& [code, n] : refused) {
    refused_total += n;
    refused_json[std::to_string(code)] = {{"name", CodeName(code)}, {"count", n}};
  }

  fmt::print("\n");
  fmt::print("| figure | value |\n| --- | ---: |\n");
  auto row = [](const std::string& what, const std::string& value) {
    fmt::print("| {} | {} |\n", what, value);
  };
  row(o.scenario + " submitted / admitted / committed",
      fmt::format("{} / {} / {}", o.txs, accepted, committed));
  row("submission", fmt::format("{:.1f} s, {} calls, {}", submit_end.load(), calls.load(),
                                o.rate > 0 ? fmt::format("target {:.0f} tx/s", o.rate)
                                           : std::string("as fast as accepted")));
  row("refusals (retried)", fmt::format("{}", refused_total));
  for (const auto& [code, n] : refused)
    row(fmt::format("&nbsp;&nbsp;code {} {}", code, CodeName(code)), fmt::format("{}", n));
  row("steady window",
      fmt::format("{:.1f} s (t = {:.1f}..{:.1f} s), {}", window_len, window_ok ? load[wi].t : 0,
                  window_ok ? load[wj].t : 0, window_kind));
  row("**committed tx/s (steady window)**", fmt::format("**{:.0f}**", tps));
  row("committed tx/s (whole run, incl. ramp-up and drain)", fmt::format("{:.0f}", overall_tps));
  row("committed tx/s while submitting / after (drain)",
      fmt::format("{:.0f} / {:.0f}", tps_submitting, tps_draining));
  row("commit latency p50 / p95 / p99 / max",
      fmt::format("{:.2f} / {:.2f} / {:.2f} / {:.2f} s", p50, p95, p99, pmax));
  row("blocks/s (steady window)", fmt::format("{:.2f}", blocks_per_s));
  row("transactions per block (steady window mean / max)",
      fmt::format("{:.0f} / {}", txs_per_block, max_block));
  for (const auto& [pid, cpu, rss, anon] : node_rows) {
    row(fmt::format("node pid {}: CPU / peak RSS (of which anonymous)", pid),
        fmt::format("{:.0f} % / {:.0f} MiB ({:.0f} MiB)", cpu, rss, anon));
  }
  std::string roles;
  for (const auto& [role, percent] : by_role) {
    if (percent < 0.5) continue;
    roles += fmt::format("{}{} {:.0f}", roles.empty() ? "" : ", ", role, percent);
  }
  row("the nodes' CPU by thread, all nodes together (% of a core)", roles.empty() ? "-" : roles);
  row("load generator CPU (steady window)", fmt::format("{:.0f} %", bench_cpu));
  row("BIP340 verify /s (one core), before / after the run",
      fmt::format("{:.0f} / {:.0f}", ceil.verify_per_s, verify_after));
  row("x-only public key parse /s (one core; keys already seen are remembered)",
      fmt::format("{:.0f}", ceil.key_parse_per_s));
  row("SHA-256 /s (64 B, one core)", fmt::format("{:.0f}", ceil.sha256_per_s));
  row("LevelDB synced batches /s", fmt::format("{:.0f}", ceil.leveldb_synced_batches_per_s));
  row(fmt::format("verification bound ({} cores x mean verify/s / {} validators)", cores,
                  o.validators),
      fmt::format("{:.0f} tx/s", verify_bound));
  row("a signature check in the nodes / alone (thread CPU, µs)",
      checked > 0
          ? fmt::format("{:.1f} / {:.1f} ({:.0f} checks)", in_network_us, isolated_us, checked)
          : std::string("n/a (the nodes do not report signatures)"));
  const double in_blocks = static_cast<double>(work_after.in_blocks - work_before.in_blocks);
  if (checked > 0 && committed > 0) {
    row(fmt::format("signature checks per committed transaction ({} needed; of them in blocks)",
                    o.validators),
        fmt::format("{:.3f} ({:.3f})", checked / static_cast<double>(committed),
                    in_blocks / static_cast<double>(committed)));
  }
  row("**committed tx/s / verification bound**", fmt::format("**{:.2f}**", tps / verify_bound));
  if (checked > 0 && verify_percent > 0) {
    row("the ratio in factors: the checks' share of the machine x checks needed / made x a "
        "check's CPU alone / in the nodes",
        fmt::format("{:.3f} x {:.3f} x {:.3f} = {:.2f}", checks_share, needed_per_made,
                    alone_per_in_nodes, checks_share * needed_per_made * alone_per_in_nodes));
  }
  row("the rest of the machine (steady window): the nodes' other threads / load generator / idle",
      fmt::format("{:.0f} % / {:.0f} % / {:.0f} %", 100 * others_share, 100 * generator_share,
                  100 * idle_share));

  json timeline = json::array();  // per block: seconds, height, transactions, polled mempool
  for (const auto& b : blocks) timeline.push_back({b.t, b.height, b.txs, b.mempool});
  if (!o.json_path.empty()) {
    json out = {
        {"scenario", o.scenario},
        {"chain_id", chain_id},
        {"options",
         {{"nodes", o.nodes},
          {"accounts", o.accounts},
          {"txs", o.txs},
          {"rate", o.rate},
          {"submit_batch", o.submit_batch},
          {"duration_s", o.duration_s},
          {"window_s", o.window_s},
          {"validators", o.validators},
          {"affine", o.affine}}},
        {"machine", {{"cores", cores}}},
        {"submitted", o.txs},
        {"admitted", accepted},
        {"committed", committed},
        {"submit_seconds", submit_end.load()},
        {"refusals", refused_json},
        {"refusals_total", refused_total},
        {"window",
         {{"start_s", window_ok ? load[wi].t : 0}, {"seconds", window_len}, {"kind", window_kind}}},
        {"committed_tps", tps},
        {"committed_tps_overall", overall_tps},
        {"committed_tps_while_submitting", tps_submitting},
        {"committed_tps_draining", tps_draining},
        {"load_generator_cpu_percent", bench_cpu},
        {"nodes_cpu_percent_by_thread", by_role_json},
        {"timeline", timeline},
        {"latency_s", {{"p50", p50}, {"p95", p95}, {"p99", p99}, {"max", pmax}}},
        {"blocks_per_s", blocks_per_s},
        {"txs_per_block", txs_per_block},
        {"max_block_txs_seen", max_block},
        {"blocks", blocks.size()},
        {"nodes", nodes_json},
        {"peak_rss_mib", peak_rss_mib},
        {"signature_checks",
         {{"checked", work_after.checked - work_before.checked},
          {"in_blocks", work_after.in_blocks - work_before.in_blocks},
          {"in_nodes_us", in_network_us},
          {"alone_us", isolated_us}}},
        {"ceilings",
         {{"bip340_verify_per_s", verify_per_s},
          {"bip340_verify_per_s_before", ceil.verify_per_s},
          {"bip340_verify_per_s_after", verify_after},
          {"sha256_per_s", ceil.sha256_per_s},
          {"xonly_key_parse_per_s", ceil.key_parse_per_s},
          {"leveldb_synced_batches_per_s", ceil.leveldb_synced_batches_per_s}}},
        {"verification_bound_tps", verify_bound},
        {"ratio_to_verification_bound", tps / verify_bound},
        {"ratio_factors",
         {{"checks_share_of_machine", checks_share},
          {"checks_needed_per_made", needed_per_made},
          {"check_cpu_alone_per_in_nodes", alone_per_in_nodes},
          {"product", checks_share * needed_per_made * alone_per_in_nodes}}},
        {"machine_share",
         {{"checks", checks_share},
          {"nodes_other_threads", others_share},
          {"load_generator", generator_share},
          {"idle", idle_share}}},
    };
    std::ofstream f(o.json_path);
    f << out.dump(2) << "\n";
    if (!f) Die(fmt::format("cannot write {}", o.json_path));
    fmt::print("\nJSON written to {}\n", o.json_path);
  }
  return 0;
}

}  // namespace
}  // namespace puhui

int main(int argc, char** argv) { return puhui::Run(puhui::ParseArgs(argc, argv)); }
