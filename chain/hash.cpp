#include "chain/hash.h"

// The one-shot and context-copying SHA-256 calls below use OpenSSL's low-level interface
// (SHA256_Init/Update/Final), deprecated in OpenSSL 3 in favour of EVP but kept, and run by the
// same assembly (SHA extensions where the CPU has them). A SHA256_CTX is a plain 112-byte struct: a
// tag's absorbed prefix is copied by value, where an EVP context copy costs a provider call, a
// cleanse and a free per hash. A block's state tree hashes ~50,000 nodes, and through EVP the
// overhead was as large as the compression itself.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <atomic>
#include <map>
#include <string>

#include "chain/status.h"

namespace puhui {

uint64_t SecretSeed() {
  uint64_t seed = 0;
  PUHUI_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) == 1,
              "RAND_bytes failed");
  return seed;
}

namespace {

SHA256_CTX Fresh() {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  return ctx;
}

// SHA256(tag) || SHA256(tag), absorbed: exactly one 64-byte block, so the prefix is a midstate.
SHA256_CTX TagPrefix(std::string_view tag) {
  const Hash32 t = Sha256(tag);
  SHA256_CTX ctx = Fresh();
  SHA256_Update(&ctx, t.data(), t.size());
  SHA256_Update(&ctx, t.data(), t.size());
  return ctx;
}

Hash32 Finish(SHA256_CTX ctx, ByteView a, ByteView b) {
  SHA256_Update(&ctx, a.data(), a.size());
  SHA256_Update(&ctx, b.data(), b.size());
  Hash32 out;
  SHA256_Final(out.data(), &ctx);
  return out;
}

}  // namespace

Hash32 Sha256(ByteView data) { return Finish(Fresh(), data, {}); }

struct HashTag::Prefix {
  SHA256_CTX ctx;
};

HashTag::HashTag(std::string_view tag)
    : tag_(tag), prefix_(std::make_unique<Prefix>(Prefix{TagPrefix(tag)})) {}

HashTag::~HashTag() = default;

Hash32 HashTag::Hash(ByteView a, ByteView b) const { return Finish(prefix_->ctx, a, b); }

struct Sha256Hasher::Impl {
  SHA256_CTX ctx = Fresh();
};

Sha256Hasher::Sha256Hasher() : impl_(new Impl) {}

Sha256Hasher::~Sha256Hasher() { delete impl_; }

Sha256Hasher& Sha256Hasher::Update(ByteView data) {
  SHA256_Update(&impl_->ctx, data.data(), data.size());
  return *this;
}

Hash32 Sha256Hasher::Finish() {
  Hash32 out;
  SHA256_Final(out.data(), &impl_->ctx);
  impl_->ctx = Fresh();
  return out;
}

TaggedHasher::TaggedHasher(std::string_view tag) {
  Hash32 t = Sha256(tag);
  h_.Update(t).Update(t);
}

Hash32 TaggedHash(std::string_view tag, ByteView data) {
  // Tags vary with chain ids, so a few dozen prefixes are kept per thread.
  constexpr size_t kMaxNamedTags = 64;
  thread_local std::map<std::string, SHA256_CTX, std::less<>> named;
  auto it = named.find(tag);
  if (it == named.end()) {
    if (named.size() >= kMaxNamedTags) named.clear();
    it = named.emplace(std::string(tag), TagPrefix(tag)).first;
  }
  return Finish(it->second, data, {});
}

}  // namespace puhui
