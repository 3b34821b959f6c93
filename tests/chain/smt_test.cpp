// Behaviour of the sparse Merkle tree (chain/smt.h): roots depend only on the final key set, the
// stored nodes follow the documented layout, proofs verify and every tampering fails, historical
// roots stay readable, and a damaged store is reported as Corruption.
#include "chain/smt.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <random>
#include <set>

#include "chain/hash.h"

namespace puhui {
namespace {

using Changes = StateChanges;
using Model = std::map<Bytes, Bytes>;

Bytes RandomBytes(std::mt19937_64& rng, size_t min_len, size_t max_len) {
  std::uniform_int_distribution<size_t> len(min_len, max_len);
  Bytes b(len(rng));
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

Model RandomModel(std::mt19937_64& rng, size_t n) {
  Model m;
  while (m.size() < n) m[RandomBytes(rng, 1, 40)] = RandomBytes(rng, 0, 64);
  return m;
}

Hash32 Concat32(const Hash32& a, const Hash32& b, Hash32 (*f)(std::string_view, ByteView),
                std::string_view tag) {
  uint8_t buf[64];
  std::memcpy(buf, a.data(), 32);
  std::memcpy(buf + 32, b.data(), 32);
  return f(tag, ByteView(buf, 64));
}

// The spec of smt.cpp's header comment, written independently and slowly with the public hashes.
Hash32 SpecLeafHash(ByteView key, ByteView value) {
  return Concat32(Sha256(key), Sha256(value), &TaggedHash, "puhui/smt/leaf");
}
Hash32 SpecNodeHash(const Hash32& l, const Hash32& r) {
  return Concat32(l, r, &TaggedHash, "puhui/smt/node");
}
int BitOf(const Hash32& h, int i) { return (h[i / 8] >> (7 - i % 8)) & 1; }

Hash32 SpecSubtree(const std::vector<std::pair<Hash32, Hash32>>& leaves, int depth) {
  if (leaves.empty()) return kZeroHash;
  if (leaves.size() == 1) return leaves[0].second;
  std::vector<std::pair<Hash32, Hash32>> l, r;
  for (const auto& x : leaves) (BitOf(x.first, depth) ? r : l).push_back(x);
  return SpecNodeHash(SpecSubtree(l, depth + 1), SpecSubtree(r, depth + 1));
}

Hash32 SpecRoot(const Model& m) {
  std::vector<std::pair<Hash32, Hash32>> leaves;
  for (const auto& [k, v] : m) leaves.emplace_back(Sha256(k), SpecLeafHash(k, v));
  return SpecSubtree(leaves, 0);
}

// Applies `changes` to `root`, stores the new nodes and returns the new root.
Hash32 Apply(MemorySmtNodes& nodes, const Hash32& root, const Changes& changes) {
  auto u = SparseMerkleTree::Update(nodes, SmtRef(root), changes);
  REQUIRE_MESSAGE(u.ok(), u.status().ToString());
  nodes.Put(*u);
  return u->root;
}

Changes Inserts(const Model& m) {
  Changes c;
  for (const auto& [k, v] : m) c[k] = v;
  return c;
}

// Walks every node reachable from root, checking it against the documented byte layout and
// hash rules; returns the leaves found.
void CheckStoredTree(const MemorySmtNodes& nodes, const Hash32& root, Model& leaves) {
  std::function<void(const Hash32&, int, const Hash32&)> walk = [&](const Hash32& h, int depth,
                                                                    const Hash32& prefix) {
    if (h == kZeroHash) return;
    auto bytes = nodes.GetSmtNode(h);
    REQUIRE(bytes.has_value());
    REQUIRE(!bytes->empty());
    if ((*bytes)[0] == 0x00) {
      REQUIRE(bytes->size() == 89);
      Hash32 l, r;
      std::memcpy(l.data(), bytes->data() + 1, 32);
      std::memcpy(r.data(), bytes->data() + 33, 32);
      REQUIRE(SpecNodeHash(l, r) == h);
      // Each child's place (offset u64, length u32) follows the hashes; an empty child has none.
      // (Here roots are passed by hash alone, so a reused leaf may have none either: the
      // location-keyed tests below check places.)
      const auto place_is_zero = [&](size_t at) {
        return std::all_of(bytes->begin() + static_cast<long>(at),
                           bytes->begin() + static_cast<long>(at + 12),
                           [](uint8_t b) { return b == 0; });
      };
      if (l == kZeroHash) CHECK(place_is_zero(65));
      if (r == kZeroHash) CHECK(place_is_zero(77));
      Hash32 pl = prefix, pr = prefix;
      pr[depth / 8] |= static_cast<uint8_t>(0x80 >> (depth % 8));
      walk(l, depth + 1, pl);
      walk(r, depth + 1, pr);
      // Compactness: an internal node never has a lone leaf or nothing below one side only.
      if (l == kZeroHash || r == kZeroHash) {
        auto other = nodes.GetSmtNode(l == kZeroHash ? r : l);
        REQUIRE(other.has_value());
        REQUIRE((*other)[0] == 0x00);
      }
    } else {
      REQUIRE((*bytes)[0] == 0x01);
      REQUIRE(bytes->size() >= 5);
      size_t k = size_t{(*bytes)[1]} << 24 | size_t{(*bytes)[2]} << 16 | size_t{(*bytes)[3]} << 8 |
                 (*bytes)[4];
      REQUIRE(k <= bytes->size() - 5);
      Bytes key(bytes->begin() + 5, bytes->begin() + 5 + static_cast<long>(k));
      Bytes value(bytes->begin() + 5 + static_cast<long>(k), bytes->end());
      REQUIRE(SpecLeafHash(key, value) == h);
      Hash32 kh = Sha256(key);
      for (int i = 0; i < depth; ++i) REQUIRE(BitOf(kh, i) == BitOf(prefix, i));
      leaves[key] = value;
    }
  };
  walk(root, 0, kZeroHash);
}

// Hides chosen nodes, as a store that lost some writes would.
class LossySource : public SmtNodeSource {
 public:
  explicit LossySource(const MemorySmtNodes& inner) : inner_(inner) {}
  bool ReadSmtNode(const SmtRef& ref, Bytes& out) const override {
    if (hidden_.count(ref.hash)) return false;
    auto it = replaced_.find(ref.hash);
    if (it != replaced_.end()) {
      out = it->second;
      return true;
    }
    return inner_.ReadSmtNode(ref, out);
  }
  std::set<Hash32> hidden_;
  std::map<Hash32, Bytes> replaced_;

 private:
  const MemorySmtNodes& inner_;
};

TEST_CASE("smt: an empty tree has the zero root, holds nothing and proves absence") {
  MemorySmtNodes nodes;
  CHECK(Apply(nodes, kZeroHash, {}) == kZeroHash);
  auto got = SparseMerkleTree::Get(nodes, SmtRef(kZeroHash), AsBytes("k"));
  REQUIRE(got.ok());
  CHECK(!got->has_value());
  auto proof = SparseMerkleTree::Prove(nodes, SmtRef(kZeroHash), AsBytes("k"));
  REQUIRE(proof.ok());
  CHECK(proof->siblings.empty());
  CHECK(VerifySmtProof(kZeroHash, AsBytes("k"), std::nullopt, *proof));
  CHECK(!VerifySmtProof(kZeroHash, AsBytes("k"), ToBytes("v"), *proof));
  CHECK(nodes.size() == 0);
}

TEST_CASE("smt: roots follow the documented hash rules for one, two and nested leaves") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    CAPTURE(round);
    Model m = RandomModel(rng, 1 + round % 6);
    MemorySmtNodes nodes;
    Hash32 root = Apply(nodes, kZeroHash, Inserts(m));
    CHECK(root == SpecRoot(m));
    if (m.size() == 1) CHECK(root == SpecLeafHash(m.begin()->first, m.begin()->second));
    Model stored;
    CheckStoredTree(nodes, root, stored);
    CHECK(stored == m);
  }
}

TEST_CASE("smt: insert, get, update and delete") {
  MemorySmtNodes nodes;
  Hash32 r1 =
      Apply(nodes, kZeroHash, {{ToBytes("alice"), ToBytes("10")}, {ToBytes("bob"), ToBytes("20")}});
  auto get = [&](const Hash32& root, std::string_view key) {
    auto v = SparseMerkleTree::Get(nodes, SmtRef(root), AsBytes(key));
    REQUIRE(v.ok());
    return v->has_value() ? std::optional<std::string>(ToString(**v)) : std::nullopt;
  };
  CHECK(get(r1, "alice") == "10");
  CHECK(get(r1, "bob") == "20");
  CHECK(get(r1, "carol") == std::nullopt);

  Hash32 r2 =
      Apply(nodes, r1, {{ToBytes("alice"), ToBytes("11")}, {ToBytes("carol"), ToBytes("")}});
  CHECK(r2 != r1);
  CHECK(get(r2, "alice") == "11");
  CHECK(get(r2, "carol") == "");  // an empty value is a value, not a deletion

  Hash32 r3 = Apply(nodes, r2, {{ToBytes("bob"), std::nullopt}});
  CHECK(get(r3, "bob") == std::nullopt);
  CHECK(r3 == SpecRoot({{ToBytes("alice"), ToBytes("11")}, {ToBytes("carol"), ToBytes("")}}));

  Hash32 r4 =
      Apply(nodes, r3, {{ToBytes("alice"), std::nullopt}, {ToBytes("carol"), std::nullopt}});
  CHECK(r4 == kZeroHash);
}

TEST_CASE("smt: deleting an absent key and rewriting a value with itself change nothing") {
  std::mt19937_64 rng(11);
  Model m = RandomModel(rng, 200);
  MemorySmtNodes nodes;
  Hash32 root = Apply(nodes, kZeroHash, Inserts(m));

  Changes noop;
  for (int i = 0; i < 50; ++i) noop[RandomBytes(rng, 41, 50)] = std::nullopt;  // never in m
  auto it = m.begin();
  for (int i = 0; i < 50; ++i, ++it) noop[it->first] = it->second;
  auto u = SparseMerkleTree::Update(nodes, SmtRef(root), noop);
  REQUIRE(u.ok());
  CHECK(u->root == root);
  CHECK(u->new_nodes.empty());

  auto e = SparseMerkleTree::Update(nodes, SmtRef(kZeroHash), {{ToBytes("x"), std::nullopt}});
  REQUIRE(e.ok());
  CHECK(e->root == kZeroHash);
  CHECK(e->new_nodes.empty());

  // Rewriting one value with itself next to a real insertion writes only what changed.
  Changes mixed = {{m.begin()->first, m.begin()->second}, {RandomBytes(rng, 41, 50), ToBytes("n")}};
  auto mu = SparseMerkleTree::Update(nodes, SmtRef(root), mixed);
  REQUIRE(mu.ok());
  for (const auto& [h, bytes] : mu->new_nodes) CHECK(!nodes.GetSmtNode(h).has_value());
}

TEST_CASE("smt: the root depends only on the final key set, not on order or batching") {
  for (uint64_t seed : {1ull, 2ull, 3ull}) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    Model m = RandomModel(rng, 1000);
    const Hash32 spec = SpecRoot(m);

    MemorySmtNodes one_batch;
    const Hash32 r1 = Apply(one_batch, kZeroHash, Inserts(m));
    CHECK(r1 == spec);

    std::vector<std::pair<Bytes, Bytes>> shuffled(m.begin(), m.end());
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    MemorySmtNodes ten_batches;
    Hash32 r10 = kZeroHash;
    for (size_t b = 0; b < 10; ++b) {
      Changes c;
      for (size_t i = b * 100; i < (b + 1) * 100; ++i) c[shuffled[i].first] = shuffled[i].second;
      const size_t before = ten_batches.size();
      auto u = SparseMerkleTree::Update(ten_batches, SmtRef(r10), c);
      REQUIRE(u.ok());
      for (const auto& [h, bytes] : u->new_nodes) CHECK(!ten_batches.GetSmtNode(h).has_value());
      ten_batches.Put(*u);
      CHECK(ten_batches.size() == before + u->new_nodes.size());
      r10 = u->root;
    }
    CHECK(r10 == spec);

    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    MemorySmtNodes singles;
    Hash32 rs = kZeroHash;
    for (const auto& [k, v] : shuffled) rs = Apply(singles, rs, {{k, v}});
    CHECK(rs == spec);

    // Extra keys added then removed, interleaved with changes, leave no trace (leaves move up).
    Model extra = RandomModel(rng, 300);
    Hash32 rx = Apply(singles, rs, Inserts(extra));
    Changes remove;
    for (const auto& [k, v] : extra) {
      if (!m.count(k)) remove[k] = std::nullopt;
    }
    Model expected = m;
    for (const auto& [k, v] : extra) expected[k] = v;
    for (const auto& [k, v] : remove) expected.erase(k);
    rx = Apply(singles, rx, remove);
    CHECK(rx == SpecRoot(expected));
    Model stored;
    CheckStoredTree(singles, rx, stored);
    CHECK(stored == expected);

    // Deleting everything, in shuffled batches of varying size, gives the empty tree.
    std::vector<Bytes> keys;
    for (const auto& [k, v] : expected) keys.push_back(k);
    std::shuffle(keys.begin(), keys.end(), rng);
    Hash32 rd = rx;
    Model left = expected;
    for (size_t i = 0; i < keys.size();) {
      const size_t n = std::min(keys.size() - i, 1 + static_cast<size_t>(rng() % 150));
      Changes c;
      for (size_t j = i; j < i + n; ++j) {
        c[keys[j]] = std::nullopt;
        left.erase(keys[j]);
      }
      rd = Apply(singles, rd, c);
      CHECK(rd == SpecRoot(left));
      i += n;
    }
    CHECK(rd == kZeroHash);
  }
}

