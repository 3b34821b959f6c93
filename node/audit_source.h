// Where an audit reads the chain it checks: a node's data directory (copied first, so the audit
// never writes to it and the node may keep running) or a node's RPC endpoint. A source only
// supplies bytes; nothing it says is trusted until the audit has checked it (node/audit.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "chain/bytes.h"
#include "chain/status.h"

namespace puhui {

struct SourceBlock {
  std::string block;   // a serialised pb::Block, as stored
  std::string commit;  // the serialised pb::Commit that certifies it
};

class AuditSource {
 public:
  virtual ~AuditSource() = default;
  // For people: "data directory /x" or "node http://…".
  virtual std::string Describe() const = 0;
  // The genesis the source's chain claims to start from.
  virtual Result<Hash32> GenesisHash() = 0;
  // The height of the last block the source holds (fixed when the source was opened).
  virtual uint64_t TipHeight() const = 0;
  // Block `height` with its certificate; called with heights 1, 2, … in order.
  virtual Result<SourceBlock> Block(uint64_t height) = 0;
  // What the source claims as the state root after `height` and a stored receipt, where it keeps
  // them (a data directory does; over RPC only the tip's state root is known).
  virtual std::optional<Hash32> ClaimedStateRoot(uint64_t height) = 0;
  virtual std::optional<std::string> ClaimedReceipt(uint64_t height, uint32_t index) = 0;
};

// Copies `data_dir` (a node's data/ directory) into `scratch_dir`/source and reads the copy.
Result<std::unique_ptr<AuditSource>> OpenDataDirSource(const std::string& data_dir,
                                                       const std::string& scratch_dir);
// Reads blocks over JSON-RPC (blocks_raw) from a node at `url` (http://host:port).
Result<std::unique_ptr<AuditSource>> OpenRpcSource(const std::string& url);

}  // namespace puhui
