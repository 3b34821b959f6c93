#include "chain/hash.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "chain/status.h"

namespace puhui {
namespace {

// OpenSSL 3 resolves EVP_sha256() and SHA256() by name on every use (an "implicit fetch" that
// takes a lock). Fetching once makes short hashes, which dominate (Merkle nodes, ids, tagged
// digests), two to three times faster. The object is shared read-only and never freed.
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    PUHUI_CHECK(m != nullptr, "EVP_MD_fetch SHA256");
    return m;
  }();
  return md;
}

}  // namespace

uint64_t SecretSeed() {
  uint64_t seed = 0;
  PUHUI_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) == 1,
              "RAND_bytes failed");
  return seed;
}

namespace {

// Per-thread contexts: a work context for one-shot hashes and the absorbed prefixes of tags.
struct ThreadHashState {
  static constexpr size_t kMaxNamedTags = 64;  // TaggedHash(string) cache; chain ids make tags vary
  EVP_MD_CTX* work = EVP_MD_CTX_new();
  std::vector<EVP_MD_CTX*> tags;  // by HashTag index
  std::map<std::string, EVP_MD_CTX*, std::less<>> named;

  ThreadHashState() { PUHUI_CHECK(work != nullptr, "EVP_MD_CTX_new"); }
  ~ThreadHashState() {
    EVP_MD_CTX_free(work);
    for (EVP_MD_CTX* c : tags) EVP_MD_CTX_free(c);
    for (auto& [tag, c] : named) EVP_MD_CTX_free(c);
  }
  ThreadHashState(const ThreadHashState&) = delete;
  ThreadHashState& operator=(const ThreadHashState&) = delete;
};

ThreadHashState& State() {
  thread_local ThreadHashState state;
  return state;
}

EVP_MD_CTX* NewPrefix(std::string_view tag) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  PUHUI_CHECK(ctx != nullptr && EVP_DigestInit_ex(ctx, Sha256Md(), nullptr) == 1, "EVP init");
  const Hash32 t = Sha256(tag);
  PUHUI_CHECK(EVP_DigestUpdate(ctx, t.data(), t.size()) == 1 &&
                  EVP_DigestUpdate(ctx, t.data(), t.size()) == 1,
              "EVP update");
  return ctx;
}

Hash32 Finish(EVP_MD_CTX* ctx, ByteView a, ByteView b) {
  Hash32 out;
  unsigned int len = 0;
  PUHUI_CHECK(EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
                  EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == 32,
              "EVP digest");
  return out;
}

Hash32 WithPrefix(EVP_MD_CTX* prefix, ByteView a, ByteView b) {
  EVP_MD_CTX* work = State().work;
  PUHUI_CHECK(EVP_MD_CTX_copy_ex(work, prefix) == 1, "EVP copy");
  return Finish(work, a, b);
}

std::atomic<size_t> g_next_tag_index{0};

}  // namespace

Hash32 Sha256(ByteView data) {
  EVP_MD_CTX* work = State().work;
  PUHUI_CHECK(EVP_DigestInit_ex(work, Sha256Md(), nullptr) == 1, "EVP init");
  return Finish(work, data, {});
}

HashTag::HashTag(std::string_view tag) : tag_(tag), index_(g_next_tag_index++) {}

Hash32 HashTag::Hash(ByteView a, ByteView b) const {
  ThreadHashState& s = State();
  if (s.tags.size() <= index_) s.tags.resize(index_ + 1, nullptr);
  if (s.tags[index_] == nullptr) s.tags[index_] = NewPrefix(tag_);
  return WithPrefix(s.tags[index_], a, b);
}

struct Sha256Hasher::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256Hasher::Sha256Hasher() : impl_(new Impl) {
  impl_->ctx = EVP_MD_CTX_new();
  PUHUI_CHECK(impl_->ctx != nullptr && EVP_DigestInit_ex(impl_->ctx, Sha256Md(), nullptr) == 1,
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
  PUHUI_CHECK(EVP_DigestInit_ex(impl_->ctx, Sha256Md(), nullptr) == 1, "EVP reinit");
  return out;
}

TaggedHasher::TaggedHasher(std::string_view tag) {
  Hash32 t = Sha256(tag);
  h_.Update(t).Update(t);
}

Hash32 TaggedHash(std::string_view tag, ByteView data) {
  ThreadHashState& s = State();
  auto it = s.named.find(tag);
  if (it == s.named.end()) {
    if (s.named.size() >= ThreadHashState::kMaxNamedTags) {
      for (auto& [t, c] : s.named) EVP_MD_CTX_free(c);
      s.named.clear();
    }
    it = s.named.emplace(std::string(tag), NewPrefix(tag)).first;
  }
  return WithPrefix(it->second, data, {});
}

}  // namespace puhui
