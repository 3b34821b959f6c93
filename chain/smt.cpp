// Sparse Merkle tree over SHA-256 key hashes: see chain/smt.h for the contract.
//
// Tree shape (consensus-critical; every node must derive the same root from the same key set):
//   * key_hash = SHA256(key); the path of a key is the bits of key_hash, most significant bit of
//     byte 0 first (bit 0 = byte 0 & 0x80). Bit 0 picks the child of the root: 0 left, 1 right.
//   * The hash of a subtree is
//       kZeroHash                                          if it holds no leaf;
//       TaggedHash("puhui/smt/leaf", key_hash || SHA256(value))   if it holds exactly one leaf,
//                                                          whatever its depth;
//       TaggedHash("puhui/smt/node", left || right)        if it holds two or more leaves,
//     so a subtree's hash depends only on the set of leaves under it, never on the history of
//     insertions, deletions or batching. Where two or more leaves share a longer prefix than the
//     rest of their subtree, the path down to their split is a chain of internal nodes whose
//     other child is empty; an internal node never has an empty child next to a single leaf.
//
// Update sorts the batch by key hash and descends once for all of it, splitting the sorted run
// on the bit of each depth, so a node shared by many changed paths is read and rewritten once.
// Below an empty subtree or a lone leaf it builds the new subtree from the changes (and that
// leaf, unless changed); on the way up, a side left empty lets a lone leaf on the other side move
// up. A subtree whose hash comes out unchanged contributes no new nodes.
//
// Node encodings (the caller persists them in the order given; all are immutable):
//   internal (89 bytes):   0x00 | left hash (32) | right hash (32)
//                          | left offset (u64) | left length (u32) | right offset | right length
//   leaf (5 + k + v bytes): 0x01 | key length k (u32) | key (k) | value (v, the rest)
//   Integers are big-endian. A child's offset and length say where its node is stored (zero for
//   an empty child); they are not part of any hash. The leaf keeps the raw key rather than its
//   hash so that state can be enumerated and read back from any historical root; key_hash and
//   SHA256(value) are recomputed when needed. Empty subtrees are never stored: kZeroHash is not a
//   node. A leaf that moves to another depth keeps its place in the log: its bytes and hash do not
//   depend on depth.
//
// Proofs: the sibling hashes from the root down to the depth where the key's path ends (at a leaf
// or at an empty subtree). The verifier rebuilds the root from the bottom: from the key's own
// leaf (presence), from kZeroHash (absence, empty branch) or from another leaf whose key hash
// shares the path's prefix (absence, another leaf sits where the key would be).
#include "chain/smt.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>

#include "chain/hash.h"

