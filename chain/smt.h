// Authenticated state: a sparse Merkle tree over SHA-256-hashed keys, 256 levels deep in
// principle, stored compactly (a subtree holding one leaf is stored as that leaf; an empty
// subtree hashes to kZeroHash). Nodes are immutable and never overwritten, so every historical
// root stays readable and provable: the tree is versioned by the roots kept per height.
//
// A node refers to each child by its hash and by where the child is stored (SmtNodePtr: a byte
// range of the store's node log, chain/append_log.h), so a stored tree is walked without any index
// from hashes to places. Pure functions over a SmtNodeSource: Update returns the new root and the
// nodes to persist, laid out from the source's next free offset; the caller writes them there in
// order before it commits the block (chain/block_store.h). Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "chain/bytes.h"
#include "chain/status.h"

namespace puhui {

// Where a stored node's bytes are: `length` bytes at `offset` of the node log. Zero length: no
// place (an empty subtree, or a node known only by its hash).
struct SmtNodePtr {
  uint64_t offset = 0;
  uint32_t length = 0;
  bool operator==(const SmtNodePtr&) const = default;
};

// A subtree as its parent refers to it. A bare hash (no place) serves only sources that find nodes
// by hash (MemorySmtNodes); a store's roots come with their place (BlockStore::StateTreeAt).
struct SmtRef {
  SmtRef() = default;
  explicit SmtRef(const Hash32& h, SmtNodePtr p = {}) : hash(h), ptr(p) {}
  Hash32 hash{};
  SmtNodePtr ptr;
};

// Read access to stored nodes.
class SmtNodeSource {
 public:
  virtual ~SmtNodeSource() = default;
  // The node `ref` names into `out`, reusing its capacity (a tree update reads thousands of nodes
  // per block); false if absent. Implementations must be safe for concurrent readers.
  virtual bool ReadSmtNode(const SmtRef& ref, Bytes& out) const = 0;
  // The offset from which the nodes of an update made now will be stored: the node log's end.
  virtual uint64_t NextNodeOffset() const { return 0; }
  // True if nodes are found by their place, so every reference needs one (not just a hash).
  virtual bool NeedsPlaces() const { return false; }
};

// A batch of state changes: key -> new value, or nullopt to delete; in key order.
using StateChanges = std::map<Bytes, std::optional<Bytes>, BytesLess>;

struct SmtUpdate {
  Hash32 root{};
  SmtNodePtr root_ptr;  // where the root node is (or will be, once node_bytes are stored)
  // The new nodes reachable from `root`, children before parents: their bytes back to back,
  // exactly as they are to be stored from offset `base` (the places inside them assume that
  // layout), and each node's hash and place. One buffer rather than one per node: a block makes
  // tens of thousands of nodes.
  uint64_t base = 0;
  Bytes node_bytes;
  struct NewNode {
    Hash32 hash;
    SmtNodePtr ptr;
  };
  std::vector<NewNode> new_nodes;

  SmtRef root_ref() const { return SmtRef(root, root_ptr); }
  ByteView BytesOf(const NewNode& node) const {
    return ByteView(node_bytes).subspan(node.ptr.offset - base, node.ptr.length);
  }
};

// A proof of the value under `key` (presence) or of its absence, checkable with the root alone.
struct SmtProof {
  // Sibling hashes from the top of the tree down to the depth where the path ends.
  std::vector<Hash32> siblings;
  // For absence proven by another leaf occupying the path: that leaf's key hash and value hash.
  std::optional<std::pair<Hash32, Hash32>> other_leaf;
};

class SparseMerkleTree {
 public:
  // Applies changes (key -> new value, or nullopt to delete) to the tree rooted at `root`.
  // Keys are raw state keys; the tree hashes them. Deleting an absent key is a no-op.
  // With `parallel`, a batch of at least kParallelChanges is split at the root and its halves
  // updated on two threads (so `source` is read concurrently); the result is the same, byte for
  // byte.
  static Result<SmtUpdate> Update(const SmtNodeSource& source, const SmtRef& root,
                                  const StateChanges& changes, bool parallel = true);
  static constexpr size_t kParallelChanges = 1024;

  // The value under `key` in the tree rooted at `root`, or nullopt if absent.
  static Result<std::optional<Bytes>> Get(const SmtNodeSource& source, const SmtRef& root,
                                          ByteView key);

  // Proof for `key` in the tree rooted at `root` (presence or absence).
  static Result<SmtProof> Prove(const SmtNodeSource& source, const SmtRef& root, ByteView key);
};

// The hash of the subtree a stored node encodes, or nullopt if the bytes are not a node: lets a
// store check what it reads from disk against the hash the parent holds.
std::optional<Hash32> SmtNodeHash(ByteView node);

// For the store's migration from format 1, whose internal nodes had no places
// (0x00 | left hash | right hash): the children of such a node (false if `node` is not one), and
// an internal node with places.
bool SmtFormat1Children(ByteView node, Hash32& left, Hash32& right);
Bytes SmtInternalNode(const SmtRef& left, const SmtRef& right);

// True iff `proof` shows that under `root`, `key` holds `value` (or is absent when value is
// nullopt).
bool VerifySmtProof(const Hash32& root, ByteView key, const std::optional<Bytes>& value,
                    const SmtProof& proof);

// A SmtNodeSource held in memory and found by hash (node pointers are ignored): for tests, for
// building a tree before it is stored, and as the generations of the store's node cache
// (chain/node_cache.h).
class MemorySmtNodes : public SmtNodeSource {
 public:
  // `index_seed` scatters node hashes over the index; a store that holds nodes built from peers'
  // input passes a secret random seed so that nobody can grind hashes into one slot's run.
  explicit MemorySmtNodes(uint64_t index_seed = 0) : seed_(index_seed) {}
  std::optional<Bytes> GetSmtNode(const Hash32& node_hash) const;
  bool ReadSmtNode(const SmtRef& ref, Bytes& out) const override;
  void Put(const SmtUpdate& update);
  // Adds one node; a hash already held is kept as it is (the same subtree: any stored copy of it
  // serves).
  void Put(const Hash32& node_hash, ByteView bytes);
  size_t size() const { return size_; }
  // Memory held, roughly: the arena's entries and two index slots per node (the index is kept
  // between 3/8 and 3/4 full).
  size_t bytes() const { return arena_bytes_ + size_ * 2 * sizeof(Slot); }

 private:
  // Tree updates are bound by node reads, one dependent lookup per level, so the layout aims at
  // two cache misses per read: an open-addressing table of small slots (linear probing, indexed
  // by the first bytes of the node hash, which SHA-256 makes uniform) pointing into an append-only
  // arena that holds each node's full hash, length and bytes. An ordered or node-based map of
  // millions of nodes measured 2-3x slower.
  static constexpr uint32_t kEmptySlot = 0xffffffff;
  struct Slot {
    uint64_t prefix = 0;  // first 8 bytes of the node hash: the index, and a cheap first compare
    uint32_t chunk = kEmptySlot;
    uint32_t offset = 0;
  };

  const uint8_t* Find(const Hash32& node_hash, size_t& slot) const;
  size_t Home(uint64_t prefix) const;  // the first slot tried
  void Grow();

  std::vector<Slot> slots_;   // size is 0 or a power of two, at most 3/4 full
  std::vector<Bytes> arena_;  // chunks of [hash 32][length u32][bytes]; slots hold offsets, so
                              // a copy of the store is a plain copy
  size_t size_ = 0;
  size_t arena_bytes_ = 0;
  uint64_t seed_ = 0;
};

}  // namespace puhui
