// What every action handler returns, and the handlers themselves (one file per area of the
// registry). A handler checks every rule before it writes anything, so a refused action leaves
// state untouched.
#pragma once

#include <string>
#include <string_view>
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

// Builds an event from key/value pairs; each string is copied once, into the event.
pb::Event MakeEvent(std::string_view kind,
                    std::initializer_list<std::pair<std::string_view, std::string_view>> attrs);

// Appends an attribute to `e`, taking `value` (an event built field by field, as MakeEvent would).
void AddAttribute(pb::Event& e, std::string_view key, std::string value);

// An error Status from a handler is a fault of our own (e.g. corrupt state), never a refused rule.
Result<ActionOutcome> ApplyGrantRole(StateOverlay& state, const TxContext& ctx,
                                     const pb::GrantRole& a);
Result<ActionOutcome> ApplyRevokeRole(StateOverlay& state, const TxContext& ctx,
                                      const pb::RevokeRole& a);
Result<ActionOutcome> ApplyTransfer(StateOverlay& state, const TxContext& ctx,
                                    const pb::Transfer& a);

// methodology.cpp, projects.cpp, issuance.cpp, pledges.cpp, retirement.cpp, governance.cpp
Result<ActionOutcome> ApplyFileMethodology(StateOverlay& state, const TxContext& ctx,
                                           const pb::FileMethodology& a);
Result<ActionOutcome> ApplyReviewMethodology(StateOverlay& state, const TxContext& ctx,
                                             const pb::ReviewMethodology& a);
Result<ActionOutcome> ApplyDeprecateMethodology(StateOverlay& state, const TxContext& ctx,
                                                const pb::DeprecateMethodology& a);
Result<ActionOutcome> ApplyRecognizeMethodology(StateOverlay& state, const TxContext& ctx,
                                                const pb::RecognizeMethodology& a);
Result<ActionOutcome> ApplySetReviewThreshold(StateOverlay& state, const TxContext& ctx,
                                              const pb::SetReviewThreshold& a);
Result<ActionOutcome> ApplyRegisterProject(StateOverlay& state, const TxContext& ctx,
                                           const pb::RegisterProject& a);
Result<ActionOutcome> ApplyReviewProject(StateOverlay& state, const TxContext& ctx,
                                         const pb::ReviewProject& a);
Result<ActionOutcome> ApplySubmitReport(StateOverlay& state, const TxContext& ctx,
                                        const pb::SubmitReport& a);
Result<ActionOutcome> ApplyVerifyReport(StateOverlay& state, const TxContext& ctx,
                                        const pb::VerifyReport& a);
Result<ActionOutcome> ApplyIssueCredits(StateOverlay& state, const TxContext& ctx,
                                        const pb::IssueCredits& a);
Result<ActionOutcome> ApplyPledgeCredits(StateOverlay& state, const TxContext& ctx,
                                         const pb::PledgeCredits& a);
Result<ActionOutcome> ApplyReleasePledge(StateOverlay& state, const TxContext& ctx,
                                         const pb::ReleasePledge& a);
Result<ActionOutcome> ApplyClaimPledge(StateOverlay& state, const TxContext& ctx,
                                       const pb::ClaimPledge& a);
Result<ActionOutcome> ApplySetObligation(StateOverlay& state, const TxContext& ctx,
                                         const pb::SetObligation& a);
Result<ActionOutcome> ApplyRetireOffset(StateOverlay& state, const TxContext& ctx,
                                        const pb::RetireOffset& a);
Result<ActionOutcome> ApplyRetireVoluntary(StateOverlay& state, const TxContext& ctx,
                                           const pb::RetireVoluntary& a);
Result<ActionOutcome> ApplyCancelCredits(StateOverlay& state, const TxContext& ctx,
                                         const pb::CancelCredits& a);
// Voluntary retirement of `holder`'s free grams (the sender's, or a buy-and-retire buyer's in a
// settlement); the record is the same either way.
Result<ActionOutcome> RetireVoluntaryOf(StateOverlay& state, const TxContext& ctx,
                                        const PublicKey& holder, const pb::RetireVoluntary& a);
Result<ActionOutcome> ApplySubmitProposal(StateOverlay& state, const TxContext& ctx,
                                          const pb::SubmitProposal& a);
Result<ActionOutcome> ApplyVoteProposal(StateOverlay& state, const TxContext& ctx,
                                        const pb::VoteProposal& a);

// Personal carbon accounts: scenarios.cpp, personal_accounts.cpp, attestations.cpp, merchants.cpp,
// pooling.cpp (docs/personal.md).
Result<ActionOutcome> ApplyRegisterScenario(StateOverlay& state, const TxContext& ctx,
                                            const pb::RegisterScenario& a);
Result<ActionOutcome> ApplyOpenPersonalAccount(StateOverlay& state, const TxContext& ctx,
                                               const pb::OpenPersonalAccount& a);
Result<ActionOutcome> ApplyAttestBehaviour(StateOverlay& state, const TxContext& ctx,
                                           const pb::AttestBehaviour& a);
Result<ActionOutcome> ApplyPublishOffer(StateOverlay& state, const TxContext& ctx,
                                        const pb::PublishOffer& a);
Result<ActionOutcome> ApplyRedeemOffer(StateOverlay& state, const TxContext& ctx,
                                       const pb::RedeemOffer& a);
Result<ActionOutcome> ApplyConsignReductions(StateOverlay& state, const TxContext& ctx,
                                             const pb::ConsignReductions& a);
Result<ActionOutcome> ApplyIssuePooledCredits(StateOverlay& state, const TxContext& ctx,
                                              const pb::IssuePooledCredits& a);
// authorisations.cpp, settlement.cpp: exchange settlement (docs/exchange.md)
Result<ActionOutcome> ApplySetAuthorisation(StateOverlay& state, const TxContext& ctx,
                                            const pb::SetAuthorisation& a);
Result<ActionOutcome> ApplySettle(StateOverlay& state, const TxContext& ctx, const pb::Settle& a);

}  // namespace puhui
