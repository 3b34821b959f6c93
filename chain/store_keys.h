// The block store's LevelDB keys and the helpers that build them, shared by the store
// (chain/block_store.cpp) and its migrations from older formats (chain/block_store_migrate.cpp).
// Layout: docs/formats.md. Internal to the store.
#pragma once

#include <leveldb/slice.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "chain/bytes.h"
#include "chain/smt.h"

namespace puhui::store_keys {

// One-letter key prefixes; see docs/formats.md.
constexpr char kMetaKey[] = "M";
constexpr char kGenesisKey[] = "G";
constexpr char kBlockPlacePrefix = 'B';
constexpr char kHashPrefix = 'h';
constexpr char kTxPrefix = 't';
constexpr char kStatePrefix = 's';
constexpr char kRootPrefix = 'R';
constexpr char kFormatKey[] = "V";
constexpr char kNodeLogEndKey[] = "N";
constexpr char kBlockLogEndKey[] = "L";

// The layout this code reads and writes, and those it migrates from on open:
//   1 (no `V` record): tree nodes inside LevelDB under `n`, blocks as in 2;
//   2: tree nodes in the node log, roots with their place; blocks, certificates and receipts
//      inside LevelDB under `b`, `c` and `r`;
//   3: blocks, certificates and receipts in the block log, each height's place under `B`.
constexpr char kFormat[] = "3";
constexpr char kFormat1NodePrefix = 'n';
constexpr char kFormat2BlockPrefix = 'b';
constexpr char kFormat2CommitPrefix = 'c';
constexpr char kFormat2ReceiptPrefix = 'r';
constexpr char kNodeLogName[] = "tree-nodes";
constexpr char kBlockLogName[] = "blocks";

inline void PutBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i) & 0xff));
}

// A u64 value, big-endian: a height (`h` records) or a log's committed end (`N`, `L`).
inline std::string U64Value(uint64_t v) {
  std::string out;
  PutBigEndian(out, v, 8);
  return out;
}

// An `R` value: the state root after a height, then its node's place in the node log.
inline std::string RootValue(const Hash32& root, const SmtNodePtr& ptr) {
  std::string out(root.begin(), root.end());
  PutBigEndian(out, ptr.offset, 8);
  PutBigEndian(out, ptr.length, 4);
  return out;
}

inline std::string HeightKey(char prefix, uint64_t height) {
  std::string k(1, prefix);
  PutBigEndian(k, height, 8);
  return k;
}

// A key of a one-letter prefix and a 32-byte hash, built in place: a block writes thousands of
// them (transaction locations).
struct HashKey {
  HashKey(char prefix, const Hash32& h) {
    bytes[0] = prefix;
    std::memcpy(bytes + 1, h.data(), h.size());
  }
  leveldb::Slice slice() const { return {bytes, sizeof bytes}; }
  std::string str() const { return {bytes, sizeof bytes}; }
  char bytes[33];
};

inline std::string Format2ReceiptKey(uint64_t height, uint32_t index) {
  std::string k = HeightKey(kFormat2ReceiptPrefix, height);
  PutBigEndian(k, index, 4);
  return k;
}

inline leveldb::Slice ToSlice(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline leveldb::Slice ToSlice(const Hash32& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

}  // namespace puhui::store_keys
