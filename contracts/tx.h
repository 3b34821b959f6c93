// Decoding and the stateless checks of a transaction: size, format, chain id, sender key, and the
// fields of its action (keys on the curve, ids well formed, amounts positive).
// The signature is checked separately (VerifyTxSignature) so that a node can verify each signature
// once and cache the outcome; stateful checks (nonce, expiry, roles) happen at execution.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "chain/bytes.h"
#include "chain/keys.h"
#include "chain/status.h"
#include "puhui.pb.h"

namespace puhui {

struct DecodedTx {
  Hash32 id{};                 // TxId(body bytes)
  std::string envelope_bytes;  // exactly as received
  // Shared and immutable: a transaction is copied out of the mempool into every block proposed or
  // checked, and a copy should not rebuild its message (never null in a DecodedTx from DecodeTx).
  std::shared_ptr<const pb::TxBody> body;
  PublicKey sender;
  Signature signature{};
  Hash32 signing_hash{};  // SigningHash(chain_id, kTx, body bytes)
};

// Every DecodedTx comes from here, so execution may rely on these checks having passed.
// Fails with kInvalidArgument (malformed), kResourceExhausted (too large) or kFailedPrecondition
// (another chain's transaction), with a message naming the field at fault.
Result<DecodedTx> DecodeTx(std::string_view chain_id, std::string_view envelope_bytes);

// The id a transaction would have, from the envelope alone (no checks, no key parsing): cheap
// enough to drop a copy already held before decoding it. nullopt if the envelope does not parse.
std::optional<Hash32> PeekTxId(std::string_view envelope_bytes);

bool VerifyTxSignature(const DecodedTx& tx);

// Builds and signs an envelope (used by puhui-cli, tests and benchmarks).
std::string SignTx(const pb::TxBody& body, const PrivateKey& key);

}  // namespace puhui
