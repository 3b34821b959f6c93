#include "contracts/exchange_keys.h"

#include <fmt/format.h>

namespace puhui::exchange_keys {

namespace {
Bytes Join(std::initializer_list<std::string_view> parts) {
  Bytes out;
  for (std::string_view p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
std::string_view Raw(const PublicKey& k) { return AsString(ByteView(k.bytes)); }
}  // namespace

Bytes Authorisation(const PublicKey& holder, const PublicKey& exchange, std::string_view batch) {
  return Join({"ex/auth/", Raw(holder), "/", Raw(exchange), "/", batch});
}
Bytes Settlement(const PublicKey& exchange, std::string_view id) {
  return Join({"ex/settle/", Raw(exchange), "/", id});
}
Bytes ListPrefix(const PublicKey& exchange) { return Join({"ex/list/", Raw(exchange), "/"}); }
Bytes ListEntry(const PublicKey& exchange, uint64_t height, std::string_view id) {
  return Join({"ex/list/", Raw(exchange), "/", fmt::format("{:020}", height), "/", id});
}
Bytes ListFrom(const PublicKey& exchange, uint64_t height) {
  return Join({"ex/list/", Raw(exchange), "/", fmt::format("{:020}", height)});
}

}  // namespace puhui::exchange_keys
