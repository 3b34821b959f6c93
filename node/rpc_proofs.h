// JSON-RPC methods that hand out proofs and retirement certificates (node/proofs.h,
// docs/audit.md): proof_get and certificate_get. Read-only.
#pragma once

#include "rpc/dispatcher.h"

namespace puhui {

class Node;

void RegisterProofRpcMethods(rpc::Dispatcher& dispatcher, Node& node);

}  // namespace puhui
