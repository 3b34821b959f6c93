#include "contracts/registry_keys.h"

#include <fmt/format.h>

#include "chain/limits.h"
#include "contracts/state_keys.h"

namespace puhui::registry_keys {

namespace {
Bytes Join(std::initializer_list<std::string_view> parts) {
  Bytes out;
  for (std::string_view p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
}  // namespace

Bytes Methodology(std::string_view id, uint32_t version) {
  return Join({"meth/", id, "/", fmt::format("{:010}", version)});
}
Bytes MethodologyLatest(std::string_view id) { return Join({"methlatest/", id}); }
Bytes Project(std::string_view id) { return Join({"project/", id}); }
Bytes Report(std::string_view id) { return Join({"report/", id}); }
Bytes Pledge(std::string_view id) { return Join({"pledge/", id}); }
Bytes Retirement(std::string_view id) { return Join({"retire/", id}); }
Bytes Obligation(std::string_view region, std::string_view period, const PublicKey& entity) {
  return Join({"obl/", region, "/", period, "/", AsString(ByteView(entity.bytes))});
}
Bytes Proposal(std::string_view id) { return Join({"prop/", id}); }
Bytes RoleCount(std::string_view region, pb::Role role) {
  return Join({"rolecount/", region, "/", std::to_string(static_cast<int>(role))});
}
Bytes ReviewThreshold(std::string_view region) { return Join({"threshold/", region}); }
Bytes Param(std::string_view name) { return Join({"param/", name}); }
Bytes RegionCount() { return Join({"count/regions"}); }
Bytes Seq(std::string_view kind) { return Join({"seq/", kind}); }
Bytes Index(std::string_view kind, uint64_t seq) {
  return Join({"idx/", kind, "/", fmt::format("{:020}", seq)});
}

}  // namespace puhui::registry_keys

namespace puhui {

Result<uint64_t> AppendIndex(StateOverlay& state, std::string_view kind, const Bytes& record_key) {
  auto last = ReadU64(state, registry_keys::Seq(kind));
  if (!last.ok()) return last.status();
  const uint64_t seq = *last + 1;
  WriteU64(state, registry_keys::Seq(kind), seq);
  state.Put(registry_keys::Index(kind, seq), record_key);
  return seq;
}

Result<uint64_t> ReviewThreshold(const StateReader& state, std::string_view region) {
  auto k = ReadU64(state, registry_keys::ReviewThreshold(region));
  if (!k.ok()) return k.status();
  if (*k != 0) return *k;
  auto def = ReadU64(state, registry_keys::Param("default_review_threshold"));
  if (!def.ok()) return def.status();
  return *def != 0 ? *def : kDefaultReviewThreshold;
}

Status AdjustRoleCount(StateOverlay& state, std::string_view region, pb::Role role, bool grant) {
  Bytes key = registry_keys::RoleCount(region, role);
  auto n = ReadU64(state, key);
  if (!n.ok()) return n.status();
  if (!grant && *n == 0) return Corruption("role count below zero");
  WriteU64(state, std::move(key), grant ? *n + 1 : *n - 1);
  return Status::Ok();
}

std::string BatchSerial(std::string_view region, std::string_view methodology, uint32_t version,
                        std::string_view project, uint32_t vintage_start, uint32_t vintage_end,
                        uint32_t sequence) {
  return fmt::format("{}-{}-v{}-{}-{}-{}-{}", region, methodology, version, project, vintage_start,
                     vintage_end, sequence);
}

std::optional<uint64_t> CheckedAdd(uint64_t a, uint64_t b) {
  if (a > UINT64_MAX - b) return std::nullopt;
  return a + b;
}

bool IsValidDate(uint32_t d) {
  const uint32_t y = d / 10000, m = d / 100 % 100, day = d % 100;
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || day < 1) return false;
  constexpr uint32_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return day <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

PublicKey AddressOf(const std::string& raw32) { return PublicKey{*ToHash32(AsBytes(raw32))}; }

}  // namespace puhui