namespace puhui {
namespace {

constexpr int kMaxDepth = 256;
constexpr uint8_t kInternalTag = 0x00;
constexpr uint8_t kLeafTag = 0x01;
constexpr size_t kPtrSize = 8 + 4;
constexpr size_t kInternalSize = 1 + 32 + 32 + 2 * kPtrSize;
constexpr size_t kLeafHeaderSize = 1 + 4;
constexpr std::string_view kLeafHashTag = "puhui/smt/leaf";
constexpr std::string_view kNodeHashTag = "puhui/smt/node";

// Tagged hashes of tree nodes; HashTag absorbs the tag prefix once per thread (chain/hash.h).
const HashTag kLeafHasher{kLeafHashTag};
const HashTag kNodeHasher{kNodeHashTag};

Hash32 LeafHash(const Hash32& key_hash, const Hash32& value_hash) {
  return kLeafHasher.Hash(key_hash, value_hash);
}
Hash32 NodeHash(const Hash32& left, const Hash32& right) { return kNodeHasher.Hash(left, right); }

bool IsZero(const Hash32& h) { return h == kZeroHash; }

int Bit(const Hash32& h, int i) { return (h[i >> 3] >> (7 - (i & 7))) & 1; }

// True iff a and b agree on their first `bits` bits.
bool SamePrefix(const Hash32& a, const Hash32& b, int bits) {
  const int bytes = bits >> 3;
  if (std::memcmp(a.data(), b.data(), bytes) != 0) return false;
  const int rest = bits & 7;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00 >> rest);
  return ((a[bytes] ^ b[bytes]) & mask) == 0;
}

void PutPtr(uint8_t* out, const SmtNodePtr& ptr) {
  WriteBigEndian(out, ptr.offset, 8);
  WriteBigEndian(out + 8, ptr.length, 4);
}

SmtNodePtr GetPtr(const uint8_t* in) {
  return {ReadBigEndian(ByteView(in, 8)),
          static_cast<uint32_t>(ReadBigEndian(ByteView(in + 8, 4)))};
}

// Where each stored child of an internal node is: see the encodings above.
constexpr size_t kLeftPtrAt = 1 + 32 + 32;
constexpr size_t kRightPtrAt = kLeftPtrAt + kPtrSize;

// Writes the internal node's kInternalSize bytes at `out`.
void WriteInternal(uint8_t* out, const SmtRef& left, const SmtRef& right) {
  out[0] = kInternalTag;
  std::memcpy(out + 1, left.hash.data(), 32);
  std::memcpy(out + 33, right.hash.data(), 32);
  PutPtr(out + kLeftPtrAt, left.ptr);
  PutPtr(out + kRightPtrAt, right.ptr);
}

size_t LeafSize(ByteView key, ByteView value) {
  return kLeafHeaderSize + key.size() + value.size();
}

// Writes the leaf's LeafSize bytes at `out`.
void WriteLeaf(uint8_t* out, ByteView key, ByteView value) {
  out[0] = kLeafTag;
  WriteBigEndian(out + 1, key.size(), 4);
  if (!key.empty()) std::memcpy(out + kLeafHeaderSize, key.data(), key.size());
  if (!value.empty()) std::memcpy(out + kLeafHeaderSize + key.size(), value.data(), value.size());
}

// A decoded node; the views point into the Bytes it was decoded from.
struct Node {
  bool leaf = false;
  SmtRef left, right;   // internal
  ByteView key, value;  // leaf
};

Status Decode(const Hash32& hash, const Bytes& bytes, Node& node) {
  if (bytes.size() == kInternalSize && bytes[0] == kInternalTag) {
    node.leaf = false;
    std::memcpy(node.left.hash.data(), bytes.data() + 1, 32);
    std::memcpy(node.right.hash.data(), bytes.data() + 33, 32);
    node.left.ptr = GetPtr(bytes.data() + kLeftPtrAt);
    node.right.ptr = GetPtr(bytes.data() + kRightPtrAt);
    // Two empty children would mean an empty subtree stored as a node: never written by Update.
    if (IsZero(node.left.hash) && IsZero(node.right.hash)) {
      return Corruption("smt node " + Hex(hash) + " has two empty children");
    }
    // An empty child has no place: anything else was not written by Update. (A stored child
    // without a place is found missing when read, in a source that needs places.)
    for (const SmtRef* child : {&node.left, &node.right}) {
      if (IsZero(child->hash) && child->ptr != SmtNodePtr{}) {
        return Corruption("smt node " + Hex(hash) + " gives an empty child a place");
      }
    }
    return Status::Ok();
  }
  if (bytes.size() >= kLeafHeaderSize && bytes[0] == kLeafTag) {
    const size_t k =
        size_t{bytes[1]} << 24 | size_t{bytes[2]} << 16 | size_t{bytes[3]} << 8 | size_t{bytes[4]};
    if (k <= bytes.size() - kLeafHeaderSize) {
      node.leaf = true;
      node.key = ByteView(bytes).subspan(kLeafHeaderSize, k);
      node.value = ByteView(bytes).subspan(kLeafHeaderSize + k);
      return Status::Ok();
    }
  }
  return Corruption("smt node " + Hex(hash) + " is malformed (" + std::to_string(bytes.size()) +
                    " bytes)");
}

// Fetches and decodes a node that the tree says exists; absence is corruption of our own store.
Status Load(const SmtNodeSource& source, const SmtRef& ref, int depth, Bytes& storage, Node& node) {
  if (!source.ReadSmtNode(ref, storage)) {
    return Corruption("smt node " + Hex(ref.hash) + " at depth " + std::to_string(depth) +
                      " is missing from the store or does not match its hash");
  }
  PUHUI_RETURN_IF_ERROR(Decode(ref.hash, storage, node));
  // In a source that finds nodes by place, children are stored before their parent (Update lays
  // them out so), and a place is not part of any hash: a damaged place pointing forward is caught
  // here, before it can lead to nodes a source hands back unchecked because it wrote them itself
  // (chain/recent_nodes.h).
  if (!node.leaf && ref.ptr.length != 0 && source.NeedsPlaces()) {
    for (const SmtRef* child : {&node.left, &node.right}) {
      const SmtNodePtr& p = child->ptr;
      if (p.length != 0 && (p.offset > ref.ptr.offset || p.length > ref.ptr.offset - p.offset)) {
        return Corruption("smt node " + Hex(ref.hash) + " at depth " + std::to_string(depth) +
                          " places a child after itself");
      }
    }
  }
  return Status::Ok();
}

// One change of a batch, with its key hashed once up front.
struct Item {
  Hash32 key_hash;
  const Bytes* key;
  const Bytes* value;  // nullptr: delete
  bool skip;           // sets an existing leaf to the value it already holds
  bool live() const { return value != nullptr && !skip; }
};

// A leaf already in the store that a batch may push down or leave alone.
struct Existing {
  Hash32 key_hash;
  SmtRef ref;
};

// A subtree after the batch. kUnknown: untouched, its kind not read (reading costs a lookup and
// is only needed when the other child becomes empty, to decide whether this one moves up).
struct Sub {
  enum Kind : uint8_t { kEmpty, kLeaf, kInternal, kUnknown };
  SmtRef ref;
  Kind kind;
};

using ItemSpan = std::span<Item>;

// Splits items (sorted by key hash and sharing their first `depth` bits) on bit `depth`.
std::pair<ItemSpan, ItemSpan> Split(ItemSpan items, int depth) {
  auto mid = std::partition_point(items.begin(), items.end(),
                                  [depth](const Item& it) { return Bit(it.key_hash, depth) == 0; });
  const auto n = static_cast<size_t>(mid - items.begin());
  return {items.first(n), items.subspan(n)};
}

class Updater {
 public:
  explicit Updater(const SmtNodeSource& source, SmtUpdate& out)
      : source_(source), out_(out), buffers_(kMaxDepth + 2) {}

