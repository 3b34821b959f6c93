#include "chain/pread_env.h"

#include <doctest/doctest.h>

#include <fstream>
#include <memory>
#include <string>

#include "chain/block_store.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

// The lines of /proc/self/maps that map one of LevelDB's table files into this process.
int MappedTableFiles() {
  std::ifstream maps("/proc/self/maps");
  int count = 0;
  for (std::string line; std::getline(maps, line);)
    if (line.ends_with(".ldb") || line.ends_with(".sst")) ++count;
  return count;
}

std::unique_ptr<leveldb::RandomAccessFile> OpenRead(const std::string& path,
                                                    leveldb::Status& status) {
  leveldb::RandomAccessFile* file = nullptr;
  status = PreadEnv()->NewRandomAccessFile(path, &file);
  return std::unique_ptr<leveldb::RandomAccessFile>(file);
}

}  // namespace

TEST_CASE("the pread environment reads at offsets and gives a short read at the end of a file") {
  TempDir dir;
  const std::string path = dir.path() + "/f";
  std::ofstream(path) << "0123456789";
  leveldb::Status status;
  auto file = OpenRead(path, status);
  REQUIRE(status.ok());
  char scratch[16];
  leveldb::Slice got;
  REQUIRE(file->Read(3, 4, &got, scratch).ok());
  CHECK(got.ToString() == "3456");
  REQUIRE(file->Read(8, 10, &got, scratch).ok());
  CHECK(got.ToString() == "89");
  REQUIRE(file->Read(20, 4, &got, scratch).ok());
  CHECK(got.empty());
  CHECK(MappedTableFiles() == 0);
}

TEST_CASE("the pread environment refuses a missing file with a not-found status") {
  TempDir dir;
  leveldb::Status status;
  auto file = OpenRead(dir.path() + "/missing.ldb", status);
  CHECK(status.IsNotFound());
  CHECK(file == nullptr);
  CHECK(status.ToString().find("missing.ldb") != std::string::npos);
}

TEST_CASE("a store reads its table files without mapping them into memory") {
  TempDir dir;
  StateChanges state;
  for (int i = 0; i < 1000; ++i)
    state[ToBytes("key " + std::to_string(i))] = ToBytes(std::string(100, char('a' + i % 26)));
  MemorySmtNodes empty;
  auto tree = SparseMerkleTree::Update(empty, SmtRef(kZeroHash), state);
  REQUIRE(tree.ok());
  {
    auto store = BlockStore::Open(dir.path());
    REQUIRE(store.ok());
    REQUIRE((*store)->InitGenesis(Sha256("g"), state, *tree, 7, kZeroHash).ok());
  }
  // Reopening turns the write-ahead log into a table file, which every read below goes through.
  auto store = BlockStore::Open(dir.path());
  REQUIRE(store.ok());
  bool has_table = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    has_table = has_table || entry.path().extension() == ".ldb";
  REQUIRE(has_table);
  for (int i = 0; i < 1000; i += 37) {
    auto value = (*store)->GetState(ToBytes("key " + std::to_string(i)));
    REQUIRE(value.ok());
    REQUIRE(value->has_value());
    CHECK(**value == ToBytes(std::string(100, char('a' + i % 26))));
  }
  auto through_tree = SparseMerkleTree::Get(**store, *(*store)->StateTreeAt(0), AsBytes("key 7"));
  REQUIRE(through_tree.ok());
  CHECK(through_tree->has_value());
  CHECK(MappedTableFiles() == 0);
}
