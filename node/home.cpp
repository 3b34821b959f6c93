#include "node/home.h"

#include <fmt/format.h>

#include <filesystem>

#include "chain/genesis.h"
#include "node/files.h"

namespace puhui {

Result<InitResult> InitHome(const InitOptions& o) {
  HomePaths paths = HomePaths::Of(o.home);
  if (std::filesystem::exists(paths.config)) {
    return AlreadyExists(fmt::format("'{}' is already a node home; nothing was changed", o.home));
  }
  auto genesis_text = ReadFile(o.genesis_path);
  if (!genesis_text.ok()) return genesis_text.status();
  auto genesis = ParseGenesis(*genesis_text);
  if (!genesis.ok()) return genesis.status();

  PrivateKey validator = PrivateKey::Generate();
  if (o.validator_key_path) {
    auto key = ReadKeyFile(*o.validator_key_path);
    if (!key.ok()) return key.status();
    validator = *key;
  }
  PrivateKey node_key = PrivateKey::Generate();
  if (o.node_key_path) {
    auto key = ReadKeyFile(*o.node_key_path);
    if (!key.ok()) return key.status();
    node_key = *key;
  }
  NodeConfig config;
  if (o.moniker) config.moniker = *o.moniker;
  if (o.rpc_port) config.rpc_port = *o.rpc_port;
  if (o.p2p_port) config.p2p_port = *o.p2p_port;
  for (const auto& peer : o.peers) {
    if (!ParseHostPort(peer)) {
      return InvalidArgument(fmt::format("peer '{}' is not host:port", peer));
    }
  }
  config.peers = o.peers;
  for (const auto& key : o.observers) {
    if (!ParseNodeKeyHex(key))
      return InvalidArgument(fmt::format("observer '{}' is not a node key", key));
  }
  config.observers = o.observers;
  std::error_code ec;
  std::filesystem::create_directories(paths.data, ec);
  if (ec) return IoError(fmt::format("cannot create '{}': {}", paths.data, ec.message()));
  PUHUI_RETURN_IF_ERROR(WriteFileDurably(paths.genesis, *genesis_text));
  PUHUI_RETURN_IF_ERROR(WriteKeyFile(paths.validator_key, validator));
  PUHUI_RETURN_IF_ERROR(WriteKeyFile(paths.node_key, node_key));
  PUHUI_RETURN_IF_ERROR(SaveConfig(paths.config, config));
  InitResult result{validator.Public(), node_key.Public(), false};
  const std::string key_bytes = ToString(result.validator.bytes);
  for (const auto& v : genesis->validators.validators())
    result.in_genesis |= v.pub_key() == key_bytes;
  return result;
}

}  // namespace puhui
