#include "chain/hash.h"

#include <doctest/doctest.h>

#include <cctype>
#include <string>

#include "chain/bytes.h"

namespace puhui {
namespace {

// FIPS 180-2 / NIST example digests.
TEST_CASE("SHA-256 matches the published known answers") {
  CHECK(Hex(Sha256(std::string_view(""))) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Hex(Sha256(std::string_view("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Hex(Sha256(std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("a tagged hash is SHA-256 of the tag hash twice then the message") {
  const std::string tag = "puhui/test";
  const std::string msg = "abc";
  Hash32 t = Sha256(tag);
  Bytes preimage(t.begin(), t.end());
  preimage.insert(preimage.end(), t.begin(), t.end());
  preimage.insert(preimage.end(), msg.begin(), msg.end());
  CHECK(TaggedHash(tag, AsBytes(msg)) == Sha256(ByteView(preimage)));
  // Computed independently of this code base, so a change to the construction is caught.
  CHECK(Hex(TaggedHash(tag, AsBytes(msg))) ==
        "bc46c51856c153a9a4b93f619b57307716e18d5bd86dfef84d6697ecf3e0388c");
}

TEST_CASE("tagged hashes under different tags differ") {
  CHECK(TaggedHash("puhui/a", AsBytes("x")) != TaggedHash("puhui/b", AsBytes("x")));
  CHECK(TaggedHash("puhui/a", AsBytes("x")) != Sha256(std::string_view("x")));
}

TEST_CASE("the incremental hasher equals the one-shot hash") {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7));
  Sha256Hasher h;
  // Uneven pieces that straddle SHA-256's 64-byte block boundary.
  h.Update(AsBytes(std::string_view(data).substr(0, 1)));
  h.Update(AsBytes(std::string_view(data).substr(1, 63)));
  h.Update(AsBytes(std::string_view(data).substr(64, 100)));
  h.Update(AsBytes(std::string_view(data).substr(164)));
  CHECK(h.Finish() == Sha256(std::string_view(data)));

  SUBCASE("and is reusable after Finish") {
    h.Update(AsBytes("abc"));
    CHECK(h.Finish() == Sha256(std::string_view("abc")));
  }
}

TEST_CASE("the tagged hasher equals the one-shot tagged hash") {
  TaggedHasher h("puhui/test");
  h.Update(AsBytes("ab")).Update(AsBytes("c"));
  CHECK(h.Finish() == TaggedHash("puhui/test", AsBytes("abc")));
}

TEST_CASE("hex round trips in both cases") {
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<uint8_t>(i));
  std::string hex = Hex(all);
  CHECK(hex.size() == 512);
  CHECK(hex.substr(0, 8) == "00010203");
  CHECK(hex.substr(504) == "fcfdfeff");
  CHECK(FromHex(hex) == all);

  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(FromHex(upper) == all);

  CHECK(FromHex("") == Bytes{});
  CHECK(Hex(Bytes{}).empty());
}

TEST_CASE("hex decoding rejects odd length and non-hex digits") {
  CHECK_FALSE(FromHex("abc").has_value());
  CHECK_FALSE(FromHex("0").has_value());
  CHECK_FALSE(FromHex("0g").has_value());
  CHECK_FALSE(FromHex("zz").has_value());
  CHECK_FALSE(FromHex("0x00").has_value());
  CHECK_FALSE(FromHex(" 00").has_value());
}

TEST_CASE("a 32-byte hash parses only from exactly 64 hex digits") {
  const std::string hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  auto h = Hash32FromHex(hex);
  REQUIRE(h.has_value());
  CHECK(*h == Sha256(std::string_view("")));
  CHECK_FALSE(Hash32FromHex(hex.substr(2)).has_value());
  CHECK_FALSE(Hash32FromHex(hex + "00").has_value());
  CHECK_FALSE(ToHash32(Bytes(31)).has_value());
}

}  // namespace
}  // namespace puhui
