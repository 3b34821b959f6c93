#include "chain/block_store.h"

#include <doctest/doctest.h>

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
  auto tree = SparseMerkleTree::Update(store, *ToHash32(AsBytes(tip->state_root())), changes);
  REQUIRE(tree.ok());
  tree_out = std::move(*tree);
  BlockCommit c;
  c.height = height;
  c.block_hash = Sha256("block " + std::to_string(height));
  c.block_bytes = "block bytes " + std::to_string(height);
  c.commit_bytes = "commit " + std::to_string(height);
  c.tx_ids = {Sha256("tx a " + std::to_string(height)), Sha256("tx b " + std::to_string(height))};
  c.receipts = {"receipt a", "receipt b"};
  c.state_changes = &changes;
  c.smt_nodes = tree_out.new_nodes;
  c.meta.set_height(height);
  c.meta.set_block_hash(ToString(c.block_hash));
  c.meta.set_state_root(ToString(tree_out.root));
  c.meta.set_time_ms(1000 + height);
  return c;
}

}  // namespace

TEST_CASE("a store without genesis has no tip, and genesis is written once") {
  TempDir dir;
  auto store = BlockStore::Open(dir.path());
  REQUIRE(store.ok());
  CHECK_FALSE((*store)->Meta().has_value());
  StateChanges genesis = Changes({{"k", "v"}});
  MemorySmtNodes empty;
  auto tree = SparseMerkleTree::Update(empty, kZeroHash, genesis);
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
    auto tree = SparseMerkleTree::Update(empty, kZeroHash, genesis);
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
  auto old = SparseMerkleTree::Get(s, root_after_1, AsBytes("a"));
  REQUIRE(old.ok());
  CHECK(**old == ToBytes("10"));
  auto latest_root = ToHash32(AsBytes(s.Meta()->state_root()));
  auto proof = SparseMerkleTree::Prove(s, *latest_root, AsBytes("a"));
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
