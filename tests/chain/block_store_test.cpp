#include "chain/block_store.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

StateChanges Changes(std::initializer_list<std::pair<std::string, std::optional<std::string>>> kv) {
  StateChanges out;
  for (const auto& [k, v] : kv)
    out[ToBytes(k)] = v ? std::optional<Bytes>(ToBytes(*v)) : std::nullopt;
  return out;
}

// A commit of `changes` on the store's tip; `changes` and `tree` (filled here) must outlive it.
BlockCommit MakeCommit(const BlockStore& store, uint64_t height, const StateChanges& changes,
                       SmtUpdate& tree_out) {
  auto tip = store.Meta();
  auto tree = SparseMerkleTree::Update(store, *store.StateTreeAt(tip->height()), changes);
  REQUIRE(tree.ok());
  tree_out = std::move(*tree);
  BlockCommit c;
  c.height = height;
  c.block_hash = Sha256("block " + std::to_string(height));
  c.block_bytes = "block bytes " + std::to_string(height);
  c.commit_bytes = "commit " + std::to_string(height);
  c.tx_ids = {Sha256("tx a " + std::to_string(height)), Sha256("tx b " + std::to_string(height))};
  static const std::vector<std::string> kReceipts = {"receipt a", "receipt b"};
  c.receipts = kReceipts;
  c.state_changes = &changes;
  c.tree = &tree_out;
  c.meta.set_height(height);
  c.meta.set_block_hash(ToString(c.block_hash));
  c.meta.set_state_root(ToString(tree_out.root));
  c.meta.set_time_ms(1000 + height);
  return c;
}

// The store's LevelDB database alone, as an older puhuid or a damaged disk would leave it.
std::unique_ptr<leveldb::DB> OpenLevelDb(const std::string& dir) {
  leveldb::DB* raw = nullptr;
  REQUIRE(leveldb::DB::Open(leveldb::Options(), dir, &raw).ok());
  return std::unique_ptr<leveldb::DB>(raw);
}

}  // namespace

TEST_CASE("a store without genesis has no tip, and genesis is written once") {
  TempDir dir;
  auto store = BlockStore::Open(dir.path());
  REQUIRE(store.ok());
  CHECK_FALSE((*store)->Meta().has_value());
  StateChanges genesis = Changes({{"k", "v"}});
  MemorySmtNodes empty;
  auto tree = SparseMerkleTree::Update(empty, SmtRef(kZeroHash), genesis);
  REQUIRE(tree.ok());
  CHECK((*store)->InitGenesis(Sha256("g"), genesis, *tree, 7, kZeroHash).ok());
  CHECK((*store)->Meta()->height() == 0);
  CHECK((*store)->GenesisHash() == Sha256("g"));
  CHECK((*store)->InitGenesis(Sha256("g"), genesis, *tree, 7, kZeroHash).code() ==
        StatusCode::kFailedPrecondition);
}

