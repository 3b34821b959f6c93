// The node's durable store (layout in docs/formats.md): one LevelDB database of the latest state
// values, the state root of every height, block and transaction indexes, and beside it two
// append-only files (chain/append_log.h): the state tree's nodes, and the blocks with their
// commit certificates and receipts (chain/block_entry.h). A block's tree nodes and its entry are
// appended and synced first; then everything else it changes, with both files' new committed
// ends, is written in one synced batch. After a crash the store is exactly at its last whole
// block, and the files are cut back to that block's ends.
//
// Thread-safety: reads may run concurrently with each other and with one writer (LevelDB's own
// guarantee); CommitBlock and InitGenesis must be called from one thread at a time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/append_log.h"
#include "chain/block_entry.h"
#include "chain/bytes.h"
#include "chain/node_cache.h"
#include "chain/recent_nodes.h"
#include "chain/smt.h"
#include "chain/status.h"
#include "puhui.pb.h"

namespace leveldb {
class DB;
class Cache;
class FilterPolicy;
}  // namespace leveldb

namespace puhui {

// Everything one block adds to the store, written atomically.
struct BlockCommit {
  uint64_t height = 0;
  Hash32 block_hash{};
  std::string block_bytes;     // serialised pb::Block
  std::string commit_bytes;    // serialised pb::Commit certifying this block
  std::vector<Hash32> tx_ids;  // in block order
  // Held by the caller until CommitBlock returns (a block's receipts, changes and nodes are
  // large: not copied).
  std::span<const std::string> receipts;        // serialised pb::Receipt, in block order
  const StateChanges* state_changes = nullptr;  // effect of executing this block
  const SmtUpdate* tree = nullptr;  // the new root and its new nodes, laid out from the log's end
  pb::ChainMeta meta;               // the new tip
};

class BlockStore : public SmtNodeSource {
 public:
  // What the store tells its operator while it opens: the start, progress and end of a
  // migration from an older format, which can take minutes on a long chain.
  using Note = std::function<void(const std::string& message)>;

  // `durable` = false skips the fsync of each commit: for scratch stores that are thrown away
  // after use (an audit's replay), never for a node's own chain.
  static Result<std::unique_ptr<BlockStore>> Open(const std::string& dir, bool durable = true,
                                                  const Note& note = nullptr);
  ~BlockStore() override;

  // The last whole block, or nullopt if the store has no genesis yet.
  std::optional<pb::ChainMeta> Meta() const;
  std::optional<Hash32> GenesisHash() const;

  // Writes the genesis state (height 0), whose tree was built from an empty node log. Fails if
  // the store already holds a chain.
  Status InitGenesis(const Hash32& genesis_hash, const StateChanges& state, const SmtUpdate& tree,
                     uint64_t genesis_time_ms, const Hash32& validators_hash);
  // Appends block meta.height == Meta()->height + 1 with one synced write.
  Status CommitBlock(const BlockCommit& commit);

  // Latest committed value of a state key.
  Result<std::optional<Bytes>> GetState(ByteView key) const;
  // Committed state entries whose keys start with `prefix`, in key order, strictly after `after`
  // (a full key from a previous page; pass the prefix or nothing to start), at most `limit`.
  Result<std::vector<std::pair<Bytes, Bytes>>> ScanState(ByteView prefix, ByteView after,
                                                         size_t limit) const;
  std::optional<Hash32> StateRootAt(uint64_t height) const;
  // The same root with where its node is: what SparseMerkleTree reads from.
  std::optional<SmtRef> StateTreeAt(uint64_t height) const;

  std::optional<std::string> GetBlock(uint64_t height) const;
  std::optional<std::string> GetCommit(uint64_t height) const;
  std::optional<uint64_t> HeightOfBlock(const Hash32& block_hash) const;
  std::optional<pb::TxLocation> GetTxLocation(const Hash32& tx_id) const;
  std::optional<std::string> GetReceipt(uint64_t height, uint32_t index) const;

  // From the last blocks' nodes or the node cache, else from the node log, checked against
  // ref.hash.
  bool ReadSmtNode(const SmtRef& ref, Bytes& out) const override;
  // The node log's committed end: where the next block's tree nodes go.
  uint64_t NextNodeOffset() const override;
  bool NeedsPlaces() const override { return true; }

 private:
  BlockStore() = default;
  std::optional<std::string> GetRaw(const std::string& key) const;
  // Opens one of the store's append logs and cuts it back to the end recorded under `end_key`
  // (into `end`); `holds` names its records for an error.
  Result<std::unique_ptr<AppendLog>> OpenLog(const std::string& path, const char* end_key,
                                             AppendLog::Reads reads, std::string_view holds,
                                             uint64_t& end);
  Status OpenLogs(const std::string& dir);
  // Format 1 kept tree nodes in LevelDB: writes every node reachable from a stored root into a
  // new node log, then the roots' places and format 2 in one synced batch.
  Status MigrateFromFormat1(const std::string& dir, const Note& note);
  // Format 2 kept blocks, certificates and receipts in LevelDB: writes them into a new block log,
  // then their places and format 3 (chain/block_store_migrate.cpp).
  Status MigrateFromFormat2(const std::string& dir, const Note& note);
  // Deletes older formats' records left in LevelDB (resumes if a start was interrupted).
  Status RemoveOldRecords();
  // A committed height's place in the block log.
  std::optional<BlockPlace> PlaceOf(uint64_t height) const;
  std::optional<std::string> ReadBlockLog(uint64_t offset, uint32_t length) const;
  // Appends a tree update's nodes at the log's committed end; the new end, once synced.
  Result<uint64_t> AppendNodes(const SmtUpdate& tree);

  bool durable_ = true;
  std::unique_ptr<leveldb::DB> db_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<AppendLog> node_log_;
  std::unique_ptr<AppendLog> block_log_;
  RecentNodes recent_nodes_{160u << 20};     // the last blocks' nodes, by place
  mutable NodeCache node_cache_{96u << 20};  // older nodes read from the log, by hash; filling it
                                             // on reads is not a change
  mutable std::mutex meta_mu_;
  std::optional<pb::ChainMeta> meta_;  // guarded by meta_mu_
  uint64_t node_log_end_ = 0;          // guarded by meta_mu_: the committed end
  uint64_t block_log_end_ = 0;         // guarded by meta_mu_: the committed end
};

// Calls visit(key, value) for every state entry under `prefix` in the store's latest state, in
// key order, a page at a time; stops at the first error visit returns.
template <typename F>
Status ForEachState(const BlockStore& store, std::string_view prefix, F&& visit) {
  constexpr size_t kPage = 1024;
  const Bytes p = ToBytes(prefix);
  Bytes after = p;
  for (;;) {
    auto page = store.ScanState(p, after, kPage);
    if (!page.ok()) return page.status();
    for (const auto& [key, value] : *page) PUHUI_RETURN_IF_ERROR(visit(key, value));
    if (page->size() < kPage) return Status::Ok();
    after = page->back().first;
  }
}

}  // namespace puhui