  // The subtree `ref` at `depth` after applying `items` (all under this subtree).
  Status Apply(const SmtRef& ref, int depth, ItemSpan items, Sub& result) {
    if (items.empty()) {
      result = {ref, IsZero(ref.hash) ? Sub::kEmpty : Sub::kUnknown};
      return Status::Ok();
    }
    if (IsZero(ref.hash)) return Build(depth, items, nullptr, result);

    const size_t mark = out_.new_nodes.size();
    const size_t mark_bytes = out_.node_bytes.size();
    Node node;  // views into buffers_[depth], which only this level's frame uses
    PUHUI_RETURN_IF_ERROR(Load(source_, ref, depth, buffers_[depth], node));
    if (node.leaf) {
      PUHUI_RETURN_IF_ERROR(ApplyToLeaf(ref, depth, items, node, result));
    } else {
      if (depth >= kMaxDepth) {
        return Corruption("smt internal node " + Hex(ref.hash) + " below depth 256");
      }
      auto [left_items, right_items] = Split(items, depth);
      Sub left, right;
      PUHUI_RETURN_IF_ERROR(Apply(node.left, depth + 1, left_items, left));
      PUHUI_RETURN_IF_ERROR(Apply(node.right, depth + 1, right_items, right));
      PUHUI_RETURN_IF_ERROR(Combine(left, right, depth, result));
    }
    // An unchanged subtree (e.g. values rewritten with what they held) is already stored whole:
    // none of the nodes just built under it are new, and it stays where it is.
    if (result.ref.hash == ref.hash) {
      out_.new_nodes.resize(mark);
      out_.node_bytes.resize(mark_bytes);
      result.ref.ptr = ref.ptr;
    }
    return Status::Ok();
  }

