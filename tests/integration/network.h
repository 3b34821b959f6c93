// A local network of real puhuid processes for multi-process tests: validators and observers made
// by `CreateTestnet` on the test genesis, on loopback ports checked free, each process started and
// killed on demand. Every wait is bounded.
//
// Ports: a network takes a block of 100 ports below the kernel's ephemeral range (where no
// outgoing connection can take one of them between the check and the node's bind), and holds a
// lock on that block for its life, so that test processes running at once (ctest -j) never pick
// the same block.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>

#include "node/files.h"
#include "node/testnet.h"
#include "process.h"

namespace puhui::testing {

// True if nothing listens on 127.0.0.1:port (a bind succeeds).
inline bool PortFree(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// The lowest port the kernel hands to outgoing connections (32768 if it cannot be read).
inline uint16_t EphemeralLow() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 0;
  if (range >> low && low >= 1024 && low <= 65535) return static_cast<uint16_t>(low);
  return 32768;
}

// An exclusive claim, across processes, on the ports base .. base + 99: a lock on a file named
// for the block, released when the claim is destroyed or the process ends however it ends.
class PortBlock {
 public:
  static constexpr uint16_t kSize = 100;
  PortBlock() = default;
  PortBlock(const PortBlock&) = delete;
  PortBlock& operator=(const PortBlock&) = delete;
  ~PortBlock() {
    if (fd_ >= 0) close(fd_);
  }
  // False if another process holds the block.
  bool Claim(uint16_t base) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "puhui-test-ports";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const std::string path = (dir / std::to_string(base)).string();
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return false;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      close(fd);
      return false;
    }
    fd_ = fd;
    return true;
  }

 private:
  int fd_ = -1;
};

class Network {
 public:
  explicit Network(uint32_t validators = 4, uint32_t observers = 1,
                   uint64_t block_interval_ms = 100) {
    std::string template_path = dir_ / "template.json";
    std::ofstream(template_path) << TestGenesisJson(block_interval_ms);
    TestnetOptions o;
    o.out_dir = dir_ / "net";
    o.template_genesis = template_path;
    o.chain_id = kChainId;
    o.validators = validators;
    o.observers = observers;
    o.base_port = FreeBasePort(validators + observers);
    auto nodes = CreateTestnet(o);
    if (!nodes.ok()) throw std::runtime_error("testnet: " + nodes.status().ToString());
    nodes_ = *nodes;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      procs_.push_back(std::make_unique<NodeProcess>(nodes_[i].home,
                                                     dir_ / ("node" + std::to_string(i) + ".log")));
    }
  }

  size_t size() const { return nodes_.size(); }
  const TestnetNode& node(size_t i) const { return nodes_[i]; }
  std::string home(size_t i) const { return nodes_[i].home; }

  void Start(size_t i) { procs_[i]->Start(); }
  void StartAll() {
    for (size_t i = 0; i < size(); ++i) Start(i);
  }
  void Kill(size_t i, int sig = SIGKILL) { procs_[i]->Kill(sig); }
  std::string Log(size_t i) const { return procs_[i]->log(); }

  RpcClient Client(size_t i) const {
    auto c = RpcClient::FromUrl(procs_[i]->url());
    if (!c.ok()) throw std::runtime_error("client");
    return *c;
  }
  nlohmann::json Call(size_t i, const std::string& method, const nlohmann::json& params) {
    RpcClient c = Client(i);
    auto r = c.Call(method, params);
    REQUIRE_MESSAGE(r.ok(), "node ", i, " ", method, ": ", r.status().ToString(), "\nlog:\n",
                    Log(i));
    return *r;
  }
  uint64_t Height(size_t i) {
    return Call(i, "node_status", nlohmann::json::object())["latest_height"];
  }

  // Waits until node i has committed `height`; false after `seconds`.
  bool WaitHeight(size_t i, uint64_t height, int seconds = 30) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Height(i) >= height) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // Submits a signed envelope to node i; returns its hash.
  std::string Submit(size_t i, const std::string& envelope) {
    return Call(i, "tx_submit", {{"tx", Hex(AsBytes(envelope))}})["tx_hash"];
  }
  // Waits until node i reports the transaction waiting in its mempool; false after `seconds`.
  bool WaitPending(size_t i, const std::string& hash, int seconds = 30) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    RpcClient c = Client(i);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = c.Call("tx_get", {{"hash", hash}});
      if (r.ok() && (*r)["status"] == "pending") return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // Changes node i's config.json (before it starts).
  void EditConfig(size_t i, const std::function<void(nlohmann::json& config)>& edit) {
    const std::string path = home(i) + "/config.json";
    nlohmann::json config = nlohmann::json::parse(*ReadFile(path));
    edit(config);
    REQUIRE(WriteFileDurably(path, config.dump(2)).ok());
  }
  // Waits until node i reports the transaction committed; returns its height (0 after `seconds`).
  uint64_t WaitCommitted(size_t i, const std::string& hash, int seconds = 30) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    RpcClient c = Client(i);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = c.Call("tx_get", {{"hash", hash}});
      if (r.ok() && (*r)["status"] == "committed") return (*r)["height"];
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }
  std::string BlockHash(size_t i, uint64_t height) {
    return Call(i, "block_get", {{"height", height}})["hash"];
  }

 private:
  // A base port whose p2p and RPC ports for `count` nodes are all free now, in a block of ports
  // this network claims (ports_) below the ephemeral range.
  uint16_t FreeBasePort(uint32_t count) {
    if (10 * count + 7 >= PortBlock::kSize) throw std::runtime_error("too many nodes for a block");
    const uint16_t first = 20000;
    const uint16_t blocks = static_cast<uint16_t>((EphemeralLow() - first) / PortBlock::kSize);
    if (blocks == 0) throw std::runtime_error("no ports below the ephemeral range");
    std::mt19937 rng(static_cast<uint32_t>(getpid()) ^ static_cast<uint32_t>(time(nullptr)));
    for (int attempt = 0; attempt < 400; ++attempt) {
      const auto base = static_cast<uint16_t>(first + (rng() % blocks) * PortBlock::kSize);
      bool free = true;
      for (uint32_t i = 0; i < count && free; ++i) {
        free = PortFree(static_cast<uint16_t>(base + 10 * i + 6)) &&
               PortFree(static_cast<uint16_t>(base + 10 * i + 7));
      }
      if (free && ports_.Claim(base)) return base;
    }
    throw std::runtime_error("no free port range for a test network");
  }

  PortBlock ports_;  // before dir_ and procs_: released after the nodes are stopped
  TempDir dir_;
  std::vector<TestnetNode> nodes_;
  std::vector<std::unique_ptr<NodeProcess>> procs_;
};

}  // namespace puhui::testing
