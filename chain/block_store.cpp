#include "chain/block_store.h"

#include <fmt/format.h>
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <unordered_map>

#include "chain/hash.h"
#include "chain/pread_env.h"

namespace puhui {

namespace {

// One-letter key prefixes; see docs/formats.md.
constexpr char kMetaKey[] = "M";
constexpr char kGenesisKey[] = "G";
constexpr char kBlockPrefix = 'b';
constexpr char kCommitPrefix = 'c';
constexpr char kHashPrefix = 'h';
constexpr char kTxPrefix = 't';
constexpr char kReceiptPrefix = 'r';
constexpr char kStatePrefix = 's';
constexpr char kRootPrefix = 'R';
constexpr char kFormatKey[] = "V";
constexpr char kNodeLogEndKey[] = "N";

// The layout this code reads and writes. 1 (no `V` record): tree nodes inside LevelDB under `n`,
// migrated on open. 2: tree nodes in the node log, roots with their place.
constexpr char kFormat[] = "2";
constexpr char kFormat1NodePrefix = 'n';
constexpr char kNodeLogName[] = "tree-nodes";

void PutBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i) & 0xff));
}

std::string HeightKey(char prefix, uint64_t height) {
  std::string k(1, prefix);
  PutBigEndian(k, height, 8);
  return k;
}

// A key of a one-letter prefix and a 32-byte hash, built in place: a block writes thousands of
// them (transaction locations).
struct HashKey {
  HashKey(char prefix, const Hash32& h) {
    bytes[0] = prefix;
    std::memcpy(bytes + 1, h.data(), h.size());
  }
  leveldb::Slice slice() const { return {bytes, sizeof bytes}; }
  std::string str() const { return {bytes, sizeof bytes}; }
  char bytes[33];
};

std::string ReceiptKey(uint64_t height, uint32_t index) {
  std::string k = HeightKey(kReceiptPrefix, height);
  PutBigEndian(k, index, 4);
  return k;
}

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

leveldb::Slice ToSlice(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }
leveldb::Slice ToSlice(const Hash32& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
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
  std::string root(tree.root.begin(), tree.root.end());
  PutBigEndian(root, tree.root_ptr.offset, 8);
  PutBigEndian(root, tree.root_ptr.length, 4);
  batch.Put(HeightKey(kRootPrefix, height), root);
  std::string end;
  PutBigEndian(end, log_end, 8);
  batch.Put(kNodeLogEndKey, end);
}

}  // namespace

Result<std::unique_ptr<BlockStore>> BlockStore::Open(const std::string& dir, bool durable) {
  std::unique_ptr<BlockStore> store(new BlockStore());
  store->durable_ = durable;
  store->cache_.reset(leveldb::NewLRUCache(64 << 20));
  store->filter_.reset(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  // Tree nodes are keyed by hash, so they do not compress: compression would be wasted work.
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
    if (format == "1") {
      PUHUI_RETURN_IF_ERROR(store->MigrateFromFormat1(dir));
    } else if (format != kFormat) {
      return FailedPrecondition(fmt::format(
          "store {} is in format {}, and this puhuid reads format {} (docs/formats.md): it was "
          "written by a newer puhuid; run that one",
          dir, format, kFormat));
    }
  }
  PUHUI_RETURN_IF_ERROR(store->OpenNodeLog(dir));
  PUHUI_RETURN_IF_ERROR(store->RemoveFormat1Nodes());
  return store;
}

Status BlockStore::MigrateFromFormat1(const std::string& dir) {
  const std::string path = dir + "/" + kNodeLogName;
  auto opened = NodeLog::Open(path, durable_);
  if (!opened.ok()) return opened.status();
  NodeLog& log = **opened;
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
    std::string value(*raw);
    PutBigEndian(value, ptr->offset, 8);
    PutBigEndian(value, ptr->length, 4);
    batch.Put(HeightKey(kRootPrefix, height), value);
  }
  PUHUI_RETURN_IF_ERROR(flush());
  std::string end;
  PutBigEndian(end, written, 8);
  batch.Put(kNodeLogEndKey, end);
  batch.Put(kFormatKey, kFormat);
  leveldb::WriteOptions wo;
  wo.sync = durable_;
  leveldb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return IoError("migrating the store to format 2: " + s.ToString());
  return Status::Ok();
}