TEST_CASE("committed blocks, indexes and state survive closing and reopening the store") {
  TempDir dir;
  Hash32 root_after_1{};
  {
    auto store = BlockStore::Open(dir.path());
    REQUIRE(store.ok());
    MemorySmtNodes empty;
    StateChanges genesis = Changes({{"a", "1"}, {"b", "2"}});
    auto tree = SparseMerkleTree::Update(empty, SmtRef(kZeroHash), genesis);
    REQUIRE((*store)->InitGenesis(Sha256("g"), genesis, *tree, 7, kZeroHash).ok());
    const StateChanges ch1 = Changes({{"a", "10"}, {"b", std::nullopt}, {"c", "3"}});
    SmtUpdate t1;
    BlockCommit c1 = MakeCommit(**store, 1, ch1, t1);
    root_after_1 = *ToHash32(AsBytes(c1.meta.state_root()));
    REQUIRE((*store)->CommitBlock(c1).ok());
    const StateChanges ch2 = Changes({{"a", "11"}});
    SmtUpdate t2;
    BlockCommit c2 = MakeCommit(**store, 2, ch2, t2);
    REQUIRE((*store)->CommitBlock(c2).ok());
  }
  auto store = BlockStore::Open(dir.path());
  REQUIRE(store.ok());
  const BlockStore& s = **store;
  CHECK(s.Meta()->height() == 2);
  CHECK(*s.GetBlock(1) == "block bytes 1");
  CHECK(*s.GetCommit(2) == "commit 2");
  CHECK(*s.HeightOfBlock(Sha256("block 2")) == 2);
  auto loc = s.GetTxLocation(Sha256("tx b 1"));
  REQUIRE(loc.has_value());
  CHECK(loc->height() == 1);
  CHECK(loc->index() == 1);
  CHECK(*s.GetReceipt(1, 1) == "receipt b");
  CHECK(**s.GetState(AsBytes("a")) == ToBytes("11"));
  CHECK_FALSE(s.GetState(AsBytes("b"))->has_value());
  // Every height's root stays readable: the value of "a" after block 1 is still provable.
  CHECK(s.StateRootAt(1) == root_after_1);
  auto old = SparseMerkleTree::Get(s, *s.StateTreeAt(1), AsBytes("a"));
  REQUIRE(old.ok());
  CHECK(**old == ToBytes("10"));
  auto latest_root = ToHash32(AsBytes(s.Meta()->state_root()));
  auto proof = SparseMerkleTree::Prove(s, *s.StateTreeAt(2), AsBytes("a"));
  REQUIRE(proof.ok());
  CHECK(VerifySmtProof(*latest_root, AsBytes("a"), ToBytes("11"), *proof));
  CHECK_FALSE(s.GetBlock(3).has_value());
  CHECK_FALSE(s.GetTxLocation(Sha256("nope")).has_value());
}

TEST_CASE("a store that another process holds open cannot be opened twice") {
  TempDir dir;
  auto first = BlockStore::Open(dir.path());
  REQUIRE(first.ok());
  auto second = BlockStore::Open(dir.path());
  CHECK(second.status().code() == StatusCode::kIoError);
}

namespace {

const char kNodeLog[] = "/tree-nodes";
const char kBlockLog[] = "/blocks";

// A store at height 2 over keys a..z, closed; returns its directory's node log size.
uintmax_t StoreAtHeightTwo(const std::string& dir) {
  auto store = BlockStore::Open(dir);
  REQUIRE(store.ok());
  StateChanges genesis;
  for (char k = 'a'; k <= 'z'; ++k) genesis[ToBytes(std::string(1, k))] = ToBytes("0");
  MemorySmtNodes empty;
  auto tree = SparseMerkleTree::Update(empty, SmtRef(kZeroHash), genesis);
  REQUIRE((*store)->InitGenesis(Sha256("g"), genesis, *tree, 7, kZeroHash).ok());
  for (uint64_t h = 1; h <= 2; ++h) {
    const StateChanges ch = Changes({{"a", std::to_string(h)}, {"q", std::to_string(h)}});
    SmtUpdate t;
    REQUIRE((*store)->CommitBlock(MakeCommit(**store, h, ch, t)).ok());
  }
  return std::filesystem::file_size(dir + kNodeLog);
}

// Reads every key's value at `height` (up to 2) through the tree and compares it with what
// StoreAtHeightTwo wrote; the first error if any (kInternal: a wrong value).
Status ReadAllThroughTree(const BlockStore& store, uint64_t height) {
  auto root = store.StateTreeAt(height);
  if (!root) return NotFound("no root");
  for (char k = 'a'; k <= 'z'; ++k) {
    auto v = SparseMerkleTree::Get(store, *root, AsBytes(std::string(1, k)));
    if (!v.ok()) return v.status();
    const bool written = (k == 'a' || k == 'q') && height > 0;
    const std::string want = written ? std::to_string(height) : "0";
    if (!v->has_value() || **v != ToBytes(want)) return Internal(std::string("wrong value: ") + k);
  }
  return Status::Ok();
}

}  // namespace

