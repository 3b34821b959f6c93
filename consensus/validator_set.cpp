#include "consensus/validator_set.h"

#include <fmt/format.h>

#include <set>

#include "chain/hash.h"
#include "chain/signing.h"

namespace puhui {

Result<ValidatorSet> ValidatorSet::FromProto(const pb::ValidatorSet& set) {
  if (set.validators_size() == 0) return InvalidArgument("validator set is empty");
  ValidatorSet out;
  out.set_ = set;
  for (int i = 0; i < set.validators_size(); ++i) {
    const auto& v = set.validators(i);
    if (v.pub_key().size() != 32) return InvalidArgument("validator key must be 32 bytes");
    if (v.power() == 0) return InvalidArgument("validator power must be > 0");
    if (i > 0 && !(set.validators(i - 1).pub_key() < v.pub_key())) {
      return InvalidArgument("validators must be sorted by key without duplicates");
    }
    if (out.total_power_ > UINT64_MAX / 4 - v.power())
      return InvalidArgument("total power overflows");
    out.total_power_ += v.power();
  }
  out.hash_ = TaggedHash("puhui/validators", AsBytes(set.SerializeAsString()));
  return out;
}

std::optional<uint64_t> ValidatorSet::PowerOf(const Hash32& key) const {
  std::string_view k = AsString(ByteView(key));
  for (const auto& v : set_.validators()) {
    if (v.pub_key() == k) return v.power();
  }
  return std::nullopt;
}

Hash32 CommitHash(const pb::Commit& commit) {
  return TaggedHash("puhui/commit", AsBytes(commit.SerializeAsString()));
}

std::string EncodeVote(const pb::Vote& vote) { return vote.SerializeAsString(); }

pb::SignedVote SignVote(const pb::Vote& vote, const std::string& chain_id, const PrivateKey& key) {
  pb::SignedVote sv;
  sv.set_vote(EncodeVote(vote));
  Signature sig = key.Sign(SigningHash(chain_id, SignKind::kVote, AsBytes(sv.vote())));
  sv.set_signature(std::string(reinterpret_cast<const char*>(sig.data()), sig.size()));
  return sv;
}

Status VerifyCommit(const std::string& chain_id, const ValidatorSet& validators, uint64_t height,
                    const Hash32& block_hash, const pb::Commit& commit) {
  if (commit.height() != height) {
    return InvalidArgument(
        fmt::format("commit is for height {}, expected {}", commit.height(), height));
  }
  if (commit.block_hash() != AsString(ByteView(block_hash))) {
    return InvalidArgument(fmt::format("commit at height {} is for another block", height));
  }
  std::set<std::string> signers;
  uint64_t power = 0;
  for (int i = 0; i < commit.precommits_size(); ++i) {
    const pb::SignedVote& sv = commit.precommits(i);
    pb::Vote vote;
    if (!vote.ParseFromString(sv.vote())) {
      return InvalidArgument(fmt::format("commit vote {} does not parse", i));
    }
    if (vote.chain_id() != chain_id || vote.type() != pb::VOTE_PRECOMMIT ||
        vote.height() != height || vote.round() != commit.round() ||
        vote.block_hash() != commit.block_hash()) {
      return InvalidArgument(fmt::format(
          "commit vote {} is not a precommit for this chain, height, round and block", i));
    }
    auto key_hash = ToHash32(AsBytes(vote.validator()));
    if (!key_hash)
      return InvalidArgument(fmt::format("commit vote {} has a malformed validator key", i));
    auto vp = validators.PowerOf(*key_hash);
    if (!vp) return InvalidArgument(fmt::format("commit vote {} is signed by a non-validator", i));
    if (!signers.insert(vote.validator()).second) {
      return InvalidArgument(fmt::format("commit vote {} repeats a validator", i));
    }
    auto sig = ToSignature(AsBytes(sv.signature()));
    auto key = ParsePublicKey(AsBytes(vote.validator()));
    if (!sig || !key.ok() ||
        !VerifySchnorr(*key, SigningHash(chain_id, SignKind::kVote, AsBytes(sv.vote())), *sig)) {
      return Unauthenticated(fmt::format("commit vote {} has an invalid signature", i));
    }
    power += *vp;
  }
  if (power < validators.QuorumPower()) {
    return Unauthenticated(fmt::format("commit at height {} carries power {} of {}; needs {}",
                                       height, power, validators.total_power(),
                                       validators.QuorumPower()));
  }
  return Status::Ok();
}

}  // namespace puhui