  // Apply at depth 0 with the root's two subtrees updated at once: the right one on a second
  // thread, into a buffer laid out from kProvisionalBase, whose nodes then move behind the left
  // one's. The order is Apply's (left subtree, right subtree, root), so the bytes, places, nodes
  // and root are exactly Apply's.
  Status ApplySplit(const SmtRef& ref, ItemSpan items, Sub& result) {
    Node node;
    PUHUI_RETURN_IF_ERROR(Load(source_, ref, 0, buffers_[0], node));
    if (node.leaf) return Apply(ref, 0, items, result);
    auto [left_items, right_items] = Split(items, 0);
    SmtUpdate right_out;
    right_out.base = kProvisionalBase;
    right_out.new_nodes.reserve(out_.new_nodes.capacity() / 2);
    right_out.node_bytes.reserve(out_.node_bytes.capacity() / 2);
    Sub left, right;
    Status right_status = Status::Ok();
    {
      std::jthread worker([&] {
        Updater other(source_, right_out);
        right_status = other.Apply(node.right, 1, right_items, right);
      });
      PUHUI_RETURN_IF_ERROR(Apply(node.left, 1, left_items, left));
    }
    PUHUI_RETURN_IF_ERROR(right_status);
    MoveBehind(right_out, right);
    PUHUI_RETURN_IF_ERROR(Combine(left, right, 0, result));
    if (result.ref.hash == ref.hash) {  // unchanged: as in Apply
      out_.new_nodes.clear();
      out_.node_bytes.clear();
      result.ref.ptr = ref.ptr;
    }
    return Status::Ok();
  }

  // Offsets at or past this are places inside a part being built apart (ApplySplit); the node
  // log never grows this long.
  static constexpr uint64_t kProvisionalBase = uint64_t{1} << 62;

 private:
  // Appends `part` (laid out from kProvisionalBase) to this update's nodes, moving every place
  // that points into it, its nodes' own and `top`'s, to where its bytes now start.
  void MoveBehind(SmtUpdate& part, Sub& top) {
    const uint64_t at = out_.base + out_.node_bytes.size();
    auto move = [at](SmtNodePtr& p) {
      if (p.length != 0 && p.offset >= kProvisionalBase)
        p.offset = p.offset - kProvisionalBase + at;
    };
    for (SmtUpdate::NewNode& n : part.new_nodes) {
      uint8_t* bytes = part.node_bytes.data() + (n.ptr.offset - kProvisionalBase);
      if (n.ptr.length == kInternalSize && bytes[0] == kInternalTag) {
        for (size_t child_at : {kLeftPtrAt, kRightPtrAt}) {
          SmtNodePtr child = GetPtr(bytes + child_at);
          move(child);
          PutPtr(bytes + child_at, child);
        }
      }
      move(n.ptr);
      out_.new_nodes.push_back(n);
    }
    out_.node_bytes.insert(out_.node_bytes.end(), part.node_bytes.begin(), part.node_bytes.end());
    move(top.ref.ptr);
  }

