#include "chain/signing.h"

#include <string>

#include "chain/hash.h"

namespace puhui {

std::string_view SignKindName(SignKind kind) {
  switch (kind) {
    case SignKind::kTx: return "tx";
    case SignKind::kVote: return "vote";
    case SignKind::kHandshake: return "handshake";
    case SignKind::kProposal: return "proposal";
  }
  return "unknown";
}

Hash32 SigningHash(std::string_view chain_id, SignKind kind, ByteView bytes) {
  std::string tag = "puhui/";
  tag.append(chain_id);
  tag.push_back('/');
  tag.append(SignKindName(kind));
  return TaggedHash(tag, bytes);
}

namespace {
const HashTag kTxIdTag{"puhui/txid"};
const HashTag kBlockTag{"puhui/block"};
}  // namespace

Hash32 TxId(ByteView body) { return kTxIdTag.Hash(body); }

Hash32 BlockHash(ByteView header_bytes) { return kBlockTag.Hash(header_bytes); }

}  // namespace puhui
