#include "contracts/registry_checks.h"

#include <fmt/format.h>

#include <set>

#include "chain/genesis.h"
#include "chain/limits.h"
#include "contracts/formula.h"
#include "contracts/registry_keys.h"

namespace puhui {

namespace {

Status Id(const std::string& v, const char* field, size_t max = kMaxRegistryIdBytes) {
  if (!IsValidId(v) || v.size() > max) {
    return InvalidArgument(
        fmt::format("{} must be 1..{} characters of [A-Za-z0-9._:-]", field, max));
  }
  return Status::Ok();
}

Status Region(const std::string& v, const char* field = "region") {
  return Id(v, field, kMaxIdBytes);
}

Status Hash(const std::string& v, const char* field) {
  if (v.size() != 32) return InvalidArgument(fmt::format("{} must be a 32-byte hash", field));
  return Status::Ok();
}

Status Text(const std::string& v, const char* field, size_t max, bool required = true) {
  if (required && v.empty()) return InvalidArgument(fmt::format("{} must not be empty", field));
  if (v.size() > max) {
    return InvalidArgument(fmt::format("{} is {} bytes; at most {}", field, v.size(), max));
  }
  return Status::Ok();
}

Status Positive(uint64_t v, const char* field) {
  if (v == 0) return InvalidArgument(fmt::format("{} must be > 0", field));
  return Status::Ok();
}

Status Version(uint32_t v) {
  if (v == 0) return InvalidArgument("version must be ≥ 1");
  return Status::Ok();
}

Status Period(uint32_t start, uint32_t end, const char* what) {
  if (!IsValidDate(start) || !IsValidDate(end)) {
    return InvalidArgument(fmt::format("{} dates must be real dates written YYYYMMDD", what));
  }
  if (start > end) return InvalidArgument(fmt::format("{} starts after it ends", what));
  return Status::Ok();
}

Status Account(const std::string& v, const char* field, const PublicKey& sender,
               bool may_be_sender) {
  auto key = ParsePublicKey(AsBytes(v));
  if (!key.ok()) {
    return InvalidArgument(fmt::format("{} must be a 32-byte x-only secp256k1 public key", field));
  }
  if (!may_be_sender && *key == sender) {
    return InvalidArgument(fmt::format("{} must be another account than the sender", field));
  }
  return Status::Ok();
}

Status Purpose(pb::RetirementPurpose p) {
  if (p == pb::RETIREMENT_PURPOSE_UNSPECIFIED || !pb::RetirementPurpose_IsValid(p)) {
    return InvalidArgument("purpose must be event, organisation, product, personal or other");
  }
  return Status::Ok();
}

Status CheckSetAuthorisation(const pb::SetAuthorisation& a, const PublicKey& sender) {
  PUHUI_RETURN_IF_ERROR(Account(a.exchange(), "exchange", sender, false));
  if (!a.batch().empty()) PUHUI_RETURN_IF_ERROR(Id(a.batch(), "batch", kMaxIdBytes));
  if (a.grams() > 0 && a.expiry_height() == 0) {
    return InvalidArgument("expiry_height must be set: the last height the exchange may use it");
  }
  return Status::Ok();
}

Status CheckSettle(const pb::Settle& a) {
  PUHUI_RETURN_IF_ERROR(Id(a.id(), "settlement id", kMaxSettlementIdBytes));
  PUHUI_RETURN_IF_ERROR(Text(a.payment_ref(), "payment_ref", kMaxPaymentRefBytes));
  PUHUI_RETURN_IF_ERROR(Region(a.region()));
  if (a.legs_size() == 0) return InvalidArgument("a settlement needs at least one leg");
  if (static_cast<size_t>(a.legs_size()) > kMaxSettlementLegs) {
    return InvalidArgument(fmt::format("a settlement has at most {} legs; this one has {}",
                                       kMaxSettlementLegs, a.legs_size()));
  }
  for (int i = 0; i < a.legs_size(); ++i) {
    const pb::SettlementLeg& leg = a.legs(i);
    auto in_leg = [i](const Status& s) {
      return InvalidArgument(fmt::format("leg {}: {}", i, s.message()));
    };
    auto from = ParsePublicKey(AsBytes(leg.from()));
    auto to = ParsePublicKey(AsBytes(leg.to()));
    if (!from.ok()) return in_leg(InvalidArgument("from must be a 32-byte x-only public key"));
    if (!to.ok()) return in_leg(InvalidArgument("to must be a 32-byte x-only public key"));
    if (*from == *to) return in_leg(InvalidArgument("from and to must differ"));
    if (Status s = Id(leg.batch(), "batch", kMaxIdBytes); !s.ok()) return in_leg(s);
    if (Status s = Positive(leg.grams(), "grams"); !s.ok()) return in_leg(s);
    if (leg.retire()) {
      if (Status s = Text(leg.beneficiary(), "beneficiary", kMaxBeneficiaryBytes); !s.ok())
        return in_leg(s);
      if (Status s = Purpose(leg.purpose()); !s.ok()) return in_leg(s);
      if (Status s = Text(leg.purpose_text(), "purpose_text", kMaxPurposeTextBytes, false); !s.ok())
        return in_leg(s);
    } else if (!leg.beneficiary().empty() || leg.purpose() != pb::RETIREMENT_PURPOSE_UNSPECIFIED ||
               !leg.purpose_text().empty()) {
      return in_leg(InvalidArgument("beneficiary and purpose belong to a leg with retire set"));
    }
  }
  return Status::Ok();
}

Status CheckFile(const pb::FileMethodology& a) {
  PUHUI_RETURN_IF_ERROR(Id(a.id(), "methodology id"));
  PUHUI_RETURN_IF_ERROR(Version(a.version()));
  PUHUI_RETURN_IF_ERROR(Text(a.title(), "title", kMaxTitleBytes));
  if (a.category() == pb::METHODOLOGY_CATEGORY_UNSPECIFIED ||
      !pb::MethodologyCategory_IsValid(a.category())) {
    return InvalidArgument("category must be project or personal");
  }
  PUHUI_RETURN_IF_ERROR(Region(a.region()));
  PUHUI_RETURN_IF_ERROR(Hash(a.document_hash(), "document_hash"));
  Status f = ValidateFormula(a.formula());
  if (!f.ok()) return InvalidArgument("formula: " + f.message());
  if (static_cast<size_t>(a.params_size()) > kMaxMethodologyParams) {
    return InvalidArgument(fmt::format("at most {} parameters", kMaxMethodologyParams));
  }
  std::set<std::string> names;
  for (const auto& p : a.params()) {
    PUHUI_RETURN_IF_ERROR(Id(p.name(), "parameter name"));
    if (!names.insert(p.name()).second) {
      return InvalidArgument(fmt::format("parameter '{}' is given twice", p.name()));
    }
  }
  return Status::Ok();
}

Status CheckObligation(const pb::SetObligation& a, const PublicKey& sender) {
  PUHUI_RETURN_IF_ERROR(Account(a.entity(), "entity", sender, false));
  PUHUI_RETURN_IF_ERROR(Region(a.region()));
  PUHUI_RETURN_IF_ERROR(Id(a.period(), "period"));
  if (a.cap_base() == pb::CAP_BASE_UNSPECIFIED || !pb::CapBase_IsValid(a.cap_base())) {
    return InvalidArgument(
        "cap_base must be verified_emissions, allocated_allowances or allowances_to_surrender");
  }
  PUHUI_RETURN_IF_ERROR(Positive(a.cap_base_grams(), "cap_base_grams"));
  if (a.cap_ratio_bp() == 0 || a.cap_ratio_bp() > 10000) {
    return InvalidArgument("cap_ratio_bp must be 1..10000 basis points");
  }
  if (a.min_local_share_bp() > 10000) {
    return InvalidArgument("min_local_share_bp must be 0..10000 basis points");
  }
  return Period(a.vintage_from(), a.vintage_to(), "the vintage window");
}

Status CheckProposal(const pb::SubmitProposal& a, const PublicKey& sender) {
  PUHUI_RETURN_IF_ERROR(Id(a.id(), "proposal id"));
  PUHUI_RETURN_IF_ERROR(Region(a.region()));
  PUHUI_RETURN_IF_ERROR(Positive(a.expiry_height(), "expiry_height"));
  switch (a.change_case()) {
    case pb::SubmitProposal::kAddRegion:
      PUHUI_RETURN_IF_ERROR(Id(a.add_region().code(), "region code", 16));
      PUHUI_RETURN_IF_ERROR(Text(a.add_region().name(), "region name", kMaxIdBytes));
      return Account(a.add_region().authority(), "the new region's authority", sender, true);
    case pb::SubmitProposal::kSetParameter: {
      const auto& p = a.set_parameter();
      for (const auto& g : kGovernedParams) {
        if (g.name != p.name()) continue;
        if (p.value() < g.min || p.value() > g.max) {
          return InvalidArgument(
              fmt::format("parameter '{}' must be {}..{}", g.name, g.min, g.max));
        }
        return Status::Ok();
      }
      return InvalidArgument("set_parameter names no governed parameter (see docs/registry.md)");
    }
    case pb::SubmitProposal::kChangeValidator: {
      const auto& v = a.change_validator();
      if (!ParsePublicKey(AsBytes(v.pub_key())).ok()) {
        return InvalidArgument("change_validator: pub_key is not a 32-byte x-only key");
      }
      if (v.power() > (uint64_t{1} << 40)) {
        return InvalidArgument("change_validator: power is 0 (remove) or 1..2^40");
      }
      if (!v.node_key().empty() && !ParsePublicKey(AsBytes(v.node_key())).ok()) {
        return InvalidArgument("change_validator: node_key is empty or a 32-byte x-only key");
      }
      if (v.power() == 0) return Status::Ok();  // removal names the key only
      PUHUI_RETURN_IF_ERROR(Region(v.region()));
      return Text(v.name(), "validator name", kMaxIdBytes);
    }
    case pb::SubmitProposal::CHANGE_NOT_SET: break;
  }
  return InvalidArgument(
      "a proposal needs a change: add_region, set_parameter or change_validator");
}

}  // namespace

Status CheckRegistryAction(const pb::TxBody& body, const PublicKey& sender) {
  switch (body.action_case()) {
    case pb::TxBody::kFileMethodology: return CheckFile(body.file_methodology());
    case pb::TxBody::kReviewMethodology: {
      const auto& a = body.review_methodology();
      PUHUI_RETURN_IF_ERROR(Id(a.id(), "methodology id"));
      PUHUI_RETURN_IF_ERROR(Version(a.version()));
      return Hash(a.comment_hash(), "comment_hash");
    }
    case pb::TxBody::kDeprecateMethodology: {
      const auto& a = body.deprecate_methodology();
      PUHUI_RETURN_IF_ERROR(Id(a.id(), "methodology id"));
      PUHUI_RETURN_IF_ERROR(Version(a.version()));
      return Positive(a.from_height(), "from_height");
    }
    case pb::TxBody::kRecognizeMethodology: {
      const auto& a = body.recognize_methodology();
      PUHUI_RETURN_IF_ERROR(Id(a.id(), "methodology id"));
      PUHUI_RETURN_IF_ERROR(Version(a.version()));
      return Region(a.region());
    }
    case pb::TxBody::kSetReviewThreshold: {
      const auto& a = body.set_review_threshold();
      PUHUI_RETURN_IF_ERROR(Region(a.region()));
      if (a.threshold() == 0 || a.threshold() > kMaxReviewThreshold) {
        return InvalidArgument(fmt::format("threshold must be 1..{}", kMaxReviewThreshold));
      }
      return Status::Ok();
    }
    case pb::TxBody::kRegisterProject: {
      const auto& a = body.register_project();
      PUHUI_RETURN_IF_ERROR(Id(a.id(), "project id"));
      PUHUI_RETURN_IF_ERROR(Region(a.region()));
      PUHUI_RETURN_IF_ERROR(Id(a.methodology_id(), "methodology id"));
      PUHUI_RETURN_IF_ERROR(Version(a.methodology_version()));
      PUHUI_RETURN_IF_ERROR(Hash(a.location_hash(), "location_hash"));
      PUHUI_RETURN_IF_ERROR(Hash(a.boundary_hash(), "boundary_hash"));
      PUHUI_RETURN_IF_ERROR(Hash(a.baseline_hash(), "baseline_hash"));
      PUHUI_RETURN_IF_ERROR(Text(a.title(), "title", kMaxTitleBytes));
      return Period(a.crediting_start(), a.crediting_end(), "the crediting period");
    }
    case pb::TxBody::kReviewProject: {
      const auto& a = body.review_project();
      PUHUI_RETURN_IF_ERROR(Id(a.id(), "project id"));
      return Hash(a.comment_hash(), "comment_hash");
    }
    case pb::TxBody::kSubmitReport: {
      const auto& a = body.submit_report();
      PUHUI_RETURN_IF_ERROR(Id(a.project(), "project id"));
      PUHUI_RETURN_IF_ERROR(Period(a.period_start(), a.period_end(), "the report period"));
      if (static_cast<size_t>(a.activity_size()) > kMaxFormulaInputs) {
        return InvalidArgument(fmt::format("at most {} activity values", kMaxFormulaInputs));
      }
      std::set<std::string> names;
      for (const auto& v : a.activity()) {
        PUHUI_RETURN_IF_ERROR(Id(v.name(), "activity name", kMaxIdBytes));
        if (!names.insert(v.name()).second) {
          return InvalidArgument(fmt::format("activity '{}' is given twice", v.name()));
        }
      }
      return Positive(a.claimed_grams(), "claimed_grams");
    }
    case pb::TxBody::kVerifyReport: {
      const auto& a = body.verify_report();
      PUHUI_RETURN_IF_ERROR(Id(a.report(), "report id", kMaxIdBytes));
      return Hash(a.opinion_hash(), "opinion_hash");
    }
    case pb::TxBody::kIssueCredits:
      return Id(body.issue_credits().report(), "report id", kMaxIdBytes);
    case pb::TxBody::kPledgeCredits: {
      const auto& a = body.pledge_credits();
      PUHUI_RETURN_IF_ERROR(Id(a.batch(), "batch", kMaxIdBytes));
      PUHUI_RETURN_IF_ERROR(Positive(a.grams(), "grams"));
      return Account(a.pledgee(), "pledgee", sender, false);
    }
    case pb::TxBody::kReleasePledge: return Id(body.release_pledge().pledge(), "pledge id");
    case pb::TxBody::kClaimPledge: return Id(body.claim_pledge().pledge(), "pledge id");
    case pb::TxBody::kSetObligation: return CheckObligation(body.set_obligation(), sender);
    case pb::TxBody::kRetireOffset: {
      const auto& a = body.retire_offset();
      PUHUI_RETURN_IF_ERROR(Id(a.batch(), "batch", kMaxIdBytes));
      PUHUI_RETURN_IF_ERROR(Positive(a.grams(), "grams"));
      PUHUI_RETURN_IF_ERROR(Region(a.region()));
      return Id(a.period(), "period");
    }
    case pb::TxBody::kRetireVoluntary: {
      const auto& a = body.retire_voluntary();
      PUHUI_RETURN_IF_ERROR(Id(a.batch(), "batch", kMaxIdBytes));
      PUHUI_RETURN_IF_ERROR(Positive(a.grams(), "grams"));
      PUHUI_RETURN_IF_ERROR(Text(a.beneficiary(), "beneficiary", kMaxBeneficiaryBytes));
      if (a.purpose() == pb::RETIREMENT_PURPOSE_UNSPECIFIED ||
          !pb::RetirementPurpose_IsValid(a.purpose())) {
        return InvalidArgument("purpose must be event, organisation, product, personal or other");
      }
      return Text(a.purpose_text(), "purpose_text", kMaxPurposeTextBytes, /*required=*/false);
    }
    case pb::TxBody::kCancelCredits: {
      const auto& a = body.cancel_credits();
      PUHUI_RETURN_IF_ERROR(Id(a.batch(), "batch", kMaxIdBytes));
      PUHUI_RETURN_IF_ERROR(Account(a.holder(), "holder", sender, true));
      PUHUI_RETURN_IF_ERROR(Positive(a.grams(), "grams"));
      if (a.reason() == pb::CANCEL_REASON_UNSPECIFIED || !pb::CancelReason_IsValid(a.reason())) {
        return InvalidArgument(
            "reason must be double_counting, issuance_error, holder_request, reversal or other");
      }
      return Status::Ok();
    }
    case pb::TxBody::kSubmitProposal: return CheckProposal(body.submit_proposal(), sender);
    case pb::TxBody::kVoteProposal: {
      PUHUI_RETURN_IF_ERROR(Id(body.vote_proposal().id(), "proposal id"));
      return Region(body.vote_proposal().region());
    }
    // Exchange settlement (docs/exchange.md).
    case pb::TxBody::kSetAuthorisation:
      return CheckSetAuthorisation(body.set_authorisation(), sender);
    case pb::TxBody::kSettle: return CheckSettle(body.settle());
    case pb::TxBody::kRegisterScenario:
    case pb::TxBody::kOpenPersonalAccount:
    case pb::TxBody::kAttestBehaviour:
    case pb::TxBody::kPublishOffer:
    case pb::TxBody::kRedeemOffer:
    case pb::TxBody::kConsignReductions:
    case pb::TxBody::kIssuePooledCredits:
    case pb::TxBody::kGrantRole:
    case pb::TxBody::kRevokeRole:
    case pb::TxBody::kTransfer:
    case pb::TxBody::ACTION_NOT_SET: break;
  }
  return Status::Ok();
}

}  // namespace puhui
