// puhui-bench-settle: exchange settlement on a running network (scripts/bench --scenario
// settlements). Appoints fresh exchanges, has the funder authorise them, then submits settlements
// of --legs legs each (funder → fresh buyers) round-robin to the nodes as fast as they are
// admitted, and follows the WebSocket event stream of the first node. Prints and writes as JSON:
//  - committed settlements per second: settlements committed / (last commit seen − first submit);
//  - event-stream delay: for every block carrying settlements, when its first settlement event
//    reached the subscriber, against (a) when a poller of node_status (every 5 ms) first saw the
//    height committed and (b) the block's agreed time (header time_ms, same machine clock).
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "chain/hash.h"
#include "contracts/tx.h"
#include "node/files.h"
#include "node/rpc_client.h"
#include "node/ws_client.h"

using namespace puhui;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void Die(const std::string& m) {
  fmt::print(stderr, "puhui-bench-settle: {}\n", m);
  std::exit(1);
}

json CallOrDie(RpcClient& c, const std::string& method, const json& params) {
  auto r = c.Call(method, params);
  if (!r.ok()) Die(fmt::format("{}: {}", method, r.status().ToString()));
  return *r;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

uint64_t WallMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) Die("flags are --name value");
    flags[k.substr(2)] = argv[i + 1];
  }
  auto need = [&](const char* k) {
    if (!flags.count(k)) Die(fmt::format("--{} is required", k));
    return flags[k];
  };
  const auto nodes = Split(need("nodes"));
  const std::string batch = need("batch");
  auto funder = ReadKeyFile(need("funder-key"));
  auto authority = ReadKeyFile(need("authority-key"));
  if (!funder.ok() || !authority.ok()) Die("cannot read --funder-key or --authority-key");
  const uint64_t settlements =
      std::stoull(flags.count("settlements") ? flags["settlements"] : "5000");
  const uint64_t legs = std::stoull(flags.count("legs") ? flags["legs"] : "10");
  const uint64_t exchanges = std::stoull(flags.count("exchanges") ? flags["exchanges"] : "8");
  const uint64_t submit_batch =
      std::stoull(flags.count("submit-batch") ? flags["submit-batch"] : "200");
  const std::string json_out = flags.count("json") ? flags["json"] : "";
  if (nodes.empty() || settlements == 0 || legs == 0 || legs > 64 || exchanges == 0) {
    Die("need --nodes, --settlements ≥ 1, --legs 1..64, --exchanges ≥ 1");
  }
  std::vector<RpcClient> clients;
  for (const auto& url : nodes) {
    auto c = RpcClient::FromUrl(url);
    if (!c.ok()) Die(c.status().ToString());
    c->set_timeout(std::chrono::seconds(30));
    clients.push_back(*c);
  }
  json status = CallOrDie(clients[0], "node_status", json::object());
  const std::string chain_id = status["chain_id"];
  uint64_t tip = status["latest_height"];
  const uint64_t expiry = tip + 90'000;

  auto body_of = [&](const PrivateKey& key, uint64_t nonce) {
    pb::TxBody b;
    b.set_chain_id(chain_id);
    b.set_sender(ToString(key.Public().bytes));
    b.set_nonce(nonce);
    b.set_expiry_height(expiry);
    return b;
  };
  auto wait_ok = [&](const std::string& hash) {
    for (int i = 0; i < 600; ++i) {
      auto r = clients[0].Call("tx_get", {{"hash", hash}});
      if (r.ok() && (*r)["status"] == "committed") {
        if ((*r)["receipt"]["ok"] != true) Die("setup failed: " + (*r)["receipt"].dump());
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Die("setup transaction not committed within 30 s");
  };

  // Setup: exchanges appointed in SH and authorised by the funder for everything they move.
  std::vector<PrivateKey> ex;
  const uint64_t grams_per_leg = 1;
  const uint64_t per_exchange = (settlements / exchanges + 1) * legs * grams_per_leg;
  uint64_t auth_nonce = CallOrDie(clients[0], "account_get",
                                  {{"address", Hex(authority->Public().bytes)}})["pending_nonce"];
  uint64_t funder_nonce = CallOrDie(clients[0], "account_get",
                                    {{"address", Hex(funder->Public().bytes)}})["pending_nonce"];
  std::vector<std::string> setup;
  std::string last;
  for (uint64_t e = 0; e < exchanges; ++e) {
    ex.push_back(PrivateKey::Generate());
    pb::TxBody g = body_of(*authority, auth_nonce++);
    g.mutable_grant_role()->set_account(ToString(ex.back().Public().bytes));
    g.mutable_grant_role()->set_role(pb::ROLE_EXCHANGE);
    g.mutable_grant_role()->set_region("SH");
    setup.push_back(Hex(AsBytes(SignTx(g, *authority))));
    pb::TxBody a = body_of(*funder, funder_nonce++);
    a.mutable_set_authorisation()->set_exchange(ToString(ex.back().Public().bytes));
    a.mutable_set_authorisation()->set_batch(batch);
    a.mutable_set_authorisation()->set_grams(per_exchange);
    a.mutable_set_authorisation()->set_expiry_height(expiry);
    setup.push_back(Hex(AsBytes(SignTx(a, *funder))));
  }
  json setup_results = CallOrDie(clients[0], "tx_submit_batch", {{"txs", setup}});
  for (const auto& r : setup_results) {
    if (!r.contains("tx_hash")) Die("setup refused: " + r.dump());
    last = r["tx_hash"];
  }
  for (const auto& r : setup_results) wait_ok(r["tx_hash"]);

  // Sign every settlement up front (the bench measures the network, not our signing).
  fmt::print("signing {} settlements of {} legs from {} exchanges...\n", settlements, legs,
             exchanges);
  std::vector<PublicKey> buyers;
  for (int i = 0; i < 64; ++i) buyers.push_back(PrivateKey::Generate().Public());
  std::vector<std::string> txs(settlements);
  {
    std::vector<std::thread> pool;
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (uint64_t i = t; i < settlements; i += threads) {
          const uint64_t e = i % exchanges;
          pb::TxBody b = body_of(ex[e], i / exchanges);
          auto* s = b.mutable_settle();
          s->set_id(fmt::format("B-{}", i));
          s->set_payment_ref(fmt::format("PAY-{}", i));
          s->set_region("SH");
          for (uint64_t l = 0; l < legs; ++l) {
            auto* leg = s->add_legs();
            leg->set_from(ToString(funder->Public().bytes));
            leg->set_to(ToString(buyers[(i * legs + l) % buyers.size()].bytes));
            leg->set_batch(batch);
            leg->set_grams(grams_per_leg);
          }
          txs[i] = Hex(AsBytes(SignTx(b, ex[e])));
        }
      });
    }
    for (auto& th : pool) th.join();
  }

  // The subscriber and the commit poller, from the current tip.
  tip = CallOrDie(clients[0], "node_status", json::object())["latest_height"];
  auto sub = WsClient::Subscribe(
      clients[0].host(), clients[0].port(),
      {{"kinds", {"settlement"}}, {"after", {{"height", tip}, {"index", UINT32_MAX}}}},
      std::chrono::seconds(10));
  if (!sub.ok()) Die(sub.status().ToString());
  std::mutex mu;
  std::map<uint64_t, Clock::time_point> first_seen;   // height → poller saw it committed
  std::map<uint64_t, Clock::time_point> first_event;  // height → first settlement event arrived
  std::map<uint64_t, uint64_t> event_wall_ms, block_time_ms;
  std::atomic<uint64_t> settled{0};
  std::atomic<bool> stop{false};
  Clock::time_point last_event;
  std::thread poller([&] {
    auto c = clients[0];
    uint64_t seen = tip;
    while (!stop) {
      auto r = c.Call("node_status", json::object());
      if (r.ok()) {
        const uint64_t h = (*r)["latest_height"];
        const auto now = Clock::now();
        std::lock_guard lock(mu);
        for (uint64_t k = seen + 1; k <= h; ++k) first_seen.emplace(k, now);
        seen = std::max(seen, h);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::thread reader([&] {
    while (settled < settlements && !stop) {
      auto m = (*sub)->Next(std::chrono::seconds(60));
      if (!m.ok()) {
        fmt::print(stderr, "event stream: {}\n", m.status().ToString());
        return;
      }
      if ((*m)["method"] != "events") continue;
      const auto now = Clock::now();
      const uint64_t wall = WallMs();
      std::lock_guard lock(mu);
      for (const auto& e : (*m)["params"]["events"]) {
        const uint64_t h = e["cursor"]["height"];
        if (first_event.emplace(h, now).second) {
          event_wall_ms[h] = wall;
          block_time_ms[h] = e["time_ms"];
        }
        ++settled;
      }
      last_event = now;
    }
  });

  // Submit as fast as the nodes admit.
  const auto start = Clock::now();
  uint64_t refused = 0;
  for (uint64_t i = 0, node = 0; i < settlements; node = (node + 1) % clients.size()) {
    const uint64_t n = std::min(submit_batch, settlements - i);
    std::vector<std::string> chunk(txs.begin() + static_cast<long>(i),
                                   txs.begin() + static_cast<long>(i + n));
    auto r = clients[node].Call("tx_submit_batch", {{"txs", chunk}});
    if (!r.ok()) Die("tx_submit_batch: " + r.status().ToString());
    // Resubmit from the first refused entry (mempool full, or a nonce gap on another node).
    uint64_t accepted = 0;
    for (const auto& one : *r) {
      if (one.contains("tx_hash")) {
        ++accepted;
        continue;
      }
      const int code = one["error"]["code"];
      if (code == 1003) {  // already waiting (relayed from another node)
        ++accepted;
        continue;
      }
      ++refused;
      break;
    }
    i += accepted;
    if (accepted < n) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double submit_s = std::chrono::duration<double>(Clock::now() - start).count();
  // Wait (bounded) for every settlement event.
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (settled < settlements && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop = true;
  poller.join();
  (*sub)->Close();
  reader.join();

  std::lock_guard lock(mu);
  const double elapsed = std::chrono::duration<double>(last_event - start).count();
  const double per_s = static_cast<double>(settled) / elapsed;
  std::vector<double> delay_poll_ms, delay_block_ms;
  for (const auto& [h, t] : first_event) {
    if (auto it = first_seen.find(h); it != first_seen.end()) {
      delay_poll_ms.push_back(
          std::max(0.0, std::chrono::duration<double, std::milli>(t - it->second).count()));
    }
    delay_block_ms.push_back(static_cast<double>(event_wall_ms[h]) -
                             static_cast<double>(block_time_ms[h]));
  }
  json out = {{"scenario", "settlements"},
              {"nodes", nodes.size()},
              {"settlements", settlements},
              {"legs_per_settlement", legs},
              {"exchanges", exchanges},
              {"committed", settled.load()},
              {"submit_s", submit_s},
              {"elapsed_s", elapsed},
              {"settlements_per_s", per_s},
              {"legs_per_s", per_s * static_cast<double>(legs)},
              {"blocks_with_settlements", first_event.size()},
              {"stream_delay_after_poll_ms",
               {{"p50", Percentile(delay_poll_ms, 50)},
                {"p99", Percentile(delay_poll_ms, 99)},
                {"max", Percentile(delay_poll_ms, 100)}}},
              {"stream_delay_after_block_time_ms",
               {{"p50", Percentile(delay_block_ms, 50)},
                {"p99", Percentile(delay_block_ms, 99)},
                {"max", Percentile(delay_block_ms, 100)}}},
              {"resubmissions", refused}};
  fmt::print("{}\n", out.dump(2));
  if (!json_out.empty()) std::ofstream(json_out) << out.dump(2) << "\n";
  return settled == settlements ? 0 : 1;
}
