#include "node/rpc_personal.h"

#include <fmt/format.h>

#include <functional>

#include "chain/genesis.h"
#include "chain/merkle.h"
#include "contracts/personal_keys.h"
#include "contracts/registry_keys.h"
#include "contracts/state_keys.h"
#include "node/node.h"
#include "node/proofs.h"
#include "node/rpc_handler_util.h"
#include "rpc/encode.h"
#include "rpc/params.h"

namespace puhui {

namespace {

using namespace rpc_handler;

using nlohmann::json;
using rpc::Param;

constexpr uint64_t kMaxListLimit = 500;

template <typename T>
T RecordOrThrow(const StateReader& state, const Bytes& key, const std::string& what) {
  auto record = OrThrow(ReadProto<T>(state, key));
  if (!record) Throw(NotFound(what + " does not exist"));
  return *record;
}

json StatsJson(const StateReader& state, const Bytes& key) {
  auto s = OrThrow(ReadProto<pb::ActivityStats>(state, key));
  return rpc::ProtoToJson(s ? *s : pb::ActivityStats());
}

// Every record of an index kind after `after`, at most `limit`.
json ListPersonal(const StateReader& state, std::string_view kind, const json& params,
                  size_t after_position, const std::function<json(const Bytes&)>& render) {
  const uint64_t after = rpc::GetOptionalUint64(params, {"after", after_position}).value_or(0);
  const uint64_t limit = rpc::GetOptionalUint64(params, {"limit", after_position + 1}).value_or(50);
  if (limit == 0 || limit > kMaxListLimit) {
    throw rpc::RpcException(
        rpc::InvalidParams("limit", fmt::format("param 'limit' must be 1..{}", kMaxListLimit)));
  }
  const uint64_t last = OrThrow(ReadU64(state, personal_keys::Seq(kind)));
  json items = json::array();
  uint64_t seq = after;
  while (seq < last && items.size() < limit) {
    ++seq;
    auto key = OrThrow(state.Get(personal_keys::Index(kind, seq)));
    if (!key) Throw(Corruption(fmt::format("index entry {} of {} is missing", seq, kind)));
    items.push_back(render(*key));
  }
  return {{"items", std::move(items)}, {"next", seq < last ? json(seq) : json(nullptr)}};
}

json ScenarioJson(const StateReader& state, const pb::Scenario& s) {
  json j = rpc::ProtoToJson(s);
  j["stats"] = StatsJson(state, personal_keys::ScenarioStats(s.id()));
  return j;
}

json AccountJson(const pb::PersonalAccount& a) {
  json j = rpc::ProtoToJson(a);
  j["points_balance"] = a.points_earned() - a.points_redeemed();
  j["unconsigned_grams"] = a.credited_grams() - a.consigned_grams();
  j["custodial"] = !a.custodian().empty();
  return j;
}

}  // namespace

void RegisterPersonalRpcMethods(rpc::Dispatcher& d, Node& node) {
  auto reader = [&node] { return StoreStateReader(node.ledger().store()); };

  d.Register(
      "personal_account_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"address"});
        Hash32 address = rpc::GetHash32(params, {"address", 0});
        StoreStateReader state = reader();
        return AccountJson(
            RecordOrThrow<pb::PersonalAccount>(state, personal_keys::Account(ByteView(address)),
                                               fmt::format("personal account {}", Hex(address))));
      },
      "a personal carbon account: reductions and points by scenario and month, points balance, "
      "redemptions, consigned grams, custodian");

