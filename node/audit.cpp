#include "node/audit.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <map>

#include "consensus/validator_set.h"
#include "contracts/state.h"
#include "node/audit_invariants.h"
#include "node/ledger.h"
#include "node/verifier_pool.h"

namespace puhui {
namespace {

// A block fetched, parsed and with its transactions decoded and their signatures checked, or the
// fault or error that stopped it.
struct PreparedBlock {
  SourceBlock fetched;
  pb::Block block;
  pb::BlockHeader header;
  std::map<Hash32, DecodedTx> decoded;
  std::optional<AuditFault> fault;
  Status error = Status::Ok();
};

std::string HexOrNone(const std::string& bytes) {
  return bytes.empty() ? "(none)" : Hex(AsBytes(bytes));
}

}  // namespace

Result<AuditResult> RunAudit(const GenesisDoc& genesis, AuditSource& source,
                             const std::string& scratch_dir, const AuditOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  AuditResult result;
  auto finish = [&](std::optional<AuditFault> fault) -> Result<AuditResult> {
    result.fault = std::move(fault);
    result.elapsed_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::steady_clock::now() - started)
                                                  .count());
    return std::move(result);
  };
  auto fault_at = [&](uint64_t height, std::string reason) {
    return finish(AuditFault{height, std::nullopt, {}, std::move(reason)});
  };

  auto claimed_genesis = source.GenesisHash();
  if (!claimed_genesis.ok()) return claimed_genesis.status();
  if (*claimed_genesis != genesis.doc_hash) {
    return fault_at(0,
                    fmt::format("{} holds a chain of genesis {}, but the genesis file given "
                                "hashes to {}: it is another chain, or another genesis file",
                                source.Describe(), Hex(*claimed_genesis), Hex(genesis.doc_hash)));
  }
  uint64_t tip = source.TipHeight();
  if (options.to_height != 0) {
    if (options.to_height > tip) {
      return InvalidArgument(
          fmt::format("--to {} is above the source's last block {}", options.to_height, tip));
    }
    tip = options.to_height;
  }

  const std::filesystem::path replay_dir = std::filesystem::path(scratch_dir) / "replay";
  std::error_code ec;
  std::filesystem::remove_all(replay_dir, ec);
  auto opened = Ledger::Open(replay_dir.string(), genesis, /*durable=*/false);
  if (!opened.ok()) return opened.status();
  Ledger& ledger = **opened;
  VerifierPool verifier(std::max<size_t>(1, options.verifier_threads));
  std::vector<uint64_t> block_times{genesis.genesis_time_ms};
  std::string last_validators_hash = ledger.Tip().validators_hash();

  // Fetching, decoding and verifying the signatures of block h + 1 runs while block h executes.
  auto prepare = [&source, &genesis, &verifier](uint64_t h) {
    PreparedBlock p;
    auto fetched = source.Block(h);
    if (!fetched.ok()) {
      if (fetched.status().code() != StatusCode::kCorruption) {
        p.error = fetched.status();
      } else {
        p.fault = AuditFault{h, std::nullopt, {}, fetched.status().message()};
      }
      return p;
    }
    p.fetched = std::move(*fetched);
    if (!p.block.ParseFromString(p.fetched.block) || !p.header.ParseFromString(p.block.header())) {
      p.fault = AuditFault{h, std::nullopt, {}, "the block does not parse"};
      return p;
    }
    if (p.header.height() != h) {
      p.fault = AuditFault{
          h,
          std::nullopt,
          {},
          fmt::format("the block stored at height {} says it is block {}", h, p.header.height())};
      return p;
    }
    // Decode and verify each transaction here, so that a fault names the transaction.
    std::vector<const DecodedTx*> order;
    for (int i = 0; i < p.block.txs_size(); ++i) {
      auto tx = DecodeTx(genesis.chain_id, p.block.txs(i));
      if (!tx.ok()) {
        auto id = PeekTxId(p.block.txs(i));
        p.fault = AuditFault{h, static_cast<uint32_t>(i), id ? Hex(*id) : "",
                             "the transaction does not decode: " + tx.status().message()};
        return p;
      }
      auto it = p.decoded.emplace(tx->id, std::move(*tx)).first;
      order.push_back(&it->second);
    }
    const std::vector<bool> signed_ok = verifier.Verify(order);
    for (size_t i = 0; i < signed_ok.size(); ++i) {
      if (!signed_ok[i]) {
        p.fault = AuditFault{h, static_cast<uint32_t>(i), Hex(order[i]->id),
                             "the sender's signature does not verify"};
        return p;
      }
    }
    return p;
  };

  std::future<PreparedBlock> next;
  if (tip >= 1) next = std::async(std::launch::async, prepare, 1);
  for (uint64_t h = 1; h <= tip; ++h) {
    PreparedBlock ready = next.get();
    if (h < tip && ready.error.ok() && !ready.fault) {
      next = std::async(std::launch::async, prepare, h + 1);
    }
    if (!ready.error.ok()) return ready.error;
    if (ready.fault) return finish(std::move(ready.fault));
    const pb::BlockHeader& header = ready.header;
    const pb::Block& block = ready.block;
    const SourceBlock& fetched = ready.fetched;
    std::map<Hash32, DecodedTx>& decoded = ready.decoded;
    const pb::ChainMeta before = ledger.Tip();
    if (header.state_root() != before.state_root()) {
      return fault_at(h - 1, fmt::format("block {}'s header commits to state root {} after block "
                                         "{}, but re-executing the chain gives {}",
                                         h, HexOrNone(header.state_root()), h - 1,
                                         Hex(AsBytes(before.state_root()))));
    }
    if (header.receipts_root() != before.receipts_root()) {
      return fault_at(h - 1, fmt::format("block {}'s header commits to receipts root {} for block "
                                         "{}, but re-executing it gives {}",
                                         h, HexOrNone(header.receipts_root()), h - 1,
                                         Hex(AsBytes(before.receipts_root()))));
    }
    auto executed = ledger.Validate(fetched.block, verifier, /*check_signatures=*/false,
                                    [&decoded](const Hash32& id) -> std::optional<DecodedTx> {
                                      auto it = decoded.find(id);
                                      if (it == decoded.end()) return std::nullopt;
                                      return std::move(it->second);  // each is asked for once
                                    });
    if (!executed.ok()) return fault_at(h, executed.status().message());
    StoreStateReader state_before(ledger.store());
    if (Status s = CheckFinalRecordsUnchanged(state_before, executed->outcome.changes); !s.ok())
      return fault_at(h, s.message());
    if (Status s = CheckPooledGramsOnce(state_before, executed->outcome.changes); !s.ok())
      return fault_at(h, s.message());

    pb::Commit commit;
    if (!commit.ParseFromString(fetched.commit))
      return fault_at(h, "the block's commit certificate does not parse");
    if (Status s = VerifyCommit(genesis.chain_id, ledger.validators(), h, executed->hash, commit);
        !s.ok()) {
      return fault_at(h, "commit certificate: " + s.message());
    }
    // What the source itself claims after this block must be what the replay reached.
    if (auto claimed = source.ClaimedStateRoot(h); claimed && *claimed != executed->tree.root) {
      return fault_at(h,
                      fmt::format("{} claims state root {} after block {}, but re-executing "
                                  "the chain gives {}",
                                  source.Describe(), Hex(*claimed), h, Hex(executed->tree.root)));
    }
    for (size_t i = 0; i < executed->receipt_bytes.size(); ++i) {
      auto claimed = source.ClaimedReceipt(h, static_cast<uint32_t>(i));
      if (claimed && *claimed != executed->receipt_bytes[i]) {
        return finish(AuditFault{h, static_cast<uint32_t>(i), Hex(executed->txs[i].id),
                                 "the stored receipt differs from the one re-execution gives"});
      }
    }
    PUHUI_RETURN_IF_ERROR(ledger.Commit(*executed, commit));
    if (header.validators_hash() != last_validators_hash) {
      ++result.validator_set_changes;
      last_validators_hash = header.validators_hash();
    }
    block_times.push_back(header.time_ms());
    result.height = h;
    result.txs += static_cast<uint64_t>(block.txs_size());
    result.state_root = executed->tree.root;
    if (options.progress && (h % 16 == 0 || h == tip)) options.progress({h, tip, result.txs});
  }
  if (tip == 0) {
    auto root = ToHash32(AsBytes(ledger.Tip().state_root()));
    if (root) result.state_root = *root;
  }
  if (Status s = CheckAllBatchesConserved(ledger.store()); !s.ok())
    return fault_at(tip, s.message());
  if (Status s = CheckPersonalTotals(ledger.store()); !s.ok()) return fault_at(tip, s.message());
  auto report = BuildAuditReport(ledger.store(), block_times);
  if (!report.ok()) return report.status();
  result.report = std::move(*report);
  return finish(std::nullopt);
}

}  // namespace puhui
