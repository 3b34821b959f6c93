// The node's JSON-RPC methods (docs/rpc.md): status, transaction submission and lookup, blocks,
// state with proofs, accounts, batches and balances.
#pragma once

#include "rpc/dispatcher.h"

namespace puhui {

class Node;

void RegisterRpcMethods(rpc::Dispatcher& dispatcher, Node& node);

}  // namespace puhui
