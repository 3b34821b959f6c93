#include "node/node.h"

#include <fmt/format.h>

#include <boost/asio/executor_work_guard.hpp>
#include <chrono>

#include "node/files.h"
#include "node/log.h"
#include "node/rpc_methods.h"

namespace puhui {

namespace {
uint64_t WallClockMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}
}  // namespace

Result<std::unique_ptr<Node>> Node::Open(const std::string& home,
                                         std::optional<uint16_t> rpc_port) {
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
  auto ledger = Ledger::Open(node->paths_.chain_db, *genesis);
  if (!ledger.ok()) return ledger.status();
  node->ledger_ = std::move(*ledger);

  auto key = ReadKeyFile(node->paths_.validator_key);
  if (!key.ok()) return key.status();
  node->validator_pub_ = key->Public();
  auto guard = SignGuard::Open(node->paths_.sign_record);
  if (!guard.ok()) return guard.status();
  node->guard_.emplace(std::move(*guard));

  node->mempool_ = std::make_unique<Mempool>(node->config_.mempool);
  size_t threads = node->config_.verify_threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  node->verifier_ = std::make_unique<VerifierPool>(threads, node->config_.sig_cache_entries);
  node->producer_ = std::make_unique<BlockProducer>(
      *node->ledger_, *node->mempool_, *node->verifier_, *node->guard_, *key, WallClockMs);
  PUHUI_RETURN_IF_ERROR(node->producer_->CheckCanCommitAlone());
  PUHUI_RETURN_IF_ERROR(node->producer_->Recover());
  RegisterRpcMethods(node->dispatcher_, *node);
  return node;
}

Node::~Node() { Stop(); }

uint16_t Node::rpc_port() const { return http_ ? http_->port() : 0; }

Status Node::Start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  PUHUI_CHECK(!started_, "Node::Start called twice");
  started_ = true;
  rpc::RpcLimits limits;
  limits.max_body_bytes = config_.rpc_max_body_bytes;
  limits.max_batch = config_.rpc_max_batch;
  limits.max_connections = config_.rpc_max_connections;
  http_ = std::make_unique<rpc::HttpServer>(io_, config_.rpc_address, config_.rpc_port, dispatcher_,
                                            limits);
  PUHUI_RETURN_IF_ERROR(http_->Start());
  for (uint32_t i = 0; i < config_.rpc_threads; ++i) {
    io_threads_.emplace_back([this] {
      auto work = boost::asio::make_work_guard(io_);
      io_.run();
    });
  }
  producer_thread_ = std::jthread([this](std::stop_token stop) {
    Status s = producer_->Run(stop);
    if (!s.ok()) log::Error("block production stopped: {}", s.ToString());
    std::lock_guard lock(stop_mu_);
    producer_done_ = true;
    producer_status_ = s;
    stop_cv_.notify_all();
  });
  pb::ChainMeta tip = ledger_->Tip();
  log::Info("node '{}' on chain '{}' at height {}; validator {}", config_.moniker,
            ledger_->chain_id(), tip.height(), Hex(validator_pub_.bytes));
  log::Info("JSON-RPC listening on http://{}:{}", config_.rpc_address, http_->port());
  return Status::Ok();
}

void Node::Stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (!started_) return;
  started_ = false;
  producer_thread_.request_stop();
  if (producer_thread_.joinable()) producer_thread_.join();
  if (http_) http_->Stop();
  io_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  log::Info("node stopped at height {}", ledger_->Tip().height());
}

Status Node::Wait() {
  std::unique_lock lock(stop_mu_);
  stop_cv_.wait(lock, [&] { return producer_done_; });
  return producer_status_;
}

std::vector<Result<Hash32>> Node::SubmitTxs(const std::vector<std::string>& envelopes) {
  std::vector<Result<Hash32>> results(envelopes.size(), Result<Hash32>(Internal("not processed")));
  std::vector<DecodedTx> decoded;
  std::vector<size_t> where;
  decoded.reserve(envelopes.size());
  for (size_t i = 0; i < envelopes.size(); ++i) {
    auto tx = DecodeTx(ledger_->chain_id(), envelopes[i]);
    if (!tx.ok()) {
      results[i] = tx.status();
      continue;
    }
    if (ledger_->store().GetTxLocation(tx->id)) {
      results[i] = AlreadyExists(fmt::format("transaction {} is already committed", Hex(tx->id)));
      continue;
    }
    decoded.push_back(std::move(*tx));
    where.push_back(i);
  }
  std::vector<const DecodedTx*> ptrs;
  for (const auto& tx : decoded) ptrs.push_back(&tx);
  std::vector<bool> valid = verifier_->Verify(ptrs);
  const uint64_t next_height = ledger_->Tip().height() + 1;
  for (size_t j = 0; j < decoded.size(); ++j) {
    size_t i = where[j];
    if (!valid[j]) {
      results[i] = Unauthenticated(
          "signature does not verify for the sender over this chain's transaction digest");
      continue;
    }
    Hash32 id = decoded[j].id;
    uint64_t committed = ledger_->CommittedNonce(decoded[j].sender);
    Status s = mempool_->Add(std::move(decoded[j]), committed, next_height);
    if (s.ok()) {
      results[i] = id;
    } else {
      results[i] = s;
    }
  }
  return results;
}

}  // namespace puhui
