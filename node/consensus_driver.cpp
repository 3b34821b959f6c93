#include "node/consensus_driver.h"

#include <fmt/format.h>

#include <algorithm>

#include "chain/limits.h"
#include "consensus/signer.h"
#include "node/evidence.h"
#include "node/guarded_signer.h"
#include "node/log.h"

namespace puhui {
namespace {

using namespace consensus;

// Inputs waiting for the loop beyond this are dropped: peers are rate-limited, so only a loop that
// stalls (a very slow disk) gets here, and consensus recovers what is lost by gossip and sync.
constexpr size_t kMaxQueuedInputs = 100'000;
// How long to wait for an answer to a block request before asking another peer.
constexpr uint64_t kSyncRequestTimeoutMs = 5'000;
// While waiting for the next height to start, how often to look at the mempool again.
constexpr uint64_t kStartPollMs = 50;
// Misbehaviour scores (PeerSet bans at PeerSetConfig::kDefaultBanScore).
constexpr int kScoreBadConsensusMessage = 10;
constexpr int kScoreBadSyncBlock = 50;
constexpr size_t kMaxEvidenceKept = 1'000;

bool IsFatal(const Status& s) {
  return s.code() == StatusCode::kIoError || s.code() == StatusCode::kCorruption;
}

std::string Short(const Hash32& hash) { return Hex(hash).substr(0, 16); }

}  // namespace

ConsensusDriver::ConsensusDriver(Ledger& ledger, Mempool& mempool, VerifierPool& verifier,
                                 SignGuard* guard, std::optional<PrivateKey> validator_key,
                                 DriverNetwork network, DriverOptions options)
    : ledger_(ledger),
      mempool_(mempool),
      verifier_(verifier),
      guard_(guard),
      network_(std::move(network)),
      options_(std::move(options)) {
  EngineConfig config;
  config.chain_id = ledger_.chain_id();
  config.timeouts = options_.timeouts;
  // The engine votes only while the key is in the set of the height (so an observer that
  // governance makes a validator starts voting at the height the change takes effect).
  if (validator_key && guard_) {
    key_ = validator_key;
    pub_ = key_->Public();
    config.validator_key = pub_.bytes;
    signer_ = std::make_unique<GuardedSigner>(
        *guard_, *key_, ledger_.chain_id(), [this] { return ledger_.WaitDurable(); },
        [this](const std::string& block_hash) {
          auto hash = ToHash32(AsBytes(block_hash));
          if (!hash) return std::string();
          auto it = executed_.find(*hash);
          return it == executed_.end() ? std::string() : it->second.block.SerializeAsString();
        });
  }
  engine_ = std::make_unique<Engine>(std::move(config), signer_.get());
}

bool ConsensusDriver::Votes() const {
  return key_ && ledger_.validators().PowerOf(pub_.bytes).has_value();
}

ConsensusDriver::~ConsensusDriver() = default;

Status ConsensusDriver::Recover() {
  if (!guard_ || !key_) return Status::Ok();
  const auto& last = guard_->last();
  const uint64_t next = ledger_.Tip().height() + 1;
  const auto power = ledger_.validators().PowerOf(pub_.bytes);
  const bool alone = power && *power >= ledger_.validators().QuorumPower();
  if (last && last->height() > next && alone) {
    // Blocks this validator certified alone are missing, and no peer has them: do not pretend.
    return Corruption(fmt::format(
        "the validator signed height {} but the store ends at {}: the data directory is older "
        "than the sign record, and this validator alone certified the missing blocks; restore "
        "the newer data",
        last->height(), next - 1));
  }
  if (!last || last->height() != next || last->type() != pb::VOTE_PRECOMMIT ||
      last->block().empty()) {
    return Status::Ok();
  }
  pb::Commit commit;
  commit.set_height(next);
  commit.set_round(last->round());
  commit.set_block_hash(last->block_hash());
  pb::SignedVote* vote = commit.add_precommits();
  vote->set_vote(last->signed_bytes());
  vote->set_signature(last->signature());
  auto hash = ToHash32(AsBytes(last->block_hash()));
  if (!hash || !VerifyCommit(ledger_.chain_id(), ledger_.validators(), next, *hash, commit).ok()) {
    return Status::Ok();  // not a certificate on its own: consensus finishes the height
  }
  auto block = ledger_.Validate(last->block(), verifier_);
  if (!block.ok()) {
    return Corruption("the block signed before the restart does not apply: " +
                      block.status().message());
  }
  if (block->hash != *hash) {
    return Corruption("the block kept with the sign record does not match the signed block hash");
  }
  log::Info("finishing block {} signed before the restart", next);
  // Commit with the very vote signed before the crash: nothing is signed twice.
  PUHUI_RETURN_IF_ERROR(ledger_.Commit(*block, commit));
  UpdateMempool(*block);
  return Status::Ok();
}

// ---------------------------------------------------------------- input from other threads

void ConsensusDriver::OnPeerMessage(const PublicKey& peer, pb::P2pMessage message) {
  std::lock_guard lock(mu_);
  if (inputs_.size() >= kMaxQueuedInputs) {
    log::Warn("consensus input queue full; dropping a message from a peer");
    return;
  }
  inputs_.push_back(Input{peer, std::move(message)});
  cv_.notify_all();
}

pb::P2pMessage ConsensusDriver::StatusMessage() const {
  pb::P2pMessage status;
  status.mutable_status()->set_height(ledger_.Tip().height());
  if (network_.relays_refused)
    status.mutable_status()->set_relays_refused(network_.relays_refused());
  return status;
}

void ConsensusDriver::OnPeerConnected(const PublicKey& peer) {
  if (network_.send_to) network_.send_to(peer, StatusMessage());
}

void ConsensusDriver::OnTxsAdmitted() {
  std::lock_guard lock(mu_);
  txs_admitted_ = true;
  cv_.notify_all();
}

ConsensusStatus ConsensusDriver::Snapshot() const {
  std::lock_guard lock(mu_);
  return status_;
}

std::vector<pb::DuplicateVoteEvidence> ConsensusDriver::PendingEvidence() const {
  std::lock_guard lock(mu_);
  std::vector<pb::DuplicateVoteEvidence> out;
  for (const auto& [key, e] : evidence_) out.push_back(e);
  return out;
}

void ConsensusDriver::AddEvidence(const pb::DuplicateVoteEvidence& evidence, const Bytes& key,
                                  const PublicKey* from) {
  {
    std::lock_guard lock(mu_);
    if (evidence_.count(key) || evidence_.size() >= kMaxEvidenceKept) return;
    if (ledger_.EvidenceCommitted(key)) return;
    evidence_.emplace(key, evidence);
    ++status_.evidence_seen;
  }
  pb::Vote vote;
  vote.ParseFromString(evidence.first().vote());
  log::Warn(
      "validator {} signed two different {}s at height {} round {}; evidence kept for the "
      "next block",
      Hex(AsBytes(vote.validator())).substr(0, 16),
      vote.type() == pb::VOTE_PRECOMMIT ? "precommit" : "prevote", vote.height(), vote.round());
  pb::P2pMessage m;
  *m.mutable_evidence() = evidence;
  if (network_.broadcast && from == nullptr) network_.broadcast(m);
  if (network_.relay && from != nullptr) network_.relay(m, *from);
}

// ---------------------------------------------------------------- the loop

Status ConsensusDriver::Run(std::stop_token stop) {
  if (Votes() && ledger_.validators().proto().validators_size() > 1) {
    listen_until_ms_ = Now() + options_.startup_listen_ms;
  }
  while (!stop.stop_requested()) {
    std::deque<Input> batch;
    {
      std::unique_lock lock(mu_);
      const uint64_t now = Now();
      uint64_t wake = next_status_ms_;
      if (!timers_.empty()) wake = std::min(wake, timers_.begin()->first);
      if (waiting_to_start_) wake = std::min(wake, now + kStartPollMs);
      if (sync_peer_) wake = std::min(wake, sync_deadline_ms_);
      const auto wait = std::chrono::milliseconds(wake > now ? wake - now : 0);
      cv_.wait_for(lock, stop, wait, [&] { return !inputs_.empty() || txs_admitted_; });
      batch.swap(inputs_);
      txs_admitted_ = false;
    }
    if (stop.stop_requested()) break;
    for (Input& input : batch) PUHUI_RETURN_IF_ERROR(HandleInput(std::move(input)));
    PUHUI_RETURN_IF_ERROR(TickAll());
    PublishStatus();
  }
  return Status::Ok();
}

Status ConsensusDriver::TickAll() {
  const uint64_t now = Now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    TimeoutFired fired = timers_.begin()->second;
    timers_.erase(timers_.begin());
    PUHUI_RETURN_IF_ERROR(Step(fired));
  }
  if (waiting_to_start_ && ReadyToStart()) PUHUI_RETURN_IF_ERROR(StartHeight());
  if (now >= next_status_ms_) {
    next_status_ms_ = now + options_.status_interval_ms;
    pb::P2pMessage status = StatusMessage();
    if (network_.broadcast) network_.broadcast(status);
    // Tendermint's liveness needs correct nodes to relay what they hold; do so while stalled.
    if (engine_->started() && !waiting_to_start_) {
      if (engine_->height() != progress_height_ || engine_->round() != progress_round_) {
        progress_height_ = engine_->height();
        progress_round_ = engine_->round();
        last_progress_ms_ = now;
      } else if (now - last_progress_ms_ >= options_.status_interval_ms) {
        PUHUI_RETURN_IF_ERROR(Carry(engine_->Gossip(), nullptr, nullptr));
      }
    }
  }
  RequestBlocksIfBehind();
  return Status::Ok();
}

