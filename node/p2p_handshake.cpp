#include "node/p2p_handshake.h"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <algorithm>
#include <utility>

#include "chain/hash.h"
#include "chain/limits.h"
#include "chain/signing.h"
#include "puhui.pb.h"

namespace puhui {
namespace {

EVP_PKEY* Pkey(void* p) { return static_cast<EVP_PKEY*>(p); }

std::string Raw(const Hash32& h) { return ToString(ByteView(h)); }

}  // namespace

// ---------------------------------------------------------------- X25519

EphemeralKey EphemeralKey::Generate() {
  EphemeralKey key;
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
  PUHUI_CHECK(pkey != nullptr, "X25519 key generation failed");
  key.pkey_ = pkey;
  size_t len = key.public_key_.size();
  PUHUI_CHECK(EVP_PKEY_get_raw_public_key(pkey, key.public_key_.data(), &len) == 1 && len == 32);
  return key;
}

EphemeralKey::~EphemeralKey() { EVP_PKEY_free(Pkey(pkey_)); }

EphemeralKey::EphemeralKey(EphemeralKey&& other) noexcept
    : pkey_(std::exchange(other.pkey_, nullptr)), public_key_(other.public_key_) {}

EphemeralKey& EphemeralKey::operator=(EphemeralKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(Pkey(pkey_));
    pkey_ = std::exchange(other.pkey_, nullptr);
    public_key_ = other.public_key_;
  }
  return *this;
}

Result<Hash32> EphemeralKey::SharedSecret(const Hash32& peer_public_key) const {
  PUHUI_CHECK(pkey_ != nullptr, "use of a moved-from EphemeralKey");
  EVP_PKEY* peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public_key.data(),
                                               peer_public_key.size());
  if (peer == nullptr) return InvalidArgument("peer's ephemeral key is not an X25519 key");
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(Pkey(pkey_), nullptr);
  Hash32 secret{};
  size_t len = secret.size();
  const bool ok = ctx != nullptr && EVP_PKEY_derive_init(ctx) == 1 &&
                  EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
                  EVP_PKEY_derive(ctx, secret.data(), &len) == 1 && len == secret.size();
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(peer);
  // A low-order peer key gives the all-zero secret, which an attacker would know too.
  if (!ok || secret == kZeroHash) {
    return InvalidArgument("peer's ephemeral key gives no usable X25519 secret");
  }
  return secret;
}

// ---------------------------------------------------------------- derivation

Hash32 HandshakeTranscript(std::string_view chain_id, const Hash32& initiator_ephemeral,
                           const Hash32& responder_ephemeral, const PublicKey& initiator_key,
                           const PublicKey& responder_key) {
  // Four fixed 32-byte fields, then the chain id as the only variable-length one: unambiguous.
  return TaggedHasher(fmt::format("puhui/{}/handshake", chain_id))
      .Update(initiator_ephemeral)
      .Update(responder_ephemeral)
      .Update(initiator_key.bytes)
      .Update(responder_key.bytes)
      .Update(AsBytes(chain_id))
      .Finish();
}

Result<SessionKeys> DeriveSessionKeys(const Hash32& shared_secret, const Hash32& transcript) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr;
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return Internal("OpenSSL has no HKDF");
  char digest[] = "SHA256";
  std::string info = kP2pKeyInfo;
  Hash32 ikm = shared_secret;
  Hash32 salt = transcript;
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm.data(), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end(),
  };
  std::array<uint8_t, 64> okm{};
  const bool ok = EVP_KDF_derive(ctx, okm.data(), okm.size(), params) == 1;
  EVP_KDF_CTX_free(ctx);
  if (!ok) return Internal("HKDF derivation failed");
  SessionKeys keys;
  std::copy_n(okm.begin(), 32, keys.initiator_to_responder.begin());
  std::copy_n(okm.begin() + 32, 32, keys.responder_to_initiator.begin());
  return keys;
}

// ---------------------------------------------------------------- the state machine

struct Handshake::Impl {
  enum class State { kNew, kAwaitHello, kAwaitAuth, kDone, kTaken, kFailed };

  Impl(Role r, HandshakeConfig c)
      : role(r), config(std::move(c)), own_key(config.node_key.Public()) {}

  Status Fail(Status s) {
    state = State::kFailed;
    failure = s;
    return s;
  }
  std::string Hello() const;
  Result<std::vector<std::string>> OnHello(ByteView payload);
  Result<std::vector<std::string>> OnAuth(ByteView payload);
  Result<std::string> Auth();

  const Role role;
  const HandshakeConfig config;
  const PublicKey own_key;
  EphemeralKey ephemeral = EphemeralKey::Generate();
  State state = State::kNew;
  Status failure;
  PublicKey peer_key;
  Hash32 transcript{};
  std::optional<SessionKeys> keys;
  std::optional<FrameSealer> sealer;
  std::optional<FrameOpener> opener;
};

std::string Handshake::Impl::Hello() const {
  pb::P2pHello hello;
  hello.set_chain_id(config.chain_id);
  hello.set_node_key(Raw(own_key.bytes));
  hello.set_ephemeral_key(Raw(ephemeral.public_key()));
  hello.set_version(kP2pProtocolVersion);
  return hello.SerializeAsString();
}

Result<std::string> Handshake::Impl::Auth() {
  Signature sig =
      config.node_key.Sign(SigningHash(config.chain_id, SignKind::kHandshake, transcript));
  pb::P2pAuth auth;
  auth.set_signature(ToString(ByteView(sig)));
  return sealer->Seal(AsBytes(auth.SerializeAsString()));
}

