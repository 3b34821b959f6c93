#include "chain/keys.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <vector>

#include "chain/hash.h"

namespace puhui {
namespace {

// One context for the whole process. It is randomized once, before any other thread can see it,
// and only read afterwards: libsecp256k1 allows concurrent signing and verification on a context
// that nobody mutates. It is never destroyed, so threads still verifying at exit stay safe.
const secp256k1_context* Context() {
  static const secp256k1_context* const ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    PUHUI_CHECK(c != nullptr, "secp256k1_context_create failed");
    // Blinding protects the secret against side channels during signing; it needs fresh,
    // unpredictable bytes, not a fixed seed.
    unsigned char seed[32];
    PUHUI_CHECK(RAND_bytes(seed, sizeof(seed)) == 1, "RAND_bytes failed");
    PUHUI_CHECK(secp256k1_context_randomize(c, seed) == 1, "secp256k1_context_randomize failed");
    OPENSSL_cleanse(seed, sizeof(seed));
    return c;
  }();
  return ctx;
}

Hash32 RandomBytes32() {
  Hash32 out;
  PUHUI_CHECK(RAND_bytes(out.data(), static_cast<int>(out.size())) == 1, "RAND_bytes failed");
  return out;
}

// Secret material lives on the stack only as long as one operation needs it.
class ScopedKeypair {
 public:
  explicit ScopedKeypair(const Hash32& secret) {
    // A PrivateKey only ever holds a secret that FromBytes or Generate accepted.
    PUHUI_CHECK(secp256k1_keypair_create(Context(), &kp_, secret.data()) == 1,
                "keypair from a validated secret");
  }
  ~ScopedKeypair() { OPENSSL_cleanse(&kp_, sizeof(kp_)); }
  ScopedKeypair(const ScopedKeypair&) = delete;
  ScopedKeypair& operator=(const ScopedKeypair&) = delete;

  const secp256k1_keypair* get() const { return &kp_; }

 private:
  secp256k1_keypair kp_;
};

// Parsing an x-only key (a square root in the field) costs about a quarter of a BIP340
// verification, and a node parses the same accounts' keys over and over: a transaction's sender
// and recipient when it is decoded, the sender again when its signature is checked, and again for
// every copy relayed to it. Keys that parse are remembered in a direct-mapped table: a slot per
// index, a newcomer replaces the slot's key, so a lookup is one probe whatever peers send. The
// index is a seeded mix of all 32 bytes, the seed secret to this process, so nobody can aim keys
// at one slot to evict others'. Lock stripes guard the slots.
class ParsedKeys {
 public:
  ParsedKeys() : slots_(kSlots) {}

  bool Parse(const Hash32& bytes, secp256k1_xonly_pubkey* out) {
    const uint64_t index = index_(bytes);
    Slot& slot = slots_[index & (kSlots - 1)];
    std::mutex& mu = locks_[index & (kLocks - 1)];  // the same stripe for the same slot
    {
      std::lock_guard lock(mu);
      if (slot.used && slot.key == bytes) {
        *out = slot.parsed;
        return true;
      }
    }
    if (secp256k1_xonly_pubkey_parse(Context(), out, bytes.data()) != 1) return false;
    std::lock_guard lock(mu);
    slot.key = bytes;
    slot.parsed = *out;
    slot.used = true;
    return true;
  }

 private:
  static constexpr size_t kSlots = size_t{1} << 16;  // ~6.5 MB
  static constexpr size_t kLocks = 64;
  static_assert(kSlots % kLocks == 0);
  struct Slot {
    Hash32 key{};
    secp256k1_xonly_pubkey parsed{};
    bool used = false;
  };

  const SeededHash32 index_;
  std::vector<Slot> slots_;
  std::array<std::mutex, kLocks> locks_;
};

bool ParseXOnly(const Hash32& bytes, secp256k1_xonly_pubkey* out) {
  static ParsedKeys* const parsed =
      new ParsedKeys();  // never destroyed: threads may verify at exit
  return parsed->Parse(bytes, out);
}

}  // namespace

Result<PrivateKey> PrivateKey::FromBytes(const Hash32& secret) {
  if (secp256k1_ec_seckey_verify(Context(), secret.data()) != 1) {
    return InvalidArgument("private key must be nonzero and below the secp256k1 group order");
  }
  return PrivateKey(secret);
}

PrivateKey PrivateKey::Generate() {
  // A uniformly random 32-byte string is out of range with probability about 2^-128, so this
  // loop runs once in practice; retrying keeps the result uniform over valid keys.
  for (;;) {
    Hash32 secret = RandomBytes32();
    if (secp256k1_ec_seckey_verify(Context(), secret.data()) == 1) return PrivateKey(secret);
    OPENSSL_cleanse(secret.data(), secret.size());
  }
}

PublicKey PrivateKey::Public() const {
  ScopedKeypair kp(secret_);
  secp256k1_xonly_pubkey xonly;
  PUHUI_CHECK(secp256k1_keypair_xonly_pub(Context(), &xonly, nullptr, kp.get()) == 1,
              "x-only key of a valid keypair");
  PublicKey pub;
  PUHUI_CHECK(secp256k1_xonly_pubkey_serialize(Context(), pub.bytes.data(), &xonly) == 1,
              "serialize x-only key");
  return pub;
}

Signature PrivateKey::Sign(const Hash32& msg) const {
  // Fresh auxiliary randomness hardens the deterministic nonce against fault and side-channel
  // attacks (BIP340 "Default Signing").
  return SignWithAux(msg, RandomBytes32());
}

Signature PrivateKey::SignWithAux(const Hash32& msg, const Hash32& aux) const {
  ScopedKeypair kp(secret_);
  Signature sig;
  PUHUI_CHECK(
      secp256k1_schnorrsig_sign32(Context(), sig.data(), msg.data(), kp.get(), aux.data()) == 1,
      "schnorrsig_sign32 with a valid keypair");
  return sig;
}

Signature PrivateKey::SignBip340WithAux(ByteView msg, const Hash32& aux) const {
  ScopedKeypair kp(secret_);
  secp256k1_schnorrsig_extraparams params = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
  Hash32 aux_copy = aux;  // the library's ndata is a non-const pointer
  params.ndata = aux_copy.data();
  Signature sig;
  PUHUI_CHECK(secp256k1_schnorrsig_sign_custom(Context(), sig.data(), msg.data(), msg.size(),
                                               kp.get(), &params) == 1,
              "schnorrsig_sign_custom with a valid keypair");
  return sig;
}

bool VerifySchnorr(const PublicKey& key, const Hash32& msg, const Signature& sig) {
  return VerifyBip340(key, ByteView(msg), sig);
}

bool VerifyBip340(const PublicKey& key, ByteView msg, const Signature& sig) {
  secp256k1_xonly_pubkey xonly;
  if (!ParseXOnly(key.bytes, &xonly)) return false;
  return secp256k1_schnorrsig_verify(Context(), sig.data(), msg.data(), msg.size(), &xonly) == 1;
}

Result<PublicKey> ParsePublicKey(ByteView bytes) {
  auto h = ToHash32(bytes);
  if (!h) return InvalidArgument("public key must be 32 bytes");
  secp256k1_xonly_pubkey xonly;
  if (!ParseXOnly(*h, &xonly)) return InvalidArgument("public key is not a point on secp256k1");
  return PublicKey{*h};
}

std::optional<Signature> ToSignature(ByteView bytes) {
  if (bytes.size() != Signature{}.size()) return std::nullopt;
  Signature sig;
  std::copy(bytes.begin(), bytes.end(), sig.begin());
  return sig;
}

}  // namespace puhui