void ConsensusDriver::PublishStatus() {
  std::lock_guard lock(mu_);
  // The height being decided; while waiting to start, the next one.
  status_.height =
      engine_->started() && !waiting_to_start_ ? engine_->height() : ledger_.Head().height() + 1;
  status_.round = engine_->round();
  status_.step = waiting_to_start_ ? "waiting" : RoundStepName(engine_->step());
  uint64_t best = 0;
  for (const auto& [peer, height] : peer_heights_) best = std::max(best, height);
  status_.best_peer_height = best;
}

bool ConsensusDriver::ReadyToStart() const {
  const uint64_t now = Now();
  if (now < listen_until_ms_) return false;
  // A full block waiting starts the next height at once: under load, blocks follow each other
  // as fast as they are agreed.
  const uint64_t max_txs = ledger_.genesis().params.max_block_txs;
  auto nonce_of = [&](const PublicKey& k) { return ledger_.CommittedNonce(k); };
  if (Votes() && mempool_.size() >= max_txs && mempool_.HasIncludable(nonce_of)) return true;
  if (now < start_not_before_ms_) return false;
  if (next_height_seen_ || !Votes()) return true;
  const uint64_t interval = ledger_.genesis().params.block_interval_ms;
  if (now >= last_commit_ms_ + interval * options_.idle_intervals) return true;
  // Transactions stuck behind a nonce gap do not count: they cannot go into a block.
  return mempool_.HasIncludable(nonce_of);
}

