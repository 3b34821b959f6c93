#include "node/node.h"

#include <fmt/format.h>

#include <boost/asio/executor_work_guard.hpp>
#include <chrono>
#include <filesystem>
#include <set>

#include "chain/limits.h"
#include "node/files.h"
#include "node/log.h"
#include "node/rpc_methods.h"
#include "node/thread_name.h"

namespace puhui {

namespace {
uint64_t WallClockMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}
// Whether `key` is the node key of one of the set's validators.
bool IsValidatorNode(const ValidatorSet& set, const PublicKey& key) {
  const std::string wanted = ToString(key.bytes);
  for (const auto& v : set.proto().validators()) {
    if (v.node_key() == wanted) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<Node>> Node::Open(const std::string& home, std::optional<uint16_t> rpc_port,
                                         std::optional<uint16_t> p2p_port) {
  std::unique_ptr<Node> node(new Node());
  node->paths_ = HomePaths::Of(home);
  auto config = LoadConfig(node->paths_.config);
  if (!config.ok()) {
    if (config.status().code() == StatusCode::kNotFound) {
      return NotFound(fmt::format(
          "{} has no config.json; run 'puhuid init --home {} --genesis FILE' first", home, home));
    }
    return config.status();
  }
  node->config_ = *config;
  if (rpc_port) node->config_.rpc_port = *rpc_port;
  log::Level level;
  if (!log::ParseLevel(node->config_.log_level, level)) {
    return InvalidArgument("config: log_level must be debug, info, warn or error");
  }
  log::SetLevel(level);

  auto genesis = LoadGenesisFile(node->paths_.genesis);
  if (!genesis.ok()) return genesis.status();
  auto ledger = Ledger::Open(node->paths_.chain_db, *genesis, /*durable=*/true,
                             [](const std::string& message) { log::Info("{}", message); });
  if (!ledger.ok()) return ledger.status();
  node->ledger_ = std::move(*ledger);

  auto key = ReadKeyFile(node->paths_.validator_key);
  if (!key.ok()) return key.status();
  node->validator_pub_ = key->Public();
  auto node_key = ReadKeyFile(node->paths_.node_key);
  if (!node_key.ok()) return node_key.status();
  node->node_pub_ = node_key->Public();
  // Every node keeps a sign record: an observer may be made a validator by governance later.
  {
    std::error_code ec;
    if (!std::filesystem::exists(node->paths_.sign_record) &&
        std::filesystem::exists(node->paths_.legacy_sign_record)) {
      std::filesystem::rename(node->paths_.legacy_sign_record, node->paths_.sign_record, ec);
      if (ec) return IoError(fmt::format("cannot move the sign record: {}", ec.message()));
    }
    auto guard = SignGuard::Open(node->paths_.sign_record);
    if (!guard.ok()) return guard.status();
    node->guard_.emplace(std::move(*guard));
  }

  node->mempool_ = std::make_unique<Mempool>(node->config_.mempool);
  size_t threads = node->config_.verify_threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  node->verifier_ = std::make_unique<VerifierPool>(threads);

  // Who may connect: the nodes of the current validators and the configured observers.
  std::set<PublicKey> observers;
  for (const auto& hex : node->config_.observers) observers.insert(*ParseNodeKeyHex(hex));
  node->observers_.assign(observers.begin(), observers.end());
  bool any_node_key = !observers.empty();
  for (const auto& v : node->ledger_->validators().proto().validators()) {
    any_node_key |= !v.node_key().empty();
  }
  Node* self = node.get();
  if (any_node_key || !node->config_.peers.empty()) {
    PeerSetConfig pc;
    pc.chain_id = node->ledger_->chain_id();
    pc.listen_address = node->config_.p2p_address;
    pc.listen_port = p2p_port ? *p2p_port : node->config_.p2p_port;
    for (const auto& peer : node->config_.peers) pc.dial.push_back(*ParseHostPort(peer));
    const Ledger* chain = node->ledger_.get();
    pc.is_allowed = [chain, observers](const PublicKey& k) {
      return observers.count(k) > 0 || IsValidatorNode(chain->CurrentValidators(), k);
    };
    node->peers_ = std::make_unique<PeerSet>(
        node->p2p_io_, *node_key, std::move(pc),
        [self](const PublicKey& peer, pb::P2pMessage m) {
          self->OnPeerMessage(peer, std::move(m));
        },
        [self](const PublicKey& peer) {
          // A node that holds nothing (as at start) has nothing the peer could have missed.
          if (self->mempool_->size() > 0) self->missed_gossip_.Connected(peer);
          self->driver_->OnPeerConnected(peer);
        });
  }

  DriverNetwork network;
  network.broadcast = [self](const pb::P2pMessage& m) {
    if (self->peers_) self->peers_->Broadcast(m);
  };
  network.relay = [self](const pb::P2pMessage& m, const PublicKey& from) {
    if (self->peers_) self->peers_->Broadcast(m, &from);
  };
  network.send_to = [self](const PublicKey& peer, const pb::P2pMessage& m) {
    if (self->peers_) self->peers_->SendTo(peer, m);
  };
  network.misbehaved = [self](const PublicKey& peer, int score, const std::string& reason) {
    if (self->peers_) self->peers_->Misbehaved(peer, score, reason);
  };
  network.reoffer = [self](uint64_t height) { self->Reoffer(height); };
  network.relays_refused = [self] { return self->relays_refused_.load(); };
  DriverOptions options;
  options.clock_ms = WallClockMs;
  node->driver_ = std::make_unique<ConsensusDriver>(*node->ledger_, *node->mempool_,
                                                    *node->verifier_, &*node->guard_, *key,
                                                    std::move(network), std::move(options));
  node->ledger_->SetOnCommit([self](uint64_t height) { self->commits_.Notify(height); });
  node->feed_ = std::make_unique<NodeEventFeed>(
      node->ledger_->store(), [self] { return self->ledger_->Tip().height(); }, node->commits_);
  PUHUI_RETURN_IF_ERROR(node->driver_->Recover());
  RegisterRpcMethods(node->dispatcher_, *node);
  return node;
}

Node::~Node() {
  Stop();
  peers_.reset();  // its timers belong to p2p_io_, which goes first otherwise
}

uint16_t Node::rpc_port() const { return http_ ? http_->port() : 0; }
uint16_t Node::p2p_port() const { return peers_ ? peers_->port() : 0; }
bool Node::is_validator() const {
  return ledger_->CurrentValidators().PowerOf(validator_pub_.bytes).has_value();
}
std::vector<PeerInfo> Node::peers() const {
  return peers_ ? peers_->Peers() : std::vector<PeerInfo>{};
}

Status Node::Start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  PUHUI_CHECK(!started_, "Node::Start called twice");
  started_ = true;
  rpc::RpcLimits limits;
  limits.max_body_bytes = config_.rpc_max_body_bytes;
  limits.max_batch = config_.rpc_max_batch;
  limits.max_connections = config_.rpc_max_connections;
  limits.max_subscribers = config_.rpc_max_subscribers;
  limits.ws_write_timeout = std::chrono::milliseconds(config_.ws_write_timeout_ms);
  http_ = std::make_unique<rpc::HttpServer>(io_, config_.rpc_address, config_.rpc_port, dispatcher_,
                                            limits, feed_.get());
  PUHUI_RETURN_IF_ERROR(http_->Start());
  for (uint32_t i = 0; i < config_.rpc_threads; ++i) {
    io_threads_.emplace_back([this] {
      NameThisThread("rpc");
      auto work = boost::asio::make_work_guard(io_);
      io_.run();
    });
  }
  if (peers_) {
    PUHUI_RETURN_IF_ERROR(peers_->Start());
    p2p_thread_ = std::thread([this] {
      NameThisThread("p2p");
      auto work = boost::asio::make_work_guard(p2p_io_);
      p2p_io_.run();
    });
    relay_thread_ = std::jthread([this](std::stop_token stop) {
      NameThisThread("relay-admit");
      RelayAdmitLoop(stop);
    });
  }
  consensus_thread_ = std::jthread([this](std::stop_token stop) {
    NameThisThread("consensus");
    Status s = driver_->Run(stop);
    if (!s.ok()) log::Error("consensus stopped: {}", s.ToString());
    std::lock_guard lock(stop_mu_);
    consensus_done_ = true;
    consensus_status_ = s;
    stop_cv_.notify_all();
  });
  pb::ChainMeta tip = ledger_->Tip();
  log::Info("node '{}' on chain '{}' at height {}; {} {}; node key {}", config_.moniker,
            ledger_->chain_id(), tip.height(), is_validator() ? "validator" : "observer, key",
            Hex(validator_pub_.bytes), Hex(node_pub_.bytes));
  if (peers_) {
    log::Info("p2p listening on {}:{}, dialling {} peer(s)", config_.p2p_address, peers_->port(),
              config_.peers.size());
  }
  log::Info("JSON-RPC listening on http://{}:{}", config_.rpc_address, http_->port());
  return Status::Ok();
}

void Node::Stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (!started_) return;
  started_ = false;
  consensus_thread_.request_stop();
  if (consensus_thread_.joinable()) consensus_thread_.join();
  if (peers_) peers_->Stop();
  relay_thread_.request_stop();
  if (relay_thread_.joinable()) relay_thread_.join();
  p2p_io_.stop();
  if (p2p_thread_.joinable()) p2p_thread_.join();
  if (http_) http_->Stop();
  io_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  // The block committed last may still be on its way to disk (Ledger::CommitAsync).
  if (Status durable = ledger_->WaitDurable(); !durable.ok()) {
    log::Error("the last block was not written: {}", durable.ToString());
  }
  log::Info("node stopped at height {}", ledger_->Tip().height());
}

Status Node::Wait() {
  std::unique_lock lock(stop_mu_);
  stop_cv_.wait(lock, [&] { return consensus_done_; });
  return consensus_status_;
}

std::vector<Result<Hash32>> Node::SubmitTxs(const std::vector<std::string>& envelopes) {
  return Admit(envelopes, nullptr);
}

std::vector<Result<Hash32>> Node::Admit(const std::vector<std::string>& envelopes,
                                        const PublicKey* from) {
  std::vector<Result<Hash32>> results(envelopes.size(), Result<Hash32>(Internal("not processed")));
  std::vector<DecodedTx> decoded;
  std::vector<size_t> where;
  decoded.reserve(envelopes.size());
  // Clients fill the mempool to max_txs_for_clients only, peers' relays to max_txs.
  const size_t capacity =
      from == nullptr ? mempool_->limits().max_txs_for_clients : mempool_->limits().max_txs;
  auto already_committed = [](const Hash32& id) {
    return AlreadyExists(fmt::format("transaction {} is already committed", Hex(id)));
  };
  auto already_waiting = [](const Hash32& id) {
    return AlreadyExists(fmt::format("transaction {} is already waiting", Hex(id)));
  };
  for (size_t i = 0; i < envelopes.size(); ++i) {
    // Cheap refusals first: a copy already held, or no room, costs no decode and no signature.
    // (Whether it is already committed is asked only of a transaction whose nonce is used: a
    // committed one always is, and the index lookup per transaction cost every node ~4 % of its
    // CPU under load.)
    const auto id = PeekTxId(envelopes[i]);
    if (id && mempool_->Contains(*id)) {
      results[i] = already_waiting(*id);
      continue;
    }
    if (mempool_->Full(capacity)) {
      if (id && ledger_->store().GetTxLocation(*id)) {
        results[i] = already_committed(*id);
        continue;
      }
      results[i] = mempool_->NoRoom(capacity);
      continue;
    }
    // (An envelope PeekTxId cannot read does not decode either.)
    auto tx = DecodeTx(ledger_->chain_id(), envelopes[i]);
    if (!tx.ok()) {
      results[i] = tx.status();
      continue;
    }
    decoded.push_back(std::move(*tx));
    where.push_back(i);
  }
  // One already committed, or one that would find no room, is refused before its signature is
  // checked. The room asked about is what the batch's earlier transactions have not taken: a
  // batch that would overfill the mempool is refused in part before, not after, the check.
  std::vector<size_t> to_check;  // positions in decoded
  std::vector<const DecodedTx*> ptrs;
  for (size_t j = 0; j < decoded.size(); ++j) {
    const DecodedTx& tx = decoded[j];
    const uint64_t committed = ledger_->CommittedNonce(tx.sender);
    if (tx.body->nonce() < committed && ledger_->store().GetTxLocation(tx.id)) {
      results[where[j]] = already_committed(tx.id);
    } else if (!mempool_->HasRoom(tx.sender, tx.body->nonce(), committed, tx.envelope_bytes.size(),
                                  capacity, to_check.size())) {
      results[where[j]] = mempool_->NoRoom(capacity, tx.sender, tx.body->nonce(), committed);
    } else {
      to_check.push_back(j);
      ptrs.push_back(&decoded[j]);
    }
  }
  const std::vector<SliceCheck> checked = CheckSignatures(ptrs);
  std::vector<std::string> admitted;
  const uint64_t next_height = ledger_->Head().height() + 1;
  for (size_t k = 0; k < to_check.size(); ++k) {
    const size_t j = to_check[k];
    const size_t i = where[j];
    if (checked[k] == SliceCheck::kBad) {
      results[i] = Unauthenticated(
          "signature does not verify for the sender over this chain's transaction digest");
      continue;
    }
    if (checked[k] == SliceCheck::kUsedMeanwhile) {
      const DecodedTx& tx = *ptrs[k];
      results[i] = ledger_->store().GetTxLocation(tx.id)
                       ? already_committed(tx.id)
                       : NonceUsed(tx.body->nonce(), ledger_->CommittedNonce(tx.sender));
      continue;
    }
    if (checked[k] == SliceCheck::kHeldMeanwhile) {
      results[i] = already_waiting(ptrs[k]->id);
      continue;
    }
    const Hash32 id = decoded[j].id;
    // Asked again: a block may have been committed while the signatures were checked.
    const uint64_t committed = ledger_->CommittedNonce(decoded[j].sender);
    Status s = mempool_->Add(std::move(decoded[j]), committed, next_height, capacity,
                             /*found_room=*/true);
    if (s.ok()) {
      results[i] = id;
      admitted.push_back(envelopes[i]);
    } else {
      results[i] = s;
    }
  }
  if (!admitted.empty()) {
    driver_->OnTxsAdmitted();
    Relay(admitted, from);
  }
  return results;
}

std::vector<SliceCheck> Node::CheckSignatures(std::span<const DecodedTx* const> txs) {
  SliceChecks how;
  how.held = [this](const DecodedTx& tx) { return mempool_->Contains(tx.id); };
  how.used = [this](const DecodedTx& tx) {
    return tx.body->nonce() < ledger_->CommittedNonce(tx.sender);
  };
  how.verify = [this](std::span<const DecodedTx* const> slice, const TxPredicate& needed) {
    return verifier_->Verify(slice, needed);
  };
  return CheckInSlices(txs, how);
}

void Node::Relay(const std::vector<std::string>& envelopes, const PublicKey* from,
                 const std::vector<PublicKey>* to) {
  if (!peers_) return;
  // What a validator relayed goes on to the peers that are not validators only: validators are
  // connected to each other (docs/network.md), so that one sent it to every other validator
  // itself. Second copies cost each validator a frame to decrypt and a decode and lookup per
  // transaction for nothing; what one misses anyway (a link down, frames dropped) is offered
  // again (Reoffer).
  std::vector<PublicKey> others;
  if (to == nullptr && from != nullptr) {
    const ValidatorSet set = ledger_->CurrentValidators();
    if (IsValidatorNode(set, *from)) {
      for (const PeerInfo& p : peers_->Peers()) {
        if (p.key != *from && !IsValidatorNode(set, p.key)) others.push_back(p.key);
      }
      if (others.empty()) return;
      to = &others;
    }
  }
  auto send = [&](const pb::P2pMessage& m) {
    if (to == nullptr) return peers_->Broadcast(m, from);
    for (const PublicKey& peer : *to) peers_->SendTo(peer, m);
  };
  // Newly admitted transactions (a copy is refused by the mempool and goes no further), or ones
  // offered again after waiting (Mempool::TakeStale), in frames well under the limit.
  pb::P2pMessage m;
  size_t bytes = 0;
  for (const auto& e : envelopes) {
    if (bytes + e.size() > kMaxFrameBytes / 4 && m.txs().txs_size() > 0) {
      send(m);
      m.Clear();
      bytes = 0;
    }
    m.mutable_txs()->add_txs(e);
    bytes += e.size() + 8;
  }
  if (m.txs().txs_size() > 0) send(m);
}

void Node::Reoffer(uint64_t height) {
  if (!peers_) return;
  for (const PeerInfo& p : peers_->Peers()) missed_gossip_.Dropped(p.key, p.relays_dropped);
  std::vector<PublicKey> due = missed_gossip_.Due();
  if (due.empty()) return;
  std::vector<std::string> stale = mempool_->TakeStale(height);
  // Nothing waiting long enough yet: they stay due until it is offered (what they missed may be
  // younger than reoffer_after_blocks).
  if (stale.empty()) return;
  log::Debug("offering {} waiting transactions again to {} peer(s) that missed some", stale.size(),
             due.size());
  Relay(stale, nullptr, &due);
  missed_gossip_.Offered(due);
}

void Node::OnPeerMessage(const PublicKey& peer, pb::P2pMessage message) {
  switch (message.kind_case()) {
    case pb::P2pMessage::kTx: {
      std::string one = std::move(*message.mutable_tx());
      message.mutable_txs()->add_txs(std::move(one));
      [[fallthrough]];
    }
    case pb::P2pMessage::kTxs: {
      const auto& txs = message.txs().txs();
      if (static_cast<size_t>(txs.size()) > kMaxTxsPerRelay) {
        peers_->Misbehaved(peer, PeerSetConfig::kDefaultBanScore, "oversized transaction batch");
        return;
      }
      QueueRelayed(peer, std::vector<std::string>(txs.begin(), txs.end()));
      return;
    }
    case pb::P2pMessage::kBlockRequest: return ServeBlocks(peer, message.block_request());
    case pb::P2pMessage::kProposal:
    case pb::P2pMessage::kVote:
      // Observers usually connect to a few validators only: pass consensus traffic on to them,
      // so that they follow live rather than by block sync.
      for (const PublicKey& observer : observers_) {
        if (!(observer == peer)) peers_->SendTo(observer, message);
      }
      return driver_->OnPeerMessage(peer, std::move(message));
    case pb::P2pMessage::kStatus:
      missed_gossip_.PeerRefused(peer, message.status().relays_refused());
      return driver_->OnPeerMessage(peer, std::move(message));
    case pb::P2pMessage::kBlock: return driver_->OnPeerMessage(peer, std::move(message));
    default: peers_->Misbehaved(peer, 20, "unknown p2p message kind");
  }
}

void Node::QueueRelayed(const PublicKey& peer, std::vector<std::string> envelopes) {
  const size_t count = envelopes.size();
  relays_received_ += count;
  if (!relay_queue_.Push(peer, std::move(envelopes))) {
    relays_refused_ += count;
    log::Debug("relayed transactions dropped: {} batches ({} bytes) wait for admission",
               relay_queue_.batches(), relay_queue_.bytes());
  }
}

void Node::RelayAdmitLoop(std::stop_token stop) {
  while (auto batch = relay_queue_.Pop(stop)) {
    auto results = Admit(batch->envelopes, &batch->from);
    for (const auto& r : results) {
      if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists) ++relays_already_held_;
      if (!r.ok() && r.status().code() == StatusCode::kResourceExhausted) ++relays_refused_;
      if (!r.ok() && (r.status().code() == StatusCode::kInvalidArgument ||
                      r.status().code() == StatusCode::kUnauthenticated)) {
        // A malformed or forged transaction is the relaying peer's fault: it admitted it.
        peers_->Misbehaved(batch->from, 5,
                           "relayed an invalid transaction: " + r.status().message());
      }
    }
  }
}

void Node::ServeBlocks(const PublicKey& peer, const pb::BlockRequest& request) {
  const uint64_t tip = ledger_->Tip().height();
  const uint64_t count = std::min<uint64_t>(request.count(), kMaxSyncBlocksPerRequest);
  if (request.from_height() == 0) {
    peers_->Misbehaved(peer, 20, "block request from height 0");
    return;
  }
  for (uint64_t h = request.from_height(); h < request.from_height() + count && h <= tip; ++h) {
    auto block = ledger_->store().GetBlock(h);
    auto commit = ledger_->store().GetCommit(h);
    if (!block || !commit) return;
    pb::P2pMessage m;
    m.mutable_block()->set_block(*block);
    if (!m.mutable_block()->mutable_commit()->ParseFromString(*commit)) return;
    peers_->SendTo(peer, m);
  }
}

}  // namespace puhui