TEST_CASE("smt: mixed batches of inserts, updates and deletes match the spec root") {
  const uint64_t seed = 20240601;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  MemorySmtNodes nodes;
  Model model;
  Hash32 root = kZeroHash;
  for (int round = 0; round < 40; ++round) {
    CAPTURE(round);
    Changes c;
    std::vector<Bytes> existing;
    for (const auto& [k, v] : model) existing.push_back(k);
    for (int i = 0; i < 60; ++i) {
      const int op = static_cast<int>(rng() % 3);
      if (op == 0 || existing.empty()) {
        c[RandomBytes(rng, 1, 8)] = RandomBytes(rng, 0, 16);  // short keys: some repeat
      } else if (op == 1) {
        c[existing[rng() % existing.size()]] = RandomBytes(rng, 0, 16);
      } else {
        c[existing[rng() % existing.size()]] = std::nullopt;
      }
    }
    for (const auto& [k, v] : c) {
      if (v)
        model[k] = *v;
      else
        model.erase(k);
    }
    auto u = SparseMerkleTree::Update(nodes, SmtRef(root), c);
    REQUIRE(u.ok());
    nodes.Put(*u);
    root = u->root;
    REQUIRE(root == SpecRoot(model));
  }
  Model stored;
  CheckStoredTree(nodes, root, stored);
  CHECK(stored == model);
}