Status ConsensusDriver::StartHeight() {
  const pb::ChainMeta tip = ledger_.Head();
  height_started_ms_ = Now();
  waiting_to_start_ = false;
  next_height_seen_ = false;
  executed_.clear();
  timers_.clear();
  return Step(consensus::Start{tip.height() + 1, ledger_.validators(), tip.time_ms()});
}

Status ConsensusDriver::HandleInput(Input input) {
  pb::P2pMessage& m = input.message;
  const uint64_t next = ledger_.Head().height() + 1;
  switch (m.kind_case()) {
    case pb::P2pMessage::kProposal: {
      pb::Proposal p;
      if (p.ParseFromString(m.proposal().proposal())) {
        if (waiting_to_start_ && p.height() == next) next_height_seen_ = true;
        if (key_ && p.proposer() == AsString(ByteView(pub_.bytes)) &&
            VerifyProposalSignature(ledger_.chain_id(), m.proposal(), p.proposer())) {
          auto moved = guard_->ObserveProposal(m.proposal());
          if (!moved.ok()) return moved.status();
          if (*moved)
            log::Warn("adopted a later proposal of ours from the network (h={})", p.height());
        }
      }
      return Step(ProposalReceived{std::move(*m.mutable_proposal())}, &input.peer);
    }
    case pb::P2pMessage::kVote: {
      pb::Vote v;
      if (v.ParseFromString(m.vote().vote())) {
        if (waiting_to_start_ && v.height() == next) next_height_seen_ = true;
        // Our own vote coming back that the sign record does not know: the record was restored
        // from an older copy. Adopt it before signing anything at that height.
        if (key_ && v.validator() == AsString(ByteView(pub_.bytes)) &&
            VerifyVoteSignature(ledger_.chain_id(), m.vote(), v.validator())) {
          auto moved = guard_->ObserveVote(m.vote());
          if (!moved.ok()) return moved.status();
          if (*moved) {
            log::Warn(
                "adopted a later vote of ours from the network (h={} r={}): the sign "
                "record was older than what this validator had signed",
                v.height(), v.round());
          }
        }
      }
      return Step(VoteReceived{std::move(*m.mutable_vote())}, &input.peer);
    }
    case pb::P2pMessage::kStatus:
      peer_heights_[input.peer] = m.status().height();
      return Status::Ok();
    case pb::P2pMessage::kBlock: return OnSyncBlock(input.peer, m.block());
    default: return Status::Ok();  // the node handles the other kinds itself
  }
}

