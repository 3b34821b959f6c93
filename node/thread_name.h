// Names the calling thread for the operating system (top -H, ps -L, perf and /proc/<pid>/task/*/
// comm show it), so that an operator, and puhui-bench's CPU-by-thread figures, can tell a node's
// threads apart: "verify" (signature checks, VerifierPool), "rpc" (JSON-RPC and WebSocket I/O),
// "p2p" (peer connections), "relay-admit" (admission of peers' relayed transactions), "consensus"
// (the consensus loop, block checks and execution), "ledger-writer" (synced block writes).
// Linux keeps at most 15 bytes of a name; longer ones are cut.
#pragma once

#include <string_view>

namespace puhui {

void NameThisThread(std::string_view name);

}  // namespace puhui
