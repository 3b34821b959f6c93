// puhui-cli's registry commands (docs/registry.md): one transaction type per registry action,
// and short query commands over the registry's RPC methods.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "puhui.pb.h"

namespace puhui::cli {

extern const char kRegistryUsage[];

using Flags = std::map<std::string, std::string>;

// What filling a transaction's action from flags gave: nothing (not a registry transaction), an
// error for the user, or success.
enum class Fill { kNotRegistry, kError, kOk };

// Sets body's action for the registry transaction `kind` (e.g. "file-methodology"); on kError,
// `error` says which flag is missing or malformed.
Fill FillRegistryAction(const std::string& kind, const Flags& flags, pb::TxBody& body,
                        std::string& error);

// A registry query command ("methodology PV 2", "list batches --region SH") as an RPC method and
// its params; nullopt if the words are not one; `error` set when they are but are malformed.
struct Query {
  std::string method;
  nlohmann::json params;
};
std::optional<Query> RegistryQuery(const std::vector<std::string>& words, const Flags& flags,
                                   std::string& error);

}  // namespace puhui::cli
