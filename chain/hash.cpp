#include "chain/hash.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <string>

#include "chain/status.h"

namespace puhui {

Hash32 Sha256(ByteView data) {
  Hash32 out;
  SHA256(data.data(), data.size(), out.data());
  return out;
}

struct Sha256Hasher::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256Hasher::Sha256Hasher() : impl_(new Impl) {
  impl_->ctx = EVP_MD_CTX_new();
  PUHUI_CHECK(impl_->ctx != nullptr && EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) == 1,
              "EVP sha256 init");
}

Sha256Hasher::~Sha256Hasher() {
  EVP_MD_CTX_free(impl_->ctx);
  delete impl_;
}

Sha256Hasher& Sha256Hasher::Update(ByteView data) {
  PUHUI_CHECK(EVP_DigestUpdate(impl_->ctx, data.data(), data.size()) == 1, "EVP update");
  return *this;
}

Hash32 Sha256Hasher::Finish() {
  Hash32 out;
  unsigned int len = 0;
  PUHUI_CHECK(EVP_DigestFinal_ex(impl_->ctx, out.data(), &len) == 1 && len == 32, "EVP final");
  PUHUI_CHECK(EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) == 1, "EVP reinit");
  return out;
}

TaggedHasher::TaggedHasher(std::string_view tag) {
  Hash32 t = Sha256(tag);
  h_.Update(t).Update(t);
}

Hash32 TaggedHash(std::string_view tag, ByteView data) {
  return TaggedHasher(tag).Update(data).Finish();
}

}  // namespace puhui
