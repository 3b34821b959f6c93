// The p2p handshake as a pure state machine (no sockets, no clock): an authenticated key exchange
// that proves each side holds its node key, binds the chain id, and yields one ChaCha20-Poly1305
// key per direction. docs/formats.md ("P2P transport") has the wire format. The flow:
//   initiator -> P2pHello{chain_id, node_key, ephemeral X25519 key, version}          (clear)
//   responder -> P2pHello, then P2pAuth{signature}                      (auth sealed, r->i key)
//   initiator -> P2pAuth{signature}                                      (sealed, i->r key)
// transcript = TaggedHash("puhui/<chain_id>/handshake",
//                         eph_i ‖ eph_r ‖ node_key_i ‖ node_key_r ‖ chain_id)
// keys       = HKDF-SHA256(ikm = X25519(eph, peer eph), salt = transcript, info = kP2pKeyInfo),
//              64 bytes: initiator->responder key, then responder->initiator key
// signature  = BIP340 by node_key over SigningHash(chain_id, kHandshake, transcript).
// A side accepts the peer only if its version and chain id match, is_allowed(peer key) says yes,
// the peer is not itself, and the peer's P2pAuth opens under the session key and its signature
// verifies. Any failure is final and is returned as a Status naming the reason.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/bytes.h"
#include "chain/keys.h"
#include "chain/status.h"
#include "node/p2p_cipher.h"

namespace puhui {

inline constexpr uint32_t kP2pProtocolVersion = 1;
inline constexpr char kP2pKeyInfo[] = "puhui/p2p/session-keys/v1";
// Handshake frames are small; a larger one is refused before it is buffered.
inline constexpr size_t kMaxHandshakeFrameBytes = 1024;

// A fresh X25519 key pair (OpenSSL EVP_PKEY_X25519), used for one connection and then dropped.
class EphemeralKey {
 public:
  static EphemeralKey Generate();
  ~EphemeralKey();
  EphemeralKey(EphemeralKey&&) noexcept;
  EphemeralKey& operator=(EphemeralKey&&) noexcept;

  const Hash32& public_key() const { return public_key_; }
  // X25519 with the peer's public key. Fails on a key that gives the all-zero secret.
  Result<Hash32> SharedSecret(const Hash32& peer_public_key) const;

 private:
  EphemeralKey() = default;
  void* pkey_ = nullptr;  // EVP_PKEY*, kept out of this header
  Hash32 public_key_{};
};

Hash32 HandshakeTranscript(std::string_view chain_id, const Hash32& initiator_ephemeral,
                           const Hash32& responder_ephemeral, const PublicKey& initiator_key,
                           const PublicKey& responder_key);

struct SessionKeys {
  CipherKey initiator_to_responder{};
  CipherKey responder_to_initiator{};
};

// HKDF-SHA256 (OpenSSL EVP_KDF "HKDF") of the shared secret, salted with the transcript.
Result<SessionKeys> DeriveSessionKeys(const Hash32& shared_secret, const Hash32& transcript);

// The peer's key and this side's two session directions, once the handshake is done.
struct HandshakeResult {
  PublicKey peer_key;
  Hash32 transcript{};
  CipherKey send_key{};
  CipherKey receive_key{};
  FrameSealer sealer;
  FrameOpener opener;
};

struct HandshakeConfig {
  std::string chain_id;
  PrivateKey node_key;
  // Validators and configured observers; called with the key the peer claims, before it proves it.
  std::function<bool(const PublicKey&)> is_allowed;
};

class Handshake {
 public:
  enum class Role { kInitiator, kResponder };

  Handshake(Role role, HandshakeConfig config);
  ~Handshake();
  Handshake(Handshake&&) noexcept;
  Handshake& operator=(Handshake&&) noexcept;

  // Frame payloads to send first: the initiator's P2pHello; nothing for the responder.
  std::vector<std::string> Start();

  // Takes one received frame payload and returns the payloads to send in reply. An error is final
  // and every later call repeats it.
  Result<std::vector<std::string>> OnFrame(ByteView payload);

  // True once the peer is authenticated and everything this side must send has been returned.
  bool done() const;
  // After done(): the result, moved out (callable once).
  HandshakeResult TakeResult();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace puhui
