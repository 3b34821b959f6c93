// Block time without a clock in consensus ("BFT time", as in CometBFT).
//
// Each precommit carries its validator's clock reading, `time_ms`, never earlier than the previous
// block's time + 1 ms. The time of a committed block is the power-weighted median of the precommit
// times in its commit certificate: sort the precommits by time (then by validator key), and take
// the first time at which the precommits so far hold more than half of the certificate's power.
//
// Why it can be trusted: a certificate holds more than 2/3 of the total power and faulty validators
// less than 1/3, so they hold less than half of the certificate's power and the median lies between
// two honest clock readings; one faulty validator cannot move block time where it likes.
//
// A certificate is any quorum of precommits, so two nodes may assemble different certificates for
// one block, with different medians. The time becomes canonical with the certificate that the next
// block carries as its last_commit: the node stamps block h+1's header from that certificate and
// checks it when validating; CommitBlock.time_ms is the median of this node's own certificate.
#pragma once

#include <cstdint>

#include "consensus/validator_set.h"
#include "puhui.pb.h"

namespace puhui::consensus {

// The weighted median of the precommit times in `commit`, which should have passed VerifyCommit
// under `validators`. Votes that do not parse or whose signer is not in the set are ignored; 0 if
// nothing remains.
uint64_t WeightedMedianTimeMs(const pb::Commit& commit, const ValidatorSet& validators);

}  // namespace puhui::consensus
