// A small chain for the audit and proof tests: transfers and a voluntary retirement, certified by
// the test genesis's only validator, in a data directory of its own; and ways to tamper with one
// stored record of a copy of it (in LevelDB, or a block or certificate in the block log).
#pragma once

#include <doctest/doctest.h>
#include <leveldb/db.h>

#include <filesystem>
#include <fstream>

#include "certify.h"
#include "chain/block_entry.h"
#include "node/ledger.h"
#include "test_util.h"

namespace puhui::testing {

struct AuditChain {
  TempDir dir;
  std::string data = dir / "chain";

  // Blocks: 1 transfer owner→alice; 2 owner retires 1,000 g for "Expo 2026"; 3 transfer
  // alice→bob; 4 empty, so that block 2's retirement is certified by block 3.
  AuditChain() {
    auto ledger = std::move(Ledger::Open(data, TestGenesis()).value());
    auto commit = [&](std::vector<DecodedTx> txs) {
      auto b = ledger->Propose(std::move(txs), KeyOf("validator").Public(), nullptr);
      REQUIRE_MESSAGE(b.ok(), b.status().ToString());
      REQUIRE(ledger->Commit(*b, Certify(*b)).ok());
    };
    commit({Decoded(TransferBody("owner", "alice", 5000, 0), "owner")});
    pb::TxBody retire = Body("owner", 1);
    auto* r = retire.mutable_retire_voluntary();
    r->set_batch(kBatch);
    r->set_grams(1000);
    r->set_beneficiary("Expo 2026 organising committee");
    r->set_purpose(pb::RETIREMENT_PURPOSE_EVENT);
    r->set_purpose_text("event neutrality");
    commit({Decoded(retire, "owner")});
    commit({Decoded(TransferBody("alice", "bob", 700, 0), "alice")});
    commit({});
  }

  // A copy of the data directory in `to` (the original stays untouched).
  std::string Copy(const std::string& to) const {
    std::filesystem::copy(data, to, std::filesystem::copy_options::recursive);
    return to;
  }
};

// The store's key for a per-height record ('B' place in the block log, 'R' state root).
inline std::string HeightKey(char prefix, uint64_t height) {
  std::string k(1, prefix);
  for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>(height >> (8 * i) & 0xff));
  return k;
}

// Rewrites one stored record of the LevelDB store in `dir` with `change`.
template <typename F>
void TamperRecord(const std::string& dir, const std::string& key, F change) {
  leveldb::DB* raw = nullptr;
  REQUIRE(leveldb::DB::Open(leveldb::Options(), dir, &raw).ok());
  std::unique_ptr<leveldb::DB> db(raw);
  std::string value;
  REQUIRE(db->Get(leveldb::ReadOptions(), key, &value).ok());
  change(value);
  REQUIRE(db->Put(leveldb::WriteOptions(), key, value).ok());
}

enum class EntryPart { kBlock, kCommit };

// Rewrites in place the block or the certificate of `height` in the block log of the store in
// `dir` with `change`, which must keep its length.
template <typename F>
void TamperBlockLog(const std::string& dir, uint64_t height, EntryPart part, F change) {
  std::optional<BlockPlace> place;
  {
    leveldb::DB* raw = nullptr;
    REQUIRE(leveldb::DB::Open(leveldb::Options(), dir, &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    std::string value;
    REQUIRE(db->Get(leveldb::ReadOptions(), HeightKey('B', height), &value).ok());
    place = BlockPlace::Decode(value);
    REQUIRE(place.has_value());
  }
  const bool block = part == EntryPart::kBlock;
  const auto at = static_cast<std::streamoff>(block ? place->offset : place->commit_offset());
  std::string bytes(block ? place->block_length : place->commit_length, '\0');
  std::fstream f(dir + "/blocks", std::ios::binary | std::ios::in | std::ios::out);
  REQUIRE(f.seekg(at).read(bytes.data(), static_cast<std::streamsize>(bytes.size())));
  const size_t length = bytes.size();
  change(bytes);
  REQUIRE(bytes.size() == length);
  REQUIRE(f.seekp(at).write(bytes.data(), static_cast<std::streamsize>(bytes.size())));
}

}  // namespace puhui::testing
