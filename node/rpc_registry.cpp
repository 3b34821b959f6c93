#include "node/rpc_registry.h"

#include <fmt/format.h>

#include <functional>

#include "chain/genesis.h"
#include "contracts/registry_keys.h"
#include "contracts/review.h"
#include "contracts/state_keys.h"
#include "node/node.h"
#include "node/rpc_handler_util.h"
#include "rpc/encode.h"
#include "rpc/params.h"

namespace puhui {

namespace {

using namespace rpc_handler;

using nlohmann::json;
using rpc::Param;

// A list call reads at most this many index entries, matching or not; `next` resumes after them.
constexpr uint64_t kMaxScan = 10'000;
constexpr uint64_t kDefaultLimit = 50;
constexpr uint64_t kMaxLimit = 500;

template <typename T>
json RecordOrThrow(const StateReader& state, const Bytes& key, const std::string& what) {
  auto record = OrThrow(ReadProto<T>(state, key));
  if (!record) Throw(NotFound(what + " does not exist"));
  return rpc::ProtoToJson(*record);
}

// An optional filter: a field of the record must equal the given value (strings compared as
// written, numbers as numbers).
struct Filter {
  std::string field;
  json value;
};

// Pages through idx/<kind>/: records after sequence `after`, those passing every filter, at most
// `limit`. Returns {"items": [...], "next": seq to pass as `after`, or null at the end}.
// `after_position` is the position of "after" among the method's params ("limit" follows it).
json ListKind(const StateReader& state, std::string_view kind, const json& params,
              size_t after_position, const std::function<json(const Bytes& key)>& render,
              std::vector<Filter> filters) {
  const uint64_t after = rpc::GetOptionalUint64(params, {"after", after_position}).value_or(0);
  const uint64_t limit =
      rpc::GetOptionalUint64(params, {"limit", after_position + 1}).value_or(kDefaultLimit);
  if (limit == 0 || limit > kMaxLimit) {
    throw rpc::RpcException(
        rpc::InvalidParams("limit", fmt::format("param 'limit' must be 1..{}", kMaxLimit)));
  }
  const uint64_t last = OrThrow(ReadU64(state, registry_keys::Seq(kind)));
  json items = json::array();
  uint64_t seq = after;
  uint64_t scanned = 0;
  while (seq < last && items.size() < limit && scanned < kMaxScan) {
    ++seq;
    ++scanned;
    auto key = OrThrow(state.Get(registry_keys::Index(kind, seq)));
    if (!key) Throw(Corruption(fmt::format("index entry {} of {} is missing", seq, kind)));
    json item = render(*key);
    bool pass = true;
    for (const auto& f : filters) pass = pass && item.value(f.field, json()) == f.value;
    if (pass) items.push_back(std::move(item));
  }
  return {{"items", std::move(items)}, {"next", seq < last ? json(seq) : json(nullptr)}};
}

template <typename T>
std::function<json(const Bytes&)> Render(const StateReader& state) {
  return [&state](const Bytes& key) {
    auto record = OrThrow(ReadProto<T>(state, key));
    if (!record) Throw(Corruption("an index entry names a missing record"));
    return rpc::ProtoToJson(*record);
  };
}

// Adds {field: value} to `filters` when the optional string param `name` is given.
void StringFilter(const json& params, Param p, const std::string& field,
                  std::vector<Filter>& filters) {
  if (auto v = rpc::GetOptionalString(params, p)) filters.push_back({field, *v});
}

void AddressFilter(const json& params, Param p, const std::string& field,
                   std::vector<Filter>& filters) {
  if (auto h = rpc::GetOptionalHash32(params, p)) filters.push_back({field, Hex(*h)});
}

json BatchJson(const StateReader& state, const Bytes& key) {
  auto b = OrThrow(ReadProto<pb::CreditBatch>(state, key));
  if (!b) Throw(Corruption("an index entry names a missing batch"));
  json j = rpc::CreditBatchToJson(*b);
  j["vintage_year"] = b->vintage_start() / 10000;
  return j;
}

}  // namespace

void RegisterRegistryRpcMethods(rpc::Dispatcher& d, Node& node) {
  auto reader = [&node] { return StoreStateReader(node.ledger().store()); };

  d.Register(
      "methodology_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"id", "version"});
        std::string id = GetId(params, {"id", 0});
        auto version = rpc::GetOptionalUint64(params, {"version", 1});
        StoreStateReader state = reader();
        uint64_t latest = OrThrow(ReadU64(state, registry_keys::MethodologyLatest(id)));
        if (latest == 0) Throw(NotFound(fmt::format("methodology '{}' does not exist", id)));
        json versions = json::array();
        for (uint64_t v = 1; v <= latest; ++v) {
          if (version && *version != v) continue;
          versions.push_back(RecordOrThrow<pb::MethodologyVersion>(
              state, registry_keys::Methodology(id, static_cast<uint32_t>(v)),
              fmt::format("methodology {} v{}", id, v)));
        }
        if (versions.empty()) {
          Throw(NotFound(fmt::format("methodology {} v{} does not exist; the latest is v{}", id,
                                     *version, latest)));
        }
        return json{{"id", id}, {"latest_version", latest}, {"versions", std::move(versions)}};
      },
      "a methodology's versions (or one version) with formula, status, review history, "
      "recognitions and deprecation");

