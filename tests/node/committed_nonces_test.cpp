#include "node/committed_nonces.h"

#include <doctest/doctest.h>

#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

TEST_CASE("a nonce read from the store before a commit is not kept after it") {
  CommittedNonces nonces(100);
  const PublicKey a = KeyOf("a").Public();
  uint64_t before = 0;
  CHECK_FALSE(nonces.Find(a, before).has_value());
  // The reader read nonce 3 from the store; meanwhile a block moved the sender to 4.
  nonces.Committed({{a, 4}});
  nonces.Offer(a, 3, before);
  uint64_t generation = 0;
  CHECK(nonces.Find(a, generation) == std::optional<uint64_t>(4));

  // A sender the block did not touch: the stale read is dropped, not kept.
  const PublicKey b = KeyOf("b").Public();
  CHECK_FALSE(nonces.Find(b, before).has_value());
  nonces.Committed({{a, 5}});
  nonces.Offer(b, 7, before);
  CHECK_FALSE(nonces.Find(b, generation).has_value());
  // Read with no commit in between: kept.
  nonces.Offer(b, 7, generation);
  CHECK(nonces.Find(b, generation) == std::optional<uint64_t>(7));
}

TEST_CASE("the nonce cache never holds more senders than its capacity") {
  CommittedNonces nonces(3);
  for (int i = 0; i < 10; ++i) {
    nonces.Committed({{KeyOf("sender " + std::to_string(i)).Public(), uint64_t(i)}});
    CHECK(nonces.size() <= 3);
  }
  uint64_t generation = 0;
  CHECK(nonces.Find(KeyOf("sender 9").Public(), generation) == std::optional<uint64_t>(9));
}