Status ConsensusDriver::Step(EventBody body, const PublicKey* from) {
  std::deque<EventBody> pending;
  pending.push_back(std::move(body));
  bool first = true;
  while (!pending.empty()) {
    EventBody next = std::move(pending.front());
    pending.pop_front();
    std::vector<Action> actions = engine_->Step(Event{Now(), std::move(next)});
    PUHUI_RETURN_IF_ERROR(Carry(std::move(actions), first ? from : nullptr, &pending));
    first = false;
  }
  return Status::Ok();
}

Status ConsensusDriver::Carry(std::vector<Action> actions, const PublicKey* from,
                              std::deque<EventBody>* pending) {
  for (Action& action : actions) {
    if (auto* proposal = std::get_if<BroadcastProposal>(&action)) {
      pb::P2pMessage m;
      *m.mutable_proposal() = std::move(proposal->proposal);
      if (network_.broadcast) network_.broadcast(m);
    } else if (auto* vote = std::get_if<BroadcastVote>(&action)) {
      pb::P2pMessage m;
      *m.mutable_vote() = std::move(vote->vote);
      if (network_.broadcast) network_.broadcast(m);
    } else if (auto* request = std::get_if<RequestProposalValue>(&action)) {
      PUHUI_CHECK(pending != nullptr, "a value request outside Step");
      PUHUI_RETURN_IF_ERROR(BuildValue(*request, *pending));
    } else if (auto* check = std::get_if<ValidateBlock>(&action)) {
      PUHUI_CHECK(pending != nullptr, "a block check outside Step");
      bool valid = executed_.count(check->block_hash) > 0;
      if (!valid) {
        auto block = ledger_.Validate(
            check->block, verifier_, /*check_signatures=*/true,
            [this](const Hash32& id) { return mempool_.Get(id); },
            [this, height = check->height](std::span<const DecodedTx* const> verified) {
              KeepChecked(verified, height);
            });
        if (!block.ok()) {
          if (IsFatal(block.status())) return block.status();
          log::Warn("proposed block {} at height {} is invalid: {}", Short(check->block_hash),
                    check->height, block.status().ToString());
        } else if (block->hash != check->block_hash) {
          log::Warn("proposed block at height {} does not hash to its name", check->height);
        } else {
          valid = true;
          CountChecked(*block);
          executed_.emplace(check->block_hash, std::move(*block));
        }
      }
      pending->push_back(BlockValidated{check->block_hash, valid});
    } else if (auto* timeout = std::get_if<ScheduleTimeout>(&action)) {
      timers_.emplace(Now() + timeout->duration_ms,
                      TimeoutFired{timeout->height, timeout->round, timeout->step});
    } else if (auto* decided = std::get_if<CommitBlock>(&action)) {
      PUHUI_RETURN_IF_ERROR(CommitDecided(*decided));
    } else if (auto* evidence = std::get_if<consensus::Evidence>(&action)) {
      pb::DuplicateVoteEvidence e;
      *e.mutable_first() = evidence->first;
      *e.mutable_second() = evidence->second;
      pb::Vote first;
      first.ParseFromString(evidence->first.vote());
      AddEvidence(e, EvidenceKey(first), nullptr);
    } else if (auto* dropped = std::get_if<InputDropped>(&action)) {
      if (dropped->peer_fault && from && network_.misbehaved) {
        network_.misbehaved(*from, kScoreBadConsensusMessage, dropped->reason.message());
      } else {
        log::Debug("consensus input not used: {}", dropped->reason.ToString());
      }
    } else if (auto* failed = std::get_if<SignFailed>(&action)) {
      if (IsFatal(failed->status)) return failed->status;
      log::Warn("did not sign: {}", failed->status.message());
    }
  }
  return Status::Ok();
}

