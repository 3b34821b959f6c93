// The node's own settings, in <home>/config.json (docs/operator.md lists every field). Anything
// that must be the same on every node of a network lives in the genesis file instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/keys.h"
#include "chain/status.h"
#include "node/mempool.h"

namespace puhui {

struct NodeConfig {
  std::string moniker = "puhui-node";
  std::string rpc_address = "127.0.0.1";  // loopback unless deliberately opened
  uint16_t rpc_port = 26657;
  uint32_t rpc_threads = 2;
  uint64_t rpc_max_body_bytes = 4u << 20;
  uint32_t rpc_max_batch = 1000;
  uint32_t rpc_max_connections = 256;
  // Exchange settlement (docs/exchange.md): how long settlement_submit_wait waits for the commit,
  // WebSocket subscribers at once, and how long one may take to read a message.
  uint64_t settle_wait_timeout_ms = 10'000;
  uint32_t rpc_max_subscribers = 64;
  uint64_t ws_write_timeout_ms = 10'000;
  std::string log_level = "info";
  uint32_t verify_threads = 0;  // 0: one per core
  MempoolLimits mempool;
  // Peer-to-peer: where this node accepts connections from other nodes, whom it dials
  // ("host:port"), and the node keys (hex) of observers allowed to connect besides the validators.
  std::string p2p_address = "127.0.0.1";
  uint16_t p2p_port = 26656;
  std::vector<std::string> peers;
  std::vector<std::string> observers;
};

Result<NodeConfig> LoadConfig(const std::string& path);

struct HostPort {
  std::string host;
  uint16_t port = 0;
};
// "host:port" with a port in 1..65535.
std::optional<HostPort> ParseHostPort(std::string_view text);
// A node key written as 64 hex digits.
std::optional<PublicKey> ParseNodeKeyHex(std::string_view text);
Status SaveConfig(const std::string& path, const NodeConfig& config);

// Where a node home keeps its files.
struct HomePaths {
  std::string root;
  std::string config;         // config.json
  std::string genesis;        // genesis.json, a copy of the network's file
  std::string node_key;       // node identity for peer connections (0600)
  std::string validator_key;  // consensus signing key (0600)
  std::string data;           // data/
  std::string chain_db;       // data/chain (LevelDB)
  // What the validator last signed. Outside data/ on purpose: restoring data/ from an older
  // backup must not roll back what the validator remembers having signed.
  std::string sign_record;         // last_signed
  std::string legacy_sign_record;  // data/last_signed, where homes before 0.2 kept it

  static HomePaths Of(const std::string& root);
};

}  // namespace puhui
