#include "contracts/tx.h"

#include <fmt/format.h>
#include <google/protobuf/reflection.h>

#include "chain/genesis.h"
#include "chain/limits.h"
#include "chain/signing.h"
#include "contracts/registry_checks.h"

namespace puhui {

namespace {

// Unknown fields would be carried and signed but ignored by this version: refuse them, so that a
// transaction means the same thing to every node and every later version.
bool HasUnknownFields(const google::protobuf::Message& m) {
  const google::protobuf::Reflection* r = m.GetReflection();
  if (!r->GetUnknownFields(m).empty()) return true;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (HasUnknownFields(r->GetRepeatedMessage(m, f, i))) return true;
      }
    } else if (HasUnknownFields(r->GetMessage(m, f))) {
      return true;
    }
  }
  return false;
}

Result<PublicKey> AccountField(const std::string& bytes, const char* field) {
  auto key = ParsePublicKey(AsBytes(bytes));
  if (!key.ok()) {
    return InvalidArgument(fmt::format("{} must be a 32-byte x-only secp256k1 public key", field));
  }
  return *key;
}

Status CheckRoleChange(const std::string& account, pb::Role role, const std::string& region) {
  if (role == pb::ROLE_UNSPECIFIED || !pb::Role_IsValid(role)) {
    return InvalidArgument("role is not set or unknown");
  }
  if (!IsValidId(region)) return InvalidArgument("region must be a code of [A-Za-z0-9._:-]");
  return AccountField(account, "account").status();
}

// The checks of an action that need no state. Done when a transaction is decoded — at admission,
// and for a proposed block only for transactions the mempool does not hold already — so execution
// does not repeat the costly ones, such as
// checking that a recipient key is a point on the curve.
Status CheckAction(const pb::TxBody& body, const PublicKey& sender) {
  switch (body.action_case()) {
    case pb::TxBody::kGrantRole: {
      const auto& a = body.grant_role();
      return CheckRoleChange(a.account(), a.role(), a.region());
    }
    case pb::TxBody::kRevokeRole: {
      const auto& a = body.revoke_role();
      return CheckRoleChange(a.account(), a.role(), a.region());
    }
    case pb::TxBody::kTransfer: {
      const auto& a = body.transfer();
      if (a.grams() == 0) return InvalidArgument("transfer grams must be > 0");
      if (!IsValidId(a.batch()))
        return InvalidArgument("transfer batch must be a serial of [A-Za-z0-9._:-]");
      auto to = AccountField(a.to(), "transfer recipient");
      if (!to.ok()) return to.status();
      if (*to == sender) return InvalidArgument("cannot transfer to oneself");
      return Status::Ok();
    }
    case pb::TxBody::kFileMethodology:
    case pb::TxBody::kReviewMethodology:
    case pb::TxBody::kDeprecateMethodology:
    case pb::TxBody::kRecognizeMethodology:
    case pb::TxBody::kSetReviewThreshold:
    case pb::TxBody::kRegisterProject:
    case pb::TxBody::kReviewProject:
    case pb::TxBody::kSubmitReport:
    case pb::TxBody::kVerifyReport:
    case pb::TxBody::kIssueCredits:
    case pb::TxBody::kPledgeCredits:
    case pb::TxBody::kReleasePledge:
    case pb::TxBody::kClaimPledge:
    case pb::TxBody::kSetObligation:
    case pb::TxBody::kRetireOffset:
    case pb::TxBody::kRetireVoluntary:
    case pb::TxBody::kCancelCredits:
    case pb::TxBody::kSubmitProposal:
    case pb::TxBody::kVoteProposal:
    case pb::TxBody::kSetAuthorisation:
    case pb::TxBody::kSettle: return CheckRegistryAction(body, sender);
    case pb::TxBody::kRegisterScenario:
    case pb::TxBody::kOpenPersonalAccount:
    case pb::TxBody::kAttestBehaviour:
    case pb::TxBody::kPublishOffer:
    case pb::TxBody::kRedeemOffer:
    case pb::TxBody::kConsignReductions:
    case pb::TxBody::kIssuePooledCredits: return CheckPersonalAction(body, sender);
    case pb::TxBody::ACTION_NOT_SET: break;
  }
  return InvalidArgument("transaction has no action");
}

}  // namespace

