// Structured, levelled logs on stderr: "2026-11-21T08:12:20.123Z INFO  committed height=12 txs=40".
// Thread-safe. Logs are for operators; nothing in consensus reads them or the clock they print.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace puhui::log {

enum class Level { kDebug, kInfo, kWarn, kError };

void SetLevel(Level level);
bool ParseLevel(std::string_view name, Level& out);
bool Enabled(Level level);
void Write(Level level, std::string_view message);

template <typename... Args>
void Debug(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Info(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Warn(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kWarn)) Write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Error(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kError)) Write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace puhui::log
