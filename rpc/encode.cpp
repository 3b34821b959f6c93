#include "rpc/encode.h"

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
  }
  return j;
}

std::string ReceiptCodeName(pb::ReceiptCode code) {
  switch (code) {
    case pb::RECEIPT_OK: return "ok";
    case pb::RECEIPT_PERMISSION_DENIED: return "permission_denied";
    case pb::RECEIPT_INVALID_ARGUMENT: return "invalid_argument";
    case pb::RECEIPT_NOT_FOUND: return "not_found";
    case pb::RECEIPT_INSUFFICIENT_FUNDS: return "insufficient_funds";
    case pb::RECEIPT_ALREADY_EXISTS: return "already_exists";
    case pb::RECEIPT_FAILED_PRECONDITION: return "failed_precondition";
    case pb::ReceiptCode_INT_MIN_SENTINEL_DO_NOT_USE_:
    case pb::ReceiptCode_INT_MAX_SENTINEL_DO_NOT_USE_: break;
  }
  return "unknown";
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
          {"note", b.note()}};
}

}  // namespace puhui::rpc
