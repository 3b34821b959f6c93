#include "consensus/signer.h"

#include "chain/signing.h"

namespace puhui::consensus {
namespace {

bool VerifyOver(const std::string& chain_id, SignKind kind, const std::string& bytes,
                const std::string& signature, const std::string& signer) {
  auto key = ToHash32(AsBytes(signer));
  auto sig = ToSignature(AsBytes(signature));
  if (!key || !sig) return false;
  return VerifySchnorr(PublicKey{*key}, SigningHash(chain_id, kind, AsBytes(bytes)), *sig);
}

}  // namespace

std::string EncodeProposal(const pb::Proposal& proposal) { return proposal.SerializeAsString(); }

pb::SignedProposal SignProposal(const pb::Proposal& proposal, const std::string& chain_id,
                                const PrivateKey& key) {
  pb::SignedProposal sp;
  sp.set_proposal(EncodeProposal(proposal));
  Signature sig = key.Sign(SigningHash(chain_id, SignKind::kProposal, AsBytes(sp.proposal())));
  sp.set_signature(ToString(ByteView(sig)));
  return sp;
}

bool VerifyVoteSignature(const std::string& chain_id, const pb::SignedVote& vote,
                         const std::string& signer) {
  return VerifyOver(chain_id, SignKind::kVote, vote.vote(), vote.signature(), signer);
}

bool VerifyProposalSignature(const std::string& chain_id, const pb::SignedProposal& proposal,
                             const std::string& signer) {
  return VerifyOver(chain_id, SignKind::kProposal, proposal.proposal(), proposal.signature(),
                    signer);
}

}  // namespace puhui::consensus