  d.Register(
      "methodology_list",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"region", "status", "category", "after", "limit"});
        std::vector<Filter> f;
        StringFilter(params, {"region", 0}, "region", f);
        StringFilter(params, {"status", 1}, "status", f);
        StringFilter(params, {"category", 2}, "category", f);
        StoreStateReader state = reader();
        return ListKind(state, kKindMethodology, params, 3, Render<pb::MethodologyVersion>(state),
                        f);
      },
      "methodology versions in filing order; filters region, status, category; paged by "
      "after/limit");

  d.Register(
      "project_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"id"});
        std::string id = GetId(params, {"id", 0});
        StoreStateReader state = reader();
        return RecordOrThrow<pb::Project>(state, registry_keys::Project(id),
                                          fmt::format("project '{}'", id));
      },
      "a project: owner, methodology version, documents, crediting period, status and reviews");

  d.Register(
      "project_list",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"region", "methodology", "owner", "status", "after", "limit"});
        std::vector<Filter> f;
        StringFilter(params, {"region", 0}, "region", f);
        StringFilter(params, {"methodology", 1}, "methodology_id", f);
        AddressFilter(params, {"owner", 2}, "owner", f);
        StringFilter(params, {"status", 3}, "status", f);
        StoreStateReader state = reader();
        return ListKind(state, kKindProject, params, 4, Render<pb::Project>(state), f);
      },
      "projects in registration order; filters region, methodology, owner, status");

  d.Register(
      "report_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"id"});
        std::string id = GetId(params, {"id", 0});
        StoreStateReader state = reader();
        return RecordOrThrow<pb::MonitoringReport>(state, registry_keys::Report(id),
                                                   fmt::format("monitoring report '{}'", id));
      },
      "a monitoring report: period, activity data, computed grams, verification and issuance");

  d.Register(
      "report_list",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"project", "status", "after", "limit"});
        std::vector<Filter> f;
        StringFilter(params, {"project", 0}, "project", f);
        StringFilter(params, {"status", 1}, "status", f);
        StoreStateReader state = reader();
        return ListKind(state, kKindReport, params, 2, Render<pb::MonitoringReport>(state), f);
      },
      "monitoring reports in submission order; filters project, status");

  d.Register(
      "batch_list",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params,
                        {"region", "methodology", "project", "vintage", "owner", "after", "limit"});
        std::vector<Filter> f;
        StringFilter(params, {"region", 0}, "region", f);
        StringFilter(params, {"methodology", 1}, "methodology_id", f);
        StringFilter(params, {"project", 2}, "project", f);
        if (auto year = rpc::GetOptionalUint64(params, {"vintage", 3})) {
          f.push_back({"vintage_year", *year});
        }
        AddressFilter(params, {"owner", 4}, "owner", f);
        StoreStateReader state = reader();
        return ListKind(
            state, kKindBatch, params, 5,
            [&state](const Bytes& key) { return BatchJson(state, key); }, f);
      },
      "credit batches in issuance order; filters region, methodology, project, vintage (year), "
      "owner (issued to)");

  d.Register(
      "balances_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"address", "after", "limit"});
        PublicKey address = GetAddress(params, {"address", 0});
        StoreStateReader state = reader();
        json page =
            ListKind(state, kKindBatch, params, 1,
                     [&](const Bytes& key) {
                       json b = BatchJson(state, key);
                       uint64_t grams = OrThrow(ReadU64(
                           state, state_keys::Balance(b["serial"].get<std::string>(), address)));
                       return json{{"batch", b["serial"]}, {"grams", grams}, {"held", grams > 0}};
                     },
                     {{"held", true}});
        for (auto& item : page["items"]) item.erase("held");
        page["address"] = Hex(address.bytes);
        return page;
      },
      "the batches an address holds free grams of, with the grams; paged over batches");

  d.Register(
      "pledge_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"id"});
        std::string id = GetId(params, {"id", 0});
        StoreStateReader state = reader();
        return RecordOrThrow<pb::Pledge>(state, registry_keys::Pledge(id),
                                         fmt::format("pledge '{}'", id));
      },
      "a pledge: batch, pledger, pledgee, grams, status");

  d.Register(
      "pledge_list",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"batch", "pledger", "pledgee", "status", "after", "limit"});
        std::vector<Filter> f;
        StringFilter(params, {"batch", 0}, "batch", f);
        AddressFilter(params, {"pledger", 1}, "pledger", f);
        AddressFilter(params, {"pledgee", 2}, "pledgee", f);
        StringFilter(params, {"status", 3}, "status", f);
        StoreStateReader state = reader();
        return ListKind(state, kKindPledge, params, 4, Render<pb::Pledge>(state), f);
      },
      "pledges in creation order; filters batch, pledger, pledgee, status");

  d.Register(
      "retirement_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"id"});
        std::string id = GetId(params, {"id", 0});
        StoreStateReader state = reader();
        return RecordOrThrow<pb::Retirement>(state, registry_keys::Retirement(id),
                                             fmt::format("retirement '{}'", id));
      },
      "a retirement or cancellation certificate (RT-n, CX-n) by id");

  d.Register(
      "retirement_list",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"batch", "holder", "kind", "region", "after", "limit"});
        std::vector<Filter> f;
        StringFilter(params, {"batch", 0}, "batch", f);
        AddressFilter(params, {"holder", 1}, "holder", f);
        StringFilter(params, {"kind", 2}, "kind", f);
        StringFilter(params, {"region", 3}, "region", f);
        StoreStateReader state = reader();
        return ListKind(state, kKindRetirement, params, 4, Render<pb::Retirement>(state), f);
      },
      "retirements and cancellations in order; filters batch, holder, kind "
      "(offset|voluntary|cancellation), region");

  d.Register(
      "obligation_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"entity", "region", "period"});
        PublicKey entity = GetAddress(params, {"entity", 0});
        std::string region = GetId(params, {"region", 1});
        std::string period = GetId(params, {"period", 2});
        StoreStateReader state = reader();
        return RecordOrThrow<pb::Obligation>(
            state, registry_keys::Obligation(region, period, entity),
            fmt::format("an obligation of {} in '{}' for period '{}'", Hex(entity.bytes), region,
                        period));
      },
      "a compliance entity's obligation for a period: cap, local share, vintage window, offsets");

  d.Register(
      "obligation_list",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"region", "entity", "period", "after", "limit"});
        std::vector<Filter> f;
        StringFilter(params, {"region", 0}, "region", f);
        AddressFilter(params, {"entity", 1}, "entity", f);
        StringFilter(params, {"period", 2}, "period", f);
        StoreStateReader state = reader();
        return ListKind(state, kKindObligation, params, 3, Render<pb::Obligation>(state), f);
      },
      "obligations in order of first setting; filters region, entity, period");

  d.Register(
      "proposal_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"id"});
        std::string id = GetId(params, {"id", 0});
        StoreStateReader state = reader();
        return RecordOrThrow<pb::GovernanceProposal>(state, registry_keys::Proposal(id),
                                                     fmt::format("proposal '{}'", id));
      },
      "a governance proposal: change, votes by region, status");

  d.Register(
      "proposal_list",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"status", "after", "limit"});
        std::vector<Filter> f;
        StringFilter(params, {"status", 0}, "status", f);
        StoreStateReader state = reader();
        return ListKind(state, kKindProposal, params, 1, Render<pb::GovernanceProposal>(state), f);
      },
      "governance proposals in order; filter status (open|passed|rejected)");

  d.Register(
      "region_get",
      [reader](const json& params) -> rpc::RpcResult {
        rpc::ExpectOnly(params, {"code"});
        std::string code = GetId(params, {"code", 0});
        StoreStateReader state = reader();
        auto name = OrThrow(state.Get(state_keys::Region(code)));
        if (!name) Throw(NotFound(fmt::format("region '{}' does not exist", code)));
        json roles = json::object();
        for (int r = pb::ROLE_AUTHORITY; r <= pb::ROLE_EXCHANGE; ++r) {
          auto role = static_cast<pb::Role>(r);
          roles[std::string(RoleName(role))] =
              OrThrow(ReadU64(state, registry_keys::RoleCount(code, role)));
        }
        return json{{"code", code},
                    {"name", ToString(*name)},
                    {"review_threshold", OrThrow(ReviewThreshold(state, code))},
                    {"role_holders", std::move(roles)}};
      },
      "a region: name, the approvals its reviews need, and how many accounts hold each role");
}

}  // namespace puhui
