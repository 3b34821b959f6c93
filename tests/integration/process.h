// Starting and stopping real puhuid processes for multi-process tests. Every wait is bounded.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "chain/keys.h"
#include "node/files.h"
#include "node/rpc_client.h"
#include "test_util.h"

namespace puhui::testing {

inline std::string BinaryPath(const std::string& name) {
  return std::string(PUHUI_BINARY_DIR) + "/" + name;
}

// Runs a command to completion (bounded), returning its exit code and stdout.
inline std::pair<int, std::string> RunCommand(const std::vector<std::string>& args) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string output;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) output.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// A puhuid process with its stderr in a log file.
class NodeProcess {
 public:
  NodeProcess(std::string home, std::string log_path)
      : home_(std::move(home)), log_(std::move(log_path)) {}
  ~NodeProcess() {
    if (pid_ > 0) Kill(SIGKILL);
  }

  // Starts `puhuid start` on a port the OS picks and waits (at most 20 s) until it serves RPC.
  void Start() {
    std::ofstream(log_, std::ios::trunc).close();
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_.c_str(), O_WRONLY | O_APPEND);
      dup2(fd, 2);
      dup2(fd, 1);
      std::string bin = BinaryPath("puhuid");
      execl(bin.c_str(), bin.c_str(), "start", "--home", home_.c_str(), "--rpc-port", "0", nullptr);
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(log_);
      std::stringstream ss;
      ss << in.rdbuf();
      std::smatch m;
      std::string text = ss.str();
      if (std::regex_search(text, m, listening)) {
        port_ = static_cast<uint16_t>(std::stoi(m[1]));
        return;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("puhuid exited at start: " + text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("puhuid did not start serving RPC within 20 s");
  }

  // Sends a signal and waits (at most 20 s) for the process to exit; returns its exit status.
  int Kill(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    throw std::runtime_error("puhuid did not exit within 20 s of a signal");
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string home_;
  std::string log_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// Writes the test genesis and the validator key into `dir` and runs `puhuid init`.
inline std::string InitTestHome(const TempDir& dir, uint64_t block_interval_ms = 50) {
  std::string genesis = dir / "genesis.json";
  std::ofstream(genesis) << TestGenesisJson(block_interval_ms);
  std::string key = dir / "validator.key";
  if (!std::filesystem::exists(key)) {
    if (!WriteKeyFile(key, KeyOf("validator")).ok()) throw std::runtime_error("key file");
  }
  std::string home = dir / "home";
  auto [code, out] = RunCommand({BinaryPath("puhuid"), "init", "--home", home, "--genesis", genesis,
                                 "--validator-key", key, "--moniker", "test"});
  if (code != 0) throw std::runtime_error("puhuid init failed: " + out);
  return home;
}

// Runs `puhuid init` for the bundled dev genesis and its single validator key, as the demo
// scripts' instructions do; returns the home directory (`dir`/home).
inline std::string InitDevHome(const TempDir& dir) {
  const std::string src = PUHUI_SOURCE_DIR;
  std::string home = dir / "home";
  auto [code, out] = RunCommand({BinaryPath("puhuid"), "init", "--home", home, "--genesis",
                                 src + "/genesis/dev.json", "--validator-key",
                                 src + "/genesis/dev-keys/validator.key", "--moniker", "demo"});
  if (code != 0) throw std::runtime_error("puhuid init failed: " + out);
  return home;
}

// Runs scripts/`name` (a demo) against a running node in its test mode; exit code and output.
inline std::pair<int, std::string> RunDemoScript(const std::string& name, const std::string& url) {
  return RunCommand({"/bin/bash", std::string(PUHUI_SOURCE_DIR) + "/scripts/" + name, "--node", url,
                     "--cli", BinaryPath("puhui-cli"), "--run", "test"});
}

// A puhuid started on the test genesis, with a client; stopped (SIGKILL) when the object goes away.
struct RunningNode {
  TempDir dir;
  std::string home = InitTestHome(dir);
  NodeProcess process{home, dir / "node.log"};
  RpcClient client = [this] {
    process.Start();
    auto c = RpcClient::FromUrl(process.url());
    if (!c.ok()) throw std::runtime_error("client");
    return *c;
  }();

  // The result of a call that must succeed.
  nlohmann::json Ok(const std::string& method, const nlohmann::json& params) {
    auto r = client.Call(method, params);
    REQUIRE_MESSAGE(r.ok(), method, ": ", r.status().ToString(), "\nnode log:\n", process.log());
    return *r;
  }
  // The JSON-RPC error code of a call (0 if it succeeded).
  int ErrorCode(const std::string& method, const nlohmann::json& params) {
    auto r = client.Call(method, params);
    if (r.ok()) return 0;
    return client.last_error().code;
  }
  // Waits (at most 10 s) until a transaction is committed and returns tx_get's answer.
  nlohmann::json WaitCommitted(const std::string& hash) {
    for (int i = 0; i < 200; ++i) {
      auto r = client.Call("tx_get", {{"hash", hash}});
      if (r.ok() && (*r)["status"] == "committed") return *r;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("transaction " << hash << " not committed within 10 s");
    return {};
  }
};

}  // namespace puhui::testing
