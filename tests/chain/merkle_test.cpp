#include "chain/merkle.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "chain/bytes.h"
#include "chain/hash.h"

namespace puhui {
namespace {

std::vector<Hash32> Leaves(size_t n) {
  std::vector<Hash32> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i)
    out.push_back(MerkleLeafHash(AsBytes("leaf-" + std::to_string(i))));
  return out;
}

Hash32 Inner(const Hash32& l, const Hash32& r) {
  Bytes b(l.begin(), l.end());
  b.insert(b.end(), r.begin(), r.end());
  return TaggedHash("puhui/merkle/inner", b);
}

TEST_CASE("a leaf hash is the tagged hash of its data") {
  CHECK(MerkleLeafHash(AsBytes("x")) == TaggedHash("puhui/merkle/leaf", AsBytes("x")));
  CHECK(Hex(MerkleLeafHash({})) ==
        "f946d9bf4b4dee33940668765dc229c0625872b795311c82a7a324c25baa0fe0");
}

TEST_CASE("small trees have the RFC 6962 shape") {
  const auto l = Leaves(8);
  CHECK(MerkleRoot({}) == kZeroHash);
  CHECK(MerkleRoot(std::span(l).first(1)) == l[0]);
  CHECK(MerkleRoot(std::span(l).first(2)) == Inner(l[0], l[1]));
  // Three leaves split 2 + 1: the odd leaf is promoted, never duplicated.
  CHECK(MerkleRoot(std::span(l).first(3)) == Inner(Inner(l[0], l[1]), l[2]));
  // Five leaves split 4 + 1.
  const Hash32 four = Inner(Inner(l[0], l[1]), Inner(l[2], l[3]));
  CHECK(MerkleRoot(std::span(l).first(5)) == Inner(four, l[4]));
  const Hash32 upper = Inner(Inner(l[4], l[5]), Inner(l[6], l[7]));
  CHECK(MerkleRoot(l) == Inner(four, upper));
}

// Roots pinned from an independent implementation of the header's definition, so that any change
// to the tree's shape or tags (which would fork the chain) is caught.
TEST_CASE("roots match the pinned reference values") {
  struct Case {
    size_t n;
    const char* root;
  };
  const Case cases[] = {
      {0, "0000000000000000000000000000000000000000000000000000000000000000"},
      {1, "8c03bccf534443e95ef16ffcba8d756ac93f9f9d6423c721c7d6295ca26dfa0f"},
      {2, "729b267716a3ab65ae24b7ccc35bdf39ce33b2bb19df94f841015c2c7ffadbbd"},
      {3, "7b1143628c38e08148144c191249dbb4420f9c104d1a4179e5304f1ea64cec00"},
      {5, "36ff78f979fe21fdc76f659db50390df6b0a290cd5e607fb44f98a5b82ce3805"},
      {8, "96d29f2e7d2176d6dffaecbc2ce48f90a8ad02f08f6ecde68a3752e5949d7603"},
      {1000, "f65f5e34662842f39dea34818ca1b6871a9454abf295b28d70a06e2a26065f58"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.n);
    CHECK(Hex(MerkleRoot(Leaves(c.n))) == c.root);
  }
}

TEST_CASE("every leaf of several tree sizes proves and verifies") {
  for (size_t n : {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 33, 100}) {
    const auto leaves = Leaves(n);
    const Hash32 root = MerkleRoot(leaves);
    for (uint64_t i = 0; i < n; ++i) {
      CAPTURE(n);
      CAPTURE(i);
      const MerkleProof p = MerkleProve(leaves, i);
      CHECK(p.index == i);
      CHECK(p.leaf_count == n);
      CHECK(MerkleVerify(root, leaves[i], p));
      // A proof binds one position: the leaf's neighbour does not verify in its place.
      if (n > 1) CHECK_FALSE(MerkleVerify(root, leaves[(i + 1) % n], p));
    }
  }
}

TEST_CASE("a proof of a large tree is short") {
  const auto leaves = Leaves(1000);
  const Hash32 root = MerkleRoot(leaves);
  const MerkleProof p = MerkleProve(leaves, 777);
  CHECK(p.path.size() <= 10);
  CHECK(MerkleVerify(root, leaves[777], p));
}

// Every leaf of a 13-leaf tree (split 8 + 4 + 1), so that both full and ragged subtrees and the
// promoted last leaf are covered.
struct ThirteenLeaves {
  std::vector<Hash32> leaves = Leaves(13);
  Hash32 root = MerkleRoot(leaves);
};

TEST_CASE("a proof with a tampered sibling hash fails") {
  ThirteenLeaves t;
  for (uint64_t i = 0; i < t.leaves.size(); ++i) {
    const MerkleProof good = MerkleProve(t.leaves, i);
    REQUIRE(MerkleVerify(t.root, t.leaves[i], good));
    for (size_t j = 0; j < good.path.size(); ++j) {
      CAPTURE(i);
      CAPTURE(j);
      MerkleProof p = good;
      p.path[j][31] ^= 0x80;
      CHECK_FALSE(MerkleVerify(t.root, t.leaves[i], p));
    }
  }
}

TEST_CASE("a proof with a wrong index fails") {
  ThirteenLeaves t;
  for (uint64_t i = 0; i < t.leaves.size(); ++i) {
    const MerkleProof good = MerkleProve(t.leaves, i);
    for (uint64_t j = 0; j < t.leaves.size(); ++j) {
      if (j == i) continue;
      CAPTURE(i);
      CAPTURE(j);
      MerkleProof p = good;
      p.index = j;
      CHECK_FALSE(MerkleVerify(t.root, t.leaves[i], p));
    }
  }
}

TEST_CASE("a proof with an index at or past the leaf count fails") {
  ThirteenLeaves t;
  MerkleProof p = MerkleProve(t.leaves, 12);
  for (uint64_t index : {uint64_t{13}, uint64_t{14}, uint64_t{16}, ~uint64_t{0}}) {
    CAPTURE(index);
    p.index = index;
    CHECK_FALSE(MerkleVerify(t.root, t.leaves[12], p));
  }
  // Even when the count is raised to match: the path no longer has the right shape.
  p.index = 13;
  p.leaf_count = 14;
  CHECK_FALSE(MerkleVerify(t.root, t.leaves[12], p));
}

TEST_CASE("a proof with a leaf count of a different tree shape fails") {
  ThirteenLeaves t;
  // Each count gives every index of the 13-leaf tree a different depth, or leaves it out of
  // range, so no relabelling of these proofs can verify.
  const uint64_t counts[] = {0, 1, 2, 4, 8, 17, 32, 33, 1'000'000, ~uint64_t{0}};
  for (uint64_t i = 0; i < t.leaves.size(); ++i) {
    const MerkleProof good = MerkleProve(t.leaves, i);
    for (uint64_t count : counts) {
      CAPTURE(i);
      CAPTURE(count);
      MerkleProof p = good;
      p.leaf_count = count;
      CHECK_FALSE(MerkleVerify(t.root, t.leaves[i], p));
    }
  }
}

// Documents the limit stated in merkle.h: only the path's shape ties a proof to a leaf count,
// which is why callers compare proof.leaf_count with the block header's count.
TEST_CASE("the root does not commit to the leaf count") {
  const auto l = Leaves(3);
  MerkleProof p = MerkleProve(l, 2);
  p.index = 1;
  p.leaf_count = 2;
  CHECK(MerkleVerify(MerkleRoot(l), l[2], p));
}

TEST_CASE("a truncated or extended proof path fails") {
  ThirteenLeaves t;
  for (uint64_t i = 0; i < t.leaves.size(); ++i) {
    CAPTURE(i);
    const MerkleProof good = MerkleProve(t.leaves, i);
    MerkleProof shorter = good;
    shorter.path.pop_back();
    CHECK_FALSE(MerkleVerify(t.root, t.leaves[i], shorter));
    MerkleProof longer = good;
    longer.path.push_back(t.root);
    CHECK_FALSE(MerkleVerify(t.root, t.leaves[i], longer));
    MerkleProof prefixed = good;
    prefixed.path.insert(prefixed.path.begin(), t.leaves[i]);
    CHECK_FALSE(MerkleVerify(t.root, t.leaves[i], prefixed));
    MerkleProof empty = good;
    empty.path.clear();
    CHECK_FALSE(MerkleVerify(t.root, t.leaves[i], empty));
  }
}

TEST_CASE("a valid proof fails against another root or for another leaf") {
  ThirteenLeaves t;
  const Hash32 other_root = MerkleRoot(Leaves(12));
  for (uint64_t i = 0; i < t.leaves.size(); ++i) {
    CAPTURE(i);
    const MerkleProof good = MerkleProve(t.leaves, i);
    CHECK_FALSE(MerkleVerify(other_root, t.leaves[i], good));
    CHECK_FALSE(MerkleVerify(t.root, MerkleLeafHash(AsBytes("stranger")), good));
  }
}

TEST_CASE("different leaf lists have different roots") {
  const auto l = Leaves(4);
  const Hash32 a = l[0], b = l[1], c = l[2], d = l[3];
  // The duplicated-last-leaf weakness of Bitcoin's tree (CVE-2012-2459) must not exist here.
  CHECK(MerkleRoot(std::vector{a, b, c}) != MerkleRoot(std::vector{a, b, c, c}));
  CHECK(MerkleRoot(std::vector{a, b}) != MerkleRoot(std::vector{b, a}));
  CHECK(MerkleRoot(std::vector{a, b, c}) != MerkleRoot(std::vector{a, b, d}));
  CHECK(MerkleRoot(std::vector{a}) != MerkleRoot(std::vector{a, a}));
  // An inner node cannot pose as a leaf: the two-leaf root differs from either leaf alone.
  CHECK(MerkleRoot(std::vector{a, b}) != a);
  // Nor can the data of a leaf reproduce an inner node: leaf and inner tags differ.
  Bytes ab(a.begin(), a.end());
  ab.insert(ab.end(), b.begin(), b.end());
  CHECK(MerkleLeafHash(ab) != Inner(a, b));
}

TEST_CASE("a single-leaf tree proves with an empty path") {
  const auto l = Leaves(1);
  const MerkleProof p = MerkleProve(l, 0);
  CHECK(p.path.empty());
  CHECK(MerkleVerify(l[0], l[0], p));
  CHECK_FALSE(MerkleVerify(kZeroHash, l[0], p));
}

}  // namespace
}  // namespace puhui
