// A commit certificate for a block of the test chain, signed by its only validator ("validator").
// Signed with fixed randomness, so the same block always gets the same certificate bytes.
#pragma once

#include "chain/signing.h"
#include "consensus/validator_set.h"
#include "node/ledger.h"
#include "test_util.h"

namespace puhui::testing {

inline pb::Commit Certify(const ExecutedBlock& b) {
  pb::Vote v;
  v.set_chain_id(kChainId);
  v.set_type(pb::VOTE_PRECOMMIT);
  v.set_height(b.header.height());
  v.set_block_hash(ToString(b.hash));
  v.set_validator(RawAddr("validator"));
  pb::Commit c;
  c.set_height(b.header.height());
  c.set_block_hash(ToString(b.hash));
  pb::SignedVote* sv = c.add_precommits();
  sv->set_vote(EncodeVote(v));
  const Signature sig =
      KeyOf("validator")
          .SignWithAux(SigningHash(kChainId, SignKind::kVote, AsBytes(sv->vote())), Hash32{});
  sv->set_signature(ToString(ByteView(sig)));
  return c;
}

}  // namespace puhui::testing
