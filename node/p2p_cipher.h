// One direction of an encrypted p2p session: ChaCha20-Poly1305 (RFC 8439) under a key of its own,
// with a 64-bit frame counter as nonce. A sealed frame is
//   counter (8 bytes, big-endian) ‖ ciphertext ‖ tag (16 bytes)
// and the nonce is 4 zero bytes ‖ counter (big-endian). The counter travels so that a replayed,
// dropped or reordered frame is named as such; it is also authenticated, because it is the nonce.
// The sealer never reuses a counter: when the counters run out it refuses to seal. The opener
// accepts only the next counter, so every frame is accepted at most once and in order.
// Not thread-safe; each direction belongs to one connection.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "chain/bytes.h"
#include "chain/status.h"

namespace puhui {

using CipherKey = std::array<uint8_t, 32>;

inline constexpr size_t kSealCounterBytes = 8;
inline constexpr size_t kSealTagBytes = 16;
inline constexpr size_t kSealOverheadBytes = kSealCounterBytes + kSealTagBytes;
// The last counter is never used, so that "no counter left" needs no extra state.
inline constexpr uint64_t kSealCounterLimit = std::numeric_limits<uint64_t>::max();

class FrameSealer {
 public:
  // `first_counter` is 0 in the protocol; tests start near kSealCounterLimit to reach the end.
  explicit FrameSealer(const CipherKey& key, uint64_t first_counter = 0)
      : key_(key), counter_(first_counter) {}

  // Fails (kResourceExhausted) once the counters are used up; the session must end then.
  Result<std::string> Seal(ByteView plaintext);
  uint64_t next_counter() const { return counter_; }

 private:
  CipherKey key_;
  uint64_t counter_;
};

class FrameOpener {
 public:
  explicit FrameOpener(const CipherKey& key, uint64_t first_counter = 0)
      : key_(key), counter_(first_counter) {}

  // The plaintext of the next frame. Fails (kUnauthenticated) on a wrong counter (replayed or
  // reordered), a frame too short to hold counter and tag, or a tag that does not verify. A
  // failed frame does not advance the counter; the connection should end anyway.
  Result<std::string> Open(ByteView sealed);
  uint64_t next_counter() const { return counter_; }

 private:
  CipherKey key_;
  uint64_t counter_;
};

}  // namespace puhui
