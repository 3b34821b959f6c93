#include "node/state_cache.h"

#include <doctest/doctest.h>

#include <string>

using namespace puhui;

namespace {

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::string KeyOfRead(int round, int i) {
  return "key/" + std::to_string(round) + "/" + std::to_string(i);
}

std::optional<Bytes> Cached(StateCache& cache, const std::string& key) {
  std::optional<Bytes> value;
  REQUIRE(cache.Find(B(key), value));
  return value;
}

}  // namespace

TEST_CASE("the state cache answers as the head holds a key: read, changed by a block, deleted") {
  StateCache cache(1 << 20);
  std::optional<Bytes> value;
  CHECK_FALSE(cache.Find(B("bal/a"), value));
  cache.Put(B("bal/a"), std::nullopt);  // read as absent
  CHECK(Cached(cache, "bal/a") == std::nullopt);
  cache.Put(B("bal/b"), B("7"));
  StateChanges block;
  block[B("bal/a")] = B("5");
  block[B("bal/b")] = std::nullopt;
  block[B("bal/c")] = B("1");
  cache.Committed(block);
  CHECK(Cached(cache, "bal/a") == B("5"));
  CHECK(Cached(cache, "bal/b") == std::nullopt);
  CHECK(Cached(cache, "bal/c") == B("1"));
  CHECK_FALSE(cache.Find(B("bal/d"), value));
}

TEST_CASE(
    "past its budget the state cache forgets old keys but never answers with a replaced value") {
  StateCache cache(8 * 1024);  // a few dozen entries a generation
  for (int round = 0; round < 50; ++round) {
    // The same key changed by every block, among many keys read once.
    StateChanges block;
    block[B("hot")] = B(std::to_string(round));
    cache.Committed(block);
    for (int i = 0; i < 20; ++i) cache.Put(B(KeyOfRead(round, i)), B("x"));
    CHECK(Cached(cache, "hot") == B(std::to_string(round)));
  }
  CHECK(cache.bytes() <= 8 * 1024 + 512);
  std::optional<Bytes> value;
  CHECK_FALSE(cache.Find(B(KeyOfRead(0, 0)), value));  // long gone
}
