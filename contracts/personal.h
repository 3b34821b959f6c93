// What the personal-account handlers (scenarios.cpp, personal_accounts.cpp, attestations.cpp,
// merchants.cpp, pooling.cpp) share with each other and with the genesis state.
#pragma once

#include <optional>
#include <string>

#include "puhui.pb.h"

namespace puhui {

// The scenario a registration (or a genesis entry) describes; operator and height left unset.
pb::Scenario ScenarioFrom(const pb::RegisterScenario& a);

// Why a methodology version cannot quantify a scenario's records (not personal, not exactly one
// activity input), or nullopt when it can.
std::optional<std::string> ScenarioMethodologyProblem(const pb::MethodologyVersion& m);

}  // namespace puhui
