#include "contracts/genesis_state.h"

#include "contracts/state_keys.h"
#include "contracts/validator_changes.h"

namespace puhui {

StateChanges GenesisState(const GenesisDoc& g) {
  StateChanges out;
  auto put = [&](Bytes key, const std::string& value) { out[std::move(key)] = ToBytes(value); };
  for (const auto& r : g.regions) put(state_keys::Region(r.code), r.name);
  for (const auto& a : g.accounts) {
    for (const auto& grant : a.roles) {
      out[state_keys::RoleGrant(grant.region, grant.role, a.address)] = EncodeU64(0);
    }
  }
  for (const auto& b : g.batches) {
    pb::CreditBatch batch;
    batch.set_serial(b.serial);
    batch.set_region(b.region);
    batch.set_issued_grams(b.grams);
    batch.set_issued_height(0);
    batch.set_note(b.note);
    put(state_keys::Batch(b.serial), batch.SerializeAsString());
    out[state_keys::Balance(b.serial, b.owner)] = EncodeU64(b.grams);
  }
  out[state_keys::ValidatorsCurrent()] = ToBytes(g.validators.SerializeAsString());
  return out;
}

}  // namespace puhui
