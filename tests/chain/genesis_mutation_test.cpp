// ParseGenesis against mutated documents: whatever the text, it never crashes; a refusal names the
// genesis, and a document that is accepted obeys every rule of genesis/README.md.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "chain/genesis.h"
#include "chain/hash.h"
#include "chain/limits.h"
#include "mutation.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;
using nlohmann::json;

namespace {

constexpr uint64_t kSeed = 0x6765'6e65'7369'7321;  // "genesis!"

// The rules of genesis/README.md, checked on an accepted document.
void CheckAccepted(const GenesisDoc& g, std::string_view text) {
  CHECK(g.doc_hash == Sha256(text));
  CHECK(IsValidId(g.chain_id));
  REQUIRE_FALSE(g.regions.empty());
  std::set<std::string> regions;
  for (const auto& r : g.regions) {
    CHECK(IsValidId(r.code));
    CHECK(regions.insert(r.code).second);
  }
  REQUIRE(g.validators.validators_size() > 0);
  for (int i = 0; i < g.validators.validators_size(); ++i) {
    const pb::Validator& v = g.validators.validators(i);
    CHECK(ParsePublicKey(AsBytes(v.pub_key())).ok());
    CHECK(v.power() >= 1);
    CHECK(v.power() <= uint64_t{1} << 40);
    CHECK(regions.count(v.region()) == 1);
    if (i > 0) CHECK(g.validators.validators(i - 1).pub_key() < v.pub_key());
  }
  std::set<PublicKey> accounts;
  for (const auto& a : g.accounts) {
    CHECK(accounts.insert(a.address).second);
    for (const auto& r : a.roles) {
      CHECK(r.role != pb::ROLE_UNSPECIFIED);
      CHECK(regions.count(r.region) == 1);
    }
  }
  std::set<std::string> serials;
  for (const auto& b : g.batches) {
    CHECK(IsValidId(b.serial));
    CHECK(serials.insert(b.serial).second);
    CHECK(regions.count(b.region) == 1);
    CHECK(b.grams > 0);
  }
  CHECK(g.params.block_interval_ms >= 10);
  CHECK(g.params.block_interval_ms <= 60'000);
  CHECK(g.params.max_block_txs >= 1);
  CHECK(g.params.max_block_txs <= kMaxBlockTxs);
}

// The property every mutant must keep; returns true if it was accepted.
bool Check(const std::string& text) {
  auto g = ParseGenesis(text);
  if (!g.ok()) {
    CHECK(g.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(g.status().message().find("genesis") != std::string::npos, g.status().message());
    return false;
  }
  CheckAccepted(*g, text);
  return true;
}

// Every value of the document, the root excepted, as a JSON pointer.
void CollectPointers(const json& value, const json::json_pointer& at,
                     std::vector<json::json_pointer>& out) {
  if (!at.empty()) out.push_back(at);
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) CollectPointers(child, at / key, out);
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) CollectPointers(value[i], at / i, out);
  }
}

json Nested(size_t depth) {
  json v = json::array();
  for (size_t i = 0; i < depth; ++i) v = json::array({std::move(v)});
  return v;
}

// Values of every JSON type, signed and float numbers included.
std::vector<json> WrongTypedValues() {
  return {nullptr,
          true,
          false,
          -1,
          1.5,
          1e300,
          0u,
          "",
          "x",
          json::array(),
          json::array({1, "a"}),
          json::object(),
          json{{"a", 1}},
          Nested(500)};
}

}  // namespace

TEST_CASE("the test genesis is accepted as it is") { CHECK(Check(TestGenesisJson())); }

