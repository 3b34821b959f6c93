// Block production for a network this validator can commit alone (the single-validator development
// network, until BFT consensus among regions lands): at each block interval, take transactions from
// the mempool, build and execute the next block, sign a precommit through the SignGuard (persisted
// before it exists anywhere else), and commit the block with that certificate.
//
// Crash safety: if the process dies after signing but before the commit reached disk, the signed
// block is kept with the sign record, and Recover() commits exactly that block on restart.
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>

#include "chain/keys.h"
#include "node/ledger.h"
#include "node/mempool.h"
#include "node/sign_guard.h"
#include "node/verifier_pool.h"

namespace puhui {

class BlockProducer {
 public:
  using Clock = std::function<uint64_t()>;  // milliseconds since the Unix epoch

  BlockProducer(Ledger& ledger, Mempool& mempool, VerifierPool& verifier, SignGuard& guard,
                PrivateKey validator_key, Clock clock);

  // Fails unless this validator alone holds more than 2/3 of the voting power.
  Status CheckCanCommitAlone() const;
  // Finishes a block this validator signed but had not committed before a crash.
  Status Recover();
  // Builds, signs and commits one block, even an empty one.
  Status ProduceOne();
  // Produces blocks until stop is requested: every block interval while includable transactions
  // wait, and an empty block after `idle_blocks_every` intervals without any. Returns the error
  // that stopped it.
  Status Run(std::stop_token stop, uint64_t idle_blocks_every = 10);

 private:
  Status SignAndCommit(const ExecutedBlock& block, uint32_t round);
  Status CommitWith(const ExecutedBlock& block, uint32_t round, const pb::SignedVote& vote);

  Ledger& ledger_;
  Mempool& mempool_;
  VerifierPool& verifier_;
  SignGuard& guard_;
  PrivateKey key_;
  Clock clock_;
};

}  // namespace puhui
