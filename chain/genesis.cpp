#include "chain/genesis.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "chain/genesis_methodology.h"
#include "chain/genesis_scenario.h"
#include "chain/hash.h"
#include "chain/limits.h"

namespace puhui {

namespace {

using nlohmann::json;

constexpr std::pair<pb::Role, std::string_view> kRoleNames[] = {
    {pb::ROLE_AUTHORITY, "authority"},
    {pb::ROLE_OPERATOR, "operator"},
    {pb::ROLE_EXPERT, "expert"},
    {pb::ROLE_VERIFIER, "verifier"},
    {pb::ROLE_PROJECT_OWNER, "project_owner"},
    {pb::ROLE_DATA_PROVIDER, "data_provider"},
    {pb::ROLE_MERCHANT, "merchant"},
    {pb::ROLE_COMPLIANCE_ENTITY, "compliance_entity"},
    {pb::ROLE_EXCHANGE, "exchange"},
};

Result<std::string> GetString(const json& obj, const char* field, const std::string& where) {
  auto it = obj.find(field);
  if (it == obj.end() || !it->is_string()) {
    return InvalidArgument(fmt::format("genesis: {} needs a string field '{}'", where, field));
  }
  return it->get<std::string>();
}

Result<uint64_t> GetUint(const json& obj, const char* field, const std::string& where) {
  auto it = obj.find(field);
  if (it == obj.end() || !it->is_number_unsigned()) {
    return InvalidArgument(
        fmt::format("genesis: {} needs a non-negative integer field '{}'", where, field));
  }
  return it->get<uint64_t>();
}

Result<PublicKey> GetKey(const json& obj, const char* field, const std::string& where) {
  auto text = GetString(obj, field, where);
  if (!text.ok()) return text.status();
  auto bytes = FromHex(*text);
  if (!bytes) return InvalidArgument(fmt::format("genesis: {} '{}' is not hex", where, field));
  auto key = ParsePublicKey(*bytes);
  if (!key.ok()) {
    return InvalidArgument(
        fmt::format("genesis: {} '{}' is not a 32-byte x-only secp256k1 key", where, field));
  }
  return *key;
}

// An optional field: nullptr when absent. Present with another type (null included) is an error,
// never a silent default: a misspelt list would otherwise drop every account or batch in it.
Result<const json*> GetOptionalArray(const json& obj, const char* field, const std::string& where) {
  auto it = obj.find(field);
  if (it == obj.end()) return static_cast<const json*>(nullptr);
  if (!it->is_array()) {
    return InvalidArgument(fmt::format("genesis: {} field '{}' must be an array", where, field));
  }
  return &*it;
}

Result<std::string> GetOptionalString(const json& obj, const char* field,
                                      const std::string& where) {
  auto it = obj.find(field);
  if (it == obj.end()) return std::string();
  if (!it->is_string()) {
    return InvalidArgument(fmt::format("genesis: {} field '{}' must be a string", where, field));
  }
  return it->get<std::string>();
}

}  // namespace

pb::Role RoleFromName(std::string_view name) {
  for (const auto& [role, n] : kRoleNames) {
    if (n == name) return role;
  }
  return pb::ROLE_UNSPECIFIED;
}

std::string_view RoleName(pb::Role role) {
  for (const auto& [r, n] : kRoleNames) {
    if (r == role) return n;
  }
  return "unspecified";
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

namespace {
// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
}  // namespace

Result<uint64_t> ParseUtcTime(std::string_view t) {
  auto bad = [&] {
    return InvalidArgument(fmt::format("time '{}' is not of the form YYYY-MM-DDTHH:MM:SSZ", t));
  };
  if (t.size() != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
      t[16] != ':' || t[19] != 'Z') {
    return bad();
  }
  auto num = [&](size_t pos, size_t len, int& out) {
    out = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, s;
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) ||
      !num(17, 2, s)) {
    return bad();
  }
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return bad();
  // A day the month does not have (2026-02-30) would otherwise roll over into the next month.
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d > kDaysInMonth[mo - 1] + (mo == 2 && leap ? 1 : 0)) return bad();
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return static_cast<uint64_t>(((days * 24 + h) * 60 + mi) * 60 + s) * 1000;
}

std::string FormatUtcTime(uint64_t time_ms) {
  int64_t secs = static_cast<int64_t>(time_ms / 1000);
  int64_t z = secs / 86400 + 719468;
  int64_t rem = secs % 86400;
  const int64_t era = z / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", y, m, d, rem / 3600,
                     rem / 60 % 60, rem % 60, time_ms % 1000);
}

