#include "chain/genesis.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {
std::string Replace(std::string s, const std::string& from, const std::string& to) {
  auto pos = s.find(from);
  REQUIRE(pos != std::string::npos);
  return s.replace(pos, from.size(), to);
}
}  // namespace

TEST_CASE("the bundled development genesis parses") {
  auto g = LoadGenesisFile(std::string(PUHUI_SOURCE_DIR) + "/genesis/dev.json");
  REQUIRE_MESSAGE(g.ok(), g.status().ToString());
  CHECK(g->chain_id == "puhui-dev-1");
  CHECK(g->regions.size() == 4);
  CHECK(g->validators.validators_size() == 1);
  CHECK(g->batches.size() == 1);
  CHECK(g->genesis_time_ms == 1'767'225'600'000ull);
}

TEST_CASE("the bundled dev keys match the addresses in the development genesis") {
  std::ifstream in(std::string(PUHUI_SOURCE_DIR) + "/genesis/dev-keys/validator.key");
  std::string hex;
  in >> hex;
  auto key = PrivateKey::FromBytes(*Hash32FromHex(hex));
  REQUIRE(key.ok());
  auto g = LoadGenesisFile(std::string(PUHUI_SOURCE_DIR) + "/genesis/dev.json");
  REQUIRE(g.ok());
  CHECK(g->validators.validators(0).pub_key() == ToString(key->Public().bytes));
}

TEST_CASE("a genesis document is parsed with its roles, batches and params") {
  GenesisDoc g = TestGenesis();
  CHECK(g.chain_id == kChainId);
  REQUIRE(g.accounts.size() == 2);
  CHECK(g.accounts[0].roles[0].role == pb::ROLE_AUTHORITY);
  CHECK(g.batches[0].grams == 1'000'000);
  CHECK(g.params.block_interval_ms == 50);
  CHECK(g.doc_hash != kZeroHash);
}

TEST_CASE("genesis errors name what is wrong") {
  const std::string good = TestGenesisJson();
  auto error_of = [](const std::string& text) {
    auto g = ParseGenesis(text);
    REQUIRE_FALSE(g.ok());
    return g.status().message();
  };
  CHECK(error_of("[]").find("not a JSON object") != std::string::npos);
  CHECK(error_of("{").find("not a JSON object") != std::string::npos);
  CHECK(error_of(Replace(good, "\"chain_id\": \"puhui-test-1\"", "\"chain_id\": \"bad id/\""))
            .find("chain_id") != std::string::npos);
  CHECK(error_of(Replace(good, "2026-01-01T00:00:00Z", "yesterday")).find("YYYY-MM-DD") !=
        std::string::npos);
  CHECK(error_of(Replace(good, "\"power\": 10", "\"power\": 0")).find("power") !=
        std::string::npos);
  CHECK(error_of(Replace(good, "\"region\": \"SH\", \"power\"", "\"region\": \"XX\", \"power\""))
            .find("unknown region 'XX'") != std::string::npos);
  CHECK(error_of(Replace(good, Addr("validator"), "abcd")).find("pub_key") != std::string::npos);
  CHECK(error_of(Replace(good, "\"role\": \"authority\"", "\"role\": \"king\""))
            .find("unknown role 'king'") != std::string::npos);
  CHECK(error_of(Replace(good, "\"grams\": 1000000", "\"grams\": -5")).find("grams") !=
        std::string::npos);
  CHECK(error_of(Replace(good, "{\"code\": \"JS\", \"name\": \"Jiangsu\"}",
                         "{\"code\": \"SH\", \"name\": \"x\"}"))
            .find("listed twice") != std::string::npos);
  CHECK(error_of(Replace(good, "\"block_interval_ms\": 50", "\"block_interval_ms\": 1"))
            .find("block_interval_ms") != std::string::npos);
  // Misspelt fields are refused, naming them, rather than silently left at their defaults.
  CHECK(error_of(Replace(good, "\"block_interval_ms\"", "\"block_intervall_ms\""))
            .find("params has unknown field 'block_intervall_ms'") != std::string::npos);
  CHECK(error_of(Replace(good, "\"params\"", "\"parameters\""))
            .find("document has unknown field 'parameters'") != std::string::npos);
  CHECK(error_of(Replace(good, "\"power\": 10", "\"power\": 10, \"pwoer\": 1"))
            .find("validator has unknown field 'pwoer'") != std::string::npos);
  CHECK(error_of(Replace(good, "\"role\": \"authority\"", "\"role\": \"authority\", \"x\": 1"))
            .find("role has unknown field 'x'") != std::string::npos);
  CHECK(error_of(Replace(good, "\"grams\": 1000000", "\"grams\": 1000000, \"gram\": 1"))
            .find("credit batch has unknown field 'gram'") != std::string::npos);
  CHECK(error_of(Replace(good, "\"name\": \"Jiangsu\"", "\"name\": \"Jiangsu\", \"nmae\": 1"))
            .find("region has unknown field 'nmae'") != std::string::npos);
  // Two validators whose nodes claim one p2p identity.
  const std::string validator_entry =
      "{\"name\": \"v\", \"region\": \"SH\", \"power\": 10, \"pub_key\": \"" + Addr("validator") +
      "\"}";
  REQUIRE(good.find(validator_entry) != std::string::npos);
  const std::string two =
      Replace(good, validator_entry,
              "{\"name\": \"v\", \"region\": \"SH\", \"power\": 10, \"pub_key\": \"" +
                  Addr("validator") + "\", \"node_key\": \"" + Addr("node") +
                  "\"}, {\"name\": \"w\", \"region\": \"SH\", "
                  "\"power\": 10, \"pub_key\": \"" +
                  Addr("alice") + "\", \"node_key\": \"" + Addr("node") + "\"}");
  CHECK(error_of(two).find("repeats another validator's node_key") != std::string::npos);
  CHECK(error_of(Replace(two, "\"node_key\": \"" + Addr("node") + "\"}]", "\"node_key\": \"zz\"}]"))
            .find("node_key") != std::string::npos);
}

