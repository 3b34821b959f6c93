// A consensus::Signer for tests and the simulator: the key in memory, and the double-sign refusal
// rules of node/sign_guard.h (a vote or proposal for an earlier slot, or a different one for the
// same slot, is refused; the very same message gets the same signature back). Signatures use fixed
// auxiliary randomness so that a seeded simulation is reproducible bit for bit.
#pragma once

#include <optional>
#include <string>
#include <tuple>

#include "chain/keys.h"
#include "chain/signing.h"
#include "consensus/signer.h"
#include "consensus/validator_set.h"

namespace puhui::testing {

class MemorySigner : public consensus::Signer {
 public:
  MemorySigner(std::string chain_id, PrivateKey key) : chain_id_(std::move(chain_id)), key_(key) {}

  Result<pb::SignedVote> SignVote(const pb::Vote& vote) override {
    if (refuse_all) return FailedPrecondition("signer told to refuse");
    std::string bytes = EncodeVote(vote);
    auto slot = std::make_tuple(vote.height(), vote.round(), static_cast<int>(vote.type()));
    auto sig = Check(last_vote_, slot, bytes);
    if (!sig.ok()) return sig.status();
    pb::SignedVote out;
    out.set_vote(bytes);
    out.set_signature(sig->empty() ? Sign(SignKind::kVote, bytes) : *sig);
    last_vote_ = Record{slot, bytes, out.signature()};
    ++signed_;
    return out;
  }

  Result<pb::SignedProposal> SignProposal(const pb::Proposal& proposal) override {
    if (refuse_all) return FailedPrecondition("signer told to refuse");
    std::string bytes = consensus::EncodeProposal(proposal);
    auto slot = std::make_tuple(proposal.height(), proposal.round(), 0);
    auto sig = Check(last_proposal_, slot, bytes);
    if (!sig.ok()) return sig.status();
    pb::SignedProposal out;
    out.set_proposal(bytes);
    out.set_signature(sig->empty() ? Sign(SignKind::kProposal, bytes) : *sig);
    last_proposal_ = Record{slot, bytes, out.signature()};
    ++signed_;
    return out;
  }

  int refusals() const { return refusals_; }
  int signed_count() const { return signed_; }
  bool refuse_all = false;

 private:
  using Slot = std::tuple<uint64_t, uint32_t, int>;
  struct Record {
    Slot slot;
    std::string bytes;
    std::string signature;
  };

  // The stored signature for a repeat, an empty string for a new slot, or a refusal.
  Result<std::string> Check(const std::optional<Record>& last, const Slot& slot,
                            const std::string& bytes) {
    if (!last || slot > last->slot) return std::string();
    if (slot == last->slot && bytes == last->bytes) return last->signature;
    ++refusals_;
    return FailedPrecondition(slot == last->slot ? "a second, different message for one slot"
                                                 : "a message for an earlier slot");
  }

  std::string Sign(SignKind kind, const std::string& bytes) const {
    Signature sig = key_.SignWithAux(SigningHash(chain_id_, kind, AsBytes(bytes)), kZeroHash);
    return ToString(ByteView(sig));
  }

  std::string chain_id_;
  PrivateKey key_;
  std::optional<Record> last_vote_;
  std::optional<Record> last_proposal_;
  int refusals_ = 0;
  int signed_ = 0;
};

}  // namespace puhui::testing
