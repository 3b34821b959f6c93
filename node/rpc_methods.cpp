#include "node/rpc_methods.h"

#include <fmt/format.h>

#include "chain/genesis.h"
#include "chain/limits.h"
#include "chain/signing.h"
#include "contracts/registry_keys.h"
#include "contracts/state_keys.h"
#include "node/evidence.h"
#include "node/node.h"
#include "node/rpc_exchange.h"
#include "node/rpc_handler_util.h"
#include "node/rpc_personal.h"
#include "node/rpc_proofs.h"
#include "node/rpc_registry.h"
#include "rpc/encode.h"
#include "rpc/params.h"

namespace puhui {

namespace {

using namespace rpc_handler;

using nlohmann::json;
using rpc::Param;

constexpr char kVersion[] = "0.1.0";

// evidence_list shows at most this many committed entries (oldest validator keys first).
constexpr size_t kMaxEvidenceListed = 1000;

json SubmitResult(const Result<Hash32>& r) {
  if (r.ok()) return {{"tx_hash", Hex(*r)}};
  return {{"error", rpc::ToJson(rpc::StatusToRpcError(r.status()))}};
}

std::string DecodeHexTx(const json& value, std::string_view name) {
  if (!value.is_string()) {
    throw rpc::RpcException(
        rpc::InvalidParams(name, fmt::format("param '{}' must be a hex string", name)));
  }
  std::string_view text = value.get_ref<const std::string&>();
  if (text.size() > 2 * kMaxTxBytes + 2) {
    Throw(ResourceExhausted(fmt::format("transaction exceeds {} bytes", kMaxTxBytes)));
  }
  if (text.starts_with("0x")) text.remove_prefix(2);
  auto bytes = FromHexToString(text);
  if (!bytes)
    throw rpc::RpcException(
        rpc::InvalidParams(name, fmt::format("param '{}' is not valid hex", name)));
  return std::move(*bytes);
}

// hashes_only: each transaction as {"hash"} alone, for pollers that match ids (no body decoded).
json BlockJson(const Node& node, uint64_t height, bool raw, bool hashes_only) {
  auto bytes = node.ledger().store().GetBlock(height);
  if (!bytes)
    Throw(NotFound(
        fmt::format("no block at height {}; the tip is {}", height, node.ledger().Tip().height())));
  pb::Block block;
  pb::BlockHeader header;
  if (!block.ParseFromString(*bytes) || !header.ParseFromString(block.header())) {
    Throw(Corruption(fmt::format("stored block {} does not parse", height)));
  }
  json txs = json::array();
  for (const auto& env_bytes : block.txs()) {
    pb::TxEnvelope env;
    env.ParseFromString(env_bytes);
    json tx = json::object();
    if (!hashes_only) {
      pb::TxBody body;
      body.ParseFromString(env.body());
      tx = rpc::TxBodyToJson(body);
    }
    tx["hash"] = Hex(TxId(AsBytes(env.body())));
    txs.push_back(std::move(tx));
  }
  json out = {{"hash", Hex(BlockHash(AsBytes(block.header())))},
              {"header", rpc::HeaderToJson(header)},
              {"txs", std::move(txs)},
              {"last_commit", rpc::CommitToJson(block.last_commit())}};
  if (auto commit_bytes = node.ledger().store().GetCommit(height)) {
    pb::Commit commit;
    if (commit.ParseFromString(*commit_bytes)) out["commit"] = rpc::CommitToJson(commit);
  }
  if (raw) out["raw"] = Hex(AsBytes(*bytes));
  return out;
}

}  // namespace

void RegisterRpcMethods(rpc::Dispatcher& d, Node& node) {
  d.Register(
      "node_status",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {});
        pb::ChainMeta tip = node.ledger().Tip();
        auto power = node.ledger().CurrentValidators().PowerOf(node.validator().bytes);
        const ConsensusStatus c = node.consensus();
        json peers = json::array();
        for (const auto& p : node.peers()) {
          peers.push_back({{"node_key", Hex(p.key.bytes)},
                           {"address", p.remote},
                           {"direction", p.outbound ? "outbound" : "inbound"},
                           {"score", p.score}});
        }
        return json{
            {"version", kVersion},
            {"moniker", node.config().moniker},
            {"chain_id", node.ledger().chain_id()},
            {"genesis_hash", Hex(node.ledger().genesis().doc_hash)},
            {"latest_height", tip.height()},
            {"latest_block_hash", rpc::HexOf(tip.block_hash())},
            {"latest_block_time_ms", tip.time_ms()},
            {"latest_block_time", FormatUtcTime(tip.time_ms())},
            {"state_root", rpc::HexOf(tip.state_root())},
            {"validator", {{"pub_key", Hex(node.validator().bytes)}, {"power", power.value_or(0)}}},
            {"mempool",
             {{"txs", node.mempool().size()},
              {"bytes", node.mempool().bytes()},
              {"behind_gaps", node.mempool().behind_gaps()},
              {"displaced", node.mempool().displaced()},
              {"relayed",
               {{"received", node.relays().received},
                {"already_held", node.relays().already_held}}}}},
            {"signatures",
             {{"checked", node.verifier().checked()},
              {"cpu_ms", node.verifier().cpu_ns() / 1'000'000},
              {"in_blocks", c.checked_in_blocks}}},
            {"node_key", Hex(node.node_key().bytes)},
            {"role", power ? "validator" : "observer"},
            {"consensus",
             {{"height", c.height},
              {"round", c.round},
              {"step", c.step},
              {"best_peer_height", c.best_peer_height},
              {"evidence_seen", c.evidence_seen}}},
            {"peers", peers},
        };
      },
      "the chain id, latest height, block hash, state root, validator, mempool, consensus "
      "progress (height, round, step, evidence seen) and connected peers");

  d.Register(
      "evidence_list",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {});
        auto describe = [](const pb::DuplicateVoteEvidence& e) {
          json pair = json::array();
          for (const pb::SignedVote* sv : {&e.first(), &e.second()}) {
            pb::Vote v;
            v.ParseFromString(sv->vote());
            pair.push_back({{"validator", rpc::HexOf(v.validator())},
                            {"height", v.height()},
                            {"round", v.round()},
                            {"type", v.type() == pb::VOTE_PRECOMMIT ? "precommit" : "prevote"},
                            {"block_hash", rpc::HexOf(v.block_hash())},
                            {"vote", rpc::HexOf(sv->vote())},
                            {"signature", rpc::HexOf(sv->signature())}});
          }
          return json{{"votes", pair}};
        };
        json committed = json::array();
        const std::string_view text = kEvidencePrefix;
        const Bytes prefix(text.begin(), text.end());
        auto rows = OrThrow(node.ledger().store().ScanState(prefix, prefix, kMaxEvidenceListed));
        for (const auto& [key, value] : rows) {
          pb::DuplicateVoteEvidence e;
          if (!e.ParseFromArray(value.data(), static_cast<int>(value.size()))) continue;
          json entry = describe(e);
          entry["state_key"] = Hex(key);
          committed.push_back(std::move(entry));
        }
        json pending = json::array();
        for (const auto& e : node.pending_evidence()) pending.push_back(describe(e));
        return json{{"committed", committed}, {"pending", pending}};
      },
      "evidence of double signing: committed on chain (with its state key, provable with "
      "state_get) and pending (seen, waiting for a block), each with both signed votes");

  d.Register(
      "tx_submit",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"tx"});
        auto results = node.SubmitTxs({DecodeHexTx(rpc::GetString(params, {"tx", 0}), "tx")});
        Hash32 id = OrThrow(std::move(results[0]));
        return json{{"tx_hash", Hex(id)}};
      },
      "admits a signed transaction (hex TxEnvelope) to the mempool; returns its hash");

  d.Register(
      "tx_submit_batch",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"txs"});
        const json* found = rpc::FindParam(params, {"txs", 0});
        if (found == nullptr || !found->is_array()) {
          throw rpc::RpcException(
              rpc::InvalidParams("txs", "param 'txs' must be an array of hex strings"));
        }
        const json& txs = *found;
        if (txs.size() > node.config().rpc_max_batch) {
          Throw(ResourceExhausted(
              fmt::format("at most {} transactions per call", node.config().rpc_max_batch)));
        }
        // One result per entry: an entry that is not hex fails alone, like any other bad entry.
        std::vector<std::string> envelopes;
        std::vector<std::optional<json>> early(txs.size());
        std::vector<size_t> where;
        for (size_t i = 0; i < txs.size(); ++i) {
          try {
            envelopes.push_back(DecodeHexTx(txs[i], "txs"));
            where.push_back(i);
          } catch (const rpc::RpcException& e) {
            early[i] = json{{"error", rpc::ToJson(e.error())}};
          }
        }
        auto results = node.SubmitTxs(envelopes);
        for (size_t j = 0; j < results.size(); ++j) early[where[j]] = SubmitResult(results[j]);
        json out = json::array();
        for (auto& r : early) out.push_back(std::move(*r));
        return out;
      },
      "admits many signed transactions at once; one result (tx_hash or error) per transaction");

  d.Register(
      "tx_get",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"hash"});
        Hash32 id = rpc::GetHash32(params, {"hash", 0});
        const BlockStore& store = node.ledger().store();
        auto loc = store.GetTxLocation(id);
        if (!loc) {
          if (node.mempool().Contains(id)) return json{{"hash", Hex(id)}, {"status", "pending"}};
          Throw(NotFound(fmt::format("transaction {} is neither committed nor pending", Hex(id))));
        }
        pb::Block block;
        auto block_bytes = store.GetBlock(loc->height());
        auto receipt_bytes = store.GetReceipt(loc->height(), loc->index());
        pb::Receipt receipt;
        if (!block_bytes || !block.ParseFromString(*block_bytes) ||
            static_cast<int>(loc->index()) >= block.txs_size() || !receipt_bytes ||
            !receipt.ParseFromString(*receipt_bytes)) {
          Throw(Corruption(fmt::format("stored transaction {} is incomplete", Hex(id))));
        }
        pb::TxEnvelope env;
        pb::TxBody body;
        env.ParseFromString(block.txs(static_cast<int>(loc->index())));
        body.ParseFromString(env.body());
        return json{{"hash", Hex(id)},
                    {"status", "committed"},
                    {"height", loc->height()},
                    {"index", loc->index()},
                    {"tx", rpc::TxBodyToJson(body)},
                    {"receipt", rpc::ReceiptToJson(receipt)}};
      },
      "a transaction by hash: committed (with its receipt) or pending");

  d.Register(
      "block_get",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"height", "hash", "raw", "hashes_only"});
        bool raw = rpc::GetOptionalBool(params, {"raw", 2}).value_or(false);
        bool hashes_only = rpc::GetOptionalBool(params, {"hashes_only", 3}).value_or(false);
        auto height = rpc::GetOptionalUint64(params, {"height", 0});
        auto hash = rpc::GetOptionalHash32(params, {"hash", 1});
        if (height && hash) {
          throw rpc::RpcException(
              rpc::InvalidParams("hash", "give param 'height' or 'hash', not both"));
        }
        if (hash) {
          auto h = node.ledger().store().HeightOfBlock(*hash);
          if (!h) Throw(NotFound(fmt::format("no block with hash {}", Hex(*hash))));
          height = *h;
        }
        if (!height) height = node.ledger().Tip().height();
        if (*height == 0)
          Throw(NotFound("height 0 is the genesis state, not a block; the first block is 1"));
        return BlockJson(node, *height, raw, hashes_only);
      },
      "a block by height or hash (latest if neither), with its commit certificate; raw=true adds "
      "its bytes; hashes_only=true lists its transactions by hash alone");

  d.Register(
      "blocks_raw",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"from", "count"});
        constexpr uint64_t kMaxBlocksPerCall = 64;
        const uint64_t from = rpc::GetUint64(params, {"from", 0});
        const uint64_t count = rpc::GetOptionalUint64(params, {"count", 1}).value_or(16);
        if (from == 0) Throw(InvalidArgument("param 'from' must be at least 1, the first block"));
        if (count == 0 || count > kMaxBlocksPerCall) {
          throw rpc::RpcException(rpc::InvalidParams(
              "count", fmt::format("param 'count' must be 1..{}", kMaxBlocksPerCall)));
        }
        const uint64_t tip = node.ledger().Tip().height();
        if (from > tip) Throw(NotFound(fmt::format("no block {}; the tip is {}", from, tip)));
        const BlockStore& store = node.ledger().store();
        json blocks = json::array();
        for (uint64_t h = from; h <= tip && h < from + count; ++h) {
          auto block = store.GetBlock(h);
          auto commit = store.GetCommit(h);
          if (!block || !commit) Throw(Corruption(fmt::format("block {} is missing", h)));
          blocks.push_back(
              {{"height", h}, {"block", Hex(AsBytes(*block))}, {"commit", Hex(AsBytes(*commit))}});
        }
        return json{{"tip", tip}, {"blocks", std::move(blocks)}};
      },
      "up to 64 consecutive blocks from 'from' as stored (hex), each with the bytes of its commit "
      "certificate, for auditors and tools that check the chain themselves");

  d.Register(
      "state_get",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"key", "height"});
        Bytes key = rpc::GetHexBytes(params, {"key", 0});
        if (key.empty() || key.size() > 1024) {
          throw rpc::RpcException(rpc::InvalidParams("key", "param 'key' must be 1..1024 bytes"));
        }
        if (!InStateTree(key)) {
          throw rpc::RpcException(rpc::InvalidParams(
              "key",
              "this key is an index kept outside the state tree (a counted behaviour record), so "
              "it "
              "has no state proof; use proof_get with kind 'record', which proves it through its "
              "attestation batch, or record_proof"));
        }
        const pb::ChainMeta tip = node.ledger().Tip();
        uint64_t height = rpc::GetOptionalUint64(params, {"height", 1}).value_or(tip.height());
        if (height > tip.height())
          Throw(NotFound(fmt::format("height {} is above the tip {}", height, tip.height())));
        const BlockStore& store = node.ledger().store();
        auto root = store.StateTreeAt(height);
        if (!root) Throw(NotFound(fmt::format("no state root stored for height {}", height)));
        auto value = OrThrow(SparseMerkleTree::Get(store, *root, key));
        auto proof = OrThrow(SparseMerkleTree::Prove(store, *root, key));
        json out = {
            {"key", Hex(key)},
            {"height", height},
            {"state_root", Hex(root->hash)},
            {"proof", rpc::SmtProofToJson(proof)},
            {"note", fmt::format("state after block {}; committed in the header of block {}",
                                 height, height + 1)}};
        out["value"] = value ? json(Hex(*value)) : json(nullptr);
        return out;
      },
      "a raw state value (hex key) after a height, with a sparse-Merkle proof of presence or "
      "absence");

  d.Register(
      "account_get",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"address"});
        PublicKey address = GetAddress(params, {"address", 0});
        StoreStateReader reader(node.ledger().store());
        pb::Account account = OrThrow(ReadAccount(reader, address));
        json roles = json::array();
        // Every region, those added by governance too (the idx/region/ list).
        const uint64_t regions = OrThrow(ReadU64(reader, registry_keys::Seq(kKindRegion)));
        for (uint64_t i = 1; i <= regions; ++i) {
          auto key = OrThrow(reader.Get(registry_keys::Index(kKindRegion, i)));
          if (!key || key->size() <= 7) Throw(Corruption("the region list is damaged"));
          const std::string code(key->begin() + 7, key->end());  // after "region/"
          for (int r = pb::ROLE_AUTHORITY; r <= pb::ROLE_EXCHANGE; ++r) {
            auto role = static_cast<pb::Role>(r);
            if (OrThrow(HasRole(reader, code, role, address))) {
              roles.push_back({{"role", std::string(RoleName(role))}, {"region", code}});
            }
          }
        }
        return json{{"address", Hex(address.bytes)},
                    {"nonce", account.nonce()},
                    {"pending_nonce", node.mempool().PendingNonce(address, account.nonce())},
                    {"roles", std::move(roles)}};
      },
      "an account's next nonce (committed and counting pending transactions) and its roles");

  d.Register(
      "batch_get",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"serial"});
        std::string serial = GetId(params, {"serial", 0});
        StoreStateReader reader(node.ledger().store());
        auto batch = OrThrow(ReadBatch(reader, serial));
        if (!batch) Throw(NotFound(fmt::format("credit batch '{}' does not exist", serial)));
        return rpc::CreditBatchToJson(*batch);
      },
      "a credit batch by serial: its issuance and retired, cancelled and locked totals");

  d.Register(
      "balance_get",
      [&node](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"batch", "address"});
        std::string serial = GetId(params, {"batch", 0});
        PublicKey address = GetAddress(params, {"address", 1});
        StoreStateReader reader(node.ledger().store());
        if (!OrThrow(ReadBatch(reader, serial))) {
          Throw(NotFound(fmt::format("credit batch '{}' does not exist", serial)));
        }
        uint64_t grams = OrThrow(ReadU64(reader, state_keys::Balance(serial, address)));
        return json{{"batch", serial}, {"address", Hex(address.bytes)}, {"grams", grams}};
      },
      "the free balance in grams CO2e that an address holds of a batch");

  RegisterRegistryRpcMethods(d, node);
  RegisterProofRpcMethods(d, node);
  RegisterPersonalRpcMethods(d, node);
  RegisterExchangeRpcMethods(d, node);
}

}  // namespace puhui