TEST_CASE("smt: presence and absence proofs verify for many keys") {
  const uint64_t seed = 99;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  Model m = RandomModel(rng, 1000);
  MemorySmtNodes nodes;
  Hash32 root = Apply(nodes, kZeroHash, Inserts(m));

  for (const auto& [k, v] : m) {
    auto p = SparseMerkleTree::Prove(nodes, SmtRef(root), k);
    REQUIRE(p.ok());
    CHECK(!p->other_leaf.has_value());
    CHECK(VerifySmtProof(root, k, v, *p));
    CHECK(!VerifySmtProof(root, k, std::nullopt, *p));
  }
  int empty_branch = 0, other_leaf = 0;
  for (int i = 0; i < 2000; ++i) {
    Bytes k = RandomBytes(rng, 41, 48);
    auto p = SparseMerkleTree::Prove(nodes, SmtRef(root), k);
    REQUIRE(p.ok());
    (p->other_leaf ? other_leaf : empty_branch)++;
    CHECK(VerifySmtProof(root, k, std::nullopt, *p));
    CHECK(!VerifySmtProof(root, k, ToBytes("v"), *p));
  }
  CHECK(empty_branch > 0);
  CHECK(other_leaf > 0);

  // A tree of one leaf: the root is the leaf, proofs have no siblings.
  MemorySmtNodes single;
  Hash32 r1 = Apply(single, kZeroHash, {{ToBytes("only"), ToBytes("1")}});
  auto p1 = SparseMerkleTree::Prove(single, SmtRef(r1), AsBytes("only"));
  REQUIRE(p1.ok());
  CHECK(p1->siblings.empty());
  CHECK(VerifySmtProof(r1, AsBytes("only"), ToBytes("1"), *p1));
  auto p2 = SparseMerkleTree::Prove(single, SmtRef(r1), AsBytes("other"));
  REQUIRE(p2.ok());
  CHECK(p2->other_leaf.has_value());
  CHECK(VerifySmtProof(r1, AsBytes("other"), std::nullopt, *p2));
}

