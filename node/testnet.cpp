#include "node/testnet.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "chain/genesis.h"
#include "chain/keys.h"
#include "node/files.h"
#include "node/home.h"

namespace puhui {

namespace {

// Lower-case names for validators by region code, for the Yangtze River Delta regions.
std::string ValidatorName(const std::string& region, const std::string& region_name, uint32_t i) {
  std::string base = region == "SH"   ? "shanghai"
                     : region == "JS" ? "jiangsu"
                     : region == "ZJ" ? "zhejiang"
                     : region == "AH" ? "anhui"
                                      : region_name;
  return fmt::format("{}-validator-{}", base, i);
}

}  // namespace

Result<std::vector<TestnetNode>> CreateTestnet(const TestnetOptions& o) {
  if (o.validators == 0 || o.validators > 16) {
    return InvalidArgument("a test network has 1 to 16 validators");
  }
  if (o.observers > 16) return InvalidArgument("a test network has at most 16 observers");
  if (uint32_t{o.base_port} + 10 * (o.validators + o.observers) + 7 > 65535) {
    return InvalidArgument("base port too high for that many nodes");
  }
  std::error_code ec;
  if (std::filesystem::exists(o.out_dir) && !std::filesystem::is_empty(o.out_dir, ec)) {
    return AlreadyExists(
        fmt::format("'{}' exists and is not empty; nothing was changed", o.out_dir));
  }
  auto text = ReadFile(o.template_genesis);
  if (!text.ok()) return text.status();
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("regions") ||
      !doc["regions"].is_array() || doc["regions"].empty()) {
    return InvalidArgument(
        fmt::format("'{}' is not a genesis document with regions", o.template_genesis));
  }
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) return IoError(fmt::format("cannot create '{}': {}", o.out_dir, ec.message()));

  std::vector<TestnetNode> nodes;
  nlohmann::json validators = nlohmann::json::array();
  const auto& regions = doc["regions"];
  for (uint32_t i = 0; i < o.validators; ++i) {
    const auto& region = regions[i % regions.size()];
    TestnetNode n;
    n.home = fmt::format("{}/node{}", o.out_dir, i);
    n.region = region.value("code", "");
    n.name = ValidatorName(n.region, region.value("name", "region"), i);
    n.p2p_port = static_cast<uint16_t>(o.base_port + 10 * i + 6);
    n.rpc_port = static_cast<uint16_t>(o.base_port + 10 * i + 7);
    const PrivateKey validator = PrivateKey::Generate();
    const PrivateKey node_key = PrivateKey::Generate();
    PUHUI_RETURN_IF_ERROR(
        WriteKeyFile(fmt::format("{}/node{}.validator.key", o.out_dir, i), validator));
    PUHUI_RETURN_IF_ERROR(WriteKeyFile(fmt::format("{}/node{}.node.key", o.out_dir, i), node_key));
    validators.push_back({{"name", n.name},
                          {"region", n.region},
                          {"power", 10},
                          {"pub_key", Hex(validator.Public().bytes)},
                          {"node_key", Hex(node_key.Public().bytes)}});
    nodes.push_back(n);
  }
  doc["validators"] = validators;
  doc["chain_id"] = o.chain_id;
  // Genesis time has whole seconds.
  if (o.genesis_time_ms != 0) {
    doc["genesis_time"] = FormatUtcTime(o.genesis_time_ms).substr(0, 19) + "Z";  // drop the ms
  }
  const std::string genesis_path = o.out_dir + "/genesis.json";
  const std::string genesis_text = doc.dump(2) + "\n";
  auto parsed = ParseGenesis(genesis_text);
  if (!parsed.ok()) return parsed.status();
  PUHUI_RETURN_IF_ERROR(WriteFileDurably(genesis_path, genesis_text));

  std::vector<PrivateKey> observer_keys;
  std::vector<std::string> observer_hex;
  for (uint32_t k = 0; k < o.observers; ++k) {
    observer_keys.push_back(PrivateKey::Generate());
    observer_hex.push_back(Hex(observer_keys.back().Public().bytes));
  }
  for (uint32_t i = 0; i < o.validators; ++i) {
    InitOptions init;
    init.observers = observer_hex;
    init.home = nodes[i].home;
    init.genesis_path = genesis_path;
    init.validator_key_path = fmt::format("{}/node{}.validator.key", o.out_dir, i);
    init.node_key_path = fmt::format("{}/node{}.node.key", o.out_dir, i);
    init.moniker = nodes[i].name;
    init.rpc_port = nodes[i].rpc_port;
    init.p2p_port = nodes[i].p2p_port;
    for (uint32_t j = 0; j < o.validators; ++j) {
      if (j != i) init.peers.push_back(fmt::format("127.0.0.1:{}", nodes[j].p2p_port));
    }
    auto r = InitHome(init);
    if (!r.ok()) return r.status();
    // The keys now live in the home; the loose copies are not needed.
    std::filesystem::remove(*init.validator_key_path, ec);
    std::filesystem::remove(*init.node_key_path, ec);
  }
  for (uint32_t k = 0; k < o.observers; ++k) {
    const uint32_t index = o.validators + k;
    TestnetNode n;
    n.home = fmt::format("{}/observer{}", o.out_dir, k);
    n.name = fmt::format("observer-{}", k);
    n.observer = true;
    n.p2p_port = static_cast<uint16_t>(o.base_port + 10 * index + 6);
    n.rpc_port = static_cast<uint16_t>(o.base_port + 10 * index + 7);
    const std::string key_path = fmt::format("{}/observer{}.node.key", o.out_dir, k);
    PUHUI_RETURN_IF_ERROR(WriteKeyFile(key_path, observer_keys[k]));
    InitOptions init;
    init.home = n.home;
    init.genesis_path = genesis_path;
    init.node_key_path = key_path;
    init.moniker = n.name;
    init.rpc_port = n.rpc_port;
    init.p2p_port = n.p2p_port;
    for (uint32_t j = 0; j < o.validators; ++j) {
      init.peers.push_back(fmt::format("127.0.0.1:{}", nodes[j].p2p_port));
    }
    auto r = InitHome(init);
    if (!r.ok()) return r.status();
    std::filesystem::remove(key_path, ec);
    nodes.push_back(n);
  }
  return nodes;
}

}  // namespace puhui