TEST_CASE(
    "what a crash left past the committed ends of both logs is cut off when the store reopens") {
  TempDir dir;
  const uintmax_t nodes_committed = StoreAtHeightTwo(dir.path());
  const uintmax_t blocks_committed = std::filesystem::file_size(dir.path() + kBlockLog);
  CHECK(blocks_committed > 0);
  for (const char* log : {kNodeLog, kBlockLog}) {
    // Block 3's nodes and entry were written, and the node stopped before the block's batch.
    std::ofstream tail(dir.path() + log, std::ios::binary | std::ios::app);
    tail << std::string(5000, 'x');
  }
  auto store = BlockStore::Open(dir.path());
  REQUIRE(store.ok());
  CHECK(std::filesystem::file_size(dir.path() + kNodeLog) == nodes_committed);
  CHECK(std::filesystem::file_size(dir.path() + kBlockLog) == blocks_committed);
  CHECK((*store)->Meta()->height() == 2);
  CHECK(ReadAllThroughTree(**store, 1).ok());
  // Block 3 commits where the cut tails were, and everything stays readable after a reopen.
  const StateChanges ch = Changes({{"b", "3"}});
  SmtUpdate t;
  REQUIRE((*store)->CommitBlock(MakeCommit(**store, 3, ch, t)).ok());
  store->reset();
  store = BlockStore::Open(dir.path());
  REQUIRE(store.ok());
  for (uint64_t h = 0; h <= 2; ++h) CHECK(ReadAllThroughTree(**store, h).ok());
  CHECK(**SparseMerkleTree::Get(**store, *(*store)->StateTreeAt(3), AsBytes("b")) == ToBytes("3"));
  for (uint64_t h = 1; h <= 3; ++h) {
    CHECK(*(*store)->GetBlock(h) == "block bytes " + std::to_string(h));
    CHECK(*(*store)->GetCommit(h) == "commit " + std::to_string(h));
    CHECK(*(*store)->GetReceipt(h, 0) == "receipt a");
    CHECK(*(*store)->GetReceipt(h, 1) == "receipt b");
    CHECK_FALSE((*store)->GetReceipt(h, 2).has_value());
  }
}

TEST_CASE("a node log or block log shorter than the store committed is refused as corruption") {
  for (const char* log : {kNodeLog, kBlockLog}) {
    CAPTURE(log);
    TempDir dir;
    StoreAtHeightTwo(dir.path());
    const uintmax_t committed = std::filesystem::file_size(dir.path() + log);
    std::filesystem::resize_file(dir.path() + log, committed - 1);
    auto store = BlockStore::Open(dir.path());
    REQUIRE(!store.ok());
    CHECK(store.status().code() == StatusCode::kCorruption);
    CHECK(store.status().message().find(log + 1) != std::string::npos);  // the file's name
  }
}

TEST_CASE("a block's receipts of any number and size are read back one by one") {
  TempDir dir;
  StoreAtHeightTwo(dir.path());
  auto store = BlockStore::Open(dir.path());
  REQUIRE(store.ok());
  const std::vector<std::vector<std::string>> blocks = {
      {}, {""}, {"one"}, {"", "x", "", std::string(70000, 'r')}};
  uint64_t height = 3;
  for (const auto& receipts : blocks) {
    const StateChanges ch = Changes({{"z", std::to_string(height)}});
    SmtUpdate t;
    BlockCommit c = MakeCommit(**store, height, ch, t);
    c.receipts = receipts;
    c.tx_ids.resize(receipts.size());
    for (size_t i = 0; i < receipts.size(); ++i)
      c.tx_ids[i] = Sha256(fmt::format("{} {}", height, i));
    REQUIRE((*store)->CommitBlock(c).ok());
    ++height;
  }
  store->reset();
  store = BlockStore::Open(dir.path());
  REQUIRE(store.ok());
  height = 3;
  for (const auto& receipts : blocks) {
    CAPTURE(height);
    CHECK(*(*store)->GetBlock(height) == "block bytes " + std::to_string(height));
    for (size_t i = 0; i < receipts.size(); ++i) {
      CHECK(*(*store)->GetReceipt(height, static_cast<uint32_t>(i)) == receipts[i]);
    }
    CHECK_FALSE((*store)->GetReceipt(height, static_cast<uint32_t>(receipts.size())).has_value());
    ++height;
  }
}