TEST_CASE("smt: every tampering of a proof fails") {
  const uint64_t seed = 5;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  Model m = RandomModel(rng, 300);
  MemorySmtNodes nodes;
  Hash32 root = Apply(nodes, kZeroHash, Inserts(m));
  std::vector<Bytes> keys;
  for (const auto& [k, v] : m) keys.push_back(k);

  auto tamper_all = [&](const Bytes& key, const std::optional<Bytes>& value, const SmtProof& p) {
    REQUIRE(VerifySmtProof(root, key, value, p));
    for (size_t i = 0; i < p.siblings.size(); ++i) {
      for (int bit : {0, 77, 255}) {
        SmtProof t = p;
        t.siblings[i][bit / 8] ^= static_cast<uint8_t>(1 << (bit % 8));
        CHECK(!VerifySmtProof(root, key, value, t));
      }
      if (p.siblings[i] != kZeroHash) {  // chain nodes have empty siblings already
        SmtProof z = p;
        z.siblings[i] = kZeroHash;
        CHECK(!VerifySmtProof(root, key, value, z));
      }
    }
    if (!p.siblings.empty()) {
      SmtProof shorter = p;
      shorter.siblings.pop_back();
      CHECK(!VerifySmtProof(root, key, value, shorter));
      SmtProof dropped_top = p;
      dropped_top.siblings.erase(dropped_top.siblings.begin());
      CHECK(!VerifySmtProof(root, key, value, dropped_top));
    }
    for (const Hash32& extra : {kZeroHash, Sha256(std::string_view("x"))}) {
      SmtProof longer = p;
      longer.siblings.push_back(extra);
      CHECK(!VerifySmtProof(root, key, value, longer));
    }
    Hash32 other_root = root;
    other_root[3] ^= 1;
    CHECK(!VerifySmtProof(other_root, key, value, p));
    // A proof for one key never speaks for another.
    Bytes other_key = key;
    other_key.push_back(0);
    CHECK(!VerifySmtProof(root, other_key, value, p));
    // Presence turned into absence and back.
    CHECK(!VerifySmtProof(root, key, value ? std::nullopt : std::optional<Bytes>(ToBytes("v")), p));
    if (value) {
      Bytes wrong = *value;
      wrong.push_back(1);
      CHECK(!VerifySmtProof(root, key, wrong, p));
      SmtProof with_other = p;
      with_other.other_leaf.emplace(Sha256(std::string_view("a")), Sha256(*value));
      CHECK(!VerifySmtProof(root, key, value, with_other));
    } else if (p.other_leaf) {
      SmtProof t = p;
      t.other_leaf->first[31] ^= 1;
      CHECK(!VerifySmtProof(root, key, value, t));
      t = p;
      t.other_leaf->second[0] ^= 0x80;
      CHECK(!VerifySmtProof(root, key, value, t));
      t = p;
      t.other_leaf->first = Sha256(key);  // the "other" leaf may not be the key itself
      CHECK(!VerifySmtProof(root, key, value, t));
      t = p;
      t.other_leaf.reset();  // claims an empty branch where a leaf sits
      CHECK(!VerifySmtProof(root, key, value, t));
    } else {
      SmtProof t = p;
      t.other_leaf.emplace(Sha256(key), Sha256(std::string_view("v")));
      CHECK(!VerifySmtProof(root, key, value, t));
    }
  };

  for (int i = 0; i < 40; ++i) {
    const Bytes& k = keys[rng() % keys.size()];
    auto p = SparseMerkleTree::Prove(nodes, SmtRef(root), k);
    REQUIRE(p.ok());
    tamper_all(k, m[k], *p);
  }
  int other = 0, empty = 0;
  for (int i = 0; i < 200 && (other < 20 || empty < 20); ++i) {
    Bytes k = RandomBytes(rng, 41, 48);
    auto p = SparseMerkleTree::Prove(nodes, SmtRef(root), k);
    REQUIRE(p.ok());
    (p->other_leaf ? other : empty)++;
    tamper_all(k, std::nullopt, *p);
  }
  CHECK(other > 0);
  CHECK(empty > 0);

  // Someone else's presence proof does not show this key's absence.
  auto pa = SparseMerkleTree::Prove(nodes, SmtRef(root), keys[0]);
  REQUIRE(pa.ok());
  CHECK(!VerifySmtProof(root, keys[1], std::nullopt, *pa));
  CHECK(!VerifySmtProof(root, keys[1], m[keys[0]], *pa));
}

