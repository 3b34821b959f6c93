#include "node/producer.h"

#include <fmt/format.h>

#include <condition_variable>
#include <mutex>

#include "chain/limits.h"
#include "node/log.h"

namespace puhui {

BlockProducer::BlockProducer(Ledger& ledger, Mempool& mempool, VerifierPool& verifier,
                             SignGuard& guard, PrivateKey validator_key, Clock clock)
    : ledger_(ledger),
      mempool_(mempool),
      verifier_(verifier),
      guard_(guard),
      key_(validator_key),
      clock_(std::move(clock)) {}

Status BlockProducer::CheckCanCommitAlone() const {
  const ValidatorSet& set = ledger_.validators();
  auto power = set.PowerOf(key_.Public().bytes);
  if (!power) {
    return FailedPrecondition(fmt::format("validator key {} is not in the genesis validator set",
                                          Hex(key_.Public().bytes)));
  }
  if (*power < set.QuorumPower()) {
    return FailedPrecondition(fmt::format(
        "this validator holds {} of {} voting power and cannot commit alone; a multi-validator "
        "network needs BFT consensus among its nodes",
        *power, set.total_power()));
  }
  return Status::Ok();
}

Status BlockProducer::SignAndCommit(const ExecutedBlock& block, uint32_t round) {
  pb::Vote vote;
  vote.set_chain_id(ledger_.chain_id());
  vote.set_type(pb::VOTE_PRECOMMIT);
  vote.set_height(block.header.height());
  vote.set_round(round);
  vote.set_block_hash(ToString(block.hash));
  vote.set_validator(ToString(key_.Public().bytes));
  vote.set_time_ms(block.header.time_ms());
  auto signed_vote = guard_.Sign(vote, ledger_.chain_id(), key_, block.block.SerializeAsString());
  if (!signed_vote.ok()) return signed_vote.status();
  return CommitWith(block, round, *signed_vote);
}

Status BlockProducer::CommitWith(const ExecutedBlock& block, uint32_t round,
                                 const pb::SignedVote& vote) {
  pb::Commit commit;
  commit.set_height(block.header.height());
  commit.set_round(round);
  commit.set_block_hash(ToString(block.hash));
  *commit.add_precommits() = vote;
  return ledger_.Commit(block, commit);
}

Status BlockProducer::Recover() {
  const auto& last = guard_.last();
  const uint64_t next = ledger_.Tip().height() + 1;
  if (!last || last->height() < next) return Status::Ok();
  if (last->height() > next) {
    return Corruption(
        fmt::format("the validator signed height {} but the store ends at {}: the "
                    "data directory is older than the sign record",
                    last->height(), next - 1));
  }
  if (last->type() != pb::VOTE_PRECOMMIT || last->block().empty()) {
    return Corruption("the last sign record at the next height holds no block to finish");
  }
  auto block = ledger_.Validate(last->block(), verifier_);
  if (!block.ok()) {
    return Corruption("the block signed before the restart does not apply: " +
                      block.status().message());
  }
  if (ToString(block->hash) != last->block_hash()) {
    return Corruption("the block kept with the sign record does not match the signed block hash");
  }
  log::Info("recovering block {} signed before the restart", next);
  // Commit with the very vote signed before the crash: nothing is signed twice.
  pb::SignedVote vote;
  vote.set_vote(last->signed_bytes());
  vote.set_signature(last->signature());
  PUHUI_RETURN_IF_ERROR(CommitWith(*block, last->round(), vote));
  mempool_.Update([&](const PublicKey& k) { return ledger_.CommittedNonce(k); }, next + 1);
  return Status::Ok();
}

Status BlockProducer::ProduceOne() {
  const uint64_t max_txs = ledger_.genesis().params.max_block_txs;
  auto nonce_of = [&](const PublicKey& k) { return ledger_.CommittedNonce(k); };
  std::vector<DecodedTx> candidates = mempool_.Reap(max_txs, kMaxBlockBytes / 2, nonce_of);
  std::vector<Hash32> dropped;
  auto block = ledger_.Propose(std::move(candidates), clock_(), key_.Public(), &dropped);
  if (!block.ok()) return block.status();
  for (const auto& id : dropped) mempool_.Remove(id);
  PUHUI_RETURN_IF_ERROR(SignAndCommit(*block, 0));
  const uint64_t height = block->header.height();
  mempool_.Update(nonce_of, height + 1);
  // Empty blocks keep the chain's clock moving; only blocks with transactions are news to an
  // operator.
  const auto level = block->txs.empty() ? log::Level::kDebug : log::Level::kInfo;
  if (log::Enabled(level)) {
    log::Write(level, fmt::format("committed block height={} txs={} hash={} state_root={}", height,
                                  block->txs.size(), Hex(block->hash).substr(0, 16),
                                  Hex(block->tree.root).substr(0, 16)));
  }
  return Status::Ok();
}

Status BlockProducer::Run(std::stop_token stop, uint64_t idle_blocks_every) {
  const auto interval = std::chrono::milliseconds(ledger_.genesis().params.block_interval_ms);
  uint64_t idle = 0;
  while (!stop.stop_requested()) {
    {
      // Sleeps one interval, waking at once on stop.
      std::mutex mu;
      std::condition_variable_any cv;
      std::unique_lock lock(mu);
      cv.wait_for(lock, stop, interval, [] { return false; });
    }
    if (stop.stop_requested()) break;
    // Transactions stuck behind a nonce gap do not count: they cannot go into a block.
    const bool work =
        mempool_.HasIncludable([&](const PublicKey& k) { return ledger_.CommittedNonce(k); });
    if (!work && ++idle < idle_blocks_every) continue;
    idle = 0;
    Status s = ProduceOne();
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace puhui
