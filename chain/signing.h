// Domain-separated signing digests. Every signature in Puhui is over
//   TaggedHash("puhui/<chain_id>/<kind>", bytes)
// so a signature for one chain, or for one kind of message, is worthless for any other.
#pragma once

#include <string_view>

#include "chain/bytes.h"

namespace puhui {

enum class SignKind { kTx, kVote, kHandshake, kProposal };

std::string_view SignKindName(SignKind kind);

Hash32 SigningHash(std::string_view chain_id, SignKind kind, ByteView bytes);

// Identifier of a transaction: a tagged hash of its body bytes (signatures excluded, so a
// re-signed copy of the same body is the same transaction).
Hash32 TxId(ByteView body);

// Identifier of a block: a tagged hash of its serialised header bytes.
Hash32 BlockHash(ByteView header_bytes);

}  // namespace puhui
