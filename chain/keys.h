// BIP340 Schnorr keys and signatures over secp256k1 (libsecp256k1's schnorrsig module).
// Public keys are x-only, 32 bytes; signatures are 64 bytes. Messages are 32-byte digests,
// always produced by a domain-separated tagged hash (see chain/signing.h), never raw data.
// Verification is thread-safe; a single verification context is shared read-only.
#pragma once

#include <array>
#include <optional>

#include "chain/bytes.h"
#include "chain/status.h"

namespace puhui {

using Signature = std::array<uint8_t, 64>;

struct PublicKey {
  Hash32 bytes{};  // x-only coordinate
  auto operator<=>(const PublicKey&) const = default;
};

class PrivateKey {
 public:
  // Fails if the 32 bytes are zero or not below the curve order.
  static Result<PrivateKey> FromBytes(const Hash32& secret);
  // A fresh key from the OS's CSPRNG (getrandom / OpenSSL RAND_bytes).
  static PrivateKey Generate();

  const Hash32& secret() const { return secret_; }
  PublicKey Public() const;

  // BIP340 signature of a 32-byte message with fresh auxiliary randomness.
  Signature Sign(const Hash32& msg) const;
  // BIP340 signature with the given auxiliary randomness (deterministic; used by test vectors).
  Signature SignWithAux(const Hash32& msg, const Hash32& aux) const;
  // BIP340 over a message of any length. Puhui signs only 32-byte tagged digests (use Sign);
  // this exists so that the BIP's variable-length test vectors exercise the same primitive.
  Signature SignBip340WithAux(ByteView msg, const Hash32& aux) const;

 private:
  explicit PrivateKey(const Hash32& s) : secret_(s) {}
  Hash32 secret_{};
};

// False for an invalid key encoding as well as a wrong signature.
bool VerifySchnorr(const PublicKey& key, const Hash32& msg, const Signature& sig);
// As VerifySchnorr, for a message of any length; see SignBip340WithAux for why it exists.
bool VerifyBip340(const PublicKey& key, ByteView msg, const Signature& sig);

// Parses a 32-byte x-only key; fails if it is not a point on the curve.
Result<PublicKey> ParsePublicKey(ByteView bytes);
std::optional<Signature> ToSignature(ByteView bytes);

}  // namespace puhui
