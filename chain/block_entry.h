// What one height keeps in the block log (chain/append_log.h): the block, the certificate that
// committed it and its receipts, back to back, then a table of where each receipt ends:
//
//   block | commit | receipt 0 | receipt 1 | ... | end of receipt 0 (u32) | end of receipt 1 | ...
//
// Ends are big-endian, counted from the first receipt. LevelDB keeps each height's BlockPlace
// (docs/formats.md), so a block, its certificate or one receipt is one pread (two for a receipt:
// its two table entries, then its bytes).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "chain/bytes.h"

namespace puhui {

struct BlockPlace {
  static constexpr size_t kEncodedSize = 24;

  uint64_t offset = 0;  // of the block's first byte in the log
  uint32_t block_length = 0;
  uint32_t commit_length = 0;
  uint32_t receipts_length = 0;  // all receipts, without the table
  uint32_t receipt_count = 0;

  uint64_t commit_offset() const { return offset + block_length; }
  uint64_t receipts_offset() const { return commit_offset() + commit_length; }
  uint64_t table_offset() const { return receipts_offset() + receipts_length; }
  uint64_t end() const { return table_offset() + 4ull * receipt_count; }

  // offset u64, then the four lengths u32, big-endian.
  std::string Encode() const;
  static std::optional<BlockPlace> Decode(std::string_view bytes);
};

// Appends a height's entry to `out`, which is to be written at log offset `offset` +
// `out.size()` (as it was on entry); returns its place.
BlockPlace AppendBlockEntry(Bytes& out, uint64_t offset, std::string_view block,
                            std::string_view commit, std::span<const std::string> receipts);

}  // namespace puhui
