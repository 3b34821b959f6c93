#include "node/evidence.h"

#include <fmt/format.h>

#include "chain/merkle.h"
#include "consensus/signer.h"

namespace puhui {

Bytes EvidenceKey(const pb::Vote& vote) {
  Bytes key;
  key.reserve(64);
  for (char c : std::string_view(kEvidencePrefix)) key.push_back(static_cast<uint8_t>(c));
  key.insert(key.end(), vote.validator().begin(), vote.validator().end());
  AppendBigEndian(key, vote.height(), 8);
  AppendBigEndian(key, vote.round(), 4);
  AppendBigEndian(key, static_cast<uint64_t>(vote.type()), 1);
  return key;
}

Status CheckEvidence(const std::string& chain_id, const ValidatorSet& validators,
                     const pb::DuplicateVoteEvidence& evidence, uint64_t next_height,
                     Bytes* key_out) {
  pb::Vote a;
  pb::Vote b;
  if (!a.ParseFromString(evidence.first().vote()) || !b.ParseFromString(evidence.second().vote())) {
    return InvalidArgument("evidence: a vote does not parse");
  }
  if (a.chain_id() != chain_id || b.chain_id() != chain_id) {
    return InvalidArgument("evidence: a vote is for another chain");
  }
  if (a.validator() != b.validator() || a.height() != b.height() || a.round() != b.round() ||
      a.type() != b.type()) {
    return InvalidArgument(
        "evidence: the votes differ in validator, height, round or type; double signing is two "
        "votes for one slot");
  }
  if (a.type() != pb::VOTE_PREVOTE && a.type() != pb::VOTE_PRECOMMIT) {
    return InvalidArgument("evidence: not a prevote or precommit");
  }
  if (a.block_hash() == b.block_hash()) {
    return InvalidArgument("evidence: both votes are for the same block");
  }
  if (a.height() == 0 || a.height() >= next_height) {
    return InvalidArgument(
        fmt::format("evidence: vote height {} is not below {}", a.height(), next_height));
  }
  if (next_height - a.height() > kMaxEvidenceAgeBlocks) {
    return InvalidArgument(fmt::format("evidence: vote height {} is more than {} blocks old",
                                       a.height(), kMaxEvidenceAgeBlocks));
  }
  auto key = ToHash32(AsBytes(a.validator()));
  if (!key || !validators.PowerOf(*key)) {
    return InvalidArgument("evidence: the signer is not a validator");
  }
  if (!consensus::VerifyVoteSignature(chain_id, evidence.first(), a.validator()) ||
      !consensus::VerifyVoteSignature(chain_id, evidence.second(), b.validator())) {
    return InvalidArgument("evidence: a signature does not verify");
  }
  if (key_out) *key_out = EvidenceKey(a);
  return Status::Ok();
}

Hash32 EvidenceRoot(const google::protobuf::RepeatedPtrField<pb::DuplicateVoteEvidence>& all) {
  std::vector<Hash32> leaves;
  for (const auto& e : all) leaves.push_back(MerkleLeafHash(AsBytes(e.SerializeAsString())));
  return MerkleRoot(leaves);
}

}  // namespace puhui
