#include "contracts/state_keys.h"

#include <algorithm>
#include <cstring>

namespace puhui::state_keys {

namespace {
Bytes Join(std::initializer_list<std::string_view> parts) {
  size_t size = 0;
  for (std::string_view p : parts) size += p.size();
  Bytes out(size);  // one allocation: keys are built several times per transaction
  uint8_t* at = out.data();
  for (std::string_view p : parts) {
    if (!p.empty()) std::memcpy(at, p.data(), p.size());
    at += p.size();
  }
  return out;
}
std::string_view Raw(const PublicKey& a) { return AsString(ByteView(a.bytes)); }
}  // namespace

Bytes Account(const PublicKey& address) { return Join({kAccountPrefix, Raw(address)}); }
std::optional<PublicKey> AccountAddress(ByteView key) {
  const ByteView prefix = AsBytes(kAccountPrefix);
  if (key.size() != prefix.size() + sizeof(Hash32) ||
      !std::equal(prefix.begin(), prefix.end(), key.begin())) {
    return std::nullopt;
  }
  return PublicKey{*ToHash32(key.subspan(prefix.size()))};
}
Bytes Region(std::string_view code) { return Join({"region/", code}); }
Bytes RoleGrant(std::string_view region, pb::Role role, const PublicKey& a) {
  char r = static_cast<char>('0' + static_cast<int>(role));
  return Join({"role/", region, "/", std::string_view(&r, 1), "/", Raw(a)});
}
Bytes Batch(std::string_view serial) { return Join({"batch/", serial}); }
Bytes Balance(std::string_view serial, const PublicKey& holder) {
  return Join({"bal/", serial, "/", Raw(holder)});
}

}  // namespace puhui::state_keys

namespace puhui {

bool InStateTree(ByteView key) {
  constexpr std::string_view kCountedRecords = "pc/rec/";
  return !AsString(key).starts_with(kCountedRecords);
}

Bytes EncodeU64(uint64_t v) {
  // Sized at once: appending grew it three times (a balance is written twice a transfer).
  Bytes out(8);
  WriteBigEndian(out.data(), v, 8);
  return out;
}

std::optional<uint64_t> DecodeU64(ByteView b) {
  if (b.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (uint8_t c : b) v = v << 8 | c;
  return v;
}

Result<uint64_t> ReadU64(const StateReader& state, ByteView key) {
  std::optional<Bytes> scratch;
  auto raw = state.Find(key, scratch);
  if (!raw.ok()) return raw.status();
  if (*raw == nullptr) return uint64_t{0};
  auto v = DecodeU64(**raw);
  if (!v) return Corruption("state value is not an 8-byte integer");
  return *v;
}

Result<pb::Account> ReadAccount(const StateReader& state, const PublicKey& address) {
  return ReadAccountAt(state, state_keys::Account(address));
}

Result<pb::Account> ReadAccountAt(const StateReader& state, ByteView key) {
  std::optional<Bytes> scratch;
  auto raw = state.Find(key, scratch);
  if (!raw.ok()) return raw.status();
  pb::Account account;
  if (*raw != nullptr &&
      !account.ParseFromArray((*raw)->data(), static_cast<int>((*raw)->size()))) {
    return Corruption("account record does not parse");
  }
  return account;
}

Result<std::optional<pb::CreditBatch>> ReadBatch(const StateReader& state,
                                                 std::string_view serial) {
  std::optional<Bytes> scratch;
  auto raw = state.Find(state_keys::Batch(serial), scratch);
  if (!raw.ok()) return raw.status();
  if (*raw == nullptr) return std::optional<pb::CreditBatch>();
  pb::CreditBatch batch;
  if (!batch.ParseFromArray((*raw)->data(), static_cast<int>((*raw)->size()))) {
    return Corruption("credit batch record does not parse");
  }
  return std::optional<pb::CreditBatch>(std::move(batch));
}

namespace {
// Whether `key` has a value, without copying it.
Result<bool> Exists(const StateReader& state, ByteView key) {
  std::optional<Bytes> scratch;
  auto raw = state.Find(key, scratch);
  if (!raw.ok()) return raw.status();
  return *raw != nullptr;
}
}  // namespace

Result<bool> BatchExists(const StateReader& state, std::string_view serial) {
  return Exists(state, state_keys::Batch(serial));
}

Result<bool> HasRole(const StateReader& state, std::string_view region, pb::Role role,
                     const PublicKey& address) {
  return Exists(state, state_keys::RoleGrant(region, role, address));
}

Result<bool> RegionExists(const StateReader& state, std::string_view code) {
  return Exists(state, state_keys::Region(code));
}

void WriteU64(StateOverlay& state, Bytes key, uint64_t v) {
  if (v == 0) {
    state.Delete(std::move(key));
  } else {
    state.Put(std::move(key), EncodeU64(v));
  }
}

void WriteProto(StateOverlay& state, Bytes key, const google::protobuf::Message& m) {
  // Straight into the value's buffer: the same bytes as SerializeAsString, without the string.
  Bytes value(m.ByteSizeLong());
  m.SerializeWithCachedSizesToArray(value.data());
  state.Put(std::move(key), std::move(value));
}

}  // namespace puhui
