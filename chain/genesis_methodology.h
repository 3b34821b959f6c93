// The "methodologies" section of a genesis file: methodology versions filed before the chain
// starts (genesis/README.md). Parsed strictly: unknown fields and wrong types are refused, naming
// the field. The formula's own rules (contracts/formula.h) are checked by the contracts when the
// genesis state is built, since chain/ cannot depend on contracts/.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "chain/status.h"
#include "puhui.pb.h"

namespace puhui {

Status ParseGenesisMethodologies(const nlohmann::json& list,
                                 const std::set<std::string>& region_codes,
                                 std::vector<pb::MethodologyVersion>* out);

}  // namespace puhui
