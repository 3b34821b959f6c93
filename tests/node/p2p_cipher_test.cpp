#include "node/p2p_cipher.h"

#include <doctest/doctest.h>

#include <string>

namespace puhui {
namespace {

CipherKey KeyFilled(uint8_t b) {
  CipherKey k;
  k.fill(b);
  return k;
}

TEST_CASE("sealed frames open in order to the same plaintext") {
  FrameSealer sealer(KeyFilled(7));
  FrameOpener opener(KeyFilled(7));
  for (int i = 0; i < 100; ++i) {
    const std::string msg =
        "message " + std::to_string(i) + std::string(static_cast<size_t>(i), 'z');
    Result<std::string> sealed = sealer.Seal(AsBytes(msg));
    REQUIRE(sealed.ok());
    CHECK(sealed->size() == msg.size() + kSealOverheadBytes);
    CHECK(sealed->find(msg) == std::string::npos);  // not in the clear
    Result<std::string> opened = opener.Open(AsBytes(*sealed));
    REQUIRE(opened.ok());
    CHECK(*opened == msg);
  }
  CHECK(sealer.next_counter() == 100);
  CHECK(opener.next_counter() == 100);
}

TEST_CASE("an empty plaintext seals and opens") {
  FrameSealer sealer(KeyFilled(1));
  FrameOpener opener(KeyFilled(1));
  Result<std::string> sealed = sealer.Seal({});
  REQUIRE(sealed.ok());
  Result<std::string> opened = opener.Open(AsBytes(*sealed));
  REQUIRE(opened.ok());
  CHECK(opened->empty());
}

TEST_CASE("the same plaintext never seals to the same bytes twice") {
  FrameSealer sealer(KeyFilled(2));
  CHECK(*sealer.Seal(AsBytes(std::string("same"))) != *sealer.Seal(AsBytes(std::string("same"))));
}

TEST_CASE("a tampered ciphertext, tag or counter is refused") {
  const std::string msg = "transfer 100 g";
  for (size_t flip : {size_t{0}, size_t{7}, size_t{8}, size_t{12}, kSealCounterBytes + 13}) {
    FrameSealer sealer(KeyFilled(3));
    FrameOpener opener(KeyFilled(3));
    std::string sealed = *sealer.Seal(AsBytes(msg));
    REQUIRE(flip < sealed.size());
    sealed[flip] = static_cast<char>(sealed[flip] ^ 0x01);
    Result<std::string> opened = opener.Open(AsBytes(sealed));
    CHECK_FALSE(opened.ok());
    CHECK(opened.status().code() == StatusCode::kUnauthenticated);
  }
  FrameSealer sealer(KeyFilled(3));
  FrameOpener opener(KeyFilled(3));
  std::string sealed = *sealer.Seal(AsBytes(msg));
  sealed.back() = static_cast<char>(sealed.back() ^ 0x80);  // the tag's last byte
  CHECK(opener.Open(AsBytes(sealed)).status().message().find("does not authenticate") !=
        std::string::npos);
  CHECK_FALSE(opener.Open(AsBytes(std::string(kSealOverheadBytes - 1, '\0'))).ok());
}

TEST_CASE("a frame sealed under another key is refused") {
  FrameSealer sealer(KeyFilled(4));
  FrameOpener opener(KeyFilled(5));
  CHECK_FALSE(opener.Open(AsBytes(*sealer.Seal(AsBytes(std::string("x"))))).ok());
}

TEST_CASE("a replayed frame is refused") {
  FrameSealer sealer(KeyFilled(6));
  FrameOpener opener(KeyFilled(6));
  const std::string first = *sealer.Seal(AsBytes(std::string("one")));
  REQUIRE(opener.Open(AsBytes(first)).ok());
  Result<std::string> again = opener.Open(AsBytes(first));
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().message().find("replayed or reordered") != std::string::npos);
}

TEST_CASE("a reordered frame is refused and the expected one still opens") {
  FrameSealer sealer(KeyFilled(8));
  FrameOpener opener(KeyFilled(8));
  const std::string a = *sealer.Seal(AsBytes(std::string("a")));
  const std::string b = *sealer.Seal(AsBytes(std::string("b")));
  CHECK_FALSE(opener.Open(AsBytes(b)).ok());
  CHECK(*opener.Open(AsBytes(a)) == "a");
  CHECK(*opener.Open(AsBytes(b)) == "b");
}

TEST_CASE("the sealer refuses to seal once its counters run out, never reusing a nonce") {
  FrameSealer sealer(KeyFilled(9), kSealCounterLimit - 2);
  FrameOpener opener(KeyFilled(9), kSealCounterLimit - 2);
  REQUIRE(opener.Open(AsBytes(*sealer.Seal(AsBytes(std::string("a"))))).ok());
  REQUIRE(opener.Open(AsBytes(*sealer.Seal(AsBytes(std::string("b"))))).ok());
  Result<std::string> last = sealer.Seal(AsBytes(std::string("c")));
  REQUIRE_FALSE(last.ok());
  CHECK(last.status().code() == StatusCode::kResourceExhausted);
  CHECK_FALSE(sealer.Seal(AsBytes(std::string("d"))).ok());
  CHECK(sealer.next_counter() == kSealCounterLimit);
}

}  // namespace
}  // namespace puhui
