// A running puhuid: the ledger, the mempool and its signature checks, the block producer and the
// JSON-RPC server, wired together. Start() brings them up; Stop() brings them down cleanly and may
// be called from any thread. Transaction admission (SubmitTxs) is thread-safe: the RPC threads call
// it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "node/config.h"
#include "node/ledger.h"
#include "node/mempool.h"
#include "node/producer.h"
#include "node/sign_guard.h"
#include "node/verifier_pool.h"
#include "rpc/dispatcher.h"
#include "rpc/http_server.h"

namespace puhui {

class Node {
 public:
  // Opens the node home: config, genesis, keys, store (writing genesis state on first start) and
  // finishes any block signed before a crash. `rpc_port` overrides the config's port.
  static Result<std::unique_ptr<Node>> Open(const std::string& home,
                                            std::optional<uint16_t> rpc_port = std::nullopt);
  ~Node();

  Status Start();
  void Stop();
  // Blocks until the block producer stops (Stop() or an error); returns what stopped it.
  Status Wait();

  // Decodes, verifies (in parallel, once per signature) and admits transactions to the mempool.
  // One result per input: the transaction id or why it was refused.
  std::vector<Result<Hash32>> SubmitTxs(const std::vector<std::string>& envelopes);

  const NodeConfig& config() const { return config_; }
  const Ledger& ledger() const { return *ledger_; }
  const Mempool& mempool() const { return *mempool_; }
  const PublicKey& validator() const { return validator_pub_; }
  uint16_t rpc_port() const;

 private:
  Node() = default;

  NodeConfig config_;
  HomePaths paths_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<Mempool> mempool_;
  std::unique_ptr<VerifierPool> verifier_;
  std::optional<SignGuard> guard_;
  PublicKey validator_pub_;
  std::unique_ptr<BlockProducer> producer_;
  rpc::Dispatcher dispatcher_;
  boost::asio::io_context io_;
  std::unique_ptr<rpc::HttpServer> http_;
  std::vector<std::thread> io_threads_;
  std::jthread producer_thread_;
  std::mutex lifecycle_mu_;  // serialises Start and Stop
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool producer_done_ = false;
  Status producer_status_;
  bool started_ = false;
};

}  // namespace puhui