Result<DecodedTx> DecodeTx(std::string_view chain_id, std::string_view envelope_bytes) {
  if (envelope_bytes.size() > kMaxTxBytes) {
    return ResourceExhausted(fmt::format("transaction is {} bytes; the limit is {}",
                                         envelope_bytes.size(), kMaxTxBytes));
  }
  pb::TxEnvelope envelope;
  if (!envelope.ParseFromArray(envelope_bytes.data(), static_cast<int>(envelope_bytes.size()))) {
    return InvalidArgument("transaction envelope is not a valid protobuf TxEnvelope");
  }
  if (HasUnknownFields(envelope)) return InvalidArgument("transaction envelope has unknown fields");
  auto body = std::make_shared<pb::TxBody>();
  if (!body->ParseFromString(envelope.body())) {
    return InvalidArgument("transaction body is not a valid protobuf TxBody");
  }
  DecodedTx tx;
  tx.body = body;
  if (HasUnknownFields(*tx.body)) {
    return InvalidArgument("transaction body has unknown fields (built for a newer version?)");
  }
  if (tx.body->chain_id() != chain_id) {
    return FailedPrecondition(fmt::format("transaction is for chain '{}', this is chain '{}'",
                                          tx.body->chain_id(), chain_id));
  }
  if (envelope.signatures_size() != 1) {
    return InvalidArgument(
        fmt::format("transaction needs exactly 1 signature, has {}", envelope.signatures_size()));
  }
  auto sig = ToSignature(AsBytes(envelope.signatures(0)));
  if (!sig) return InvalidArgument("signature must be 64 bytes (BIP340)");
  auto sender = ParsePublicKey(AsBytes(tx.body->sender()));
  if (!sender.ok()) return InvalidArgument("sender must be a 32-byte x-only secp256k1 public key");
  if (tx.body->memo().size() > kMaxMemoBytes) {
    return InvalidArgument(
        fmt::format("memo is {} bytes; the limit is {}", tx.body->memo().size(), kMaxMemoBytes));
  }
  if (tx.body->expiry_height() == 0) {
    return InvalidArgument("expiry_height must be set (the last height at which to include it)");
  }
  PUHUI_RETURN_IF_ERROR(CheckAction(*tx.body, *sender));
  tx.id = TxId(AsBytes(envelope.body()));
  tx.signing_hash = SigningHash(chain_id, SignKind::kTx, AsBytes(envelope.body()));
  tx.sender = *sender;
  tx.signature = *sig;
  tx.envelope_bytes = std::string(envelope_bytes);
  return tx;
}

std::optional<Hash32> PeekTxId(std::string_view envelope_bytes) {
  if (envelope_bytes.size() > kMaxTxBytes) return std::nullopt;
  pb::TxEnvelope envelope;
  if (!envelope.ParseFromArray(envelope_bytes.data(), static_cast<int>(envelope_bytes.size()))) {
    return std::nullopt;
  }
  return TxId(AsBytes(envelope.body()));
}

bool VerifyTxSignature(const DecodedTx& tx) {
  return VerifySchnorr(tx.sender, tx.signing_hash, tx.signature);
}

std::string SignTx(const pb::TxBody& body, const PrivateKey& key) {
  pb::TxEnvelope envelope;
  envelope.set_body(body.SerializeAsString());
  Hash32 h = SigningHash(body.chain_id(), SignKind::kTx, AsBytes(envelope.body()));
  Signature sig = key.Sign(h);
  envelope.add_signatures(std::string(reinterpret_cast<const char*>(sig.data()), sig.size()));
  return envelope.SerializeAsString();
}

}  // namespace puhui