TEST_CASE("UTC times parse and format round trip") {
  CHECK(*ParseUtcTime("1970-01-01T00:00:00Z") == 0);
  CHECK(*ParseUtcTime("2026-01-01T00:00:00Z") == 1'767'225'600'000ull);
  CHECK(*ParseUtcTime("2024-02-29T12:34:56Z") == 1'709'210'096'000ull);
  CHECK(FormatUtcTime(1'709'210'096'789ull) == "2024-02-29T12:34:56.789Z");
  CHECK_FALSE(ParseUtcTime("2024-13-01T00:00:00Z").ok());
  CHECK_FALSE(ParseUtcTime("2024-01-01 00:00:00Z").ok());
}

TEST_CASE("ids allow only a safe character set") {
  CHECK(IsValidId("SH-PV-2025.v1:0001_a"));
  CHECK_FALSE(IsValidId(""));
  CHECK_FALSE(IsValidId("a/b"));
  CHECK_FALSE(IsValidId("中文"));
  CHECK_FALSE(IsValidId(std::string(129, 'a')));
}

TEST_CASE("genesis methodologies: the bundled dev network files nine, parsed strictly") {
  auto g = LoadGenesisFile(std::string(PUHUI_SOURCE_DIR) + "/genesis/dev.json");
  REQUIRE_MESSAGE(g.ok(), g.status().ToString());
  REQUIRE(g->methodologies.size() == 9);
  CHECK(g->methodologies[0].id() == "SH-METRO");
  CHECK(g->methodologies[0].status() == pb::REVIEW_STATUS_APPROVED);
  CHECK(g->methodologies[0].formula().factors(0).value() == 468);

  auto with = [](const std::string& methodology) {
    return ParseGenesis(R"({"chain_id": "c", "genesis_time": "2026-01-01T00:00:00Z",
      "regions": [{"code": "SH", "name": "Shanghai"}],
      "validators": [{"name": "v", "region": "SH", "power": 1, "pub_key": ")" +
                        Addr("validator") + R"("}],
      "methodologies": [)" +
                        methodology + "]}");
  };
  const std::string ok =
      R"({"id": "PV", "version": 1, "title": "PV", "category": "project", "region": "SH",
       "document_hash": ")" +
      std::string(64, 'a') + R"(", "formula": {"inputs": [{"name": "kwh", "unit": "kWh",
       "max_value": 10}], "factors": [{"name": "g", "value": 5366, "decimals": 1, "unit": "g/kWh",
       "source": "MEE"}], "baseline": [{"input": "kwh", "factors": ["g"]}]}})";
  CHECK(with(ok).ok());
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = ok;
    s.replace(s.find(from), from.size(), to);
    return with(s).status().message();
  };
  CHECK(replace(R"("title": "PV")", R"("title": "PV", "colour": "red")")
            .find("unknown field 'colour'") != std::string::npos);
  CHECK(replace(R"("unit": "kWh")", R"("unit": "kWh", "min": 1)").find("unknown field 'min'") !=
        std::string::npos);
  CHECK(replace(R"("region": "SH")", R"("region": "XX")").find("unknown region 'XX'") !=
        std::string::npos);
  CHECK(replace(R"("category": "project")", R"("category": "both")").find("category") !=
        std::string::npos);
  CHECK(replace(R"("version": 1)", R"("version": 2)").find("listed before v1") !=
        std::string::npos);
  CHECK(replace(R"("decimals": 1)", R"("decimals": "1")").find("'decimals'") != std::string::npos);
}

TEST_CASE("genesis scenarios: the bundled dev network registers eight, parsed strictly") {
  auto g = LoadGenesisFile(std::string(PUHUI_SOURCE_DIR) + "/genesis/dev.json");
  REQUIRE_MESSAGE(g.ok(), g.status().ToString());
  REQUIRE(g->scenarios.size() == 8);
  CHECK(g->scenarios[0].id() == "SH-METRO-TRIP");
  CHECK(g->scenarios[0].daily_cap_grams() == 5000);
  CHECK(g->scenarios[0].providers(0).size() == 32);
  auto with = [](const std::string& scenario) {
    return ParseGenesis(R"({"chain_id": "c", "genesis_time": "2026-01-01T00:00:00Z",
      "regions": [{"code": "SH", "name": "Shanghai"}],
      "validators": [{"name": "v", "region": "SH", "power": 1, "pub_key": ")" +
                        Addr("validator") + R"("}],
      "scenarios": [)" + scenario +
                        "]}");
  };
  const std::string p = R"("providers": [")" + std::string(64, 'a') + R"("])";
  CHECK(with(R"({"id": "S", "region": "SH", )" + p + "}").ok());
  CHECK(with(R"({"id": "S", "region": "SH", "colour": "red"})")
            .status()
            .message()
            .find("unknown field 'colour'") != std::string::npos);
  CHECK(with(R"({"id": "S", "region": "XX"})").status().message().find("unknown region 'XX'") !=
        std::string::npos);
  CHECK(with(R"({"id": "S", "region": "SH", "daily_cap_grams": -1})")
            .status()
            .message()
            .find("non-negative integer") != std::string::npos);
  CHECK(with(R"({"id": "S", "region": "SH", "providers": ["zz"]})")
            .status()
            .message()
            .find("64-hex-character") != std::string::npos);
  CHECK(with(R"({"id": "S", "region": "SH"}, {"id": "S", "region": "SH"})")
            .status()
            .message()
            .find("repeats id 'S'") != std::string::npos);
}
