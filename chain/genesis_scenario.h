// The "scenarios" section of a genesis file: personal scenarios registered before the chain
// starts (genesis/README.md). Parsed strictly here; the rules of a scenario (those of
// RegisterScenario, and the methodology it names) are checked by the contracts when the genesis
// state is built, since chain/ cannot depend on contracts/.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "chain/status.h"
#include "puhui.pb.h"

namespace puhui {

Status ParseGenesisScenarios(const nlohmann::json& list, const std::set<std::string>& region_codes,
                             std::vector<pb::RegisterScenario>* out);

}  // namespace puhui
