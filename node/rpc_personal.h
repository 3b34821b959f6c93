// Personal carbon accounts' JSON-RPC queries (docs/personal.md, docs/rpc.md): an account's
// summary (reductions by scenario and month, points, redemptions), scenarios and their statistics,
// providers' statistics, attestation batches, offers, redemptions, pools, network totals, and the
// proof that a record was counted. Read-only; transactions go through tx_submit.
#pragma once

#include "rpc/dispatcher.h"

namespace puhui {

class Node;

void RegisterPersonalRpcMethods(rpc::Dispatcher& dispatcher, Node& node);

}  // namespace puhui