  Status ApplyToLeaf(const SmtRef& ref, int depth, ItemSpan items, const Node& node, Sub& result) {
    // Find the change to this leaf's own key, if any, by raw key: the span is tiny at a leaf in
    // the usual case, and a match gives the leaf's key hash without hashing the stored key.
    Item* match = nullptr;
    for (Item& it : items) {
      if (it.key->size() == node.key.size() &&
          std::equal(node.key.begin(), node.key.end(), it.key->begin())) {
        match = &it;
        break;
      }
    }
    Existing existing{match ? match->key_hash : Sha256(node.key), ref};
    // Every item here shares the first `depth` bits of its path; a leaf stored off that path
    // means the store does not hold the tree its hashes claim.
    if (!SamePrefix(existing.key_hash, items.front().key_hash, depth)) {
      return Corruption("smt leaf " + Hex(ref.hash) + " is off its path at depth " +
                        std::to_string(depth));
    }
    const Existing* keep = &existing;
    if (match != nullptr) {
      if (match->value != nullptr && match->value->size() == node.value.size() &&
          std::equal(node.value.begin(), node.value.end(), match->value->begin())) {
        match->skip = true;  // same value: keep the stored leaf, write nothing for it
      } else {
        keep = nullptr;  // deleted, or replaced by the item's new leaf
      }
    }
    return Build(depth, items, keep, result);
  }

  // A subtree at `depth` made of the live items plus `existing` (a stored leaf), where nothing
  // else is stored: below an empty subtree or a single leaf.
  Status Build(int depth, ItemSpan items, const Existing* existing, Sub& result) {
    size_t live = existing != nullptr ? 1 : 0;
    Item* last_live = nullptr;
    for (Item& it : items) {
      if (it.live()) {
        ++live;
        last_live = &it;
        if (live > 1) break;
      }
    }
    if (live == 0) {
      result = {SmtRef(kZeroHash), Sub::kEmpty};
      return Status::Ok();
    }
    if (live == 1) {
      if (existing != nullptr) {
        result = {existing->ref, Sub::kLeaf};
      } else {
        result = {NewLeaf(*last_live), Sub::kLeaf};
      }
      return Status::Ok();
    }
    if (depth >= kMaxDepth) {
      return InvalidArgument("two state keys have the same SHA-256 hash");
    }
    auto [left_items, right_items] = Split(items, depth);
    const Existing* existing_left = nullptr;
    const Existing* existing_right = nullptr;
    if (existing != nullptr) {
      (Bit(existing->key_hash, depth) ? existing_right : existing_left) = existing;
    }
    Sub left, right;
    PUHUI_RETURN_IF_ERROR(Build(depth + 1, left_items, existing_left, left));
    PUHUI_RETURN_IF_ERROR(Build(depth + 1, right_items, existing_right, right));
    return Combine(left, right, depth, result);
  }

  // The subtree whose children are `left` and `right`, in compact form.
  Status Combine(Sub& left, Sub& right, int depth, Sub& result) {
    const bool left_empty = left.kind == Sub::kEmpty;
    const bool right_empty = right.kind == Sub::kEmpty;
    if (left_empty && right_empty) {
      result = {SmtRef(kZeroHash), Sub::kEmpty};
      return Status::Ok();
    }
    if (left_empty || right_empty) {
      Sub& only = left_empty ? right : left;
      PUHUI_RETURN_IF_ERROR(Resolve(only, depth + 1));
      if (only.kind == Sub::kLeaf) {
        result = only;  // a lone leaf moves up: its hash and bytes do not depend on depth
        return Status::Ok();
      }
    }
    result = {NewInternal(left.ref, right.ref), Sub::kInternal};
    return Status::Ok();
  }

  Status Resolve(Sub& sub, int depth) {
    if (sub.kind != Sub::kUnknown) return Status::Ok();
    Node node;  // depth is a child's level, whose frame has returned
    PUHUI_RETURN_IF_ERROR(Load(source_, sub.ref, depth, buffers_[depth], node));
    sub.kind = node.leaf ? Sub::kLeaf : Sub::kInternal;
    return Status::Ok();
  }

  SmtRef NewLeaf(const Item& item) {
    const size_t size = LeafSize(*item.key, *item.value);
    WriteLeaf(Append(size), *item.key, *item.value);
    return Placed(LeafHash(item.key_hash, Sha256(*item.value)), size);
  }