TEST_CASE("smt: proofs longer than 256 siblings are rejected") {
  SmtProof p;
  p.siblings.assign(257, Sha256(std::string_view("s")));
  // Even one whose siblings fold to the root it is checked against.
  Bytes key = ToBytes("k");
  const Hash32 kh = Sha256(key);
  Hash32 at = kZeroHash;
  for (size_t i = p.siblings.size(); i-- > 0;) {
    const int bit = i < 256 ? BitOf(kh, static_cast<int>(i)) : 0;
    at = bit ? SpecNodeHash(p.siblings[i], at) : SpecNodeHash(at, p.siblings[i]);
  }
  CHECK(!VerifySmtProof(at, key, std::nullopt, p));
  p.siblings.resize(1000);
  CHECK(!VerifySmtProof(at, key, std::nullopt, p));
}

TEST_CASE("smt: old roots still give old values after later updates") {
  const uint64_t seed = 31;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  MemorySmtNodes nodes;
  std::vector<std::pair<Hash32, Model>> history;
  Model model;
  Hash32 root = kZeroHash;
  for (int version = 0; version < 12; ++version) {
    Changes c;
    for (int i = 0; i < 40; ++i) c[RandomBytes(rng, 1, 6)] = RandomBytes(rng, 1, 8);
    int deletes = 0;
    for (const auto& [k, v] : model) {
      if (deletes++ < 10 && rng() % 2) c[k] = std::nullopt;
    }
    for (const auto& [k, v] : c) {
      if (v)
        model[k] = *v;
      else
        model.erase(k);
    }
    root = Apply(nodes, root, c);
    history.emplace_back(root, model);
  }
  for (const auto& [old_root, old_model] : history) {
    for (const auto& [k, v] : old_model) {
      auto got = SparseMerkleTree::Get(nodes, SmtRef(old_root), k);
      REQUIRE(got.ok());
      REQUIRE(got->has_value());
      CHECK(**got == v);
      auto p = SparseMerkleTree::Prove(nodes, SmtRef(old_root), k);
      REQUIRE(p.ok());
      CHECK(VerifySmtProof(old_root, k, v, *p));
    }
    // Keys of the final version that an older one did not hold read as absent there.
    for (const auto& [k, v] : model) {
      if (old_model.count(k)) continue;
      auto got = SparseMerkleTree::Get(nodes, SmtRef(old_root), k);
      REQUIRE(got.ok());
      CHECK(!got->has_value());
    }
  }
}

