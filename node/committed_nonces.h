// The committed next nonce of recent senders, kept beside the store: admission asks for it once
// per transaction, and the mempool once per sender after every block, reap and "anything
// includable?" check. Without it each answer is a LevelDB read and an account parse.
//
// The ledger feeds it each committed block's account changes. A reader that misses reads the head
// state itself and offers the answer back with the generation it saw before reading; a commit in
// between bumps the generation and the answer (possibly from before that commit) is not kept. Only
// a cache for local decisions: nothing here reaches consensus.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "chain/hash.h"
#include "chain/keys.h"

namespace puhui {

class CommittedNonces {
 public:
  // Holds at most `capacity` senders; when full it starts over (senders come back by themselves).
  explicit CommittedNonces(size_t capacity) : capacity_(capacity) {}
  CommittedNonces(const CommittedNonces&) = delete;
  CommittedNonces& operator=(const CommittedNonces&) = delete;

  // The cached nonce, or nothing and the generation to pass to Offer after reading the store.
  std::optional<uint64_t> Find(const PublicKey& sender, uint64_t& generation) const;
  // Keeps `nonce` read from the store if no commit happened since Find returned `generation`.
  void Offer(const PublicKey& sender, uint64_t nonce, uint64_t generation);
  // A block committed: these senders' nonces are now as given. Called once the block is the
  // ledger's head (Ledger::CommitAsync), which readers that miss read through as well.
  void Committed(const std::vector<std::pair<PublicKey, uint64_t>>& nonces);

  size_t size() const;

 private:
  void Insert(const PublicKey& sender, uint64_t nonce);  // holds mu_

  struct KeyHash {
    SeededHash32 h;
    size_t operator()(const PublicKey& k) const { return h(k.bytes); }
  };
  const size_t capacity_;
  mutable std::mutex mu_;
  uint64_t generation_ = 0;
  std::unordered_map<PublicKey, uint64_t, KeyHash> nonces_;
};

}  // namespace puhui
