// The engine holds no key. It asks a Signer for every vote and proposal it sends, so the node can
// put its persist-before-sign guard (node/sign_guard.h) in front of the key. A Signer must refuse
// anything that conflicts with what it signed before; the engine survives a refusal (it emits
// SignFailed and goes on without that message).
//
// Also here: the encoding and signature of proposals, next to EncodeVote/SignVote in
// validator_set.h.
#pragma once

#include <string>

#include "chain/keys.h"
#include "chain/status.h"
#include "puhui.pb.h"

namespace puhui::consensus {

class Signer {
 public:
  virtual ~Signer() = default;
  // Returns `vote` serialised with EncodeVote and signed over SigningHash(chain_id, kVote, bytes).
  virtual Result<pb::SignedVote> SignVote(const pb::Vote& vote) = 0;
  // Returns `proposal` serialised with EncodeProposal and signed over SigningHash(chain_id,
  // kProposal, bytes).
  virtual Result<pb::SignedProposal> SignProposal(const pb::Proposal& proposal) = 0;
};

// Serialised proposal bytes, as a proposer signs them.
std::string EncodeProposal(const pb::Proposal& proposal);
pb::SignedProposal SignProposal(const pb::Proposal& proposal, const std::string& chain_id,
                                const PrivateKey& key);

// True if `signature` is `signer`'s BIP340 signature of SigningHash(chain_id, kind, bytes). False
// for a malformed key or signature too.
bool VerifyVoteSignature(const std::string& chain_id, const pb::SignedVote& vote,
                         const std::string& signer);
bool VerifyProposalSignature(const std::string& chain_id, const pb::SignedProposal& proposal,
                             const std::string& signer);

}  // namespace puhui::consensus
