#include "node/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "chain/genesis.h"

namespace puhui::log {

namespace {
std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mu;

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO ";
    case Level::kWarn: return "WARN ";
    case Level::kError: return "ERROR";
  }
  return "?";
}
}  // namespace

void SetLevel(Level level) { g_level = level; }

bool ParseLevel(std::string_view name, Level& out) {
  if (name == "debug")
    out = Level::kDebug;
  else if (name == "info")
    out = Level::kInfo;
  else if (name == "warn")
    out = Level::kWarn;
  else if (name == "error")
    out = Level::kError;
  else
    return false;
  return true;
}

bool Enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void Write(Level level, std::string_view message) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  uint64_t ms =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  std::string line = fmt::format("{} {} {}\n", FormatUtcTime(ms), LevelName(level), message);
  std::lock_guard lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace puhui::log