Status ConsensusDriver::BuildValue(const RequestProposalValue& request,
                                   std::deque<EventBody>& next) {
  auto nonce_of = [&](const PublicKey& k) { return ledger_.CommittedNonce(k); };
  std::vector<DecodedTx> candidates =
      mempool_.Reap(ledger_.genesis().params.max_block_txs, kMaxBlockBytes / 2, nonce_of);
  std::vector<Hash32> dropped;
  std::vector<pb::DuplicateVoteEvidence> evidence = PendingEvidence();
  auto block = ledger_.Propose(std::move(candidates), pub_, &dropped, evidence);
  if (!block.ok()) return block.status();
  for (const auto& id : dropped) mempool_.Remove(id);
  std::string bytes = block->block.SerializeAsString();
  executed_.insert_or_assign(block->hash, std::move(*block));
  next.push_back(ValueReady{request.height, request.round, std::move(bytes)});
  return Status::Ok();
}

void ConsensusDriver::CountChecked(const ExecutedBlock& block) {
  std::lock_guard lock(mu_);
  status_.checked_in_blocks += block.checked_here.size();
}

void ConsensusDriver::KeepChecked(std::span<const DecodedTx* const> verified, uint64_t height) {
  // Under load a proposal often arrives before the relays of some of its transactions. Held in
  // the mempool, those copies are refused as already waiting instead of being checked again;
  // should another block be decided, they wait for the next one like any admitted transaction.
  for (const DecodedTx* tx : verified) {
    (void)mempool_.Add(*tx, ledger_.CommittedNonce(tx->sender), height);
  }
}

Status ConsensusDriver::CommitDecided(const CommitBlock& decided) {
  auto it = executed_.find(decided.block_hash);
  if (it == executed_.end()) {
    auto block = ledger_.Validate(decided.block, verifier_, /*check_signatures=*/true,
                                  [this](const Hash32& id) { return mempool_.Get(id); });
    if (!block.ok()) {
      return Corruption(
          fmt::format("consensus decided block {} at height {}, which this node "
                      "cannot apply: {}",
                      Short(decided.block_hash), decided.height, block.status().message()));
    }
    CountChecked(*block);
    it = executed_.emplace(decided.block_hash, std::move(*block)).first;
  }
  // Written on the ledger's writer thread while the next height starts; nothing of that height
  // is signed before it is durable (GuardedSigner's barrier).
  auto block = std::make_shared<const ExecutedBlock>(std::move(it->second));
  executed_.erase(it);
  PUHUI_RETURN_IF_ERROR(ledger_.CommitAsync(block, decided.commit));
  const uint64_t height = block->header.height();
  const auto level = block->txs.empty() ? log::Level::kDebug : log::Level::kInfo;
  if (log::Enabled(level)) {
    log::Write(level, fmt::format("committed block height={} round={} txs={} hash={} state_root={}",
                                  height, decided.round, block->txs.size(), Short(block->hash),
                                  Short(block->tree.root)));
  }
  AfterCommit(*block);
  return Status::Ok();
}

void ConsensusDriver::UpdateMempool(const ExecutedBlock& block) {
  std::vector<PublicKey> senders;
  senders.reserve(block.txs.size());
  for (const auto& tx : block.txs) senders.push_back(tx.sender);
  mempool_.Update(
      senders, [&](const PublicKey& k) { return ledger_.CommittedNonce(k); },
      block.header.height() + 1);
}

