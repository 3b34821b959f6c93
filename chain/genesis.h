// The genesis document: the JSON file every node of a network starts from (genesis/README.md).
// Parsing validates everything a node relies on; the document's hash binds a node to its network.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chain/bytes.h"
#include "chain/keys.h"
#include "chain/status.h"
#include "puhui.pb.h"

namespace puhui {

struct GenesisRegion {
  std::string code;  // e.g. "SH"
  std::string name;
};

struct GenesisRoleGrant {
  pb::Role role = pb::ROLE_UNSPECIFIED;
  std::string region;
};

struct GenesisAccount {
  PublicKey address;
  std::string label;  // for operators reading the file; not stored on chain
  std::vector<GenesisRoleGrant> roles;
};

struct GenesisBatch {
  std::string serial;
  std::string region;
  PublicKey owner;
  uint64_t grams = 0;
  std::string note;
};

struct GenesisParams {
  uint64_t block_interval_ms = 1000;  // target time between blocks
  uint64_t max_block_txs = 5000;
};

struct GenesisDoc {
  std::string chain_id;
  uint64_t genesis_time_ms = 0;
  std::vector<GenesisRegion> regions;
  pb::ValidatorSet validators;  // sorted by pub_key
  std::vector<GenesisAccount> accounts;
  std::vector<GenesisBatch> batches;
  std::vector<pb::MethodologyVersion> methodologies;  // filed at genesis (status approved)
  std::vector<pb::RegisterScenario> scenarios;        // personal scenarios registered at genesis
  GenesisParams params;
  Hash32 doc_hash{};  // Sha256 of the file's bytes
};

Result<GenesisDoc> ParseGenesis(std::string_view json_text);
Result<GenesisDoc> LoadGenesisFile(const std::string& path);

// "authority" <-> pb::ROLE_AUTHORITY, and so on; nullopt-like ROLE_UNSPECIFIED for unknown names.
pb::Role RoleFromName(std::string_view name);
std::string_view RoleName(pb::Role role);

// Parses "YYYY-MM-DDTHH:MM:SSZ" (UTC) into milliseconds since the Unix epoch.
Result<uint64_t> ParseUtcTime(std::string_view text);
std::string FormatUtcTime(uint64_t time_ms);

// True for 1..kMaxIdBytes characters of [A-Za-z0-9._:-].
bool IsValidId(std::string_view id);

}  // namespace puhui
