// How long the engine waits at each step of a round. Every timeout grows linearly with the round
// (base + round * delta): after the network settles, rounds eventually last longer than message
// delays, whatever those delays are, which is what Tendermint's liveness argument needs.
#pragma once

#include <algorithm>
#include <cstdint>

#include "consensus/events.h"

namespace puhui::consensus {

inline constexpr uint64_t kProposeTimeoutBaseMs = 3000;
inline constexpr uint64_t kProposeTimeoutDeltaMs = 500;
inline constexpr uint64_t kPrevoteTimeoutBaseMs = 1000;
inline constexpr uint64_t kPrevoteTimeoutDeltaMs = 500;
inline constexpr uint64_t kPrecommitTimeoutBaseMs = 1000;
inline constexpr uint64_t kPrecommitTimeoutDeltaMs = 500;
// Growth stops here, so a timer is never absurdly long (and round * delta never overflows).
inline constexpr uint64_t kMaxTimeoutMs = 10 * 60 * 1000;

struct TimeoutConfig {
  uint64_t propose_base_ms = kProposeTimeoutBaseMs;
  uint64_t propose_delta_ms = kProposeTimeoutDeltaMs;
  uint64_t prevote_base_ms = kPrevoteTimeoutBaseMs;
  uint64_t prevote_delta_ms = kPrevoteTimeoutDeltaMs;
  uint64_t precommit_base_ms = kPrecommitTimeoutBaseMs;
  uint64_t precommit_delta_ms = kPrecommitTimeoutDeltaMs;

  uint64_t DurationMs(RoundStep step, uint32_t round) const {
    uint64_t base = 0;
    uint64_t delta = 0;
    switch (step) {
      case RoundStep::kPropose: base = propose_base_ms, delta = propose_delta_ms; break;
      case RoundStep::kPrevote: base = prevote_base_ms, delta = prevote_delta_ms; break;
      case RoundStep::kPrecommit: base = precommit_base_ms, delta = precommit_delta_ms; break;
    }
    base = std::min(base, kMaxTimeoutMs);
    delta = std::min(delta, kMaxTimeoutMs);
    // round < 2^32 and delta <= kMaxTimeoutMs < 2^30, so the product fits in 64 bits.
    return std::min(kMaxTimeoutMs, base + uint64_t{round} * delta);
  }
};

}  // namespace puhui::consensus