void ConsensusDriver::AfterCommit(const ExecutedBlock& block) {
  UpdateMempool(block);  // `block` may live in executed_, cleared below
  if (network_.reoffer) network_.reoffer(block.header.height());
  {
    std::lock_guard lock(mu_);
    std::erase_if(evidence_,
                  [&](const auto& entry) { return ledger_.EvidenceCommitted(entry.first); });
  }
  executed_.clear();
  timers_.clear();
  waiting_to_start_ = true;
  next_height_seen_ = false;
  last_commit_ms_ = Now();
  // Heights start every block interval: the time spent agreeing and committing counts towards it.
  start_not_before_ms_ = height_started_ms_ + ledger_.genesis().params.block_interval_ms;
}

// ---------------------------------------------------------------- block sync

void ConsensusDriver::RequestBlocksIfBehind() {
  const uint64_t now = Now();
  const uint64_t tip = ledger_.Head().height();
  std::optional<PublicKey> best_peer;
  uint64_t best = tip;
  for (const auto& [peer, height] : peer_heights_) {
    if (height > best) best = height, best_peer = peer;
  }
  if (!best_peer) {
    behind_since_ms_ = 0;
    sync_peer_.reset();
    return;
  }
  if (sync_peer_ && now < sync_deadline_ms_) return;  // a request is out
  if (sync_peer_) {
    // No answer in time: that peer's height is no longer believed.
    peer_heights_.erase(*sync_peer_);
    sync_peer_.reset();
    return;
  }
  if (behind_since_ms_ == 0) behind_since_ms_ = now;
  // One block behind is normal for a moment (a peer committed first); consensus itself catches
  // up unless the votes were missed.
  if (best < tip + 2 && now - behind_since_ms_ < options_.status_interval_ms * 2) return;
  pb::P2pMessage request;
  request.mutable_block_request()->set_from_height(tip + 1);
  request.mutable_block_request()->set_count(
      static_cast<uint32_t>(std::min<uint64_t>(kMaxSyncBlocksPerRequest, best - tip)));
  sync_peer_ = best_peer;
  sync_until_ = tip + request.block_request().count();
  sync_deadline_ms_ = now + kSyncRequestTimeoutMs;
  if (network_.send_to) network_.send_to(*best_peer, request);
  log::Debug("sync: asked {} for blocks from {}", Hex(best_peer->bytes).substr(0, 12), tip + 1);
}

Status ConsensusDriver::OnSyncBlock(const PublicKey& peer, const pb::SyncBlock& synced) {
  const pb::ChainMeta tip = ledger_.Head();
  pb::Block block;
  pb::BlockHeader header;
  if (!block.ParseFromString(synced.block()) || !header.ParseFromString(block.header())) {
    if (network_.misbehaved)
      network_.misbehaved(peer, kScoreBadSyncBlock, "sync block does not parse");
    return Status::Ok();
  }
  if (header.height() != tip.height() + 1) return Status::Ok();  // late or a copy
  const Hash32 hash = BlockHash(AsBytes(block.header()));
  Status certified = VerifyCommit(ledger_.chain_id(), ledger_.validators(), header.height(), hash,
                                  synced.commit());
  if (!certified.ok()) {
    if (network_.misbehaved) {
      network_.misbehaved(peer, kScoreBadSyncBlock,
                          fmt::format("sync block {}: {}", header.height(), certified.message()));
    }
    return Status::Ok();
  }
  // Certified by more than 2/3 of the validators, who checked every transaction signature.
  auto executed = ledger_.Validate(synced.block(), verifier_, /*check_signatures=*/false);
  if (!executed.ok()) {
    if (IsFatal(executed.status())) return executed.status();
    log::Error("a certified block {} does not apply here: {}", header.height(),
               executed.status().ToString());
    if (network_.misbehaved) {
      network_.misbehaved(peer, kScoreBadSyncBlock, "certified block does not apply");
    }
    return Status::Ok();
  }
  auto synced_block = std::make_shared<const ExecutedBlock>(std::move(*executed));
  PUHUI_RETURN_IF_ERROR(ledger_.CommitAsync(synced_block, synced.commit()));
  log::Info("synced block height={} txs={} hash={}", header.height(), synced_block->txs.size(),
            Short(hash));
  AfterCommit(*synced_block);
  // Behind: start at once rather than pace like a live height.
  start_not_before_ms_ = Now();
  next_height_seen_ = true;
  if (sync_peer_ && header.height() >= sync_until_) sync_peer_.reset();
  behind_since_ms_ = 0;
  return Status::Ok();
}

}  // namespace puhui
