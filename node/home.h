// Creating a node home: config, a copy of the genesis file, and keys written 0600.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chain/keys.h"
#include "chain/status.h"
#include "node/config.h"

namespace puhui {

struct InitOptions {
  std::string home;
  std::string genesis_path;
  std::optional<std::string> validator_key_path;  // import this key instead of generating one
  std::optional<std::string> moniker;
  std::optional<std::string> node_key_path;  // import this p2p identity instead of generating one
  std::optional<uint16_t> rpc_port;
  std::optional<uint16_t> p2p_port;
  std::vector<std::string> peers;      // "host:port" to dial
  std::vector<std::string> observers;  // node keys (hex) of observers allowed to connect
};

struct InitResult {
  PublicKey validator;
  PublicKey node;
  bool in_genesis = false;  // whether the genesis lists this validator key
};

// Fails if the home already has a config or keys (nothing is overwritten).
Result<InitResult> InitHome(const InitOptions& options);

}  // namespace puhui
