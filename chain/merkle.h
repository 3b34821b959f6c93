// Binary Merkle tree over a list of leaves, with inclusion proofs (the shape of RFC 6962):
//   leaf hash  = TaggedHash("puhui/merkle/leaf", data)
//   inner hash = TaggedHash("puhui/merkle/inner", left || right)
// An n-leaf tree splits at the largest power of two below n, so no leaf is ever duplicated and
// two different lists never share a root. The root of an empty list is kZeroHash.
#pragma once

#include <span>
#include <vector>

#include "chain/bytes.h"

namespace puhui {

Hash32 MerkleLeafHash(ByteView data);

struct MerkleProof {
  uint64_t index = 0;        // position of the leaf
  uint64_t leaf_count = 0;   // number of leaves in the tree
  std::vector<Hash32> path;  // sibling hashes from the leaf up to the root
};

// Root over already-hashed leaves (each from MerkleLeafHash).
Hash32 MerkleRoot(std::span<const Hash32> leaf_hashes);
// Proof that leaf_hashes[index] is in the tree. index must be < leaf_hashes.size().
MerkleProof MerkleProve(std::span<const Hash32> leaf_hashes, uint64_t index);
// True if `leaf_hash` sits at proof.index of a proof.leaf_count-leaf tree with root `root`.
// The root does not commit to the leaf count, and counts that give the same path shape verify
// alike (a proof for leaf 2 of 3 also passes as leaf 1 of 2). So before trusting proof.index,
// check proof.leaf_count against an authenticated count, such as BlockHeader.tx_count.
bool MerkleVerify(const Hash32& root, const Hash32& leaf_hash, const MerkleProof& proof);

}  // namespace puhui