  SmtRef NewInternal(const SmtRef& left, const SmtRef& right) {
    WriteInternal(Append(kInternalSize), left, right);
    return Placed(NodeHash(left.hash, right.hash), kInternalSize);
  }

  // Room for a new node at the end of the update's bytes: it will be stored right after the node
  // before it.
  uint8_t* Append(size_t size) {
    PUHUI_CHECK(size <= UINT32_MAX, "smt node larger than 4 GiB");
    const size_t at = out_.node_bytes.size();
    out_.node_bytes.resize(at + size);
    return out_.node_bytes.data() + at;
  }

  // The node just appended (its `size` bytes end the update's bytes), listed with its place.
  SmtRef Placed(const Hash32& hash, size_t size) {
    const SmtNodePtr ptr{out_.base + out_.node_bytes.size() - size, static_cast<uint32_t>(size)};
    out_.new_nodes.push_back({hash, ptr});
    return SmtRef(hash, ptr);
  }

  const SmtNodeSource& source_;
  SmtUpdate& out_;
  std::vector<Bytes> buffers_;  // one per depth: a node read at a level lives in its buffer
};

// Where the path of `key_hash` ends under `root`: the siblings passed on the way down and the
// node found there (none: an empty subtree).
struct Walk {
  std::vector<Hash32>* siblings = nullptr;  // filled if set
  Bytes storage;
  Node leaf;
  bool found_leaf = false;
};

Status WalkPath(const SmtNodeSource& source, const SmtRef& root, const Hash32& key_hash,
                Walk& walk) {
  SmtRef at = root;
  for (int depth = 0; !IsZero(at.hash); ++depth) {
    Node node;
    PUHUI_RETURN_IF_ERROR(Load(source, at, depth, walk.storage, node));
    if (node.leaf) {
      walk.leaf = node;
      walk.found_leaf = true;
      return Status::Ok();
    }
    if (depth >= kMaxDepth) {
      return Corruption("smt internal node " + Hex(at.hash) + " below depth 256");
    }
    const bool right = Bit(key_hash, depth) != 0;
    if (walk.siblings != nullptr)
      walk.siblings->push_back(right ? node.left.hash : node.right.hash);
    at = right ? node.right : node.left;
  }
  return Status::Ok();
}

bool SameBytes(ByteView a, ByteView b) { return std::ranges::equal(a, b); }

}  // namespace

Result<SmtUpdate> SparseMerkleTree::Update(const SmtNodeSource& source, const SmtRef& root,
                                           const StateChanges& changes, bool parallel) {
  SmtUpdate update;
  update.root = root.hash;
  update.root_ptr = root.ptr;
  update.base = source.NextNodeOffset();
  if (changes.empty()) return update;
  // New nodes keep the places of the subtrees they reuse: from a root without one, they would
  // point nowhere.
  if (source.NeedsPlaces() && !IsZero(root.hash) && root.ptr.length == 0) {
    return InvalidArgument("a state tree update needs the root's place in the node log");
  }

  std::vector<Item> items;
  items.reserve(changes.size());
  for (const auto& [key, value] : changes) {
    items.push_back({Sha256(key), &key, value ? &*value : nullptr, false});
  }
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.key_hash < b.key_hash; });
  for (size_t i = 1; i < items.size(); ++i) {
    if (items[i].key_hash == items[i - 1].key_hash) {
      return InvalidArgument("two state keys have the same SHA-256 hash");
    }
  }

  // One new node per changed key per level below the levels keys share, plus its leaf: about
  // log2(tree size / batch size) + 3, which is ~10 for batches of 5,000 in a tree of a million.
  update.new_nodes.reserve(changes.size() * 12);
  update.node_bytes.reserve(changes.size() * 12 * 80);
  Updater updater(source, update);
  Sub result;
  const bool split = parallel && items.size() >= kParallelChanges && !IsZero(root.hash) &&
                     update.base < Updater::kProvisionalBase;
  PUHUI_RETURN_IF_ERROR(split ? updater.ApplySplit(root, items, result)
                              : updater.Apply(root, 0, items, result));
  update.root = result.ref.hash;
  update.root_ptr = result.ref.ptr;
  return update;
}

