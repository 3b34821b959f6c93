#include "contracts/tx.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/reflection.h>

#include <algorithm>
#include <map>
#include <vector>

#include "chain/genesis.h"
#include "chain/limits.h"
#include "chain/signing.h"
#include "contracts/registry_checks.h"

namespace puhui {

namespace {

// Where a message of a transaction can hold other messages: the message-typed fields outside
// oneofs, and the oneofs with a message-typed member. Worked out once per message type from the
// descriptors (TxEnvelope, TxBody and all they contain), so a check asks only those fields
// instead of listing every field by reflection, which cost more than parsing the message.
struct NestedFields {
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  std::vector<const google::protobuf::OneofDescriptor*> oneofs;
};
using NestedTable = std::map<const google::protobuf::Descriptor*, NestedFields>;

void AddNested(const google::protobuf::Descriptor* d, NestedTable& table) {
  if (table.count(d)) return;
  NestedFields& entry = table[d];
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (const auto* oneof = f->real_containing_oneof()) {
      if (std::find(entry.oneofs.begin(), entry.oneofs.end(), oneof) == entry.oneofs.end()) {
        entry.oneofs.push_back(oneof);
      }
    } else {
      entry.fields.push_back(f);
    }
  }
  // `entry` stays valid: std::map does not move its elements on insertion.
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      AddNested(f->message_type(), table);
    }
  }
}

const NestedTable& Nested() {
  static const NestedTable* const table = [] {
    auto* t = new NestedTable();
    AddNested(pb::TxEnvelope::descriptor(), *t);
    AddNested(pb::TxBody::descriptor(), *t);
    return t;
  }();
  return *table;
}

// Unknown fields would be carried and signed but ignored by this version: refuse them, so that a
// transaction means the same thing to every node and every later version.
bool HasUnknownFields(const google::protobuf::Message& m) {
  const google::protobuf::Reflection* r = m.GetReflection();
  if (!r->GetUnknownFields(m).empty()) return true;
  const NestedFields& nested = Nested().at(m.GetDescriptor());
  auto any_in = [&](const google::protobuf::FieldDescriptor* f) {
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (HasUnknownFields(r->GetRepeatedMessage(m, f, i))) return true;
      }
      return false;
    }
    return r->HasField(m, f) && HasUnknownFields(r->GetMessage(m, f));
  };
  for (const auto* oneof : nested.oneofs) {
    const auto* set = r->GetOneofFieldDescriptor(m, oneof);
    if (set != nullptr && set->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE &&
        HasUnknownFields(r->GetMessage(m, set))) {
      return true;
    }
  }
  for (const auto* f : nested.fields) {
    if (any_in(f)) return true;
  }
  return false;
}

// A TxEnvelope read in place: views of its body and first signature into the caller's bytes,
// without building the message (two copies and a reflection walk for fields that are just two
// byte strings). Read as protobuf parses it: fields in any order, the last body wins, every
// signature counts; any other field is unknown.
struct EnvelopeView {
  std::string_view body;
  std::string_view first_signature;
  int signatures = 0;
  bool unknown_fields = false;
};

// Skips an unknown field's value; false if it is malformed (or a group, which no version of the
// envelope has used).
bool SkipValue(google::protobuf::io::CodedInputStream& in, uint32_t tag) {
  uint64_t ignored = 0;
  uint32_t length = 0;
  switch (tag & 7) {
    case 0: return in.ReadVarint64(&ignored);
    case 1: return in.Skip(8);
    case 2:
      return in.ReadVarint32(&length) && length <= INT32_MAX && in.Skip(static_cast<int>(length));
    case 5: return in.Skip(4);
    default: return false;
  }
}

Result<EnvelopeView> ReadEnvelope(std::string_view bytes) {
  const Status malformed =
      InvalidArgument("transaction envelope is not a valid protobuf TxEnvelope");
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  EnvelopeView view;
  while (in.CurrentPosition() != static_cast<int>(bytes.size())) {
    const uint32_t tag = in.ReadTag();
    if (tag >> 3 == 0) return malformed;  // no field 0; also a tag that does not read
    constexpr uint32_t kBody = 1 << 3 | 2, kSignature = 2 << 3 | 2;  // length-delimited
    if (tag != kBody && tag != kSignature) {
      if (!SkipValue(in, tag)) return malformed;
      view.unknown_fields = true;
      continue;
    }
    uint32_t length = 0;
    if (!in.ReadVarint32(&length)) return malformed;
    const size_t at = static_cast<size_t>(in.CurrentPosition());
    if (length > bytes.size() - at || !in.Skip(static_cast<int>(length))) return malformed;
    const std::string_view field = bytes.substr(at, length);
    if (tag == kBody) {
      view.body = field;
    } else if (view.signatures++ == 0) {
      view.first_signature = field;
    }
  }
  return view;
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
  auto envelope = ReadEnvelope(envelope_bytes);
  if (!envelope.ok()) return envelope.status();
  if (envelope->unknown_fields) return InvalidArgument("transaction envelope has unknown fields");
  auto body = std::make_shared<pb::TxBody>();
  if (!body->ParseFromArray(envelope->body.data(), static_cast<int>(envelope->body.size()))) {
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
  if (envelope->signatures != 1) {
    return InvalidArgument(
        fmt::format("transaction needs exactly 1 signature, has {}", envelope->signatures));
  }
  auto sig = ToSignature(AsBytes(envelope->first_signature));
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
  tx.id = TxId(AsBytes(envelope->body));
  tx.signing_hash = SigningHash(chain_id, SignKind::kTx, AsBytes(envelope->body));
  tx.sender = *sender;
  tx.signature = *sig;
  tx.envelope_bytes = std::string(envelope_bytes);
  return tx;
}

std::optional<Hash32> PeekTxId(std::string_view envelope_bytes) {
  if (envelope_bytes.size() > kMaxTxBytes) return std::nullopt;
  auto envelope = ReadEnvelope(envelope_bytes);
  if (!envelope.ok()) return std::nullopt;
  return TxId(AsBytes(envelope->body));
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
