#include "contracts/state_keys.h"

#include <doctest/doctest.h>

#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

TEST_CASE("state keys are their prefix, ids and raw address, back to back") {
  const PublicKey a = KeyOf("alice").Public();
  const std::string raw = ToString(a.bytes);
  CHECK(state_keys::Balance("SH-1", a) == ToBytes("bal/SH-1/" + raw));
  CHECK(state_keys::Account(a) == ToBytes("acct/" + raw));
  CHECK(state_keys::Batch("SH-1") == ToBytes("batch/SH-1"));
  CHECK(state_keys::Region("") == ToBytes("region/"));
  CHECK(state_keys::AccountAddress(state_keys::Account(a)) == a);
}

TEST_CASE("an 8-byte state integer is big-endian and decodes to itself") {
  CHECK(EncodeU64(0x0102030405060708ULL) == Bytes{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(EncodeU64(0) == Bytes(8, 0));
  for (uint64_t v : {0ULL, 1ULL, 255ULL, 256ULL, 1'000'000'000'000ULL, ~0ULL}) {
    CHECK(DecodeU64(EncodeU64(v)) == v);
  }
  CHECK_FALSE(DecodeU64(Bytes(7, 0)).has_value());
}
