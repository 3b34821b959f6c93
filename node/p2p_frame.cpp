#include "node/p2p_frame.h"

#include <fmt/format.h>

#include <algorithm>

namespace puhui {

std::string EncodeFrame(std::string_view payload) {
  PUHUI_CHECK(payload.size() <= kMaxFrameBytes, "frame payload above kMaxFrameBytes");
  const auto n = static_cast<uint32_t>(payload.size());
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.append(payload);
  return out;
}

FrameDecoder::FrameDecoder(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {
  PUHUI_CHECK(max_frame_bytes <= kMaxFrameBytes);
}

void FrameDecoder::set_max_frame_bytes(size_t max_frame_bytes) {
  PUHUI_CHECK(max_frame_bytes <= kMaxFrameBytes);
  max_frame_bytes_ = max_frame_bytes;
}

Result<size_t> FrameDecoder::Consume(ByteView data, std::optional<std::string>& frame) {
  frame.reset();
  if (failed_) return FailedPrecondition("frame decoder already failed");
  size_t used = 0;
  if (!payload_size_) {
    const size_t take = std::min(kFrameHeaderBytes - header_used_, data.size());
    std::copy_n(data.begin(), take, header_ + header_used_);
    header_used_ += take;
    used += take;
    if (header_used_ < kFrameHeaderBytes) return used;
    const size_t size = (size_t{header_[0]} << 24) | (size_t{header_[1]} << 16) |
                        (size_t{header_[2]} << 8) | size_t{header_[3]};
    if (size > max_frame_bytes_) {
      failed_ = true;
      return ResourceExhausted(
          fmt::format("frame of {} bytes exceeds the limit of {}", size, max_frame_bytes_));
    }
    payload_size_ = size;
    payload_.clear();
    payload_.reserve(size);  // bounded by the limit just checked
  }
  const size_t take = std::min(*payload_size_ - payload_.size(), data.size() - used);
  payload_.append(AsString(data.subspan(used, take)));
  used += take;
  if (payload_.size() == *payload_size_) {
    frame = std::move(payload_);
    payload_ = std::string();
    payload_size_.reset();
    header_used_ = 0;
  }
  return used;
}

Status FrameDecoder::Feed(ByteView data, std::vector<std::string>& frames) {
  std::optional<std::string> frame;
  // Every successful Consume of non-empty data uses at least one byte, so this terminates.
  while (!data.empty()) {
    Result<size_t> used = Consume(data, frame);
    if (!used.ok()) return used.status();
    if (frame) frames.push_back(std::move(*frame));
    data = data.subspan(*used);
  }
  return Status::Ok();
}

}  // namespace puhui
