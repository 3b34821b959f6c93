// The validator's double-sign protection. Before a vote signature leaves the process, what is being
// signed is persisted (synced) to a file; a vote that conflicts with it — an earlier (height,
// round, type), or the same one with different bytes — is refused, even after a crash and restart.
// Re-signing exactly the same vote returns the stored signature. Not thread-safe: one signer
// thread.
#pragma once

#include <optional>
#include <string>

#include "chain/keys.h"
#include "chain/signing.h"
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

  // Signs a proposal unless it conflicts with what was signed before (same rules as votes).
  Result<pb::SignedProposal> SignProposal(const pb::Proposal& proposal, const std::string& chain_id,
                                          const PrivateKey& key);

  // A vote or proposal this validator signed that came back from the network (signature already
  // checked). If it is later than the record — the record was restored from an older copy of the
  // data — it becomes the record, so nothing that conflicts with it is signed. Returns whether
  // the record moved.
  Result<bool> ObserveVote(const pb::SignedVote& vote);
  Result<bool> ObserveProposal(const pb::SignedProposal& proposal);

  const std::optional<pb::LastSigned>& last() const { return last_; }

 private:
  // The common rule: returns the signature of `bytes`, signed now (and persisted first) or, for an
  // identical message at the same step, the one signed before.
  Result<std::string> Guard(uint64_t height, uint32_t round, uint32_t step, pb::VoteType type,
                            const std::string& block_hash, const std::string& bytes, SignKind kind,
                            const std::string& chain_id, const PrivateKey& key,
                            const std::string& block);

  Result<bool> Observe(pb::LastSigned seen);

  std::string path_;
  std::optional<pb::LastSigned> last_;
};

}  // namespace puhui
