// puhuid: the Puhui ledger node.
//   puhuid init  --home DIR --genesis FILE [--validator-key FILE] [--node-key FILE]
//                [--moniker NAME] [--rpc-port N] [--p2p-port N] [--peers HOST:PORT,...]
//   puhuid start --home DIR [--rpc-port N] [--p2p-port N]
//   puhuid testnet --out DIR --template FILE [--validators N] [--observers N] [--base-port N]
//                  [--chain-id ID]
//   puhuid version
#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include "chain/bytes.h"
#include "node/home.h"
#include "node/log.h"
#include "node/node.h"
#include "node/testnet.h"

namespace {

constexpr char kUsage[] =
    "usage:\n"
    "  puhuid init  --home DIR --genesis FILE [--validator-key FILE] [--node-key FILE]\n"
    "               [--moniker NAME] [--rpc-port N] [--p2p-port N] [--peers HOST:PORT,...]\n"
    "  puhuid start --home DIR [--rpc-port N] [--p2p-port N]\n"
    "  puhuid testnet --out DIR --template FILE [--validators N] [--observers N] [--base-port N]\n"
    "                 [--chain-id ID]\n"
    "  puhuid version\n";

// Parses "--flag value" pairs of the known flags; returns false (after printing why) on anything
// else.
bool ParseFlags(int argc, char** argv, int first, std::initializer_list<std::string_view> known,
                std::map<std::string, std::string>& out) {
  for (int i = first; i < argc; i += 2) {
    std::string flag = argv[i];
    if (flag.rfind("--", 0) != 0 || i + 1 >= argc) {
      fmt::print(stderr, "puhuid: expected '--flag value', got '{}'\n{}", flag, kUsage);
      return false;
    }
    std::string name = flag.substr(2);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      fmt::print(stderr, "puhuid: unknown flag '{}' for this command\n{}", flag, kUsage);
      return false;
    }
    out[name] = argv[i + 1];
  }
  return true;
}

std::optional<uint16_t> PortFlag(const std::map<std::string, std::string>& flags, bool& ok,
                                 const std::string& name = "rpc-port") {
  auto it = flags.find(name);
  if (it == flags.end()) return std::nullopt;
  char* end = nullptr;
  unsigned long v = std::strtoul(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end != '\0' || v > 65535) {
    fmt::print(stderr, "puhuid: --{} must be 0..65535\n", name);
    ok = false;
    return std::nullopt;
  }
  return static_cast<uint16_t>(v);
}

int Init(const std::map<std::string, std::string>& flags) {
  if (!flags.count("home") || !flags.count("genesis")) {
    fmt::print(stderr, "puhuid init needs --home and --genesis\n{}", kUsage);
    return 2;
  }
  bool ok = true;
  puhui::InitOptions o;
  o.home = flags.at("home");
  o.genesis_path = flags.at("genesis");
  if (flags.count("validator-key")) o.validator_key_path = flags.at("validator-key");
  if (flags.count("node-key")) o.node_key_path = flags.at("node-key");
  if (flags.count("moniker")) o.moniker = flags.at("moniker");
  o.rpc_port = PortFlag(flags, ok);
  o.p2p_port = PortFlag(flags, ok, "p2p-port");
  if (flags.count("peers")) {
    std::string list = flags.at("peers");
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      if (comma > start) o.peers.push_back(list.substr(start, comma - start));
      start = comma + 1;
    }
  }
  if (!ok) return 2;
  auto key = puhui::InitHome(o);
  if (!key.ok()) {
    fmt::print(stderr, "puhuid init: {}\n", key.status().ToString());
    return 1;
  }
  fmt::print("initialised node home {}\nvalidator key: {}\nnode key: {}\n", o.home,
             puhui::Hex(key->validator.bytes), puhui::Hex(key->node.bytes));
  if (!key->in_genesis) {
    fmt::print(stderr,
               "note: this validator key is not in the genesis validator set; the node will run "
               "as an observer (it follows the chain without voting)\n");
  }
  return 0;
}

