#include "contracts/validator_changes.h"

#include <fmt/format.h>

#include <set>

#include "contracts/state_keys.h"

namespace puhui {

namespace state_keys {
namespace {
Bytes Key(std::string_view text) { return Bytes(text.begin(), text.end()); }
}  // namespace

Bytes ValidatorsCurrent() { return Key("vset/current"); }
Bytes ValidatorsPrevious() { return Key("vset/previous"); }
Bytes ValidatorsChangedAt() { return Key("vset/changed_at"); }
Bytes ValidatorsPending(uint64_t height) {
  Bytes k = Key("vset/pending/");
  AppendBigEndian(k, height, 8);
  return k;
}
Bytes ValidatorsHistory(uint64_t height) {
  Bytes k = Key(kValidatorsHistoryPrefix);
  AppendBigEndian(k, height, 8);
  return k;
}
}  // namespace state_keys

namespace {

Result<std::optional<pb::ValidatorSet>> ReadSet(const StateReader& state, const Bytes& key) {
  auto raw = state.Get(key);
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<pb::ValidatorSet>();
  pb::ValidatorSet set;
  if (!set.ParseFromArray((*raw)->data(), static_cast<int>((*raw)->size()))) {
    return Corruption("stored validator set does not parse");
  }
  return std::optional<pb::ValidatorSet>(std::move(set));
}

}  // namespace

Status CheckValidatorSet(const pb::ValidatorSet& set) {
  if (set.validators_size() == 0) return InvalidArgument("a validator set needs a validator");
  if (set.validators_size() > kMaxValidators) {
    return InvalidArgument(
        fmt::format("a validator set has at most {} validators", kMaxValidators));
  }
  for (int i = 0; i < set.validators_size(); ++i) {
    const pb::Validator& v = set.validators(i);
    if (v.pub_key().size() != 32) return InvalidArgument("a validator key is 32 bytes");
    if (!v.node_key().empty() && v.node_key().size() != 32) {
      return InvalidArgument("a validator's node key is empty or 32 bytes");
    }
    if (v.power() == 0 || v.power() > (uint64_t{1} << 40)) {
      return InvalidArgument("a validator's power is 1..2^40");
    }
    if (i > 0 && !(set.validators(i - 1).pub_key() < v.pub_key())) {
      return InvalidArgument("validators must be sorted by key, each once");
    }
  }
  return Status::Ok();
}

Result<uint64_t> ScheduleValidatorChange(StateOverlay& state, uint64_t decided_at,
                                         const pb::ValidatorSet& next) {
  PUHUI_RETURN_IF_ERROR(CheckValidatorSet(next));
  const uint64_t effective = decided_at + kValidatorChangeDelay;
  WriteProto(state, state_keys::ValidatorsPending(effective), next);
  return effective;
}

Result<pb::ValidatorSet> NextValidatorSet(const StateReader& state, uint64_t decided_at,
                                          const pb::ChangeValidator& change) {
  std::optional<pb::ValidatorSet> base;
  // A change decided at h is pending for h + kValidatorChangeDelay, so any set still pending was
  // decided in the last kValidatorChangeDelay blocks; the latest of them includes the others.
  for (uint64_t h = decided_at + kValidatorChangeDelay; h > decided_at && !base; --h) {
    auto pending = ReadSet(state, state_keys::ValidatorsPending(h));
    if (!pending.ok()) return pending.status();
    base = *pending;
  }
  if (!base) {
    auto current = ReadSet(state, state_keys::ValidatorsCurrent());
    if (!current.ok()) return current.status();
    if (!current->has_value()) return Corruption("no validator set in state");
    base = *current;
  }
  pb::ValidatorSet next;
  bool found = false;
  bool inserted = change.power() == 0;
  auto add_changed = [&] {
    pb::Validator* v = next.add_validators();
    v->set_pub_key(change.pub_key());
    v->set_power(change.power());
    v->set_region(change.region());
    v->set_name(change.name());
    v->set_node_key(change.node_key());
  };
  for (const pb::Validator& v : base->validators()) {
    if (!inserted && change.pub_key() < v.pub_key()) {
      add_changed();
      inserted = true;
    }
    if (v.pub_key() == change.pub_key()) {
      found = true;
      if (change.power() != 0 && !inserted) {
        add_changed();
        inserted = true;
      }
      continue;  // replaced or removed
    }
    *next.add_validators() = v;
  }
  if (!inserted) add_changed();
  if (change.power() == 0 && !found) {
    return InvalidArgument("the validator to remove is not in the set");
  }
  PUHUI_RETURN_IF_ERROR(CheckValidatorSet(next));
  std::set<std::string> node_keys;
  for (const pb::Validator& v : next.validators()) {
    if (!v.node_key().empty() && !node_keys.insert(v.node_key()).second) {
      return InvalidArgument("two validators would share a node key");
    }
  }
  return next;
}

Status ApplyValidatorChanges(StateOverlay& state, uint64_t height) {
  const Bytes pending_key = state_keys::ValidatorsPending(height + 1);
  auto pending = ReadSet(state, pending_key);
  if (!pending.ok()) return pending.status();
  if (!pending->has_value()) return Status::Ok();
  auto current = state.Get(state_keys::ValidatorsCurrent());
  if (!current.ok()) return current.status();
  if (current->has_value()) state.Put(state_keys::ValidatorsPrevious(), **current);
  WriteProto(state, state_keys::ValidatorsCurrent(), **pending);
  WriteProto(state, state_keys::ValidatorsHistory(height + 1), **pending);
  state.Put(state_keys::ValidatorsChangedAt(), EncodeU64(height + 1));
  state.Delete(pending_key);
  return Status::Ok();
}

Result<ValidatorSets> ReadValidatorSets(const StateReader& state, uint64_t tip) {
  ValidatorSets out;
  auto current = ReadSet(state, state_keys::ValidatorsCurrent());
  if (!current.ok()) return current.status();
  out.next = *current;
  auto changed_at = ReadU64(state, state_keys::ValidatorsChangedAt());
  if (!changed_at.ok()) return changed_at.status();
  if (*changed_at != 0 && *changed_at == tip + 1) {
    auto previous = ReadSet(state, state_keys::ValidatorsPrevious());
    if (!previous.ok()) return previous.status();
    out.at_tip = *previous;
  } else {
    out.at_tip = out.next;
  }
  return out;
}

}  // namespace puhui
