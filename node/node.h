// A running puhuid: the ledger, the mempool and its signature checks, the consensus loop, the peer
// connections and the JSON-RPC server, wired together. Start() brings them up; Stop() brings them
// down cleanly and may be called from any thread. Transaction admission (SubmitTxs) is
// thread-safe: the RPC and p2p threads call it, and what it admits is relayed to every peer.
//
// A node whose validator key is in the validator set votes; any other node is an observer that
// follows the chain. Peers are the validators' node keys (genesis) and the configured observers;
// the p2p listener runs only when the network has someone to talk to.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "node/config.h"
#include "node/consensus_driver.h"
#include "node/events.h"
#include "node/ledger.h"
#include "node/mempool.h"
#include "node/missed_gossip.h"
#include "node/peer_set.h"
#include "node/relay_queue.h"
#include "node/sign_guard.h"
#include "node/signature_slices.h"
#include "node/verifier_pool.h"
#include "rpc/dispatcher.h"
#include "rpc/http_server.h"

namespace puhui {

// A relayed batch with more transactions than this is refused and its sender scored.
inline constexpr size_t kMaxTxsPerRelay = 20'000;
// Relayed batches waiting for admission (RelayQueue): at most this many, and this many bytes.
inline constexpr size_t kMaxQueuedRelayBatches = 256;
inline constexpr size_t kMaxQueuedRelayBytes = 32u << 20;

class Node {
 public:
  // Opens the node home: config, genesis, keys, store (writing genesis state on first start) and
  // finishes any block signed before a crash. `rpc_port` overrides the config's port.
  // `p2p_port` overrides the config's p2p port.
  static Result<std::unique_ptr<Node>> Open(const std::string& home,
                                            std::optional<uint16_t> rpc_port = std::nullopt,
                                            std::optional<uint16_t> p2p_port = std::nullopt);
  ~Node();

  Status Start();
  void Stop();
  // Blocks until the consensus loop stops (Stop() or an error); returns what stopped it.
  Status Wait();

  // Decodes, verifies (in parallel, once per signature) and admits transactions to the mempool.
  // One result per input: the transaction id or why it was refused.
  std::vector<Result<Hash32>> SubmitTxs(const std::vector<std::string>& envelopes);

  const NodeConfig& config() const { return config_; }
  const Ledger& ledger() const { return *ledger_; }
  const Mempool& mempool() const { return *mempool_; }
  const VerifierPool& verifier() const { return *verifier_; }
  const PublicKey& validator() const { return validator_pub_; }
  const PublicKey& node_key() const { return node_pub_; }
  bool is_validator() const;
  uint16_t rpc_port() const;
  uint16_t p2p_port() const;
  ConsensusStatus consensus() const { return driver_->Snapshot(); }
  std::vector<PeerInfo> peers() const;
  std::vector<pb::DuplicateVoteEvidence> pending_evidence() const {
    return driver_->PendingEvidence();
  }
  // Transactions peers relayed to this node, and how many of them it already held or had
  // committed.
  struct RelayCounts {
    uint64_t received = 0;
    uint64_t already_held = 0;
  };
  RelayCounts relays() const { return {relays_received_.load(), relays_already_held_.load()}; }
  // Wakes waiters after every commit (settlement_submit_wait, event subscribers).
  CommitSignal& commits() { return commits_; }

 private:
  Node() = default;
  std::vector<Result<Hash32>> Admit(const std::vector<std::string>& envelopes,
                                    const PublicKey* from);
  void OnPeerMessage(const PublicKey& peer, pb::P2pMessage message);
  void ServeBlocks(const PublicKey& peer, const pb::BlockRequest& request);
  // Relays to every peer but `from` (none: to all), or to `to` alone if given. What came from a
  // validator goes to the peers that are not validators only.
  void Relay(const std::vector<std::string>& envelopes, const PublicKey* from,
             const std::vector<PublicKey>* to = nullptr);
  // After a commit: the transactions waiting longest, to the peers that missed some (MissedGossip).
  void Reoffer(uint64_t height);
  // Signature checks for Admit, in slices (node/signature_slices.h).
  std::vector<SliceCheck> CheckSignatures(std::span<const DecodedTx* const> txs);
  // Admits transaction batches relayed by peers, off the p2p threads (RelayAdmitLoop's thread).
  void QueueRelayed(const PublicKey& peer, std::vector<std::string> envelopes);
  void RelayAdmitLoop(std::stop_token stop);

  NodeConfig config_;
  HomePaths paths_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<Mempool> mempool_;
  std::unique_ptr<VerifierPool> verifier_;
  std::optional<SignGuard> guard_;
  PublicKey validator_pub_;
  PublicKey node_pub_;
  std::unique_ptr<ConsensusDriver> driver_;
  // Peers run on an io_context of their own: a burst of RPC work never delays a vote.
  boost::asio::io_context p2p_io_;
  std::thread p2p_thread_;
  std::unique_ptr<PeerSet> peers_;
  RelayQueue relay_queue_{kMaxQueuedRelayBatches, kMaxQueuedRelayBytes};
  MissedGossip missed_gossip_;
  std::atomic<uint64_t> relays_refused_{0};  // relayed transactions refused for lack of room
  std::atomic<uint64_t> relays_received_{0};
  std::atomic<uint64_t> relays_already_held_{0};
  std::jthread relay_thread_;
  std::vector<PublicKey> observers_;  // configured observers' node keys
  // Before io_ and http_: subscribers hold watch handles until the io_context is gone.
  CommitSignal commits_;
  std::unique_ptr<NodeEventFeed> feed_;
  rpc::Dispatcher dispatcher_;
  boost::asio::io_context io_;
  std::unique_ptr<rpc::HttpServer> http_;
  std::vector<std::thread> io_threads_;
  std::jthread consensus_thread_;
  std::mutex lifecycle_mu_;  // serialises Start and Stop
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool consensus_done_ = false;
  Status consensus_status_;
  bool started_ = false;
};

}  // namespace puhui
