// puhui-cli's proof commands (docs/audit.md): fetch a proof or a retirement certificate from a
// node, and check either offline against a genesis file.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace puhui::cli {

// Runs `proof`, `verify-proof` or `certificate` if `words` name one; -1 if they do not.
int RunProofCommand(const std::vector<std::string>& words,
                    const std::map<std::string, std::string>& flags, const std::string& node_url);

}  // namespace puhui::cli
