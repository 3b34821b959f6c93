#include "node/sign_guard.h"

#include <fmt/format.h>

#include <filesystem>
#include <tuple>

#include "chain/signing.h"
#include "consensus/validator_set.h"
#include "node/files.h"

namespace puhui {

Result<SignGuard> SignGuard::Open(const std::string& path) {
  SignGuard guard;
  guard.path_ = path;
  if (std::filesystem::exists(path)) {
    auto raw = ReadFile(path);
    if (!raw.ok()) return raw.status();
    pb::LastSigned last;
    if (!last.ParseFromString(*raw)) {
      return Corruption(fmt::format("sign record '{}' does not parse; refusing to sign", path));
    }
    guard.last_ = last;
  }
  return guard;
}

Result<pb::SignedVote> SignGuard::Sign(const pb::Vote& vote, const std::string& chain_id,
                                       const PrivateKey& key, const std::string& block) {
  std::string bytes = EncodeVote(vote);
  if (last_) {
    auto prev = std::make_tuple(last_->height(), last_->round(), static_cast<int>(last_->type()));
    auto next = std::make_tuple(vote.height(), vote.round(), static_cast<int>(vote.type()));
    if (next == prev) {
      if (last_->signed_bytes() == bytes) {
        pb::SignedVote sv;
        sv.set_vote(bytes);
        sv.set_signature(last_->signature());
        return sv;
      }
      return FailedPrecondition(
          fmt::format("refusing to sign a second, different vote at height {} round {}",
                      vote.height(), vote.round()));
    }
    if (next < prev) {
      return FailedPrecondition(
          fmt::format("refusing to sign at height {} round {}: already signed height {} round {}",
                      vote.height(), vote.round(), last_->height(), last_->round()));
    }
  }
  Signature sig = key.Sign(SigningHash(chain_id, SignKind::kVote, AsBytes(bytes)));
  std::string sig_bytes(reinterpret_cast<const char*>(sig.data()), sig.size());
  pb::LastSigned record;
  record.set_height(vote.height());
  record.set_round(vote.round());
  record.set_type(vote.type());
  record.set_block_hash(vote.block_hash());
  record.set_signed_bytes(bytes);
  record.set_signature(sig_bytes);
  record.set_block(block);
  PUHUI_RETURN_IF_ERROR(WriteFileDurably(path_, record.SerializeAsString(), 0600));
  last_ = std::move(record);
  pb::SignedVote sv;
  sv.set_vote(std::move(bytes));
  sv.set_signature(std::move(sig_bytes));
  return sv;
}

}  // namespace puhui