TEST_CASE("a damaged tree node reads as corruption, never as a wrong value") {
  TempDir dir;
  const uintmax_t committed = StoreAtHeightTwo(dir.path());
  // Damage one byte at a time over the whole log; a fresh store has an empty node cache, so every
  // node is read from the file.
  int noticed = 0;
  for (uintmax_t at = 0; at < committed; at += committed / 16) {
    CAPTURE(at);
    std::fstream f(dir.path() + kNodeLog, std::ios::binary | std::ios::in | std::ios::out);
    f.seekg(static_cast<std::streamoff>(at));
    const char was = static_cast<char>(f.get());
    f.seekp(static_cast<std::streamoff>(at));
    f.put(static_cast<char>(was ^ 0x20));
    f.close();
    {
      auto store = BlockStore::Open(dir.path());
      REQUIRE(store.ok());
      for (uint64_t h = 0; h <= 2; ++h) {
        const Status s = ReadAllThroughTree(**store, h);
        if (!s.ok()) {
          CHECK(s.code() == StatusCode::kCorruption);
          ++noticed;
        }
      }
    }
    std::fstream g(dir.path() + kNodeLog, std::ios::binary | std::ios::in | std::ios::out);
    g.seekp(static_cast<std::streamoff>(at));
    g.put(was);
  }
  CHECK(noticed > 0);
  {
    auto store = BlockStore::Open(dir.path());
    REQUIRE(store.ok());
    CHECK(ReadAllThroughTree(**store, 2).ok());
  }
  // The value byte of the leaf a = "2" itself: the node still decodes, so only its hash can tell.
  std::string log;
  {
    std::ifstream in(dir.path() + kNodeLog, std::ios::binary);
    log.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string leaf(
      "\x01\x00\x00\x00\x01"
      "a2",
      7);
  const size_t at = log.find(leaf);
  REQUIRE(at != std::string::npos);
  {
    std::fstream f(dir.path() + kNodeLog, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(at + 6));
    f.put('7');
  }
  auto store = BlockStore::Open(dir.path());
  REQUIRE(store.ok());
  auto got = SparseMerkleTree::Get(**store, *(*store)->StateTreeAt(2), AsBytes("a"));
  CHECK(got.status().code() == StatusCode::kCorruption);
}

// Writes, with LevelDB alone, the store format 1 made: tree nodes under `n` ‖ hash with 65-byte
// internal nodes (no places), 32-byte roots under `R`, no `V`. Heights 0..2 over keys a..z with
// a and q rewritten at each height, as StoreAtHeightTwo does; and a key deleted at height 2.
void WriteFormat1Store(const std::string& dir) {
  leveldb::DB* raw = nullptr;
  leveldb::Options options;
  options.create_if_missing = true;
  REQUIRE(leveldb::DB::Open(options, dir, &raw).ok());
  std::unique_ptr<leveldb::DB> db(raw);
  leveldb::WriteBatch batch;
  MemorySmtNodes nodes;
  SmtRef root(kZeroHash);
  auto height_key = [](char prefix, uint64_t h) {
    std::string k(1, prefix);
    for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>(h >> (8 * i)));
    return k;
  };
  for (uint64_t h = 0; h <= 2; ++h) {
    StateChanges ch;
    if (h == 0) {
      for (char k = 'a'; k <= 'z'; ++k) ch[ToBytes(std::string(1, k))] = ToBytes("0");
      ch[ToBytes("gone")] = ToBytes("soon");
    } else {
      ch = Changes({{"a", std::to_string(h)}, {"q", std::to_string(h)}});
      if (h == 2) ch[ToBytes("gone")] = std::nullopt;
    }
    auto u = SparseMerkleTree::Update(nodes, root, ch);
    REQUIRE(u.ok());
    nodes.Put(*u);
    for (const auto& node : u->new_nodes) {
      const ByteView bytes = u->BytesOf(node);
      const Hash32& hash = node.hash;
      const size_t kept = bytes[0] == 0x00 ? 65 : bytes.size();  // format 1: no places
      batch.Put("n" + ToString(hash), std::string(bytes.begin(), bytes.begin() + kept));
    }
    for (const auto& [k, v] : ch) {
      if (v)
        batch.Put("s" + ToString(k), ToString(*v));
      else
        batch.Delete("s" + ToString(k));
    }
    batch.Put(height_key('R', h), ToString(u->root));
    if (h > 0) {  // blocks, certificates and receipts as formats 1 and 2 kept them
      batch.Put(height_key('b', h), "block bytes " + std::to_string(h));
      batch.Put(height_key('c', h), "commit " + std::to_string(h));
      for (char i = 0; i < 3; ++i) {
        batch.Put(height_key('r', h) + std::string("\0\0\0", 3) + i,
                  "receipt " + std::to_string(h) + std::string(1, 'a' + i));
      }
    }
    root = SmtRef(u->root);
    pb::ChainMeta meta;
    meta.set_height(h);
    meta.set_state_root(ToString(u->root));
    batch.Put("M", meta.SerializeAsString());
  }
  batch.Put("G", ToString(Sha256("g")));
  REQUIRE(db->Write(leveldb::WriteOptions(), &batch).ok());
}

