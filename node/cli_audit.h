// puhui-cli's auditor commands (docs/audit.md): `audit` replays a chain from a genesis file and
// reports its issuance history; `proof`, `verify-proof` and `certificate` fetch and check proofs
// and retirement certificates offline.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace puhui::cli {

extern const char kAuditUsage[];

// Runs an auditor command if `words` name one, returning its exit code; -1 if they do not.
// `node_url` is the RPC endpoint for commands that ask a node.
int RunAuditCommand(const std::vector<std::string>& words,
                    const std::map<std::string, std::string>& flags, const std::string& node_url);

}  // namespace puhui::cli