Result<std::optional<Bytes>> SparseMerkleTree::Get(const SmtNodeSource& source, const SmtRef& root,
                                                   ByteView key) {
  Walk walk;
  PUHUI_RETURN_IF_ERROR(WalkPath(source, root, Sha256(key), walk));
  if (!walk.found_leaf || !SameBytes(walk.leaf.key, key)) return std::optional<Bytes>();
  return std::optional<Bytes>(Bytes(walk.leaf.value.begin(), walk.leaf.value.end()));
}

Result<SmtProof> SparseMerkleTree::Prove(const SmtNodeSource& source, const SmtRef& root,
                                         ByteView key) {
  const Hash32 key_hash = Sha256(key);
  SmtProof proof;
  proof.siblings.reserve(32);
  Walk walk;
  walk.siblings = &proof.siblings;
  PUHUI_RETURN_IF_ERROR(WalkPath(source, root, key_hash, walk));
  if (walk.found_leaf && !SameBytes(walk.leaf.key, key)) {
    const Hash32 other = Sha256(walk.leaf.key);
    const int depth = static_cast<int>(proof.siblings.size());
    if (other == key_hash || !SamePrefix(other, key_hash, depth)) {
      return Corruption("smt leaf at depth " + std::to_string(depth) + " is off its path");
    }
    proof.other_leaf.emplace(other, Sha256(walk.leaf.value));
  }
  return proof;
}

std::optional<Hash32> SmtNodeHash(ByteView bytes) {
  if (bytes.size() == kInternalSize && bytes[0] == kInternalTag) {
    Hash32 left, right;
    std::memcpy(left.data(), bytes.data() + 1, 32);
    std::memcpy(right.data(), bytes.data() + 33, 32);
    return NodeHash(left, right);
  }
  if (bytes.size() >= kLeafHeaderSize && bytes[0] == kLeafTag) {
    const uint64_t k = ReadBigEndian(bytes.subspan(1, 4));
    if (k <= bytes.size() - kLeafHeaderSize) {
      return LeafHash(Sha256(bytes.subspan(kLeafHeaderSize, k)),
                      Sha256(bytes.subspan(kLeafHeaderSize + k)));
    }
  }
  return std::nullopt;
}

bool SmtFormat1Children(ByteView node, Hash32& left, Hash32& right) {
  if (node.size() != 1 + 32 + 32 || node[0] != kInternalTag) return false;
  std::memcpy(left.data(), node.data() + 1, 32);
  std::memcpy(right.data(), node.data() + 33, 32);
  return true;
}

Bytes SmtInternalNode(const SmtRef& left, const SmtRef& right) {
  Bytes out(kInternalSize);
  WriteInternal(out.data(), left, right);
  return out;
}

bool VerifySmtProof(const Hash32& root, ByteView key, const std::optional<Bytes>& value,
                    const SmtProof& proof) {
  const size_t depth = proof.siblings.size();
  if (depth > kMaxDepth) return false;
  const Hash32 key_hash = Sha256(key);

  Hash32 at;
  if (value) {
    if (proof.other_leaf) return false;
    at = LeafHash(key_hash, Sha256(*value));
  } else if (proof.other_leaf) {
    const auto& [other_key_hash, other_value_hash] = *proof.other_leaf;
    // The other leaf must sit on this key's path (so the key would be under it) and not be it.
    if (other_key_hash == key_hash) return false;
    if (!SamePrefix(other_key_hash, key_hash, static_cast<int>(depth))) return false;
    at = LeafHash(other_key_hash, other_value_hash);
  } else {
    at = kZeroHash;
  }
  // In compact form the path ends right below a node with two non-empty subtrees, so the last
  // sibling is never empty; rejecting it keeps each fact with exactly one proof.
  if (depth > 0 && IsZero(proof.siblings.back())) return false;
  for (size_t i = depth; i-- > 0;) {
    const Hash32& sibling = proof.siblings[i];
    at = Bit(key_hash, static_cast<int>(i)) ? NodeHash(sibling, at) : NodeHash(at, sibling);
  }
  return at == root;
}

