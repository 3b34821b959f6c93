// The "methodologies" section of a genesis file: methodology versions filed before the chain
// starts (genesis/README.md). Parsed strictly: unknown fields and wrong types are refused, naming
// the field. The formula's own rules (contracts/formula.h) are checked by the contracts when the
// genesis state is built, since chain/ cannot depend on contracts/.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "chain/status.h"
#include "puhui.pb.h"

namespace puhui {

// Refuses `obj` unless it is an object whose fields are all in `allowed`, naming the first other
// one: every part of a genesis file is parsed strictly, so a misspelt field is an error rather
// than a default silently taken.
Status GenesisOnlyFields(const nlohmann::json& obj, std::initializer_list<std::string_view> allowed,
                         const std::string& where);

Status ParseGenesisMethodologies(const nlohmann::json& list,
                                 const std::set<std::string>& region_codes,
                                 std::vector<pb::MethodologyVersion>* out);

}  // namespace puhui
