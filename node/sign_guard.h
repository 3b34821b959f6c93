// The validator's double-sign protection. Before a vote signature leaves the process, what is being
// signed is persisted (synced) to a file; a vote that conflicts with it — an earlier (height,
// round, type), or the same one with different bytes — is refused, even after a crash and restart.
// Re-signing exactly the same vote returns the stored signature. Not thread-safe: one signer
// thread.
#pragma once

#include <optional>
#include <string>

#include "chain/keys.h"
#include "chain/status.h"
#include "puhui.pb.h"

namespace puhui {

class SignGuard {
 public:
  // Loads the record at `path` if it exists; a record that does not parse is Corruption.
  static Result<SignGuard> Open(const std::string& path);

  // Signs `vote` unless it conflicts with the last signed vote. `block` is kept with a precommit so
  // that a restart can finish committing the block this validator already vouched for.
  Result<pb::SignedVote> Sign(const pb::Vote& vote, const std::string& chain_id,
                              const PrivateKey& key, const std::string& block = {});

  const std::optional<pb::LastSigned>& last() const { return last_; }

 private:
  std::string path_;
  std::optional<pb::LastSigned> last_;
};

}  // namespace puhui