TEST_CASE("a store in the format that kept tree nodes inside LevelDB is migrated when opened") {
  TempDir dir;
  WriteFormat1Store(dir.path());
  {
    std::vector<std::string> notes;
    auto store = BlockStore::Open(dir.path(), /*durable=*/true,
                                  [&](const std::string& m) { notes.push_back(m); });
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    // The operator hears each migration start and end.
    REQUIRE(notes.size() == 4);
    CHECK(notes[0].find("format 1, migrating") != std::string::npos);
    CHECK(notes[1].find("format 2 reached") != std::string::npos);
    CHECK(notes[2].find("format 2, migrating") != std::string::npos);
    CHECK(notes[3].find("format 3 reached: 2 heights") != std::string::npos);
    for (uint64_t h = 0; h <= 2; ++h) CHECK(ReadAllThroughTree(**store, h).ok());
    auto gone = SparseMerkleTree::Get(**store, *(*store)->StateTreeAt(1), AsBytes("gone"));
    REQUIRE(gone.ok());
    CHECK(**gone == ToBytes("soon"));
    auto proof = SparseMerkleTree::Prove(**store, *(*store)->StateTreeAt(2), AsBytes("gone"));
    REQUIRE(proof.ok());
    CHECK(VerifySmtProof(*(*store)->StateRootAt(2), AsBytes("gone"), std::nullopt, *proof));
    for (uint64_t h = 1; h <= 2; ++h) {
      CHECK(*(*store)->GetBlock(h) == "block bytes " + std::to_string(h));
      CHECK(*(*store)->GetCommit(h) == "commit " + std::to_string(h));
      CHECK(*(*store)->GetReceipt(h, 0) == "receipt " + std::to_string(h) + "a");
      CHECK(*(*store)->GetReceipt(h, 2) == "receipt " + std::to_string(h) + "c");
      CHECK_FALSE((*store)->GetReceipt(h, 3).has_value());
    }
    // It goes on from there like any store.
    const StateChanges ch = Changes({{"b", "3"}});
    SmtUpdate t;
    REQUIRE((*store)->CommitBlock(MakeCommit(**store, 3, ch, t)).ok());
    CHECK(*(*store)->GetBlock(3) == "block bytes 3");
    CHECK(*(*store)->GetReceipt(3, 1) == "receipt b");
  }
  std::unique_ptr<leveldb::DB> db = OpenLevelDb(dir.path());
  std::string format;
  REQUIRE(db->Get(leveldb::ReadOptions(), "V", &format).ok());
  CHECK(format == "3");
  // The old records (tree nodes, blocks, certificates, receipts) are gone.
  for (const char* prefix : {"n", "b", "c", "r"}) {
    CAPTURE(prefix);
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
    it->Seek(prefix);
    CHECK((!it->Valid() || !it->key().starts_with(prefix)));
  }
}

