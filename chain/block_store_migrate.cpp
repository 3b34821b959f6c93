// The block store's migrations from older formats (chain/store_keys.h lists them), run by
// BlockStore::Open. Each writes the new files first and switches the format in one synced
// batch at the end, so a migration stopped half way starts again from the beginning; the old
// records are deleted only after the switch.
#include <fmt/format.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <functional>
#include <unordered_map>

#include "chain/block_entry.h"
#include "chain/block_store.h"
#include "chain/hash.h"
#include "chain/store_keys.h"

namespace puhui {

using namespace store_keys;

Status BlockStore::MigrateFromFormat1(const std::string& dir, const Note& note) {
  const std::string path = dir + "/" + kNodeLogName;
  note(fmt::format(
      "store {}: format 1, migrating: writing the state tree of heights 0..{} into {} (every node "
      "is read once; stopping now is safe, the next start begins again)",
      dir, meta_->height(), kNodeLogName));
  auto opened = AppendLog::Open(path, durable_, AppendLog::Reads::kScattered);
  if (!opened.ok()) return opened.status();
  AppendLog& log = **opened;
  PUHUI_RETURN_IF_ERROR(log.Truncate(0));  // what an interrupted migration left

  // Every node is written once, however many roots share it (a node of one root is mostly also
  // a node of the next), children before parents; `placed` remembers where each one went.
  std::unordered_map<Hash32, SmtNodePtr, SeededHash32> placed;  // looked up, never iterated
  Bytes pending;  // nodes placed but not yet written, back to back
  uint64_t written = 0, next = 0;
  auto flush = [&]() -> Status {
    auto end = log.Append(written, pending);
    if (!end.ok()) return end.status();
    written = *end;
    pending.clear();
    return Status::Ok();
  };
  std::function<Result<SmtNodePtr>(const Hash32&, int)> place =
      [&](const Hash32& hash, int depth) -> Result<SmtNodePtr> {
    if (hash == kZeroHash) return SmtNodePtr{};
    if (auto it = placed.find(hash); it != placed.end()) return it->second;
    auto raw = GetRaw(HashKey(kFormat1NodePrefix, hash).str());
    if (!raw) return Corruption(fmt::format("format 1 store: tree node {} is missing", Hex(hash)));
    Bytes bytes(raw->begin(), raw->end());
    Hash32 left, right;
    if (depth < 256 && SmtFormat1Children(bytes, left, right)) {
      auto l = place(left, depth + 1);
      if (!l.ok()) return l.status();
      auto r = place(right, depth + 1);
      if (!r.ok()) return r.status();
      bytes = SmtInternalNode(SmtRef(left, *l), SmtRef(right, *r));
    }
    if (SmtNodeHash(bytes) != hash) {
      return Corruption(
          fmt::format("format 1 store: tree node {} does not match its hash", Hex(hash)));
    }
    const SmtNodePtr ptr{next, static_cast<uint32_t>(bytes.size())};
    next += bytes.size();
    pending.insert(pending.end(), bytes.begin(), bytes.end());
    placed.emplace(hash, ptr);
    if (pending.size() >= (8u << 20)) PUHUI_RETURN_IF_ERROR(flush());
    return ptr;
  };

  leveldb::WriteBatch batch;
  for (uint64_t height = 0; height <= meta_->height(); ++height) {
    auto raw = GetRaw(HeightKey(kRootPrefix, height));
    if (!raw || raw->size() != 32) {
      return Corruption(fmt::format("format 1 store: no state root for height {}", height));
    }
    const Hash32 root = *ToHash32(AsBytes(*raw));
    auto ptr = place(root, 0);
    if (!ptr.ok()) return ptr.status();
    batch.Put(HeightKey(kRootPrefix, height), RootValue(root, *ptr));
  }
  PUHUI_RETURN_IF_ERROR(flush());
  batch.Put(kNodeLogEndKey, U64Value(written));
  batch.Put(kFormatKey, "2");
  leveldb::WriteOptions wo;
  wo.sync = durable_;
  leveldb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return IoError("migrating the store to format 2: " + s.ToString());
  note(fmt::format("store {}: format 2 reached: {} tree nodes, {} bytes", dir, placed.size(),
                   written));
  return Status::Ok();
}

Status BlockStore::MigrateFromFormat2(const std::string& dir, const Note& note) {
  const std::string path = dir + "/" + kBlockLogName;
  note(fmt::format(
      "store {}: format 2, migrating: moving the blocks, certificates and receipts of heights "
      "1..{} into {} (stopping now is safe, the next start begins again)",
      dir, meta_->height(), kBlockLogName));
  auto opened = AppendLog::Open(path, durable_, AppendLog::Reads::kSequential);
  if (!opened.ok()) return opened.status();
  AppendLog& log = **opened;
  PUHUI_RETURN_IF_ERROR(log.Truncate(0));  // what an interrupted migration left

  Bytes pending;  // entries placed but not yet written
  uint64_t written = 0;
  leveldb::WriteBatch batch;
  leveldb::WriteOptions wo;
  wo.sync = durable_;
  auto write_batch = [&]() -> Status {
    leveldb::Status s = db_->Write(wo, &batch);
    if (!s.ok()) return IoError("migrating the store to format 3: " + s.ToString());
    batch.Clear();
    return Status::Ok();
  };
  std::vector<std::string> receipts;
  // One iterator for every height's receipts: a new one per height would merge over every table
  // file each time.
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  for (uint64_t height = 1; height <= meta_->height(); ++height) {
    auto block = GetRaw(HeightKey(kFormat2BlockPrefix, height));
    auto commit = GetRaw(HeightKey(kFormat2CommitPrefix, height));
    if (!block || !commit) {
      return Corruption(
          fmt::format("format 2 store: the block or certificate of height {} is "
                      "missing; restore the data directory from a backup",
                      height));
    }
    receipts.clear();
    const std::string prefix = HeightKey(kFormat2ReceiptPrefix, height);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (it->key() != Format2ReceiptKey(height, static_cast<uint32_t>(receipts.size()))) {
        return Corruption(fmt::format(
            "format 2 store: the receipts of height {} are not numbered 0, 1, ...", height));
      }
      receipts.push_back(it->value().ToString());
    }
    if (!it->status().ok()) return IoError("reading the store: " + it->status().ToString());
    const BlockPlace place = AppendBlockEntry(pending, written, *block, *commit, receipts);
    batch.Put(HeightKey(kBlockPlacePrefix, height), place.Encode());
    if (pending.size() >= (8u << 20)) {
      auto end = log.Append(written, pending);
      if (!end.ok()) return end.status();
      written = *end;
      pending.clear();
      // Places of written entries only; harmless until `V` says 3 (a new attempt rewrites them).
      PUHUI_RETURN_IF_ERROR(write_batch());
      note(fmt::format("store {}: moved blocks up to height {} of {}", dir, height,
                       meta_->height()));
    }
  }
  auto end = log.Append(written, pending);
  if (!end.ok()) return end.status();
  batch.Put(kBlockLogEndKey, U64Value(*end));
  batch.Put(kFormatKey, kFormat);
  PUHUI_RETURN_IF_ERROR(write_batch());
  note(fmt::format("store {}: format 3 reached: {} heights, {} bytes of blocks", dir,
                   meta_->height(), *end));
  return Status::Ok();
}

Status BlockStore::RemoveOldRecords() {
  for (const char prefix :
       {kFormat1NodePrefix, kFormat2BlockPrefix, kFormat2CommitPrefix, kFormat2ReceiptPrefix}) {
    const std::string p(1, prefix);
    std::string from = p;  // each round starts after the last key deleted, not over tombstones
    for (;;) {
      leveldb::WriteBatch batch;
      size_t n = 0;
      {
        std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
        for (it->Seek(from); it->Valid() && it->key().starts_with(p) && n < 10'000;
             it->Next(), ++n) {
          batch.Delete(it->key());
          from = it->key().ToString();
        }
        if (!it->status().ok()) return IoError("reading the store: " + it->status().ToString());
      }
      if (n == 0) break;
      leveldb::Status s = db_->Write(leveldb::WriteOptions(), &batch);
      if (!s.ok()) return IoError("removing records of an older store format: " + s.ToString());
    }
  }
  return Status::Ok();
}

}  // namespace puhui
