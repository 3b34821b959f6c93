#include "contracts/genesis_state.h"

#include <fmt/format.h>

#include <map>

#include "contracts/formula.h"
#include "contracts/personal.h"
#include "contracts/personal_keys.h"
#include "contracts/registry_checks.h"
#include "contracts/registry_keys.h"
#include "contracts/state_keys.h"
#include "contracts/validator_changes.h"

namespace puhui {

Status ValidateGenesisRegistry(const GenesisDoc& g) {
  for (const auto& m : g.methodologies) {
    Status f = ValidateFormula(m.formula());
    if (!f.ok()) {
      return InvalidArgument(
          fmt::format("genesis: methodology {} v{} formula: {}", m.id(), m.version(), f.message()));
    }
    if (static_cast<size_t>(m.params_size()) > kMaxMethodologyParams || m.title().empty() ||
        m.title().size() > kMaxTitleBytes) {
      return InvalidArgument(fmt::format(
          "genesis: methodology {} v{} needs a title of 1..{} bytes and at most {} params", m.id(),
          m.version(), kMaxTitleBytes, kMaxMethodologyParams));
    }
  }
  for (const auto& r : g.scenarios) {
    pb::TxBody body;
    *body.mutable_register_scenario() = r;
    Status c = CheckPersonalAction(body, PublicKey{});
    if (!c.ok())
      return InvalidArgument(fmt::format("genesis: scenario {}: {}", r.id(), c.message()));
    if (!r.methodology_id().empty()) {
      const pb::MethodologyVersion* m = nullptr;
      for (const auto& x : g.methodologies) {
        if (x.id() == r.methodology_id() && x.version() == r.methodology_version()) m = &x;
      }
      if (m == nullptr || m->region() != r.region()) {
        return InvalidArgument(
            fmt::format("genesis: scenario {} names methodology {} v{}, not filed in genesis in "
                        "region {}",
                        r.id(), r.methodology_id(), r.methodology_version(), r.region()));
      }
      if (auto problem = ScenarioMethodologyProblem(*m)) {
        return InvalidArgument(fmt::format("genesis: scenario {}: {}", r.id(), *problem));
      }
    }
    for (const auto& p : r.providers()) {
      bool provider = false;
      for (const auto& a : g.accounts) {
        if (ToString(a.address.bytes) != p) continue;
        for (const auto& grant : a.roles) {
          provider =
              provider || (grant.role == pb::ROLE_DATA_PROVIDER && grant.region == r.region());
        }
      }
      if (!provider) {
        return InvalidArgument(fmt::format(
            "genesis: scenario {}: provider {} is not a data_provider account of region {}", r.id(),
            Hex(AsBytes(p)), r.region()));
      }
    }
  }
  return Status::Ok();
}

StateChanges GenesisState(const GenesisDoc& g) {
  StateChanges out;
  auto put = [&](Bytes key, const std::string& value) { out[std::move(key)] = ToBytes(value); };
  uint64_t regions = 0;
  for (const auto& r : g.regions) {
    put(state_keys::Region(r.code), r.name);
    out[registry_keys::Index(kKindRegion, ++regions)] = state_keys::Region(r.code);
  }
  out[registry_keys::Seq(kKindRegion)] = EncodeU64(regions);
  out[registry_keys::RegionCount()] = EncodeU64(g.regions.size());
  std::map<Bytes, uint64_t> role_counts;
  for (const auto& a : g.accounts) {
    for (const auto& grant : a.roles) {
      Bytes key = state_keys::RoleGrant(grant.region, grant.role, a.address);
      if (out.contains(key)) continue;  // the same grant listed twice is one grant
      out[std::move(key)] = EncodeU64(0);
      ++role_counts[registry_keys::RoleCount(grant.region, grant.role)];
    }
  }
  for (const auto& [key, n] : role_counts) out[key] = EncodeU64(n);
  uint64_t batches = 0;
  for (const auto& b : g.batches) {
    pb::CreditBatch batch;
    batch.set_serial(b.serial);
    batch.set_region(b.region);
    batch.set_issued_grams(b.grams);
    batch.set_issued_height(0);
    batch.set_note(b.note);
    batch.set_owner(ToString(b.owner.bytes));
    put(state_keys::Batch(b.serial), batch.SerializeAsString());
    out[state_keys::Balance(b.serial, b.owner)] = EncodeU64(b.grams);
    out[registry_keys::Index(kKindBatch, ++batches)] = state_keys::Batch(b.serial);
  }
  out[state_keys::ValidatorsCurrent()] = ToBytes(g.validators.SerializeAsString());
  if (batches > 0) out[registry_keys::Seq(kKindBatch)] = EncodeU64(batches);
  uint64_t methodologies = 0;
  for (const auto& m : g.methodologies) {
    Bytes key = registry_keys::Methodology(m.id(), m.version());
    put(key, m.SerializeAsString());
    out[registry_keys::MethodologyLatest(m.id())] = EncodeU64(m.version());
    out[registry_keys::Index(kKindMethodology, ++methodologies)] = key;
  }
  if (methodologies > 0) out[registry_keys::Seq(kKindMethodology)] = EncodeU64(methodologies);
  uint64_t scenarios = 0;
  for (const auto& r : g.scenarios) {
    Bytes key = personal_keys::Scenario(r.id());
    put(key, ScenarioFrom(r).SerializeAsString());
    out[personal_keys::Index(kKindScenario, ++scenarios)] = key;
  }
  if (scenarios > 0) out[personal_keys::Seq(kKindScenario)] = EncodeU64(scenarios);
  return out;
}

}  // namespace puhui