TEST_CASE("a value of the wrong type anywhere in genesis is refused with a reason") {
  json doc = json::parse(TestGenesisJson());
  // The optional free-text fields too.
  doc["accounts"][0]["label"] = "Shanghai ecology bureau";
  doc["credit_batches"][0]["note"] = "seeded for tests";
  REQUIRE(Check(doc.dump()));
  std::vector<json::json_pointer> pointers;
  CollectPointers(doc, json::json_pointer(), pointers);
  REQUIRE(pointers.size() > 30);
  for (const auto& pointer : pointers) {
    for (const json& wrong : WrongTypedValues()) {
      if (wrong.type() == doc.at(pointer).type())
        continue;  // same type: not what this test is about
      json mutant = doc;
      mutant[pointer] = wrong;
      INFO(pointer.to_string(), " = ", wrong.dump().substr(0, 80));
      CHECK_FALSE(Check(mutant.dump()));
    }
  }
}

TEST_CASE(
    "a genesis missing any required field, or any element of a list, is refused or still valid") {
  const json doc = json::parse(TestGenesisJson());
  std::vector<json::json_pointer> pointers;
  CollectPointers(doc, json::json_pointer(), pointers);
  for (const auto& pointer : pointers) {
    json mutant = doc;
    json& parent = mutant[pointer.parent_pointer()];
    if (parent.is_object()) {
      parent.erase(pointer.back());
    } else {
      parent.erase(static_cast<size_t>(std::stoul(pointer.back())));
    }
    INFO("without ", pointer.to_string());
    Check(mutant.dump());
  }
}

TEST_CASE("every single-bit flip of a genesis document is refused with a reason or still valid") {
  const std::string good = TestGenesisJson();
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    INFO("bit ", bit);
    Check(FlipBit(good, bit));
  }
}

TEST_CASE("every truncation of a genesis document is refused with a reason") {
  const std::string good = TestGenesisJson();
  size_t end = good.find_last_of('}');
  for (size_t len = 0; len < end; ++len) {
    INFO("truncated to ", len, " bytes");
    CHECK_FALSE(Check(good.substr(0, len)));
  }
}

TEST_CASE("random edits of a genesis document are refused with a reason or still valid") {
  const std::string good = TestGenesisJson();
  Mutator m(kSeed);
  for (int i = 0; i < 5000; ++i) {
    std::string mutant = m.Mutate(good);
    INFO("seed ", kSeed, " iteration ", i, " text ", mutant);
    Check(mutant);
  }
  // Edits that keep the JSON valid more often: JSON punctuation and keywords at random places.
  static const char* kTokens[] = {"{",       "}",       "[",    "]",    ",",       ":",
                                  "\"",      "null",    "true", "-",    "0",       "1e999",
                                  "\\u0000", "\\ud800", "\xc3", "\xff", "\"x\":1,"};
  for (int i = 0; i < 3000; ++i) {
    std::string mutant = good;
    mutant.insert(m.Below(mutant.size() + 1), kTokens[m.Below(std::size(kTokens))]);
    INFO("seed ", kSeed, " token iteration ", i, " text ", mutant);
    Check(mutant);
  }
}

