#include "rpc/encode.h"

#include <cctype>

#include "chain/bytes.h"
#include "chain/genesis.h"

namespace puhui::rpc {

using nlohmann::json;

std::string HexOf(const std::string& bytes) { return Hex(AsBytes(bytes)); }

json HeaderToJson(const pb::BlockHeader& h) {
  return {
      {"chain_id", h.chain_id()},
      {"height", h.height()},
      {"time_ms", h.time_ms()},
      {"time", FormatUtcTime(h.time_ms())},
      {"proposer", HexOf(h.proposer())},
      {"parent_hash", HexOf(h.parent_hash())},
      {"tx_root", HexOf(h.tx_root())},
      {"state_root", HexOf(h.state_root())},
      {"receipts_root", HexOf(h.receipts_root())},
      {"validators_hash", HexOf(h.validators_hash())},
      {"last_commit_hash", HexOf(h.last_commit_hash())},
      {"tx_count", h.tx_count()},
  };
}

json CommitToJson(const pb::Commit& c) {
  json votes = json::array();
  for (const auto& sv : c.precommits()) {
    pb::Vote v;
    json entry = {{"vote", HexOf(sv.vote())}, {"signature", HexOf(sv.signature())}};
    if (v.ParseFromString(sv.vote())) {
      entry["validator"] = HexOf(v.validator());
      entry["time_ms"] = v.time_ms();
    }
    votes.push_back(std::move(entry));
  }
  return {{"height", c.height()},
          {"round", c.round()},
          {"block_hash", HexOf(c.block_hash())},
          {"precommits", std::move(votes)}};
}

json TxBodyToJson(const pb::TxBody& b) {
  json j = {{"chain_id", b.chain_id()},
            {"sender", HexOf(b.sender())},
            {"nonce", b.nonce()},
            {"expiry_height", b.expiry_height()}};
  if (!b.memo().empty()) j["memo"] = b.memo();
  switch (b.action_case()) {
    case pb::TxBody::kGrantRole:
      j["type"] = "grant_role";
      j["action"] = {{"account", HexOf(b.grant_role().account())},
                     {"role", std::string(RoleName(b.grant_role().role()))},
                     {"region", b.grant_role().region()}};
      break;
    case pb::TxBody::kRevokeRole:
      j["type"] = "revoke_role";
      j["action"] = {{"account", HexOf(b.revoke_role().account())},
                     {"role", std::string(RoleName(b.revoke_role().role()))},
                     {"region", b.revoke_role().region()}};
      break;
    case pb::TxBody::kTransfer:
      j["type"] = "transfer";
      j["action"] = {{"batch", b.transfer().batch()},
                     {"to", HexOf(b.transfer().to())},
                     {"grams", b.transfer().grams()}};
      break;
    case pb::TxBody::ACTION_NOT_SET: j["type"] = "none"; break;
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
    case pb::TxBody::kRegisterScenario:
    case pb::TxBody::kOpenPersonalAccount:
    case pb::TxBody::kAttestBehaviour:
    case pb::TxBody::kPublishOffer:
    case pb::TxBody::kRedeemOffer:
    case pb::TxBody::kConsignReductions:
    case pb::TxBody::kIssuePooledCredits:
    case pb::TxBody::kSetAuthorisation:
    case pb::TxBody::kSettle: {  // the registry's actions: the oneof field's name and its fields
      const auto* f = pb::TxBody::descriptor()->FindFieldByNumber(b.action_case());
      j["type"] = f->name();
      j["action"] = ProtoToJson(b.GetReflection()->GetMessage(b, f));
      break;
    }
  }
  return j;
}

namespace {

// The part of the value names an enum's values share up to its last '_' ("REVIEW_STATUS_").
std::string EnumPrefix(const google::protobuf::EnumDescriptor* e) {
  std::string prefix = e->value(0)->name();
  for (int i = 1; i < e->value_count(); ++i) {
    const std::string& n = e->value(i)->name();
    size_t k = 0;
    while (k < prefix.size() && k < n.size() && prefix[k] == n[k]) ++k;
    prefix.resize(k);
  }
  size_t cut = prefix.rfind('_');
  return cut == std::string::npos ? std::string() : prefix.substr(0, cut + 1);
}

json FieldValue(const google::protobuf::Message& m, const google::protobuf::FieldDescriptor* f,
                int index) {
  using FD = google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FD::CPPTYPE_INT32: return rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
    case FD::CPPTYPE_INT64: return rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f);
    case FD::CPPTYPE_UINT32: return rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
    case FD::CPPTYPE_UINT64: return rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f);
    case FD::CPPTYPE_BOOL: return rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
    case FD::CPPTYPE_DOUBLE:
    case FD::CPPTYPE_FLOAT: return nullptr;  // never used in these formats
    case FD::CPPTYPE_ENUM:
      return EnumValueName(rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f));
    case FD::CPPTYPE_STRING: {
      std::string v = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      if (f->type() == FD::TYPE_BYTES) return HexOf(v);
      return v;
    }
    case FD::CPPTYPE_MESSAGE:
      return ProtoToJson(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
  }
  return nullptr;
}

}  // namespace