Status BlockStore::RemoveFormat1Nodes() {
  const std::string prefix(1, kFormat1NodePrefix);
  std::string from = prefix;  // each round starts after the last key deleted, not over tombstones
  for (;;) {
    leveldb::WriteBatch batch;
    size_t n = 0;
    {
      std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
      for (it->Seek(from); it->Valid() && it->key().starts_with(prefix) && n < 10'000;
           it->Next(), ++n) {
        batch.Delete(it->key());
        from = it->key().ToString();
      }
      if (!it->status().ok()) return IoError("reading the store: " + it->status().ToString());
    }
    if (n == 0) return Status::Ok();
    leveldb::Status s = db_->Write(leveldb::WriteOptions(), &batch);
    if (!s.ok()) return IoError("removing format 1 tree nodes: " + s.ToString());
  }
}

Status BlockStore::OpenNodeLog(const std::string& dir) {
  const std::string path = dir + "/" + kNodeLogName;
  auto log = NodeLog::Open(path, durable_);
  if (!log.ok()) return log.status();
  node_log_ = std::move(*log);
  uint64_t end = 0;
  if (meta_) {
    auto raw = GetRaw(kNodeLogEndKey);
    if (!raw || raw->size() != 8) return Corruption("store: no committed end of the node log");
    end = ReadBigEndian(AsBytes(*raw));
  }
  const uint64_t size = node_log_->size_on_open();
  if (size < end) {
    return Corruption(fmt::format(
        "node log {} holds {} bytes, but the store committed tree nodes up to byte {}: the file "
        "was cut short or replaced; restore the whole data directory from one backup",
        path, size, end));
  }
  // Nodes of a block that was being committed when the node stopped: never part of the chain.
  if (size > end) PUHUI_RETURN_IF_ERROR(node_log_->Truncate(end));
  node_log_end_ = end;
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
  batch.Put(kFormatKey, kFormat);
  batch.Put(kGenesisKey, ToSlice(genesis_hash));
  batch.Put(kMetaKey, meta.SerializeAsString());
  leveldb::WriteOptions wo;
  wo.sync = durable_;
  leveldb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return IoError("writing genesis: " + s.ToString());
  node_cache_.PutAll(tree);
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

  // The tree nodes first: if the node stops before the batch below is written, they lie past
  // the committed end and are cut off when it starts again.
  auto log_end = AppendNodes(*c.tree);
  if (!log_end.ok()) return log_end.status();
  leveldb::WriteBatch batch;
  batch.Put(HeightKey(kBlockPrefix, c.height), c.block_bytes);
  batch.Put(HeightKey(kCommitPrefix, c.height), c.commit_bytes);
  std::string height_be;
  PutBigEndian(height_be, c.height, 8);
  batch.Put(HashKey(kHashPrefix, c.block_hash).slice(), height_be);
  for (size_t i = 0; i < c.tx_ids.size(); ++i) {
    pb::TxLocation loc;
    loc.set_height(c.height);
    loc.set_index(static_cast<uint32_t>(i));
    batch.Put(HashKey(kTxPrefix, c.tx_ids[i]).slice(), loc.SerializeAsString());
    batch.Put(ReceiptKey(c.height, static_cast<uint32_t>(i)), c.receipts[i]);
  }
  AddState(batch, c.height, *c.state_changes, *c.tree, *log_end);
  batch.Put(kMetaKey, c.meta.SerializeAsString());
  leveldb::WriteOptions wo;
  wo.sync = durable_;
  leveldb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return IoError(fmt::format("writing block {}: {}", c.height, s.ToString()));
  node_cache_.PutAll(*c.tree);
  std::lock_guard lock(meta_mu_);
  meta_ = c.meta;
  node_log_end_ = *log_end;
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

std::optional<std::string> BlockStore::GetBlock(uint64_t height) const {
  return GetRaw(HeightKey(kBlockPrefix, height));
}

std::optional<std::string> BlockStore::GetCommit(uint64_t height) const {
  return GetRaw(HeightKey(kCommitPrefix, height));
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
  return GetRaw(ReceiptKey(height, index));
}

bool BlockStore::ReadSmtNode(const SmtRef& ref, Bytes& out) const {
  if (node_cache_.Read(ref.hash, out)) return true;
  // Only committed bytes: a root of this store never points past them.
  const uint64_t end = NextNodeOffset();
  if (ref.ptr.length == 0 || ref.ptr.length > end || ref.ptr.offset > end - ref.ptr.length) {
    return false;
  }
  if (!node_log_->Read(ref.ptr, out)) return false;
  // What the disk gave back is checked against the hash the parent holds (the log has no
  // checksums of its own): a damaged node reads as missing, and the tree reports it.
  if (SmtNodeHash(out) != ref.hash) return false;
  node_cache_.Put(ref.hash, out);
  return true;
}

}  // namespace puhui
