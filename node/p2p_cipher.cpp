#include "node/p2p_cipher.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>

namespace puhui {
namespace {

// OpenSSL reads a null input to EVP_*Update as "finish now", so empty payloads skip Update.
using Nonce = std::array<uint8_t, 12>;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

Nonce NonceOf(uint64_t counter) {
  Nonce nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<uint8_t>(counter >> (56 - 8 * i));
  return nonce;
}

uint64_t ReadCounter(ByteView b) {
  uint64_t v = 0;
  for (size_t i = 0; i < kSealCounterBytes; ++i) v = (v << 8) | b[i];
  return v;
}

}  // namespace

Result<std::string> FrameSealer::Seal(ByteView plaintext) {
  if (counter_ >= kSealCounterLimit) {
    return ResourceExhausted("p2p session has sealed its last frame; reconnect for new keys");
  }
  const Nonce nonce = NonceOf(counter_);
  std::string out(kSealCounterBytes + plaintext.size() + kSealTagBytes, '\0');
  auto* dst = reinterpret_cast<uint8_t*>(out.data());
  std::copy_n(nonce.begin() + 4, kSealCounterBytes, dst);
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int final_len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, key_.data(), nonce.data()) !=
          1 ||
      (!plaintext.empty() &&
       EVP_EncryptUpdate(ctx.get(), dst + kSealCounterBytes, &len, plaintext.data(),
                         static_cast<int>(plaintext.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx.get(), dst + kSealCounterBytes + len, &final_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kSealTagBytes),
                          dst + kSealCounterBytes + plaintext.size()) != 1) {
    return Internal("ChaCha20-Poly1305 encryption failed");
  }
  PUHUI_CHECK(static_cast<size_t>(len + final_len) == plaintext.size());
  ++counter_;  // only after success: a counter is spent exactly when a frame leaves with it
  return out;
}

Result<std::string> FrameOpener::Open(ByteView sealed) {
  if (sealed.size() < kSealOverheadBytes) {
    return Unauthenticated(
        fmt::format("sealed frame of {} bytes is shorter than its overhead", sealed.size()));
  }
  const uint64_t counter = ReadCounter(sealed);
  if (counter != counter_) {
    return Unauthenticated(fmt::format("frame counter {} where {} was due (replayed or reordered)",
                                       counter, counter_));
  }
  const Nonce nonce = NonceOf(counter);
  const ByteView body = sealed.subspan(kSealCounterBytes, sealed.size() - kSealOverheadBytes);
  ByteView tag = sealed.subspan(sealed.size() - kSealTagBytes);
  std::string out(body.size(), '\0');
  auto* dst = reinterpret_cast<uint8_t*>(out.data());
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int final_len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, key_.data(), nonce.data()) !=
          1 ||
      (!body.empty() &&
       EVP_DecryptUpdate(ctx.get(), dst, &len, body.data(), static_cast<int>(body.size())) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kSealTagBytes),
                          const_cast<uint8_t*>(tag.data())) != 1) {
    return Internal("ChaCha20-Poly1305 decryption could not start");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), dst + len, &final_len) != 1) {
    return Unauthenticated(
        fmt::format("frame {} does not authenticate (tampered or wrong key)", counter));
  }
  ++counter_;
  return out;
}

}  // namespace puhui
