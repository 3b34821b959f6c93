// CPU time by thread role across processes, from /proc/<pid>/task/<tid>/{comm,stat}. puhuid names
// its threads by role (node/thread_name.h: "verify", "rpc", "p2p", "relay-admit", "consensus",
// "ledger-writer"); this adds up, over the node processes, the CPU each role used between two
// samples, so a run shows where the machine's time went without a profiler.
#pragma once

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace puhui::bench {

// utime + stime in seconds from a /proc stat file (a process's or a thread's).
inline std::optional<double> StatCpuSeconds(const std::filesystem::path& stat) {
  std::ifstream in(stat);
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // The command name is in parentheses and may contain spaces: fields count from the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 > line.size()) return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stod(f);
    if (i == 15) stime = std::stod(f);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Every live thread of the processes: (pid, tid) → (name, CPU seconds so far).
using ThreadTimes = std::map<std::pair<int, int>, std::pair<std::string, double>>;

inline ThreadTimes ReadThreadTimes(const std::vector<int>& pids) {
  ThreadTimes out;
  for (int pid : pids) {
    std::error_code ec;
    const std::filesystem::path tasks = fmt::format("/proc/{}/task", pid);
    for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
      const std::string tid = task.path().filename().string();
      if (tid.empty() || !std::all_of(tid.begin(), tid.end(), ::isdigit)) continue;
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      auto cpu = StatCpuSeconds(task.path() / "stat");
      if (cpu) out[{pid, std::stoi(tid)}] = {name, *cpu};  // a thread may exit meanwhile
    }
  }
  return out;
}

inline constexpr char kExitedThreads[] = "(threads that exited)";

// Percent of one core each role used between `before` and `after`, `seconds` apart. The threads
// that exited in between (per-block helpers) are counted from the processes' own totals
// (`process_cpu_s`, the same span): what those add beyond the live threads' time.
inline std::vector<std::pair<std::string, double>> CpuByRole(const ThreadTimes& before,
                                                             const ThreadTimes& after,
                                                             double process_cpu_s, double seconds) {
  std::map<std::string, double> by_role;
  double live = 0;
  for (const auto& [key, value] : after) {
    auto it = before.find(key);
    const double d = value.second - (it == before.end() ? 0 : it->second.second);
    by_role[value.first] += d;
    live += d;
  }
  if (process_cpu_s > live) by_role[kExitedThreads] += process_cpu_s - live;
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [role, s] : by_role) {
    if (seconds > 0) out.emplace_back(role, 100.0 * s / seconds);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

}  // namespace puhui::bench
