#include "chain/merkle.h"

#include <algorithm>
#include <bit>

#include "chain/hash.h"
#include "chain/status.h"

namespace puhui {
namespace {

const HashTag kLeafTag{"puhui/merkle/leaf"};
const HashTag kInnerTag{"puhui/merkle/inner"};

Hash32 InnerHash(const Hash32& left, const Hash32& right) { return kInnerTag.Hash(left, right); }

// The largest power of two strictly below n (n >= 2): the size of the left subtree.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// Root of a non-empty range. Recursion depth is log2(n), so even billions of leaves are fine.
Hash32 SubtreeRoot(std::span<const Hash32> leaves) {
  if (leaves.size() == 1) return leaves[0];
  uint64_t k = SplitPoint(leaves.size());
  return InnerHash(SubtreeRoot(leaves.first(k)), SubtreeRoot(leaves.subspan(k)));
}

// Appends the siblings of leaves[index] from the bottom up. Each level hashes the half the leaf
// is not in, so the whole proof costs O(n) hashes.
void ProvePath(std::span<const Hash32> leaves, uint64_t index, std::vector<Hash32>& path) {
  if (leaves.size() == 1) return;
  uint64_t k = SplitPoint(leaves.size());
  if (index < k) {
    ProvePath(leaves.first(k), index, path);
    path.push_back(SubtreeRoot(leaves.subspan(k)));
  } else {
    ProvePath(leaves.subspan(k), index - k, path);
    path.push_back(SubtreeRoot(leaves.first(k)));
  }
}

}  // namespace

Hash32 MerkleLeafHash(ByteView data) { return kLeafTag.Hash(data); }

Hash32 MerkleRoot(std::span<const Hash32> leaf_hashes) {
  if (leaf_hashes.empty()) return kZeroHash;
  return SubtreeRoot(leaf_hashes);
}

MerkleProof MerkleProve(std::span<const Hash32> leaf_hashes, uint64_t index) {
  PUHUI_CHECK(index < leaf_hashes.size(), "MerkleProve index out of range");
  MerkleProof proof;
  proof.index = index;
  proof.leaf_count = leaf_hashes.size();
  ProvePath(leaf_hashes, index, proof.path);
  return proof;
}

bool MerkleVerify(const Hash32& root, const Hash32& leaf_hash, const MerkleProof& proof) {
  // Everything here comes from a peer: check it, never assert on it.
  if (proof.index >= proof.leaf_count) return false;

  // Walk down from the root as MerkleProve did, noting at each level whether the sibling is on
  // the right. The depth is at most 64, so a fixed array holds it.
  std::array<bool, 64> sibling_on_right{};
  size_t depth = 0;
  uint64_t n = proof.leaf_count;
  uint64_t i = proof.index;
  while (n > 1) {
    uint64_t k = SplitPoint(n);
    if (i < k) {
      sibling_on_right[depth++] = true;
      n = k;
    } else {
      sibling_on_right[depth++] = false;
      i -= k;
      n -= k;
    }
  }
  if (proof.path.size() != depth) return false;

  // The path is bottom-up, the walk top-down: level j of the path pairs with step depth-1-j.
  Hash32 h = leaf_hash;
  for (size_t j = 0; j < depth; ++j) {
    const Hash32& sibling = proof.path[j];
    h = sibling_on_right[depth - 1 - j] ? InnerHash(h, sibling) : InnerHash(sibling, h);
  }
  return h == root;
}

}  // namespace puhui
