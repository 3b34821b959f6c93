// Network-wide governance: a regional authority proposes a change (add a region, set a governed
// parameter); it passes when the authorities of more than 2/3 of the regions (one vote per region,
// the electorate counted when it was proposed) vote yes by its expiry height, and is enacted by
// the vote that passes it. It is rejected once yes can no longer pass.
//
// Extension point: validator-set changes (consensus; another engineer's area) become a third kind
// of change — a field in SubmitProposal/GovernanceProposal's oneof and a case in Enact below that
// records the change for consensus to apply at a fixed later height.
#include <fmt/format.h>

#include <algorithm>

#include "contracts/action.h"
#include "contracts/registry_keys.h"
#include "contracts/review.h"
#include "contracts/state_keys.h"
#include "contracts/validator_changes.h"

namespace puhui {

namespace {

bool Passes(uint64_t yes, uint64_t electorate) { return yes * 3 > electorate * 2; }

std::string_view ProposalStatusName(pb::ProposalStatus s) {
  switch (s) {
    case pb::PROPOSAL_STATUS_OPEN: return "open";
    case pb::PROPOSAL_STATUS_PASSED: return "passed";
    case pb::PROPOSAL_STATUS_REJECTED: return "rejected";
    case pb::PROPOSAL_STATUS_UNSPECIFIED:
    case pb::ProposalStatus_INT_MIN_SENTINEL_DO_NOT_USE_:
    case pb::ProposalStatus_INT_MAX_SENTINEL_DO_NOT_USE_: break;
  }
  return "unspecified";
}

// Refuses a change that cannot be enacted in the current state.
Result<std::optional<ActionOutcome>> RefuseChange(const StateReader& state,
                                                  const pb::GovernanceProposal& p) {
  using R = std::optional<ActionOutcome>;
  if (p.has_change_validator()) {
    PUHUI_TRY(exists, RegionExists(state, p.change_validator().region()));
    if (!exists && p.change_validator().power() != 0) {
      return R(ActionOutcome::Fail(
          pb::RECEIPT_NOT_FOUND,
          fmt::format("region '{}' does not exist", p.change_validator().region())));
    }
    auto next = NextValidatorSet(state, p.submitted_height(), p.change_validator());
    if (!next.ok()) {
      if (next.status().code() != StatusCode::kInvalidArgument) return next.status();
      return R(ActionOutcome::Fail(pb::RECEIPT_VALIDATOR_SET_INVALID, next.status().message()));
    }
  }
  if (p.has_add_region()) {
    PUHUI_TRY(exists, RegionExists(state, p.add_region().code()));
    if (exists) {
      return R(
          ActionOutcome::Fail(pb::RECEIPT_REGION_EXISTS,
                              fmt::format("region '{}' exists already", p.add_region().code())));
    }
  }
  return R();
}

Status Enact(StateOverlay& state, const TxContext& ctx, const pb::GovernanceProposal& p) {
  switch (p.change_case()) {
    case pb::GovernanceProposal::kAddRegion: {
      const auto& r = p.add_region();
      state.Put(state_keys::Region(r.code()), ToBytes(r.name()));
      auto listed = AppendIndex(state, kKindRegion, state_keys::Region(r.code()));
      if (!listed.ok()) return listed.status();
      auto n = ReadU64(state, registry_keys::RegionCount());
      if (!n.ok()) return n.status();
      WriteU64(state, registry_keys::RegionCount(), *n + 1);
      state.Put(state_keys::RoleGrant(r.code(), pb::ROLE_AUTHORITY, AddressOf(r.authority())),
                EncodeU64(ctx.block.height));
      return AdjustRoleCount(state, r.code(), pb::ROLE_AUTHORITY, /*grant=*/true);
    }
    case pb::GovernanceProposal::kSetParameter:
      WriteU64(state, registry_keys::Param(p.set_parameter().name()), p.set_parameter().value());
      return Status::Ok();
    case pb::GovernanceProposal::kChangeValidator: {
      auto next = NextValidatorSet(state, ctx.block.height, p.change_validator());
      if (!next.ok()) return next.status();  // RefuseChange checked it in this very transaction
      auto effective = ScheduleValidatorChange(state, ctx.block.height, *next);
      return effective.ok() ? Status::Ok() : effective.status();
    }
    case pb::GovernanceProposal::CHANGE_NOT_SET: break;
  }
  return Corruption("a governance proposal without a change");
}

// Counts the votes and enacts or rejects; returns the event describing the outcome.
Result<pb::Event> Decide(StateOverlay& state, const TxContext& ctx, pb::GovernanceProposal& p) {
  const uint64_t n = p.regions_at_submission();
  const uint64_t yes = static_cast<uint64_t>(p.yes_regions_size());
  const uint64_t no = static_cast<uint64_t>(p.no_regions_size());
  if (Passes(yes, n)) {
    PUHUI_RETURN_IF_ERROR(Enact(state, ctx, p));
    p.set_status(pb::PROPOSAL_STATUS_PASSED);
    p.set_decided_height(ctx.block.height);
  } else if (!Passes(n > no ? n - no : 0, n)) {
    p.set_status(pb::PROPOSAL_STATUS_REJECTED);
    p.set_decided_height(ctx.block.height);
  }
  return MakeEvent("proposal_voted", {{"id", p.id()},
                                      {"yes", std::to_string(yes)},
                                      {"no", std::to_string(no)},
                                      {"regions", std::to_string(n)},
                                      {"status", std::string(ProposalStatusName(p.status()))}});
}

}  // namespace

Result<ActionOutcome> ApplySubmitProposal(StateOverlay& state, const TxContext& ctx,
                                          const pb::SubmitProposal& a) {
  PUHUI_TRY(refused, RefuseUnlessRole(state, ctx, a.region(), pb::ROLE_AUTHORITY,
                                      "propose network changes for it"));
  if (refused) return std::move(*refused);
  Bytes key = registry_keys::Proposal(a.id());
  PUHUI_TRY(existing, ReadProto<pb::GovernanceProposal>(state, key));
  if (existing) {
    return ActionOutcome::Fail(pb::RECEIPT_ALREADY_EXISTS,
                               fmt::format("proposal '{}' exists already", a.id()));
  }
  if (a.expiry_height() < ctx.block.height) {
    return ActionOutcome::Fail(pb::RECEIPT_EXPIRY_IN_PAST,
                               fmt::format("expiry height {} is below the current height {}",
                                           a.expiry_height(), ctx.block.height));
  }
  PUHUI_TRY(regions, ReadU64(state, registry_keys::RegionCount()));
  pb::GovernanceProposal p;
  p.set_id(a.id());
  p.set_proposer(ToString(ctx.tx.sender.bytes));
  p.set_expiry_height(a.expiry_height());
  if (a.has_add_region()) *p.mutable_add_region() = a.add_region();
  if (a.has_set_parameter()) *p.mutable_set_parameter() = a.set_parameter();
  if (a.has_change_validator()) *p.mutable_change_validator() = a.change_validator();
  p.set_status(pb::PROPOSAL_STATUS_OPEN);
  p.set_submitted_height(ctx.block.height);
  p.set_regions_at_submission(static_cast<uint32_t>(regions));
  p.add_yes_regions(a.region());
  PUHUI_TRY(unenactable, RefuseChange(state, p));
  if (unenactable) return std::move(*unenactable);
  PUHUI_TRY(decided, Decide(state, ctx, p));
  WriteProto(state, key, p);
  PUHUI_TRY(appended, AppendIndex(state, kKindProposal, key));
  (void)appended;
  ActionOutcome ok;
  ok.events.push_back(MakeEvent("proposal_submitted", {{"id", a.id()}, {"region", a.region()}}));
  ok.events.push_back(std::move(decided));
  return ok;
}

Result<ActionOutcome> ApplyVoteProposal(StateOverlay& state, const TxContext& ctx,
                                        const pb::VoteProposal& a) {
  Bytes key = registry_keys::Proposal(a.id());
  PUHUI_TRY(p, ReadProto<pb::GovernanceProposal>(state, key));
  if (!p) {
    return ActionOutcome::Fail(pb::RECEIPT_PROPOSAL_NOT_FOUND,
                               fmt::format("proposal '{}' does not exist", a.id()));
  }
  PUHUI_TRY(refused, RefuseUnlessRole(state, ctx, a.region(), pb::ROLE_AUTHORITY,
                                      "vote for it on network changes"));
  if (refused) return std::move(*refused);
  if (p->status() != pb::PROPOSAL_STATUS_OPEN) {
    return ActionOutcome::Fail(
        pb::RECEIPT_PROPOSAL_CLOSED,
        fmt::format("proposal '{}' is {} already", a.id(), ProposalStatusName(p->status())));
  }
  if (ctx.block.height > p->expiry_height()) {
    return ActionOutcome::Fail(pb::RECEIPT_PROPOSAL_EXPIRED,
                               fmt::format("proposal '{}' expired at height {}; the chain is at {}",
                                           a.id(), p->expiry_height(), ctx.block.height));
  }
  auto voted = [&](const auto& regions) {
    return std::find(regions.begin(), regions.end(), a.region()) != regions.end();
  };
  if (voted(p->yes_regions()) || voted(p->no_regions())) {
    return ActionOutcome::Fail(pb::RECEIPT_ALREADY_VOTED,
                               fmt::format("region '{}' has voted on proposal '{}' already; one "
                                           "vote per region",
                                           a.region(), a.id()));
  }
  (a.approve() ? p->add_yes_regions() : p->add_no_regions())->assign(a.region());
  if (a.approve() &&
      Passes(static_cast<uint64_t>(p->yes_regions_size()), p->regions_at_submission())) {
    PUHUI_TRY(unenactable, RefuseChange(state, *p));
    if (unenactable) return std::move(*unenactable);
  }
  PUHUI_TRY(decided, Decide(state, ctx, *p));
  WriteProto(state, key, *p);
  ActionOutcome ok;
  ok.events.push_back(std::move(decided));
  return ok;
}

}  // namespace puhui
