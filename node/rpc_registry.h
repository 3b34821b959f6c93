// The registry's JSON-RPC queries (docs/rpc.md, docs/registry.md): methodologies with their
// versions and review history, projects, reports, batches, balances, pledges, retirements,
// obligations, proposals and regions, with paged lists and filters. Read-only; transactions go
// through tx_submit.
#pragma once

#include "rpc/dispatcher.h"

namespace puhui {

class Node;

void RegisterRegistryRpcMethods(rpc::Dispatcher& dispatcher, Node& node);

}  // namespace puhui