Result<GenesisDoc> ParseGenesis(std::string_view text) {
  if (text.size() > kMaxGenesisBytes) return InvalidArgument("genesis: file is too large");
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument("genesis: not a JSON object");
  }
  GenesisDoc g;
  g.doc_hash = Sha256(text);
  PUHUI_RETURN_IF_ERROR(
      GenesisOnlyFields(doc,
                        {"chain_id", "genesis_time", "regions", "validators", "accounts",
                         "credit_batches", "methodologies", "scenarios", "params"},
                        "document"));

  auto chain_id = GetString(doc, "chain_id", "document");
  if (!chain_id.ok()) return chain_id.status();
  if (!IsValidId(*chain_id))
    return InvalidArgument("genesis: chain_id must be a short [A-Za-z0-9._:-] id");
  g.chain_id = *chain_id;

  auto time_text = GetString(doc, "genesis_time", "document");
  if (!time_text.ok()) return time_text.status();
  auto time_ms = ParseUtcTime(*time_text);
  if (!time_ms.ok()) return InvalidArgument("genesis: " + time_ms.status().message());
  g.genesis_time_ms = *time_ms;

  std::set<std::string> region_codes;
  auto regions = GetOptionalArray(doc, "regions", "document");
  if (!regions.ok()) return regions.status();
  if (*regions != nullptr) {
    for (const json& r : **regions) {
      if (!r.is_object()) return InvalidArgument("genesis: each region must be an object");
      PUHUI_RETURN_IF_ERROR(GenesisOnlyFields(r, {"code", "name"}, "region"));
      auto code = GetString(r, "code", "region");
      if (!code.ok()) return code.status();
      auto name = GetString(r, "name", "region " + *code);
      if (!name.ok()) return name.status();
      if (!IsValidId(*code))
        return InvalidArgument(fmt::format("genesis: bad region code '{}'", *code));
      if (!region_codes.insert(*code).second) {
        return InvalidArgument(fmt::format("genesis: region '{}' is listed twice", *code));
      }
      g.regions.push_back({*code, *name});
    }
  }
  if (g.regions.empty()) return InvalidArgument("genesis: at least one region is required");

  auto validators = GetOptionalArray(doc, "validators", "document");
  if (!validators.ok()) return validators.status();
  if (*validators == nullptr || (*validators)->empty()) {
    return InvalidArgument("genesis: at least one validator is required");
  }
  std::set<Hash32> validator_keys;
  std::set<Hash32> node_keys;
  for (const json& v : **validators) {
    if (!v.is_object()) return InvalidArgument("genesis: each validator must be an object");
    PUHUI_RETURN_IF_ERROR(
        GenesisOnlyFields(v, {"name", "pub_key", "power", "region", "node_key"}, "validator"));
    auto name = GetString(v, "name", "validator");
    if (!name.ok()) return name.status();
    std::string where = "validator " + *name;
    auto key = GetKey(v, "pub_key", where);
    if (!key.ok()) return key.status();
    auto power = GetUint(v, "power", where);
    if (!power.ok()) return power.status();
    auto region = GetString(v, "region", where);
    if (!region.ok()) return region.status();
    if (*power == 0 || *power > (uint64_t{1} << 40)) {
      return InvalidArgument(fmt::format("genesis: {} power must be in 1..2^40", where));
    }
    if (!region_codes.count(*region)) {
      return InvalidArgument(fmt::format("genesis: {} names unknown region '{}'", where, *region));
    }
    if (!validator_keys.insert(key->bytes).second) {
      return InvalidArgument(fmt::format("genesis: {} repeats another validator's key", where));
    }
    pb::Validator* out = g.validators.add_validators();
    out->set_pub_key(ToString(key->bytes));
    out->set_power(*power);
    out->set_region(*region);
    out->set_name(*name);
    // The key its node proves in the p2p handshake; a network of one validator needs none.
    if (v.contains("node_key")) {
      auto node_key = GetKey(v, "node_key", where);
      if (!node_key.ok()) return node_key.status();
      if (!node_keys.insert(node_key->bytes).second) {
        return InvalidArgument(
            fmt::format("genesis: {} repeats another validator's node_key", where));
      }
      out->set_node_key(ToString(node_key->bytes));
    }
  }
  std::sort(
      g.validators.mutable_validators()->begin(), g.validators.mutable_validators()->end(),
      [](const pb::Validator& a, const pb::Validator& b) { return a.pub_key() < b.pub_key(); });

  std::set<Hash32> account_keys;
  auto accounts = GetOptionalArray(doc, "accounts", "document");
  if (!accounts.ok()) return accounts.status();
  if (*accounts != nullptr) {
    for (const json& a : **accounts) {
      if (!a.is_object()) return InvalidArgument("genesis: each account must be an object");
      PUHUI_RETURN_IF_ERROR(GenesisOnlyFields(a, {"address", "label", "roles"}, "account"));
      GenesisAccount acct;
      auto key = GetKey(a, "address", "account");
      if (!key.ok()) return key.status();
      acct.address = *key;
      std::string where = "account " + Hex(acct.address.bytes).substr(0, 12);
      auto label = GetOptionalString(a, "label", where);
      if (!label.ok()) return label.status();
      acct.label = *label;
      if (!account_keys.insert(key->bytes).second) {
        return InvalidArgument(fmt::format("genesis: {} is listed twice", where));
      }
      auto roles = GetOptionalArray(a, "roles", where);
      if (!roles.ok()) return roles.status();
      if (*roles != nullptr) {
        for (const json& r : **roles) {
          if (!r.is_object())
            return InvalidArgument(fmt::format("genesis: {} has a bad role", where));
          PUHUI_RETURN_IF_ERROR(GenesisOnlyFields(r, {"role", "region"}, where + " role"));
          auto role_name = GetString(r, "role", where + " role");
          if (!role_name.ok()) return role_name.status();
          auto region = GetString(r, "region", where + " role");
          if (!region.ok()) return region.status();
          pb::Role role = RoleFromName(*role_name);
          if (role == pb::ROLE_UNSPECIFIED) {
            return InvalidArgument(
                fmt::format("genesis: {} has unknown role '{}'", where, *role_name));
          }
          if (!region_codes.count(*region)) {
            return InvalidArgument(
                fmt::format("genesis: {} names unknown region '{}'", where, *region));
          }
          acct.roles.push_back({role, *region});
        }
      }
      g.accounts.push_back(std::move(acct));
    }
  }

  std::set<std::string> serials;
  auto batches = GetOptionalArray(doc, "credit_batches", "document");
  if (!batches.ok()) return batches.status();
  if (*batches != nullptr) {
    for (const json& b : **batches) {
      if (!b.is_object()) return InvalidArgument("genesis: each credit batch must be an object");
      PUHUI_RETURN_IF_ERROR(
          GenesisOnlyFields(b, {"serial", "region", "owner", "grams", "note"}, "credit batch"));
      GenesisBatch batch;
      auto serial = GetString(b, "serial", "credit batch");
      if (!serial.ok()) return serial.status();
      std::string where = "credit batch " + *serial;
      if (!IsValidId(*serial))
        return InvalidArgument(fmt::format("genesis: bad serial in {}", where));
      if (!serials.insert(*serial).second) {
        return InvalidArgument(fmt::format("genesis: {} is listed twice", where));
      }
      auto region = GetString(b, "region", where);
      if (!region.ok()) return region.status();
      if (!region_codes.count(*region)) {
        return InvalidArgument(
            fmt::format("genesis: {} names unknown region '{}'", where, *region));
      }
      auto owner = GetKey(b, "owner", where);
      if (!owner.ok()) return owner.status();
      auto grams = GetUint(b, "grams", where);
      if (!grams.ok()) return grams.status();
      if (*grams == 0) return InvalidArgument(fmt::format("genesis: {} has zero grams", where));
      batch.serial = *serial;
      batch.region = *region;
      batch.owner = *owner;
      batch.grams = *grams;
      auto note = GetOptionalString(b, "note", where);
      if (!note.ok()) return note.status();
      batch.note = *note;
      g.batches.push_back(std::move(batch));
    }
  }

  if (auto it = doc.find("methodologies"); it != doc.end()) {
    PUHUI_RETURN_IF_ERROR(ParseGenesisMethodologies(*it, region_codes, &g.methodologies));
  }
  if (auto it = doc.find("scenarios"); it != doc.end()) {
    PUHUI_RETURN_IF_ERROR(ParseGenesisScenarios(*it, region_codes, &g.scenarios));
  }

  if (auto it = doc.find("params"); it != doc.end()) {
    PUHUI_RETURN_IF_ERROR(GenesisOnlyFields(*it, {"block_interval_ms", "max_block_txs"}, "params"));
    if (it->contains("block_interval_ms")) {
      auto v = GetUint(*it, "block_interval_ms", "params");
      if (!v.ok()) return v.status();
      if (*v < 10 || *v > 60'000)
        return InvalidArgument("genesis: block_interval_ms must be 10..60000");
      g.params.block_interval_ms = *v;
    }
    if (it->contains("max_block_txs")) {
      auto v = GetUint(*it, "max_block_txs", "params");
      if (!v.ok()) return v.status();
      if (*v < 1 || *v > kMaxBlockTxs) {
        return InvalidArgument(fmt::format("genesis: max_block_txs must be 1..{}", kMaxBlockTxs));
      }
      g.params.max_block_txs = *v;
    }
  }
  return g;
}

Result<GenesisDoc> LoadGenesisFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("genesis file '{}' cannot be opened", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseGenesis(ss.str());
}

}  // namespace puhui
