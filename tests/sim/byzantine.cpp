#include "byzantine.h"

#include "chain/hash.h"
#include "chain/signing.h"
#include "consensus/validator_set.h"

namespace puhui::sim {
namespace {

uint64_t Uniform(std::mt19937_64& rng, uint64_t lo, uint64_t hi) {
  return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
}

std::string RandomBytes(std::mt19937_64& rng, size_t size) {
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(Uniform(rng, 0, 255));
  return out;
}

std::string HashBytes(const Hash32& hash) { return ToString(ByteView(hash)); }

Message VoteMessage(const pb::SignedVote& vote) {
  return Message{Message::Kind::kVote, vote.SerializeAsString(), {}};
}

Message ProposalMessage(const pb::SignedProposal& proposal) {
  return Message{Message::Kind::kProposal, proposal.SerializeAsString(), {}};
}

}  // namespace

pb::SignedVote SignVoteFixed(const pb::Vote& vote, const PrivateKey& key) {
  pb::SignedVote out;
  out.set_vote(EncodeVote(vote));
  Signature sig = key.SignWithAux(
      SigningHash(vote.chain_id(), SignKind::kVote, AsBytes(out.vote())), kZeroHash);
  out.set_signature(ToString(ByteView(sig)));
  return out;
}

pb::SignedProposal SignProposalFixed(const pb::Proposal& proposal, const PrivateKey& key) {
  pb::SignedProposal out;
  out.set_proposal(consensus::EncodeProposal(proposal));
  Signature sig = key.SignWithAux(
      SigningHash(proposal.chain_id(), SignKind::kProposal, AsBytes(out.proposal())), kZeroHash);
  out.set_signature(ToString(ByteView(sig)));
  return out;
}

std::string SimBlock(uint64_t height, uint32_t round, const std::string& proposer) {
  return std::to_string(height) + "/" + std::to_string(round) + "/" + proposer;
}

bool SimBlockValid(uint64_t height, const std::string& block, const Hash32& hash) {
  return Sha256(block) == hash && block.rfind(std::to_string(height) + "/", 0) == 0;
}

pb::SignedVote ConflictingVote(const pb::SignedVote& vote, const std::string& evil_hash,
                               const PrivateKey& key) {
  pb::Vote v;
  v.ParseFromString(vote.vote());
  if (!evil_hash.empty() && v.block_hash() != evil_hash) {
    v.set_block_hash(evil_hash);
  } else if (!v.block_hash().empty()) {
    v.clear_block_hash();
  } else {
    v.set_block_hash(HashBytes(
        Sha256("made up/" + std::to_string(v.height()) + "/" + std::to_string(v.round()))));
  }
  return SignVoteFixed(v, key);
}

pb::SignedProposal ConflictingProposal(const pb::SignedProposal& proposal, const std::string& name,
                                       const PrivateKey& key) {
  pb::Proposal p;
  p.ParseFromString(proposal.proposal());
  std::string block = SimBlock(p.height(), p.round(), name + "/evil");
  p.set_block(block);
  p.set_block_hash(HashBytes(Sha256(block)));
  return SignProposalFixed(p, key);
}

Message Garbage(std::mt19937_64& rng, consensus::Engine& engine, const PrivateKey& key,
                const std::string& victim) {
  const std::string self = HashBytes(key.Public().bytes);
  const uint64_t height = engine.height();
  const uint32_t round = engine.round() + static_cast<uint32_t>(Uniform(rng, 0, 2));
  pb::Vote vote;
  vote.set_chain_id(kSimChainId);
  vote.set_type(Uniform(rng, 0, 1) == 0 ? pb::VOTE_PREVOTE : pb::VOTE_PRECOMMIT);
  vote.set_height(height);
  vote.set_round(round);
  if (Uniform(rng, 0, 2) != 0) vote.set_block_hash(RandomBytes(rng, 32));
  vote.set_validator(self);
  vote.set_time_ms(Uniform(rng, 0, uint64_t{1} << 50));
  pb::Proposal proposal;
  proposal.set_chain_id(kSimChainId);
  proposal.set_height(height);
  proposal.set_round(round);
  proposal.set_pol_round(-1);
  proposal.set_block(RandomBytes(rng, Uniform(rng, 0, 40)));
  proposal.set_block_hash(HashBytes(Sha256(proposal.block())));
  proposal.set_proposer(self);

  switch (Uniform(rng, 0, 11)) {
    case 0:  // random bytes where a vote should be
      return Message{Message::Kind::kVote, RandomBytes(rng, Uniform(rng, 0, 200)), {}};
    case 1:  // random bytes where a proposal should be
      return Message{Message::Kind::kProposal, RandomBytes(rng, Uniform(rng, 0, 200)), {}};
    case 2: {  // a well-formed vote with a random signature
      pb::SignedVote sv;
      sv.set_vote(EncodeVote(vote));
      sv.set_signature(RandomBytes(rng, Uniform(rng, 0, 1) == 0 ? 64 : 63));
      return VoteMessage(sv);
    }
    case 3:  // impersonation: an honest validator's key, our signature
      vote.set_validator(victim);
      return VoteMessage(SignVoteFixed(vote, key));
    case 4: {  // a vote from outside the validator set
      PrivateKey outsider = *PrivateKey::FromBytes(Sha256("sim outsider"));
      vote.set_validator(HashBytes(outsider.Public().bytes));
      return VoteMessage(SignVoteFixed(vote, outsider));
    }
    case 5:  // another chain
      vote.set_chain_id("another-chain");
      return VoteMessage(SignVoteFixed(vote, key));
    case 6:  // impossible round, or a malformed block hash
      if (Uniform(rng, 0, 1) == 0) {
        vote.set_round(consensus::kMaxRound + static_cast<uint32_t>(Uniform(rng, 0, 1000)));
      } else {
        vote.set_block_hash(RandomBytes(rng, Uniform(rng, 1, 31)));
      }
      return VoteMessage(SignVoteFixed(vote, key));
    case 7:  // a proposal for a round that may not be ours, with a block that is never valid
      return ProposalMessage(SignProposalFixed(proposal, key));
    case 8:  // a proposal whose block does not hash to its block_hash, or an impossible pol_round
      if (Uniform(rng, 0, 1) == 0) {
        proposal.set_block_hash(RandomBytes(rng, 32));
      } else {
        proposal.set_pol_round(static_cast<int64_t>(round) +
                               static_cast<int64_t>(Uniform(rng, 0, 3)));
      }
      return ProposalMessage(SignProposalFixed(proposal, key));
    case 9: {  // a certificate that certifies nothing
      pb::Commit commit;
      commit.set_height(height);
      commit.set_round(round);
      commit.set_block_hash(proposal.block_hash());
      vote.set_type(pb::VOTE_PRECOMMIT);
      vote.set_block_hash(proposal.block_hash());
      *commit.add_precommits() = SignVoteFixed(vote, key);
      return Message{Message::Kind::kSync, commit.SerializeAsString(), proposal.block()};
    }
    case 10:  // a properly signed vote of ours for whatever: a Byzantine vote, not a malformed one
      return VoteMessage(SignVoteFixed(vote, key));
    default:  // far in the future
      vote.set_height(height + Uniform(rng, 2, 1000));
      return VoteMessage(SignVoteFixed(vote, key));
  }
}

}  // namespace puhui::sim
