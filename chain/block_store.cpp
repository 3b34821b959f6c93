#include "chain/block_store.h"

#include <fmt/format.h>
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "chain/block_entry.h"
#include "chain/hash.h"
#include "chain/pread_env.h"
#include "chain/store_keys.h"

namespace puhui {

using namespace store_keys;

namespace {

// The store key of a state key, into `out` (reused across a block's thousands of changes).
void StateKeyInto(std::string& out, ByteView key) {
  out.assign(1, kStatePrefix);
  out.append(AsString(key));
}

std::string StateKey(ByteView key) {
  std::string k;
  StateKeyInto(k, key);
  return k;
}

// A height's state values and tree root; the tree's nodes are already in the node log, which
// now ends at `log_end`.
void AddState(leveldb::WriteBatch& batch, uint64_t height, const StateChanges& changes,
              const SmtUpdate& tree, uint64_t log_end) {
  std::string key_buffer;
  for (const auto& [key, value] : changes) {
    StateKeyInto(key_buffer, key);
    if (value) {
      batch.Put(key_buffer, ToSlice(*value));
    } else {
      batch.Delete(key_buffer);
    }
  }
  batch.Put(HeightKey(kRootPrefix, height), RootValue(tree.root, tree.root_ptr));
  batch.Put(kNodeLogEndKey, U64Value(log_end));
}

}  // namespace

Result<std::unique_ptr<BlockStore>> BlockStore::Open(const std::string& dir, bool durable,
                                                     const Note& note) {
  std::unique_ptr<BlockStore> store(new BlockStore());
  store->durable_ = durable;
  store->cache_.reset(leveldb::NewLRUCache(64 << 20));
  store->filter_.reset(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  // What LevelDB holds (state values, indexes keyed by hashes) compresses poorly: compression
  // would be wasted work.
  // The write buffer (memtable; LevelDB holds up to two) is 32 MiB: larger ones made every insert
  // of a block's batch walk a deeper skip list, out of the CPU's caches, and cost memory; smaller
  // ones flush and compact too often (the attestation ingest of 1,000,000 records: 39 s at
  // 128 MiB, 34 s at 32 MiB, with 330 MiB less resident memory).
  options.write_buffer_size = 32 << 20;
  options.max_file_size = 32 << 20;
  options.compression = leveldb::kNoCompression;
  options.block_cache = store->cache_.get();
  options.filter_policy = store->filter_.get();
  // Table files are read with pread, not mapped (chain/pread_env.h), and each open one holds a
  // descriptor: 256 of them cover 8 GiB of tables before any is reopened, and leave the rest of
  // the process's descriptors to peers and RPC clients.
  options.env = PreadEnv();
  options.max_open_files = 256;
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, dir, &db);
  if (!s.ok()) {
    if (s.IsCorruption()) return Corruption(fmt::format("store {}: {}", dir, s.ToString()));
    return IoError(fmt::format("cannot open store {}: {}", dir, s.ToString()));
  }
  store->db_.reset(db);
  if (auto raw = store->GetRaw(kMetaKey)) {
    pb::ChainMeta meta;
    if (!meta.ParseFromString(*raw)) return Corruption("store: chain meta record does not parse");
    store->meta_ = meta;
    const auto format = store->GetRaw(kFormatKey).value_or("1");
    if (format != "1" && format != "2" && format != kFormat) {
      return FailedPrecondition(fmt::format(
          "store {} is in format {}, and this puhuid reads format {} (docs/formats.md): it was "
          "written by a newer puhuid; run that one",
          dir, format, kFormat));
    }
    const Note say = note ? note : [](const std::string&) {};
    if (format == "1") PUHUI_RETURN_IF_ERROR(store->MigrateFromFormat1(dir, say));
    if (format != kFormat) PUHUI_RETURN_IF_ERROR(store->MigrateFromFormat2(dir, say));
  }
  PUHUI_RETURN_IF_ERROR(store->OpenLogs(dir));
  PUHUI_RETURN_IF_ERROR(store->RemoveOldRecords());
  return store;
}

Result<std::unique_ptr<AppendLog>> BlockStore::OpenLog(const std::string& path, const char* end_key,
                                                       AppendLog::Reads reads,
                                                       std::string_view holds, uint64_t& end) {
  auto log = AppendLog::Open(path, durable_, reads);
  if (!log.ok()) return log.status();
  end = 0;
  if (meta_) {
    auto raw = GetRaw(end_key);
    if (!raw || raw->size() != 8) {
      return Corruption(fmt::format("store: no committed end of {}", path));
    }
    end = ReadBigEndian(AsBytes(*raw));
  }
  const uint64_t size = (*log)->size_on_open();
  if (size < end) {
    return Corruption(fmt::format(
        "{} holds {} bytes, but the store committed {} up to byte {}: the file was cut short or "
        "replaced; restore the whole data directory from one backup",
        path, size, holds, end));
  }
  // What a block being committed when the node stopped wrote: never part of the chain.
  if (size > end) PUHUI_RETURN_IF_ERROR((*log)->Truncate(end));
  return log;
}

Status BlockStore::OpenLogs(const std::string& dir) {
  auto nodes = OpenLog(dir + "/" + kNodeLogName, kNodeLogEndKey, AppendLog::Reads::kScattered,
                       "tree nodes", node_log_end_);
  if (!nodes.ok()) return nodes.status();
  node_log_ = std::move(*nodes);
  auto blocks = OpenLog(dir + "/" + kBlockLogName, kBlockLogEndKey, AppendLog::Reads::kSequential,
                        "blocks", block_log_end_);
  if (!blocks.ok()) return blocks.status();
  block_log_ = std::move(*blocks);
  return Status::Ok();
}

uint64_t BlockStore::NextNodeOffset() const {
  std::lock_guard lock(meta_mu_);
  return node_log_end_;
}

Result<uint64_t> BlockStore::AppendNodes(const SmtUpdate& tree) {
  const uint64_t end = NextNodeOffset();
  if (tree.base != end) {
    return FailedPrecondition(fmt::format(
        "the state tree update was laid out from byte {} of the node log, which now ends at {}: "
        "it was computed against another tip",
        tree.base, end));
  }
  return node_log_->Append(end, tree.node_bytes);
}

BlockStore::~BlockStore() {
  db_.reset();  // before the cache and filter it uses
}

std::optional<std::string> BlockStore::GetRaw(const std::string& key) const {
  std::string value;
  leveldb::Status s = db_->Get(leveldb::ReadOptions(), key, &value);
  if (!s.ok()) return std::nullopt;
  return value;
}

std::optional<pb::ChainMeta> BlockStore::Meta() const {
  std::lock_guard lock(meta_mu_);
  return meta_;
}

std::optional<Hash32> BlockStore::GenesisHash() const {
  auto raw = GetRaw(kGenesisKey);
  if (!raw) return std::nullopt;
  return ToHash32(AsBytes(*raw));
}

Status BlockStore::InitGenesis(const Hash32& genesis_hash, const StateChanges& state,
                               const SmtUpdate& tree, uint64_t genesis_time_ms,
                               const Hash32& validators_hash) {
  if (Meta()) return FailedPrecondition("store already holds a chain; genesis runs once");
  pb::ChainMeta meta;
  meta.set_height(0);
  meta.set_state_root(ToString(tree.root));
  meta.set_receipts_root(ToString(kZeroHash));
  meta.set_block_hash(ToString(kZeroHash));
  meta.set_time_ms(genesis_time_ms);
  meta.set_validators_hash(ToString(validators_hash));

  auto log_end = AppendNodes(tree);
  if (!log_end.ok()) return log_end.status();
  leveldb::WriteBatch batch;
  AddState(batch, 0, state, tree, *log_end);
  batch.Put(kBlockLogEndKey, U64Value(0));  // empty: genesis is not a block
  batch.Put(kFormatKey, kFormat);
  batch.Put(kGenesisKey, ToSlice(genesis_hash));
  batch.Put(kMetaKey, meta.SerializeAsString());
  leveldb::WriteOptions wo;
  wo.sync = durable_;
  leveldb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return IoError("writing genesis: " + s.ToString());
  recent_nodes_.Add(tree.base, tree.node_bytes);
  std::lock_guard lock(meta_mu_);
  meta_ = meta;
  node_log_end_ = *log_end;
  return Status::Ok();
}

Status BlockStore::CommitBlock(const BlockCommit& c) {
  auto tip = Meta();
  if (!tip) return FailedPrecondition("store has no genesis");
  PUHUI_CHECK(c.meta.height() == c.height && c.height == tip->height() + 1,
              fmt::format("commit of height {} onto tip {}", c.height, tip->height()));
  PUHUI_CHECK(c.tx_ids.size() == c.receipts.size(), "one receipt per transaction");
  PUHUI_CHECK(c.state_changes != nullptr && c.tree != nullptr,
              "a block commit carries its state changes and tree");
  PUHUI_CHECK(c.meta.state_root() == AsString(ByteView(c.tree->root)),
              "the new tip's state root is the tree's");

  // The tree nodes and the block's records first: if the node stops before the batch below is
  // written, they lie past the committed ends and are cut off when it starts again. The two logs
  // do not depend on each other, so a helper thread writes and syncs the node log while this one
  // writes the block log and builds the batch. Only the batch waits for both.
  Result<uint64_t> log_end = Internal("the node log was not written");
  std::jthread node_writer([&] { log_end = AppendNodes(*c.tree); });  // joined on every return

  uint64_t blocks_end = 0;
  {
    std::lock_guard lock(meta_mu_);
    blocks_end = block_log_end_;
  }
  Bytes entry;
  const BlockPlace place =
      AppendBlockEntry(entry, blocks_end, c.block_bytes, c.commit_bytes, c.receipts);
  auto new_blocks_end = block_log_->Append(blocks_end, entry);
  leveldb::WriteBatch batch;
  batch.Put(HeightKey(kBlockPlacePrefix, c.height), place.Encode());
  batch.Put(kBlockLogEndKey, U64Value(blocks_end + entry.size()));
  batch.Put(HashKey(kHashPrefix, c.block_hash).slice(), U64Value(c.height));
  // In key order: LevelDB inserts each record into its skip list from the top, and consecutive
  // keys walk mostly the same nodes, still in the CPU's caches (the state changes below come in
  // key order already).
  std::vector<uint32_t> by_id(c.tx_ids.size());
  for (uint32_t i = 0; i < by_id.size(); ++i) by_id[i] = i;
  std::sort(by_id.begin(), by_id.end(),
            [&](uint32_t a, uint32_t b) { return c.tx_ids[a] < c.tx_ids[b]; });
  for (uint32_t i : by_id) {
    pb::TxLocation loc;
    loc.set_height(c.height);
    loc.set_index(i);
    batch.Put(HashKey(kTxPrefix, c.tx_ids[i]).slice(), loc.SerializeAsString());
  }
  AddState(batch, c.height, *c.state_changes, *c.tree, c.tree->base + c.tree->node_bytes.size());
  batch.Put(kMetaKey, c.meta.SerializeAsString());

  node_writer.join();
  if (!log_end.ok()) return log_end.status();
  if (!new_blocks_end.ok()) return new_blocks_end.status();
  PUHUI_CHECK(*log_end == c.tree->base + c.tree->node_bytes.size() &&
                  *new_blocks_end == blocks_end + entry.size(),
              "a log's end is not where its records end");
  leveldb::WriteOptions wo;
  wo.sync = durable_;
  leveldb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return IoError(fmt::format("writing block {}: {}", c.height, s.ToString()));
  // Only now: after a failed batch the same places would be written again with other nodes.
  recent_nodes_.Add(c.tree->base, c.tree->node_bytes);
  std::lock_guard lock(meta_mu_);
  meta_ = c.meta;
  node_log_end_ = *log_end;
  block_log_end_ = *new_blocks_end;
  return Status::Ok();
}

Result<std::optional<Bytes>> BlockStore::GetState(ByteView key) const {
  std::string value;
  leveldb::Status s = db_->Get(leveldb::ReadOptions(), StateKey(key), &value);
  if (s.IsNotFound()) return std::optional<Bytes>();
  if (!s.ok()) return IoError("reading state: " + s.ToString());
  return std::optional<Bytes>(Bytes(value.begin(), value.end()));
}

Result<std::vector<std::pair<Bytes, Bytes>>> BlockStore::ScanState(ByteView prefix, ByteView after,
                                                                   size_t limit) const {
  std::vector<std::pair<Bytes, Bytes>> out;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  const std::string start = StateKey(after.size() > prefix.size() ? after : prefix);
  const std::string first = StateKey(prefix);
  for (it->Seek(start); it->Valid() && out.size() < limit; it->Next()) {
    leveldb::Slice k = it->key();
    if (!k.starts_with(first)) break;
    if (after.size() > prefix.size() && k == leveldb::Slice(start)) continue;
    Bytes key(k.data() + 1, k.data() + k.size());
    Bytes value(it->value().data(), it->value().data() + it->value().size());
    out.emplace_back(std::move(key), std::move(value));
  }
  if (!it->status().ok()) return IoError("scanning state: " + it->status().ToString());
  return out;
}

std::optional<Hash32> BlockStore::StateRootAt(uint64_t height) const {
  auto tree = StateTreeAt(height);
  if (!tree) return std::nullopt;
  return tree->hash;
}

std::optional<SmtRef> BlockStore::StateTreeAt(uint64_t height) const {
  auto raw = GetRaw(HeightKey(kRootPrefix, height));
  if (!raw || raw->size() != 32 + 8 + 4) return std::nullopt;
  const std::string_view v(*raw);
  SmtRef ref;
  std::memcpy(ref.hash.data(), v.data(), 32);
  ref.ptr.offset = ReadBigEndian(AsBytes(v.substr(32, 8)));
  ref.ptr.length = static_cast<uint32_t>(ReadBigEndian(AsBytes(v.substr(40, 4))));
  return ref;
}

std::optional<BlockPlace> BlockStore::PlaceOf(uint64_t height) const {
  auto raw = GetRaw(HeightKey(kBlockPlacePrefix, height));
  if (!raw) return std::nullopt;
  auto place = BlockPlace::Decode(*raw);
  std::lock_guard lock(meta_mu_);
  if (!place || place->end() > block_log_end_) return std::nullopt;  // only committed bytes
  return place;
}

std::optional<std::string> BlockStore::ReadBlockLog(uint64_t offset, uint32_t length) const {
  std::string out;
  if (!block_log_->Read(offset, length, out)) return std::nullopt;
  return out;
}

std::optional<std::string> BlockStore::GetBlock(uint64_t height) const {
  auto place = PlaceOf(height);
  if (!place) return std::nullopt;
  return ReadBlockLog(place->offset, place->block_length);
}

std::optional<std::string> BlockStore::GetCommit(uint64_t height) const {
  auto place = PlaceOf(height);
  if (!place) return std::nullopt;
  return ReadBlockLog(place->commit_offset(), place->commit_length);
}

std::optional<uint64_t> BlockStore::HeightOfBlock(const Hash32& block_hash) const {
  auto raw = GetRaw(HashKey(kHashPrefix, block_hash).str());
  if (!raw || raw->size() != 8) return std::nullopt;
  return ReadBigEndian(AsBytes(*raw));
}

std::optional<pb::TxLocation> BlockStore::GetTxLocation(const Hash32& tx_id) const {
  auto raw = GetRaw(HashKey(kTxPrefix, tx_id).str());
  if (!raw) return std::nullopt;
  pb::TxLocation loc;
  if (!loc.ParseFromString(*raw)) return std::nullopt;
  return loc;
}

std::optional<std::string> BlockStore::GetReceipt(uint64_t height, uint32_t index) const {
  auto place = PlaceOf(height);
  if (!place || index >= place->receipt_count) return std::nullopt;
  // Where the receipt starts (the end of the one before) and ends, from the entry's table.
  const uint64_t first = index == 0 ? 0 : index - 1;
  auto table = ReadBlockLog(place->table_offset() + 4ull * first, index == 0 ? 4 : 8);
  if (!table) return std::nullopt;
  const ByteView t = AsBytes(*table);
  const uint64_t start = index == 0 ? 0 : ReadBigEndian(t.subspan(0, 4));
  const uint64_t end = ReadBigEndian(t.subspan(t.size() - 4, 4));
  if (start > end || end > place->receipts_length) return std::nullopt;
  return ReadBlockLog(place->receipts_offset() + start, static_cast<uint32_t>(end - start));
}

bool BlockStore::ReadSmtNode(const SmtRef& ref, Bytes& out) const {
  if (recent_nodes_.Read(ref.ptr, out)) return true;
  if (node_cache_.Read(ref.hash, out)) return true;
  // Only committed bytes: a root of this store never points past them.
  const uint64_t end = NextNodeOffset();
  if (ref.ptr.length == 0 || ref.ptr.length > end || ref.ptr.offset > end - ref.ptr.length) {
    return false;
  }
  if (!node_log_->Read(ref.ptr.offset, ref.ptr.length, out)) return false;
  // What the disk gave back is checked against the hash the parent holds (the log has no
  // checksums of its own): a damaged node reads as missing, and the tree reports it.
  if (SmtNodeHash(out) != ref.hash) return false;
  node_cache_.Put(ref.hash, out);
  return true;
}

}  // namespace puhui
