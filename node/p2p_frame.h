// Length-prefixed frames of the p2p transport: a 4-byte big-endian payload length, then the
// payload. The decoder takes bytes in whatever chunks the socket delivers and yields whole
// payloads. A length above the limit is refused as soon as its 4-byte prefix has arrived, before
// any of the payload is buffered, so a peer cannot make us hold more than the limit. After an error
// the decoder is spent.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/bytes.h"
#include "chain/limits.h"
#include "chain/status.h"

namespace puhui {

inline constexpr size_t kFrameHeaderBytes = 4;
static_assert(kMaxFrameBytes <= 0xFFFFFFFFu, "a frame length must fit its 4-byte prefix");

// Header plus payload. The payload must be at most kMaxFrameBytes (a programmer error otherwise).
std::string EncodeFrame(std::string_view payload);

class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_frame_bytes = kMaxFrameBytes);

  // Consumes bytes of `data` up to the end of at most one frame and returns how many it used; if
  // that completed a frame, `frame` holds its payload. Fails (kResourceExhausted) on a length above
  // the limit. One frame at a time lets the caller change the limit between frames.
  Result<size_t> Consume(ByteView data, std::optional<std::string>& frame);

  // Consumes all of `data`, appending every whole payload to `frames`.
  Status Feed(ByteView data, std::vector<std::string>& frames);

  // Applies from the next frame whose length is not yet known; at most kMaxFrameBytes.
  void set_max_frame_bytes(size_t max_frame_bytes);
  size_t max_frame_bytes() const { return max_frame_bytes_; }
  // True between frames: nothing of a partial frame is held.
  bool idle() const { return header_used_ == 0 && !payload_size_; }

 private:
  size_t max_frame_bytes_;
  uint8_t header_[kFrameHeaderBytes] = {};
  size_t header_used_ = 0;
  std::optional<size_t> payload_size_;  // known once the header is complete
  std::string payload_;
  bool failed_ = false;
};

}  // namespace puhui