TEST_CASE("smt: a store with a missing or malformed node yields Corruption, not a crash") {
  const uint64_t seed = 77;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  Model m = RandomModel(rng, 200);
  MemorySmtNodes nodes;
  auto u = SparseMerkleTree::Update(nodes, SmtRef(kZeroHash), Inserts(m));
  REQUIRE(u.ok());
  nodes.Put(*u);
  const Hash32 root = u->root;
  std::vector<Bytes> keys;
  for (const auto& [k, v] : m) keys.push_back(k);

  auto expect_corruption_somewhere = [&](const LossySource& src) {
    // Every key's path crosses the root; at least one read of each kind must notice.
    int seen = 0;
    for (const Bytes& k : keys) {
      auto g = SparseMerkleTree::Get(src, SmtRef(root), k);
      auto p = SparseMerkleTree::Prove(src, SmtRef(root), k);
      auto up = SparseMerkleTree::Update(src, SmtRef(root), {{k, ToBytes("new")}});
      auto del = SparseMerkleTree::Update(src, SmtRef(root), {{k, std::nullopt}});
      for (const Status* s : {&g.status(), &p.status(), &up.status(), &del.status()}) {
        if (!s->ok()) {
          CHECK(s->code() == StatusCode::kCorruption);
          ++seen;
        }
      }
    }
    return seen;
  };

  {
    LossySource src(nodes);
    src.hidden_.insert(root);
    CHECK(expect_corruption_somewhere(src) == static_cast<int>(4 * keys.size()));
  }
  // Each stored node hidden in turn (a sample of them): someone's read must fail with Corruption.
  for (size_t i = 0; i < u->new_nodes.size(); i += 37) {
    LossySource src(nodes);
    src.hidden_.insert(u->new_nodes[i].hash);
    CHECK(expect_corruption_somewhere(src) > 0);
  }
  // Malformed bytes under a node's hash.
  for (const Bytes& bad : {Bytes{}, Bytes{0x00, 1, 2}, Bytes{0x01, 0, 0, 0, 9, 'a'}, Bytes{0x07},
                           Bytes(65, 0), Bytes(89, 0)}) {
    LossySource src(nodes);
    src.replaced_[root] = bad;
    CHECK(expect_corruption_somewhere(src) == static_cast<int>(4 * keys.size()));
  }
  // A leaf stored off its own path: another leaf's bytes under this leaf's hash.
  {
    std::vector<std::pair<Hash32, Bytes>> left_leaves, right_leaves;  // by first path bit
    for (const auto& node : u->new_nodes) {
      const ByteView bytes = u->BytesOf(node);
      if (bytes[0] != 0x01) continue;
      const Hash32 kh = Sha256(bytes.subspan(5, bytes[4]));
      (BitOf(kh, 0) ? right_leaves : left_leaves)
          .emplace_back(node.hash, Bytes(bytes.begin(), bytes.end()));
    }
    REQUIRE(!left_leaves.empty());
    REQUIRE(!right_leaves.empty());
    LossySource src(nodes);
    src.replaced_[left_leaves[0].first] = right_leaves[0].second;
    CHECK(expect_corruption_somewhere(src) > 0);
  }
  // Missing nodes during a collapse: deleting next to a subtree whose node is gone.
  {
    MemorySmtNodes two;
    Hash32 r = Apply(two, kZeroHash, {{ToBytes("a"), ToBytes("1")}, {ToBytes("b"), ToBytes("2")}});
    LossySource src(two);
    src.hidden_.insert(SpecLeafHash(AsBytes("b"), AsBytes("2")));
    auto d = SparseMerkleTree::Update(src, SmtRef(r), {{ToBytes("a"), std::nullopt}});
    // The remaining leaf must be read to know it moves up to the root.
    REQUIRE(!d.ok());
    CHECK(d.status().code() == StatusCode::kCorruption);
  }
}

TEST_CASE("smt: the memory store keeps every node readable across growth, large nodes and copies") {
  MemorySmtNodes nodes;
  SmtUpdate u;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 5000; ++i) {
    Bytes b = RandomBytes(rng, 0, 100);
    u.new_nodes.push_back({Sha256(b), {u.node_bytes.size(), static_cast<uint32_t>(b.size())}});
    u.node_bytes.insert(u.node_bytes.end(), b.begin(), b.end());
  }
  Bytes big(3 << 20, 0xab);  // larger than an arena chunk
  u.new_nodes.push_back({Sha256(big), {u.node_bytes.size(), static_cast<uint32_t>(big.size())}});
  u.node_bytes.insert(u.node_bytes.end(), big.begin(), big.end());
  nodes.Put(u);
  nodes.Put(u);  // content-addressed: putting again adds nothing
  std::set<Hash32> distinct;
  for (const auto& n : u.new_nodes) distinct.insert(n.hash);
  CHECK(nodes.size() == distinct.size());
  MemorySmtNodes copy = nodes;
  for (const auto& n : u.new_nodes) {
    auto got = nodes.GetSmtNode(n.hash);
    REQUIRE(got.has_value());
    const ByteView want = u.BytesOf(n);
    CHECK(*got == Bytes(want.begin(), want.end()));
    CHECK(copy.GetSmtNode(n.hash) == got);
  }
  CHECK(!nodes.GetSmtNode(Sha256(std::string_view("absent"))).has_value());
  CHECK(!MemorySmtNodes().GetSmtNode(kZeroHash).has_value());
}

// A store that finds nodes only by their place, as the block store's node log does: one byte
// array, each update's nodes appended at the offset the update was laid out from.
class LogSource : public SmtNodeSource {
 public:
  bool ReadSmtNode(const SmtRef& ref, Bytes& out) const override {
    reads_.fetch_add(1, std::memory_order_relaxed);  // a large update reads from two threads
    if (ref.ptr.length == 0 || ref.ptr.offset + ref.ptr.length > log_.size()) return false;
    const auto first = log_.begin() + static_cast<long>(ref.ptr.offset);
    out.assign(first, first + ref.ptr.length);
    return true;
  }
  uint64_t NextNodeOffset() const override { return log_.size(); }
  bool NeedsPlaces() const override { return true; }

