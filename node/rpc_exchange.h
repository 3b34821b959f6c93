// The JSON-RPC methods for exchanges (docs/exchange.md, docs/rpc.md): settlement submission (and
// submit-and-wait, which answers after the commit), settlements by id and by exchange and height
// range for reconciliation, authorisations, and committed events by cursor (the polling form of
// the WebSocket stream at GET /ws).
#pragma once

#include "rpc/dispatcher.h"

namespace puhui {

class Node;

void RegisterExchangeRpcMethods(rpc::Dispatcher& dispatcher, Node& node);

}  // namespace puhui
