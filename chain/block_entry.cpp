#include "chain/block_entry.h"

#include <limits>

#include "chain/status.h"

namespace puhui {
namespace {

uint32_t Length32(size_t n) {
  PUHUI_CHECK(n <= std::numeric_limits<uint32_t>::max(), "block log record over 4 GiB");
  return static_cast<uint32_t>(n);
}

void Append(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

}  // namespace

std::string BlockPlace::Encode() const {
  Bytes out;
  out.reserve(kEncodedSize);
  AppendBigEndian(out, offset, 8);
  AppendBigEndian(out, block_length, 4);
  AppendBigEndian(out, commit_length, 4);
  AppendBigEndian(out, receipts_length, 4);
  AppendBigEndian(out, receipt_count, 4);
  return std::string(out.begin(), out.end());
}

std::optional<BlockPlace> BlockPlace::Decode(std::string_view bytes) {
  if (bytes.size() != kEncodedSize) return std::nullopt;
  const ByteView b = AsBytes(bytes);
  BlockPlace p;
  p.offset = ReadBigEndian(b.subspan(0, 8));
  p.block_length = static_cast<uint32_t>(ReadBigEndian(b.subspan(8, 4)));
  p.commit_length = static_cast<uint32_t>(ReadBigEndian(b.subspan(12, 4)));
  p.receipts_length = static_cast<uint32_t>(ReadBigEndian(b.subspan(16, 4)));
  p.receipt_count = static_cast<uint32_t>(ReadBigEndian(b.subspan(20, 4)));
  if (p.offset > std::numeric_limits<uint64_t>::max() / 2) return std::nullopt;  // no overflow
  return p;
}

BlockPlace AppendBlockEntry(Bytes& out, uint64_t offset, std::string_view block,
                            std::string_view commit, std::span<const std::string> receipts) {
  BlockPlace p;
  p.offset = offset + out.size();
  p.block_length = Length32(block.size());
  p.commit_length = Length32(commit.size());
  p.receipt_count = Length32(receipts.size());
  size_t receipts_length = 0;
  for (const auto& r : receipts) receipts_length += r.size();
  p.receipts_length = Length32(receipts_length);
  out.reserve(out.size() + (p.end() - p.offset));
  Append(out, block);
  Append(out, commit);
  for (const auto& r : receipts) Append(out, r);
  uint64_t end = 0;
  for (const auto& r : receipts) {
    end += r.size();
    AppendBigEndian(out, end, 4);
  }
  return p;
}

}  // namespace puhui
