// JSON renderings of the chain's records for RPC results. Bytes are lower-case hex; amounts,
// heights and times are JSON integers; enums are their lower-case names. docs/rpc.md shows each
// shape.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "chain/merkle.h"
#include "chain/smt.h"
#include "puhui.pb.h"

namespace puhui::rpc {

nlohmann::json HeaderToJson(const pb::BlockHeader& header);
nlohmann::json CommitToJson(const pb::Commit& commit);
nlohmann::json TxBodyToJson(const pb::TxBody& body);
nlohmann::json ReceiptToJson(const pb::Receipt& receipt);
nlohmann::json SmtProofToJson(const SmtProof& proof);
// A Merkle inclusion path (chain/merkle.h) as its sibling hashes, leaf to root, in hex.
nlohmann::json MerklePathToJson(const MerkleProof& proof);
// The inverse of SmtProofToJson, for clients that check a proof; nullopt if the JSON is malformed.
std::optional<SmtProof> SmtProofFromJson(const nlohmann::json& j);
nlohmann::json CreditBatchToJson(const pb::CreditBatch& batch);

// Any record as JSON by reflection, every field included (unset ones at their defaults, except
// members of an unset oneof): bytes as hex, enums as lower-case names without their type prefix
// (REVIEW_STATUS_APPROVED -> "approved"), 64-bit integers as JSON integers.
nlohmann::json ProtoToJson(const google::protobuf::Message& m);
// The lower-case name of an enum value as ProtoToJson writes it, and its inverse (nullopt if the
// name is unknown).
std::string EnumValueName(const google::protobuf::EnumValueDescriptor* v);
std::optional<int> EnumValueFromName(const google::protobuf::EnumDescriptor* e,
                                     std::string_view name);

std::string ReceiptCodeName(pb::ReceiptCode code);
std::string HexOf(const std::string& bytes);

}  // namespace puhui::rpc