TEST_CASE("hostile genesis documents are refused without a crash") {
  const std::string good = TestGenesisJson();
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"whitespace", "  \n\t "},
      {"a NUL byte", std::string("\0", 1)},
      {"nested arrays", std::string(200'000, '[') + std::string(200'000, ']')},
      {"unclosed arrays", std::string(200'000, '[')},
      {"nested objects",
       [] {
         std::string s;
         for (int i = 0; i < 100'000; ++i) s += "{\"a\":";
         return s + "1" + std::string(100'000, '}');
       }()},
      {"deep value",
       replaced("\"max_block_txs\": 5000",
                "\"max_block_txs\": " + std::string(100'000, '[') + std::string(100'000, ']'))},
      {"power 2^64", replaced("\"power\": 10", "\"power\": 18446744073709551616")},
      {"power 1e400", replaced("\"power\": 10", "\"power\": 1e400")},
      {"power -0", replaced("\"power\": 10", "\"power\": -0")},
      {"power 10.0", replaced("\"power\": 10", "\"power\": 10.0")},
      {"power over 2^40", replaced("\"power\": 10", "\"power\": 1099511627777")},
      {"grams 2^64", replaced("\"grams\": 1000000", "\"grams\": 18446744073709551616")},
      {"interval 2^64-1",
       replaced("\"block_interval_ms\": 50", "\"block_interval_ms\": 18446744073709551615")},
      {"a long chain id", replaced(kChainId, std::string(100'000, 'c'))},
      {"a NUL in the chain id", replaced(kChainId, std::string("puhui\0x", 7))},
      {"an escaped NUL in the chain id", replaced(kChainId, "puhui\\u0000x")},
      {"invalid UTF-8", replaced("Shanghai", "Shang\xff\xfehai")},
      {"a lone surrogate", replaced("Shanghai", "\\ud800")},
      {"a key of 65 hex digits", replaced(Addr("validator"), Addr("validator") + "0")},
      {"a key that is not on the curve", replaced(Addr("validator"), std::string(64, 'f'))},
      {"a key in upper case with 0x", replaced(Addr("validator"), "0x" + Addr("validator"))},
      {"the year 10000", replaced("2026-01-01T00:00:00Z", "10000-01-01T00:00:00Z")},
      {"the year 1969", replaced("2026-01-01T00:00:00Z", "1969-12-31T23:59:59Z")},
      {"the 31st of February", replaced("2026-01-01T00:00:00Z", "2026-02-31T00:00:00Z")},
      {"the 29th of February of a common year",
       replaced("2026-01-01T00:00:00Z", "2026-02-29T00:00:00Z")},
      {"the 31st of April", replaced("2026-01-01T00:00:00Z", "2026-04-31T00:00:00Z")},
      {"hour 24", replaced("2026-01-01T00:00:00Z", "2026-01-01T24:00:00Z")},
      {"a leap second", replaced("2026-01-01T00:00:00Z", "2026-01-01T23:59:60Z")},
      {"a repeated validator", replaced("\"validators\": [{",
                                        "\"validators\": [{\"name\": \"v\", \"region\": \"SH\", "
                                        "\"power\": 10, \"pub_key\": \"" +
                                            Addr("validator") + "\"}, {")},
      {"a repeated account",
       replaced("\"accounts\": [", "\"accounts\": [{\"address\": \"" + Addr("sh-auth") + "\"}, ")},
      {"a repeated batch",
       replaced("\"credit_batches\": [", std::string("\"credit_batches\": [{\"serial\": \"") +
                                             kBatch + "\", \"region\": \"SH\", \"owner\": \"" +
                                             Addr("owner") + "\", \"grams\": 1}, ")},
      {"a serial of 129 characters", replaced(kBatch, std::string(129, 's'))},
      {"no validators", replaced("\"validators\": [", "\"validators\": [], \"x\": [")},
  };
  for (const auto& [name, text] : cases) {
    INFO(name);
    CHECK_FALSE(Check(text));
  }
  // Valid after all, as JSON and the format allow: a byte-order mark, a duplicate key (the last
  // one counts), digits written as unicode escapes, a key in upper-case hex.
  CHECK(Check("\xef\xbb\xbf" + good));
  CHECK(Check(replaced("\"chain_id\": \"", "\"chain_id\": \"other\", \"chain_id\": \"")));
  CHECK(Check(replaced("2026-01-01", "\\u0032026-01-01")));
  std::string upper = Addr("validator");
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(Check(replaced(Addr("validator"), upper)));
  CHECK_FALSE(Check(std::string(kMaxGenesisBytes + 1, ' ')));
}

TEST_CASE("an impossible calendar date is refused as a genesis time") {
  CHECK(ParseUtcTime("2024-02-29T00:00:00Z").ok());  // a leap year
  CHECK(ParseUtcTime("2000-02-29T00:00:00Z").ok());  // divisible by 400
  CHECK(ParseUtcTime("2026-12-31T23:59:59Z").ok());
  for (const char* t : {"2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-02-30T00:00:00Z",
                        "2026-04-31T00:00:00Z", "2026-06-31T00:00:00Z", "2026-09-31T00:00:00Z",
                        "2026-11-31T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z"}) {
    INFO(std::string(t));
    auto r = ParseUtcTime(t);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find(t) != std::string::npos);
  }
}