  // Stores an update's nodes where it said they would be; returns its root with its place.
  SmtRef Store(const SmtUpdate& u) {
    REQUIRE(u.base == log_.size());
    // Each node lands at the place its parent was given: its hash is what the parent holds. The
    // nodes tile the bytes exactly: nothing discarded during the update is left in them.
    uint64_t next = u.base;
    for (const auto& n : u.new_nodes) {
      CHECK(n.ptr.offset == next);
      next += n.ptr.length;
      CHECK(SmtNodeHash(u.BytesOf(n)) == n.hash);
    }
    CHECK(next == u.base + u.node_bytes.size());
    log_.insert(log_.end(), u.node_bytes.begin(), u.node_bytes.end());
    return u.root_ref();
  }
  size_t reads() const { return reads_.load(); }
  // Overwrites stored bytes, as a damaged disk would.
  void Damage(uint64_t offset, ByteView bytes) {
    REQUIRE(offset + bytes.size() <= log_.size());
    std::copy(bytes.begin(), bytes.end(), log_.begin() + static_cast<long>(offset));
  }

 private:
  Bytes log_;
  mutable std::atomic<size_t> reads_ = 0;
};

TEST_CASE("smt: a damaged place that points a child after its parent is refused as corruption") {
  // Node layout (chain/smt.cpp): internal = tag | left hash | right hash | left place | right
  // place, each place an offset u64 and a length u32, big-endian.
  constexpr size_t kLeftPlace = 1 + 32 + 32, kRightPlace = kLeftPlace + 12, kInternal = 89;
  LogSource log;
  Changes c;
  for (int i = 0; i < 64; ++i) c[ToBytes("key-" + std::to_string(i))] = ToBytes("v");
  auto u = SparseMerkleTree::Update(log, SmtRef(kZeroHash), c);
  REQUIRE(u.ok());
  const SmtRef root = log.Store(*u);
  auto place_at = [&](const SmtNodePtr& node, size_t at) {
    Bytes bytes;
    REQUIRE(log.ReadSmtNode(SmtRef(kZeroHash, node), bytes));
    REQUIRE(bytes.size() == kInternal);
    return SmtNodePtr{ReadBigEndian(ByteView(bytes).subspan(at, 8)),
                      static_cast<uint32_t>(ReadBigEndian(ByteView(bytes).subspan(at + 8, 4)))};
  };
  // The root's left child: an internal node, stored before the root's whole right subtree.
  const SmtNodePtr left = place_at(root.ptr, kLeftPlace);
  const SmtNodePtr right = place_at(root.ptr, kRightPlace);
  REQUIRE(left.offset < right.offset);
  // A key under the left child's left child, found before the damage.
  Bytes key;
  for (const auto& [k, v] : c) {
    const Hash32 h = Sha256(k);
    if ((h[0] & 0xc0) == 0) key = k;
  }
  REQUIRE(!key.empty());
  REQUIRE(SparseMerkleTree::Get(log, root, key).value() == ToBytes("v"));
  // The left child now says its left child is the root's right child, stored after it. The
  // source hands bytes back unchecked (as the block store does for its recent blocks), so only
  // the order of places stops the walk from reading another subtree and calling the key absent.
  Bytes damaged(12);
  WriteBigEndian(damaged.data(), right.offset, 8);
  WriteBigEndian(damaged.data() + 8, right.length, 4);
  log.Damage(left.offset + kLeftPlace, damaged);
  auto got = SparseMerkleTree::Get(log, root, key);
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().code() == StatusCode::kCorruption);
  CHECK(got.status().message().find("places a child after itself") != std::string::npos);
}