  d.Register(
      "personal_account_address",
      [](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"region", "external_id_hash"});
        std::string region = GetId(params, {"region", 0});
        Hash32 h = rpc::GetHash32(params, {"external_id_hash", 1});
        return json{{"address", Hex(CustodialAddress(region, ByteView(h)))}};
      },
      "the address of the custodial account an operator of a region opens for a salted id hash");

  d.Register(
      "scenario_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"id"});
        std::string id = GetId(params, {"id", 0});
        StoreStateReader state = reader();
        return ScenarioJson(state, RecordOrThrow<pb::Scenario>(state, personal_keys::Scenario(id),
                                                               fmt::format("scenario '{}'", id)));
      },
      "a personal scenario: methodology or points-only, providers, cap, points, period, and its "
      "statistics");

  d.Register(
      "scenario_list",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"after", "limit"});
        StoreStateReader state = reader();
        return ListPersonal(state, kKindScenario, params, 0, [&state](const Bytes& key) {
          return ScenarioJson(state, RecordOrThrow<pb::Scenario>(state, key, "a scenario"));
        });
      },
      "personal scenarios in registration order, with statistics; paged by after/limit");

  d.Register(
      "provider_stats_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"address"});
        Hash32 address = rpc::GetHash32(params, {"address", 0});
        StoreStateReader state = reader();
        json j = StatsJson(state, personal_keys::ProviderStats(PublicKey{address}));
        j["provider"] = Hex(address);
        return j;
      },
      "a data provider's batches and records: credited, capped, duplicate, grams and points");

  d.Register(
      "attestation_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"batch"});
        uint64_t seq = rpc::GetUint64(params, {"batch", 0});
        StoreStateReader state = reader();
        return rpc::ProtoToJson(RecordOrThrow<pb::AttestationBatch>(
            state, personal_keys::Batch(seq), fmt::format("attestation batch {}", seq)));
      },
      "an attestation batch: provider, transaction, Merkle root of its records and its counts");

  d.Register(
      "offer_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"id"});
        std::string id = GetId(params, {"id", 0});
        StoreStateReader state = reader();
        return rpc::ProtoToJson(RecordOrThrow<pb::Offer>(state, personal_keys::Offer(id),
                                                         fmt::format("offer '{}'", id)));
      },
      "a merchant's offer: points price, stock left, validity, redemptions");

  d.Register(
      "offer_list",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"after", "limit"});
        StoreStateReader state = reader();
        return ListPersonal(state, kKindOffer, params, 0, [&state](const Bytes& key) {
          return rpc::ProtoToJson(RecordOrThrow<pb::Offer>(state, key, "an offer"));
        });
      },
      "merchants' offers in publication order; paged by after/limit");

  d.Register(
      "redemption_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"id"});
        std::string id = GetId(params, {"id", 0});
        StoreStateReader state = reader();
        return rpc::ProtoToJson(RecordOrThrow<pb::Redemption>(state, personal_keys::Redemption(id),
                                                              fmt::format("redemption '{}'", id)));
      },
      "a redemption (RD-n): offer, merchant, account, points, code hash");

  d.Register(
      "pool_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"scenario", "month"});
        std::string scenario = GetId(params, {"scenario", 0});
        uint64_t month = rpc::GetUint64(params, {"month", 1});
        StoreStateReader state = reader();
        auto pool = OrThrow(ReadProto<pb::PoolBucket>(
            state, personal_keys::Pool(scenario, static_cast<uint32_t>(month))));
        if (!pool) {
          pool = pb::PoolBucket();
          pool->set_scenario(scenario);
          pool->set_month(static_cast<uint32_t>(month));
        }
        return rpc::ProtoToJson(*pool);
      },
      "the pool of a scenario for a month (YYYYMM): consigned and issued grams, batches");

  d.Register(
      "personal_totals",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {});
        StoreStateReader state = reader();
        return rpc::ProtoToJson(OrThrow(ReadTotals(state)));
      },
      "network totals of personal accounts: accounts, records, credited and capped grams, points "
      "earned and redeemed, consigned and pooled grams");

  d.Register(
      "record_proof",
      [&node, reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"provider", "record_id"});
        Hash32 provider = rpc::GetHash32(params, {"provider", 0});
        Hash32 record_id = rpc::GetHash32(params, {"record_id", 1});
        StoreStateReader state = reader();
        auto ref = RecordOrThrow<pb::RecordRef>(
            state, personal_keys::Record(PublicKey{provider}, ByteView(record_id)),
            fmt::format("a counted record {} of provider {}", Hex(record_id), Hex(provider)));
        auto batch = RecordOrThrow<pb::AttestationBatch>(state, personal_keys::Batch(ref.batch()),
                                                         "the record's batch");
        const RecordPaths paths =
            OrThrow(ProveRecordInBatch(node.ledger().store(), batch, ref.index()));
        const Hash32 leaf = MerkleLeafHash(AsBytes(paths.record_bytes));
        const Hash32 outcome_leaf = MerkleLeafHash(AsBytes(paths.outcome_bytes));
        auto root = ToHash32(AsBytes(batch.records_root()));
        auto outcomes_root = ToHash32(AsBytes(batch.outcomes_root()));
        return json{
            {"batch", ref.batch()},
            {"index", ref.index()},
            {"leaf_count", paths.record_path.leaf_count},
            {"record", rpc::ProtoToJson(paths.record)},
            {"record_bytes", Hex(AsBytes(paths.record_bytes))},
            {"leaf", Hex(leaf)},
            {"path", rpc::MerklePathToJson(paths.record_path)},
            {"records_root", Hex(AsBytes(batch.records_root()))},
            {"outcome", rpc::ProtoToJson(ref)},
            {"outcome_bytes", Hex(AsBytes(paths.outcome_bytes))},
            {"outcome_path", rpc::MerklePathToJson(paths.outcome_path)},
            {"outcomes_root", Hex(AsBytes(batch.outcomes_root()))},
            {"height", batch.height()},
            {"tx_hash", Hex(AsBytes(batch.tx_hash()))},
            {"verified", root && outcomes_root && MerkleVerify(*root, leaf, paths.record_path) &&
                             MerkleVerify(*outcomes_root, outcome_leaf, paths.outcome_path)}};
      },
      "proof that a provider's record was counted: the record and its outcome, its batch, and "
      "their Merkle paths to the batch's records_root and outcomes_root (proof_get kind=record "
      "adds the batch's proof to a certified state root)");
}

}  // namespace puhui
