// Generating a local test network: fresh validator and node keys for N nodes, a genesis that takes
// everything but its validators (and chain id and time) from a template such as genesis/dev.json,
// and one node home per validator whose config dials every other node on loopback.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chain/status.h"

namespace puhui {

struct TestnetOptions {
  static constexpr uint16_t kDefaultBasePort = 26650;

  std::string out_dir;           // must not exist yet, or be empty
  std::string template_genesis;  // regions, accounts, batches and params come from here
  std::string chain_id = "puhui-localnet-1";
  uint32_t validators = 4;                // 1..16
  uint32_t observers = 0;                 // non-voting nodes that follow the validators, 0..16
  uint64_t genesis_time_ms = 0;           // the template's time if 0
  uint16_t base_port = kDefaultBasePort;  // node i: p2p base+10i+6, RPC base+10i+7
};
// Observers are numbered after the validators (observer k is node validators+k, home
// <out>/observer<k>) and their node keys are listed in every validator's config.

struct TestnetNode {
  std::string home;
  std::string name;
  std::string region;  // empty for an observer
  bool observer = false;
  uint16_t p2p_port = 0;
  uint16_t rpc_port = 0;
};

// Writes <out>/genesis.json and <out>/node<i>/ homes.
Result<std::vector<TestnetNode>> CreateTestnet(const TestnetOptions& options);

}  // namespace puhui
