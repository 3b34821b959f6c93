#include "chain/node_cache.h"

#include <doctest/doctest.h>

#include <string>

#include "chain/hash.h"

using namespace puhui;

TEST_CASE("the node cache returns what was put and forgets the oldest beyond its size") {
  NodeCache cache(16 * 1024);  // 1 KiB per shard
  std::vector<Hash32> hashes;
  for (int i = 0; i < 2000; ++i) {
    hashes.push_back(Sha256("node " + std::to_string(i)));
    cache.Put(hashes.back(), Bytes(100, static_cast<uint8_t>(i)));
  }
  CHECK(cache.Get(hashes.back()) == Bytes(100, static_cast<uint8_t>(1999)));
  size_t kept = 0;
  for (const auto& h : hashes) kept += cache.Get(h).has_value();
  CHECK(kept < 200);  // bounded by bytes, not by what was offered
  CHECK(kept > 50);
  CHECK_FALSE(cache.Get(hashes.front()).has_value());
  CHECK_FALSE(cache.Get(Sha256("never put")).has_value());
}

TEST_CASE("putting a node twice keeps one copy") {
  NodeCache cache(1 << 20);
  Hash32 h = Sha256("x");
  cache.Put(h, Bytes{1, 2, 3});
  cache.Put(h, Bytes{1, 2, 3});
  CHECK(cache.Get(h) == Bytes{1, 2, 3});
}