TEST_CASE("a migration the node was stopped in starts again from the beginning") {
  TempDir dir;
  WriteFormat1Store(dir.path());
  {
    // Node and block logs a first attempt left half written; the store still says format 1.
    std::ofstream partial(dir.path() + kNodeLog, std::ios::binary);
    partial << std::string(1 << 20, 'x');
    std::ofstream blocks(dir.path() + kBlockLog, std::ios::binary);
    blocks << std::string(1 << 20, 'y');
  }
  auto store = BlockStore::Open(dir.path());
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  CHECK(std::filesystem::file_size(dir.path() + kNodeLog) < (1u << 20));
  CHECK(std::filesystem::file_size(dir.path() + kBlockLog) < (1u << 20));
  for (uint64_t h = 0; h <= 2; ++h) CHECK(ReadAllThroughTree(**store, h).ok());
  CHECK(*(*store)->GetBlock(2) == "block bytes 2");
  CHECK(*(*store)->GetReceipt(1, 1) == "receipt 1b");
}

TEST_CASE("a store missing a block of its chain is refused as corruption when migrated") {
  TempDir dir;
  WriteFormat1Store(dir.path());
  {
    std::unique_ptr<leveldb::DB> db = OpenLevelDb(dir.path());
    REQUIRE(db->Delete(leveldb::WriteOptions(), std::string("b\0\0\0\0\0\0\0\x02", 9)).ok());
  }
  auto store = BlockStore::Open(dir.path());
  REQUIRE(!store.ok());
  CHECK(store.status().code() == StatusCode::kCorruption);
  CHECK(store.status().message().find("height 2") != std::string::npos);
}

TEST_CASE("a format 1 store missing a tree node is refused as corruption, unchanged") {
  TempDir dir;
  WriteFormat1Store(dir.path());
  {
    std::unique_ptr<leveldb::DB> db = OpenLevelDb(dir.path());
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
    it->Seek("n");
    REQUIRE(it->Valid());
    REQUIRE(db->Delete(leveldb::WriteOptions(), it->key()).ok());
  }
  auto store = BlockStore::Open(dir.path());
  REQUIRE(!store.ok());
  CHECK(store.status().code() == StatusCode::kCorruption);
  CHECK(store.status().message().find("format 1") != std::string::npos);
  std::unique_ptr<leveldb::DB> db = OpenLevelDb(dir.path());
  std::string format;
  CHECK(db->Get(leveldb::ReadOptions(), "V", &format).IsNotFound());
}

TEST_CASE("a tree update computed against another tip is refused and changes nothing") {
  TempDir dir;
  StoreAtHeightTwo(dir.path());
  auto store = BlockStore::Open(dir.path());
  REQUIRE(store.ok());
  const StateChanges first = Changes({{"c", "3"}});
  const StateChanges other = Changes({{"d", "3"}});
  SmtUpdate t1, stale;
  BlockCommit c1 = MakeCommit(**store, 3, first, t1);
  BlockCommit c2 = MakeCommit(**store, 3, other, stale);  // laid out from the same end
  REQUIRE((*store)->CommitBlock(c1).ok());
  const uint64_t end = (*store)->NextNodeOffset();
  c2.height = 4;
  c2.meta.set_height(4);
  const Status s = (*store)->CommitBlock(c2);
  CHECK(s.code() == StatusCode::kFailedPrecondition);
  CHECK((*store)->Meta()->height() == 3);
  CHECK((*store)->NextNodeOffset() == end);
  CHECK_FALSE((*store)->GetBlock(4).has_value());
}