std::string EnumValueName(const google::protobuf::EnumValueDescriptor* v) {
  std::string name = v->name().substr(EnumPrefix(v->type()).size());
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

std::optional<int> EnumValueFromName(const google::protobuf::EnumDescriptor* e,
                                     std::string_view name) {
  for (int i = 0; i < e->value_count(); ++i) {
    if (e->value(i)->number() != 0 && EnumValueName(e->value(i)) == name) {
      return e->value(i)->number();
    }
  }
  return std::nullopt;
}

json ProtoToJson(const google::protobuf::Message& m) {
  const google::protobuf::Descriptor* d = m.GetDescriptor();
  const google::protobuf::Reflection* r = m.GetReflection();
  json out = json::object();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->containing_oneof() != nullptr && !r->HasField(m, f)) continue;
    if (f->is_repeated()) {
      json arr = json::array();
      for (int k = 0; k < r->FieldSize(m, f); ++k) arr.push_back(FieldValue(m, f, k));
      out[f->name()] = std::move(arr);
    } else {
      out[f->name()] = FieldValue(m, f, 0);
    }
  }
  return out;
}

std::string ReceiptCodeName(pb::ReceiptCode code) {
  const auto* v = pb::ReceiptCode_descriptor()->FindValueByNumber(code);
  return v ? EnumValueName(v) : "unknown";
}

json ReceiptToJson(const pb::Receipt& r) {
  json events = json::array();
  for (const auto& e : r.events()) {
    json attrs = json::object();
    for (const auto& a : e.attributes()) attrs[a.key()] = a.value();
    events.push_back({{"kind", e.kind()}, {"attributes", std::move(attrs)}});
  }
  json j = {{"tx_hash", HexOf(r.tx_hash())},
            {"height", r.height()},
            {"index", r.index()},
            {"code", ReceiptCodeName(r.code())},
            {"ok", r.code() == pb::RECEIPT_OK},
            {"events", std::move(events)}};
  if (!r.reason().empty()) j["reason"] = r.reason();
  return j;
}

json SmtProofToJson(const SmtProof& proof) {
  json siblings = json::array();
  for (const auto& s : proof.siblings) siblings.push_back(Hex(s));
  json j = {{"siblings", std::move(siblings)}};
  if (proof.other_leaf) {
    j["other_leaf"] = {{"key_hash", Hex(proof.other_leaf->first)},
                       {"value_hash", Hex(proof.other_leaf->second)}};
  }
  return j;
}

json MerklePathToJson(const MerkleProof& proof) {
  json hashes = json::array();
  for (const auto& h : proof.path) hashes.push_back(Hex(h));
  return hashes;
}

std::optional<SmtProof> SmtProofFromJson(const json& j) {
  auto hash_of = [](const json& v) -> std::optional<Hash32> {
    if (!v.is_string()) return std::nullopt;
    return Hash32FromHex(v.get<std::string>());
  };
  if (!j.is_object() || !j.contains("siblings") || !j["siblings"].is_array()) return std::nullopt;
  if (j["siblings"].size() > 256) return std::nullopt;
  SmtProof proof;
  for (const auto& s : j["siblings"]) {
    auto h = hash_of(s);
    if (!h) return std::nullopt;
    proof.siblings.push_back(*h);
  }
  if (auto it = j.find("other_leaf"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return std::nullopt;
    auto key_hash = hash_of(it->value("key_hash", json()));
    auto value_hash = hash_of(it->value("value_hash", json()));
    if (!key_hash || !value_hash) return std::nullopt;
    proof.other_leaf = std::make_pair(*key_hash, *value_hash);
  }
  return proof;
}

json CreditBatchToJson(const pb::CreditBatch& b) {
  return {{"serial", b.serial()},
          {"region", b.region()},
          {"issued_grams", b.issued_grams()},
          {"retired_grams", b.retired_grams()},
          {"cancelled_grams", b.cancelled_grams()},
          {"locked_grams", b.locked_grams()},
          {"issued_height", b.issued_height()},
          {"note", b.note()},
          {"issuer", HexOf(b.issuer())},
          {"owner", HexOf(b.owner())},
          {"methodology_id", b.methodology_id()},
          {"methodology_version", b.methodology_version()},
          {"project", b.project()},
          {"vintage_start", b.vintage_start()},
          {"vintage_end", b.vintage_end()},
          {"report", b.report()}};
}

}  // namespace puhui::rpc