TEST_CASE("smt: a tree found by its nodes' places gives the same roots, values and proofs") {
  const uint64_t seed = 41;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  LogSource log;
  std::vector<std::pair<SmtRef, Model>> history;
  Model model;
  SmtRef root(kZeroHash);
  // Batches that insert, rewrite and delete, so that leaves are pushed down by new neighbours and
  // move up when a neighbour goes: a moved leaf keeps its place and must still be found there.
  for (int version = 0; version < 30; ++version) {
    Changes c;
    const int inserts = version < 5 ? 60 : 15;
    for (int i = 0; i < inserts; ++i) c[RandomBytes(rng, 1, 6)] = RandomBytes(rng, 1, 8);
    for (const auto& [k, v] : model) {
      const auto roll = rng() % 8;
      if (roll == 0) c[k] = std::nullopt;
      if (roll == 1) c[k] = RandomBytes(rng, 1, 8);
      if (roll == 2) c[k] = v;  // rewritten with what it held: nothing new for it
    }
    for (const auto& [k, v] : c) {
      if (v)
        model[k] = *v;
      else
        model.erase(k);
    }
    auto u = SparseMerkleTree::Update(log, root, c);
    REQUIRE_MESSAGE(u.ok(), u.status().ToString());
    root = log.Store(*u);
    REQUIRE(root.hash == SpecRoot(model));
    CHECK((root.hash == kZeroHash) == (root.ptr.length == 0));
    history.emplace_back(root, model);
  }
  // Down to a single leaf and back: the root is then a leaf, found by its own place.
  {
    Changes c;
    auto it = model.begin();
    for (++it; it != model.end(); ++it) c[it->first] = std::nullopt;
    auto u = SparseMerkleTree::Update(log, root, c);
    REQUIRE(u.ok());
    root = log.Store(*u);
    model.erase(std::next(model.begin()), model.end());
    REQUIRE(root.hash == SpecRoot(model));
    history.emplace_back(root, model);
  }
  for (const auto& [old_root, old_model] : history) {
    for (const auto& [k, v] : old_model) {
      auto got = SparseMerkleTree::Get(log, old_root, k);
      REQUIRE_MESSAGE(got.ok(), got.status().ToString());
      REQUIRE(got->has_value());
      CHECK(**got == v);
      auto p = SparseMerkleTree::Prove(log, old_root, k);
      REQUIRE(p.ok());
      CHECK(VerifySmtProof(old_root.hash, k, v, *p));
    }
    const Bytes absent = ToBytes("never written");
    auto got = SparseMerkleTree::Get(log, old_root, absent);
    REQUIRE(got.ok());
    CHECK(!got->has_value());
  }
  CHECK(log.reads() > 0);
  // A root given by hash alone cannot be updated in such a store: the new nodes would point to
  // children without a place.
  auto placeless = SparseMerkleTree::Update(log, SmtRef(root.hash), {{ToBytes("k"), ToBytes("v")}});
  CHECK(placeless.status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("smt: a large batch split over two threads gives one thread's nodes, places and root") {
  std::mt19937_64 rng(43);
  LogSource log;
  Model model = RandomModel(rng, 3000);
  SmtRef root = log.Store(*SparseMerkleTree::Update(log, SmtRef(kZeroHash), Inserts(model)));
  REQUIRE(root.hash == SpecRoot(model));

  // Each batch is at least kParallelChanges: a mix of inserts, rewrites and deletes; the same
  // values again (nothing new at all); and all but one key deleted (the root becomes a leaf).
  auto mixed = [&] {
    Changes c;
    for (const auto& [k, v] : model) {
      const auto roll = rng() % 4;
      if (roll == 0) c[k] = std::nullopt;
      if (roll == 1) c[k] = RandomBytes(rng, 1, 8);
      if (roll == 2) c[k] = v;
    }
    while (c.size() < 2 * SparseMerkleTree::kParallelChanges) {
      c[RandomBytes(rng, 1, 40)] = RandomBytes(rng, 0, 16);
    }
    return c;
  };
  auto same = [&] {
    Changes c;
    for (const auto& [k, v] : model) c[k] = v;
    return c;
  };
  auto all_but_one = [&] {
    Changes c;
    for (auto it = std::next(model.begin()); it != model.end(); ++it) c[it->first] = std::nullopt;
    return c;
  };
  for (const auto& make : std::vector<std::function<Changes()>>{mixed, same, mixed, all_but_one}) {
    const Changes c = make();
    REQUIRE(c.size() >= SparseMerkleTree::kParallelChanges);
    auto one = SparseMerkleTree::Update(log, root, c, /*parallel=*/false);
    auto two = SparseMerkleTree::Update(log, root, c, /*parallel=*/true);
    REQUIRE_MESSAGE(one.ok(), one.status().ToString());
    REQUIRE_MESSAGE(two.ok(), two.status().ToString());
    CHECK(two->root == one->root);
    CHECK(two->root_ptr == one->root_ptr);
    CHECK(two->base == one->base);
    CHECK(two->node_bytes == one->node_bytes);
    REQUIRE(two->new_nodes.size() == one->new_nodes.size());
    for (size_t i = 0; i < one->new_nodes.size(); ++i) {
      CHECK(two->new_nodes[i].hash == one->new_nodes[i].hash);
      CHECK(two->new_nodes[i].ptr == one->new_nodes[i].ptr);
    }
    for (const auto& [k, v] : c) {
      if (v)
        model[k] = *v;
      else
        model.erase(k);
    }
    root = log.Store(*two);
    REQUIRE(root.hash == SpecRoot(model));
    for (const auto& [k, v] : model) {
      auto got = SparseMerkleTree::Get(log, root, k);
      REQUIRE(got.ok());
      REQUIRE(got->has_value());
      CHECK(**got == v);
    }
  }
  CHECK(model.size() == 1);
}

TEST_CASE("smt: a stored node's hash is computed from its bytes, and non-nodes have none") {
  MemorySmtNodes nodes;
  Model m = {{ToBytes("a"), ToBytes("1")}, {ToBytes("b"), ToBytes("2")}, {ToBytes("c"), {}}};
  auto u = SparseMerkleTree::Update(nodes, SmtRef(kZeroHash), Inserts(m));
  REQUIRE(u.ok());
  for (const auto& n : u->new_nodes) CHECK(SmtNodeHash(u->BytesOf(n)) == n.hash);
  CHECK(SmtNodeHash(Bytes{}) == std::nullopt);
  CHECK(SmtNodeHash(Bytes(65, 0)) == std::nullopt);  // the 65-byte internal node of format 1
  CHECK(SmtNodeHash(Bytes{0x01, 0, 0, 0, 9, 'a'}) == std::nullopt);
  CHECK(SmtNodeHash(Bytes{0x07}) == std::nullopt);
}

}  // namespace
}  // namespace puhui
