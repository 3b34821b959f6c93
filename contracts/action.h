// What every action handler returns, and the handlers themselves (one file per area of the
// registry). A handler checks every rule before it writes anything, so a refused action leaves
// state untouched.
#pragma once

#include <string>
#include <vector>

#include "chain/status.h"
#include "contracts/executor.h"
#include "contracts/state.h"
#include "puhui.pb.h"

namespace puhui {

struct TxContext {
  const BlockContext& block;
  const DecodedTx& tx;
};

struct ActionOutcome {
  pb::ReceiptCode code = pb::RECEIPT_OK;
  std::string reason;
  std::vector<pb::Event> events;

  static ActionOutcome Fail(pb::ReceiptCode code, std::string reason) {
    ActionOutcome o;
    o.code = code;
    o.reason = std::move(reason);
    return o;
  }
};

// Builds an event from key/value pairs.
pb::Event MakeEvent(std::string kind,
                    std::initializer_list<std::pair<std::string, std::string>> attrs);

// An error Status from a handler is a fault of our own (e.g. corrupt state), never a refused rule.
Result<ActionOutcome> ApplyGrantRole(StateOverlay& state, const TxContext& ctx,
                                     const pb::GrantRole& a);
Result<ActionOutcome> ApplyRevokeRole(StateOverlay& state, const TxContext& ctx,
                                      const pb::RevokeRole& a);
Result<ActionOutcome> ApplyTransfer(StateOverlay& state, const TxContext& ctx,
                                    const pb::Transfer& a);

}  // namespace puhui
