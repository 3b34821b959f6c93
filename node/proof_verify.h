// Offline checks of proofs and retirement certificates (node/proofs.h, docs/audit.md), knowing
// only the genesis file: no node is asked anything. The answer is Ok, or a FailedPrecondition
// whose message names exactly what fails ("validator-set change 1 (height 41): commit
// certificate: …", "entry 0 (balance): the value does not match the state root", "certificate
// field 'grams' says 500 but the proven record says 400").
#pragma once

#include <nlohmann/json.hpp>

#include "chain/genesis.h"
#include "chain/status.h"

namespace puhui {

// On success `*height` (if given) is the height whose state the proof shows.
Status VerifyProof(const GenesisDoc& genesis, const nlohmann::json& proof,
                   uint64_t* height = nullptr);
Status VerifyCertificate(const GenesisDoc& genesis, const nlohmann::json& certificate);

}  // namespace puhui