namespace {
constexpr size_t kArenaChunk = size_t{1} << 20;
constexpr size_t kEntryHeader = 32 + 4;  // hash, length

uint64_t HashPrefix(const Hash32& h) {
  uint64_t x;
  std::memcpy(&x, h.data(), sizeof x);
  return x;
}
}  // namespace

size_t MemorySmtNodes::Home(uint64_t prefix) const {
  return static_cast<size_t>(Mix64(prefix ^ seed_)) & (slots_.size() - 1);
}

const uint8_t* MemorySmtNodes::Find(const Hash32& node_hash, size_t& slot) const {
  if (slots_.empty()) return nullptr;
  const uint64_t prefix = HashPrefix(node_hash);
  const size_t mask = slots_.size() - 1;
  for (size_t i = Home(prefix);; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.chunk == kEmptySlot) {
      slot = i;
      return nullptr;
    }
    if (s.prefix == prefix) {
      const uint8_t* entry = arena_[s.chunk].data() + s.offset;
      if (std::memcmp(entry, node_hash.data(), 32) == 0) {
        slot = i;
        return entry;
      }
    }
  }
}

void MemorySmtNodes::Grow() {
  std::vector<Slot> old(std::max<size_t>(1024, slots_.size() * 2));
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.chunk == kEmptySlot) continue;
    size_t i = Home(s.prefix);
    while (slots_[i].chunk != kEmptySlot) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

std::optional<Bytes> MemorySmtNodes::GetSmtNode(const Hash32& node_hash) const {
  Bytes out;
  if (!ReadSmtNode(SmtRef(node_hash), out)) return std::nullopt;
  return out;
}

bool MemorySmtNodes::ReadSmtNode(const SmtRef& ref, Bytes& out) const {
  size_t slot;
  const uint8_t* entry = Find(ref.hash, slot);
  if (entry == nullptr) return false;
  uint32_t length = 0;
  std::memcpy(&length, entry + 32, sizeof length);
  out.assign(entry + kEntryHeader, entry + kEntryHeader + length);
  return true;
}

void MemorySmtNodes::Put(const SmtUpdate& update) {
  for (const auto& node : update.new_nodes) Put(node.hash, update.BytesOf(node));
}

void MemorySmtNodes::Put(const Hash32& hash, ByteView bytes) {
  if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
  size_t slot = 0;
  if (Find(hash, slot) != nullptr) return;  // the same subtree: either copy serves
  PUHUI_CHECK(bytes.size() < kEmptySlot, "smt node too large");
  const size_t need = kEntryHeader + bytes.size();
  if (arena_.empty() || arena_.back().capacity() - arena_.back().size() < need) {
    arena_.emplace_back().reserve(std::max(kArenaChunk, need));
  }
  Bytes& chunk = arena_.back();
  const auto offset = static_cast<uint32_t>(chunk.size());
  const auto length = static_cast<uint32_t>(bytes.size());
  uint8_t header[kEntryHeader];
  std::memcpy(header, hash.data(), 32);
  std::memcpy(header + 32, &length, sizeof length);
  chunk.insert(chunk.end(), header, header + kEntryHeader);
  chunk.insert(chunk.end(), bytes.begin(), bytes.end());
  slots_[slot] = {HashPrefix(hash), static_cast<uint32_t>(arena_.size() - 1), offset};
  arena_bytes_ += need;
  ++size_;
}

}  // namespace puhui
