#include "node/config.h"

#include <doctest/doctest.h>

#include <fstream>

#include "node/files.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {
Result<NodeConfig> LoadText(const TempDir& dir, const std::string& text) {
  std::ofstream(dir / "config.json") << text;
  return LoadConfig(dir / "config.json");
}
}  // namespace

TEST_CASE("a saved config loads back the same") {
  TempDir dir;
  NodeConfig c;
  c.moniker = "hefei";
  c.rpc_port = 27000;
  c.mempool.max_txs = 77;
  c.mempool.max_txs_for_clients = 55;
  REQUIRE(SaveConfig(dir / "config.json", c).ok());
  auto loaded = LoadConfig(dir / "config.json");
  REQUIRE(loaded.ok());
  CHECK(loaded->moniker == "hefei");
  CHECK(loaded->rpc_port == 27000);
  CHECK(loaded->mempool.max_txs == 77);
  CHECK(loaded->mempool.max_txs_for_clients == 55);
}

TEST_CASE("a config written before the signature cache was removed still loads") {
  TempDir dir;
  auto c = LoadText(dir, R"({"moniker": "wuhu", "sig_cache_entries": 500000})");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->moniker == "wuhu");
  // Saved again, the unused key is gone.
  REQUIRE(SaveConfig(dir / "again.json", *c).ok());
  auto text = ReadFile(dir / "again.json");
  REQUIRE(text.ok());
  CHECK(text->find("sig_cache_entries") == std::string::npos);
}

TEST_CASE("config errors name the field instead of keeping a default or wrapping a number") {
  TempDir dir;
  auto error_of = [&](const std::string& text) {
    auto c = LoadText(dir, text);
    REQUIRE_FALSE(c.ok());
    return c.status().message();
  };
  CHECK(error_of(R"({"rpc_prot": 1})").find("unknown field 'rpc_prot'") != std::string::npos);
  CHECK(error_of(R"({"rpc_port": 92237})").find("'rpc_port' must be an integer in 0..65535") !=
        std::string::npos);
  CHECK(error_of(R"({"rpc_threads": -1})").find("rpc_threads") != std::string::npos);
  CHECK(error_of(R"({"rpc_max_batch": 0})").find("rpc_max_batch") != std::string::npos);
  CHECK(error_of(R"({"verify_threads": 100000})").find("verify_threads") != std::string::npos);
  CHECK(error_of(R"({"moniker": 5})").find("'moniker' must be a string") != std::string::npos);
  CHECK(error_of(R"({"mempool": {"max_tx": 5}})").find("unknown field 'max_tx' in 'mempool'") !=
        std::string::npos);
  CHECK(error_of("not json").find("not a JSON object") != std::string::npos);
  CHECK(LoadConfig(dir / "missing.json").status().code() == StatusCode::kNotFound);
}