// An unsigned flag within [min, max]; `fallback` when absent.
std::optional<uint64_t> UintFlag(const std::map<std::string, std::string>& flags,
                                 const std::string& name, uint64_t fallback, uint64_t min,
                                 uint64_t max) {
  auto it = flags.find(name);
  if (it == flags.end()) return fallback;
  char* end = nullptr;
  unsigned long long v = std::strtoull(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end != '\0' || v < min || v > max) {
    fmt::print(stderr, "puhuid: --{} must be an integer in {}..{}\n", name, min, max);
    return std::nullopt;
  }
  return v;
}

int Testnet(const std::map<std::string, std::string>& flags) {
  if (!flags.count("out") || !flags.count("template")) {
    fmt::print(stderr, "puhuid testnet needs --out and --template\n{}", kUsage);
    return 2;
  }
  puhui::TestnetOptions o;
  o.out_dir = flags.at("out");
  o.template_genesis = flags.at("template");
  if (flags.count("chain-id")) o.chain_id = flags.at("chain-id");
  auto validators = UintFlag(flags, "validators", 4, 1, 16);
  auto observers = UintFlag(flags, "observers", 0, 0, 16);
  auto base = UintFlag(flags, "base-port", puhui::TestnetOptions::kDefaultBasePort, 1024, 65000);
  if (!validators || !observers || !base) return 2;
  o.validators = static_cast<uint32_t>(*validators);
  o.observers = static_cast<uint32_t>(*observers);
  o.base_port = static_cast<uint16_t>(*base);
  // The network starts now: block 1 carries the genesis time.
  o.genesis_time_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  auto nodes = puhui::CreateTestnet(o);
  if (!nodes.ok()) {
    fmt::print(stderr, "puhuid testnet: {}\n", nodes.status().ToString());
    return 1;
  }
  fmt::print("test network '{}' in {}:\n", o.chain_id, o.out_dir);
  for (const auto& n : *nodes) {
    fmt::print("  {:<24} {:<4} home {}  p2p 127.0.0.1:{}  rpc http://127.0.0.1:{}\n", n.name,
               n.observer ? "obs" : n.region, n.home, n.p2p_port, n.rpc_port);
  }
  return 0;
}

int Start(const std::map<std::string, std::string>& flags) {
  if (!flags.count("home")) {
    fmt::print(stderr, "puhuid start needs --home\n{}", kUsage);
    return 2;
  }
  bool ok = true;
  auto port = PortFlag(flags, ok);
  auto p2p_port = PortFlag(flags, ok, "p2p-port");
  if (!ok) return 2;

  // Signals are taken synchronously by one thread; block them before any other thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto node = puhui::Node::Open(flags.at("home"), port, p2p_port);
  if (!node.ok()) {
    puhui::log::Error("cannot open node: {}", node.status().ToString());
    return 1;
  }
  puhui::Status s = (*node)->Start();
  if (!s.ok()) {
    puhui::log::Error("cannot start node: {}", s.ToString());
    return 1;
  }
  // One thread waits for a signal; the main thread waits for the node to stop for any reason.
  std::thread signal_waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGINT || sig == SIGTERM) {
      puhui::log::Info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
      (*node)->Stop();
    }
  });
  puhui::Status result = (*node)->Wait();
  (*node)->Stop();
  if (!result.ok()) {
    // Let the signal thread go: send ourselves the signal it waits for.
    pthread_kill(signal_waiter.native_handle(), SIGTERM);
  }
  signal_waiter.join();
  return result.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "{}", kUsage);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "version" || cmd == "--version") {
    fmt::print("puhuid 0.1.0\n");
    return 0;
  }
  std::map<std::string, std::string> flags;
  if (cmd == "init") {
    if (!ParseFlags(argc, argv, 2,
                    {"home", "genesis", "validator-key", "node-key", "moniker", "rpc-port",
                     "p2p-port", "peers"},
                    flags))
      return 2;
    return Init(flags);
  }
  if (cmd == "start") {
    if (!ParseFlags(argc, argv, 2, {"home", "rpc-port", "p2p-port"}, flags)) return 2;
    return Start(flags);
  }
  if (cmd == "testnet") {
    if (!ParseFlags(argc, argv, 2,
                    {"out", "template", "validators", "observers", "base-port", "chain-id"}, flags))
      return 2;
    return Testnet(flags);
  }
  fmt::print(stderr, "puhuid: unknown command '{}'\n{}", cmd, kUsage);
  return 2;
}