Result<std::vector<std::string>> Handshake::Impl::OnHello(ByteView payload) {
  pb::P2pHello hello;
  if (!hello.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return Fail(InvalidArgument("peer's hello is not a P2pHello"));
  }
  if (hello.version() != kP2pProtocolVersion) {
    return Fail(FailedPrecondition(fmt::format("peer speaks p2p version {}, this node speaks {}",
                                               hello.version(), kP2pProtocolVersion)));
  }
  if (hello.chain_id() != config.chain_id) {
    return Fail(
        PermissionDenied(fmt::format("peer is on chain '{}', this node on '{}'",
                                     hello.chain_id().substr(0, kMaxIdBytes), config.chain_id)));
  }
  Result<PublicKey> key = ParsePublicKey(AsBytes(hello.node_key()));
  if (!key.ok()) return Fail(InvalidArgument("peer's node key is not a valid x-only key"));
  std::optional<Hash32> peer_ephemeral = ToHash32(AsBytes(hello.ephemeral_key()));
  if (!peer_ephemeral) return Fail(InvalidArgument("peer's ephemeral key is not 32 bytes"));
  if (*key == own_key) return Fail(PermissionDenied("peer presents this node's own key"));
  if (!config.is_allowed || !config.is_allowed(*key)) {
    return Fail(PermissionDenied(
        fmt::format("peer key {} not allowed (not a validator or observer)", Hex(key->bytes))));
  }
  peer_key = *key;
  Result<Hash32> secret = ephemeral.SharedSecret(*peer_ephemeral);
  if (!secret.ok()) return Fail(secret.status());
  const bool initiator = role == Role::kInitiator;
  transcript = initiator ? HandshakeTranscript(config.chain_id, ephemeral.public_key(),
                                               *peer_ephemeral, own_key, peer_key)
                         : HandshakeTranscript(config.chain_id, *peer_ephemeral,
                                               ephemeral.public_key(), peer_key, own_key);
  Result<SessionKeys> derived = DeriveSessionKeys(*secret, transcript);
  if (!derived.ok()) return Fail(derived.status());
  keys = *derived;
  sealer.emplace(initiator ? keys->initiator_to_responder : keys->responder_to_initiator);
  opener.emplace(initiator ? keys->responder_to_initiator : keys->initiator_to_responder);
  std::vector<std::string> out;
  if (!initiator) out.push_back(Hello());
  Result<std::string> auth = Auth();
  if (!auth.ok()) return Fail(auth.status());
  out.push_back(std::move(*auth));
  state = State::kAwaitAuth;
  return out;
}

Result<std::vector<std::string>> Handshake::Impl::OnAuth(ByteView payload) {
  Result<std::string> plain = opener->Open(payload);
  if (!plain.ok()) {
    return Fail(Unauthenticated("peer's handshake authentication does not decrypt: " +
                                plain.status().message()));
  }
  pb::P2pAuth auth;
  std::optional<Signature> sig;
  if (auth.ParseFromString(*plain)) sig = ToSignature(AsBytes(auth.signature()));
  if (!sig) return Fail(InvalidArgument("peer's handshake authentication is malformed"));
  if (!VerifySchnorr(peer_key, SigningHash(config.chain_id, SignKind::kHandshake, transcript),
                     *sig)) {
    return Fail(Unauthenticated("handshake signature does not verify"));
  }
  state = State::kDone;
  return std::vector<std::string>{};
}

Handshake::Handshake(Role role, HandshakeConfig config)
    : impl_(std::make_unique<Impl>(role, std::move(config))) {}
Handshake::~Handshake() = default;
Handshake::Handshake(Handshake&&) noexcept = default;
Handshake& Handshake::operator=(Handshake&&) noexcept = default;

std::vector<std::string> Handshake::Start() {
  PUHUI_CHECK(impl_->state == Impl::State::kNew, "Handshake::Start called twice");
  impl_->state = Impl::State::kAwaitHello;
  if (impl_->role == Role::kResponder) return {};
  return {impl_->Hello()};
}

Result<std::vector<std::string>> Handshake::OnFrame(ByteView payload) {
  switch (impl_->state) {
    case Impl::State::kNew: return impl_->Fail(FailedPrecondition("handshake frame before Start"));
    case Impl::State::kAwaitHello: return impl_->OnHello(payload);
    case Impl::State::kAwaitAuth: return impl_->OnAuth(payload);
    case Impl::State::kDone:
    case Impl::State::kTaken:
      return impl_->Fail(FailedPrecondition("handshake frame after the handshake finished"));
    case Impl::State::kFailed: return impl_->failure;
  }
  return Internal("unreachable handshake state");
}

bool Handshake::done() const { return impl_->state == Impl::State::kDone; }

HandshakeResult Handshake::TakeResult() {
  PUHUI_CHECK(done(), "TakeResult before the handshake is done");
  impl_->state = Impl::State::kTaken;
  const bool initiator = impl_->role == Role::kInitiator;
  const SessionKeys& k = *impl_->keys;
  return HandshakeResult{
      .peer_key = impl_->peer_key,
      .transcript = impl_->transcript,
      .send_key = initiator ? k.initiator_to_responder : k.responder_to_initiator,
      .receive_key = initiator ? k.responder_to_initiator : k.initiator_to_responder,
      .sealer = *impl_->sealer,
      .opener = *impl_->opener,
  };
}

}  // namespace puhui
