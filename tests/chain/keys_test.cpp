#include "chain/keys.h"

#include <doctest/doctest.h>

#include <atomic>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "chain/bytes.h"
#include "chain/hash.h"

namespace puhui {
namespace {

// One row of bitcoin/bips bip-0340/test-vectors.csv, transcribed verbatim (all 19 rows, including
// 15-18 with messages that are not 32 bytes long). An empty secret key marks a
// verification-only row.
struct Bip340Vector {
  int index;
  const char* secret_key;
  const char* public_key;
  const char* aux_rand;
  const char* message;
  const char* signature;
  bool valid;
  const char* comment;
};

constexpr Bip340Vector kBip340Vectors[] = {
    {0, "0000000000000000000000000000000000000000000000000000000000000003",
     "F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA8215"
     "25F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0",
     true, ""},
    {1, "B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFEF",
     "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659",
     "0000000000000000000000000000000000000000000000000000000000000001",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "6896BD60EEAE296DB48A229FF71DFE071BDE413E6D43F917DC8DCF8C78DE3341"
     "8906D11AC976ABCCB20B091292BFF4EA897EFCB639EA871CFA95F6DE339E4B0A",
     true, ""},
    {2, "C90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B14E5C9",
     "DD308AFEC5777E13121FA72B9CC1B7CC0139715309B086C960E18FD969774EB8",
     "C87AA53824B4D7AE2EB035A2B5BBBCCC080E76CDC6D1692C4B0B62D798E6D906",
     "7E2D58D8B3BCDF1ABADEC7829054F90DDA9805AAB56C77333024B9D0A508B75C",
     "5831AAEED7B44BB74E5EAB94BA9D4294C49BCF2A60728D8B4C200F50DD313C1B"
     "AB745879A5AD954A72C45A91C3A51D3C7ADEA98D82F8481E0E1E03674A6F3FB7",
     true, ""},
    {3, "0B432B2677937381AEF05BB02A66ECD012773062CF3FA2549E44F58ED2401710",
     "25D1DFF95105F5253C4022F628A996AD3A0D95FBF21D468A1B33F8C160D8F517",
     "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
     "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
     "7EB0509757E246F19449885651611CB965ECC1A187DD51B64FDA1EDC9637D5EC"
     "97582B9CB13DB3933705B32BA982AF5AF25FD78881EBB32771FC5922EFC66EA3",
     true, "test fails if msg is reduced modulo p or n"},
    {4, "", "D69C3509BB99E412E68B0FE8544E72837DFA30746D8BE2AA65975F29D22DC7B9", "",
     "4DF3C3F68FCC83B27E9D42C90431A72499F17875C81A599B566C9889B9696703",
     "00000000000000000000003B78CE563F89A0ED9414F5AA28AD0D96D6795F9C63"
     "76AFB1548AF603B3EB45C9F8207DEE1060CB71C04E80F593060B07D28308D7F4",
     true, ""},
    {5, "", "EEFDEA4CDB677750A420FEE807EACF21EB9898AE79B9768766E4FAA04A2D4A34", "",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E177769"
     "69E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B",
     false, "public key not on the curve"},
    {6, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "FFF97BD5755EEEA420453A14355235D382F6472F8568A18B2F057A1460297556"
     "3CC27944640AC607CD107AE10923D9EF7A73C643E166BE5EBEAFA34B1AC553E2",
     false, "has_even_y(R) is false"},
    {7, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "1FA62E331EDBC21C394792D2AB1100A7B432B013DF3F6FF4F99FCB33E0E1515F"
     "28890B3EDB6E7189B630448B515CE4F8622A954CFE545735AAEA5134FCCDB2BD",
     false, "negated message"},
    {8, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E177769"
     "961764B3AA9B2FFCB6EF947B6887A226E8D7C93E00C5ED0C1834FF0D0C2E6DA6",
     false, "negated s value"},
    {9, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "0000000000000000000000000000000000000000000000000000000000000000"
     "123DDA8328AF9C23A94C1FEECFD123BA4FB73476F0D594DCB65C6425BD186051",
     false,
     "sG - eP is infinite. Test fails in single verification if has_even_y(inf) is defined "
     "as true and x(inf) as 0"},
    {10, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "0000000000000000000000000000000000000000000000000000000000000001"
     "7615FBAF5AE28864013C099742DEADB4DBA87F11AC6754F93780D5A1837CF197",
     false,
     "sG - eP is infinite. Test fails in single verification if has_even_y(inf) is defined "
     "as true and x(inf) as 1"},
    {11, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "4A298DACAE57395A15D0795DDBFD1DCB564DA82B0F269BC70A74F8220429BA1D"
     "69E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B",
     false, "sig[0:32] is not an X coordinate on the curve"},
    {12, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F"
     "69E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B",
     false, "sig[0:32] is equal to field size"},
    {13, "", "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659", "",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E177769"
     "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
     false, "sig[32:64] is equal to curve order"},
    {14, "", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC30", "",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E177769"
     "69E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B",
     false, "public key is not a valid X coordinate because it exceeds the field size"},
    {15, "0340034003400340034003400340034003400340034003400340034003400340",
     "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117",
     "0000000000000000000000000000000000000000000000000000000000000000", "",
     "71535DB165ECD9FBBC046E5FFAEA61186BB6AD436732FCCC25291A55895464CF"
     "6069CE26BF03466228F19A3A62DB8A649F2D560FAC652827D1AF0574E427AB63",
     true, "message of size 0 (added 2022-12)"},
    {16, "0340034003400340034003400340034003400340034003400340034003400340",
     "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117",
     "0000000000000000000000000000000000000000000000000000000000000000", "11",
     "08A20A0AFEF64124649232E0693C583AB1B9934AE63B4C3511F3AE1134C6A303"
     "EA3173BFEA6683BD101FA5AA5DBC1996FE7CACFC5A577D33EC14564CEC2BACBF",
     true, "message of size 1 (added 2022-12)"},
    {17, "0340034003400340034003400340034003400340034003400340034003400340",
     "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "0102030405060708090A0B0C0D0E0F1011",
     "5130F39A4059B43BC7CAC09A19ECE52B5D8699D1A71E3C52DA9AFDB6B50AC370"
     "C4A482B77BF960F8681540E25B6771ECE1E5A37FD80E5A51897C5566A97EA5A5",
     true, "message of size 17 (added 2022-12)"},
    {18, "0340034003400340034003400340034003400340034003400340034003400340",
     "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "9999999999999999999999999999999999999999999999999999999999999999"
     "9999999999999999999999999999999999999999999999999999999999999999"
     "9999999999999999999999999999999999999999999999999999999999999999"
     "99999999",
     "403B12B0D8555A344175EA7EC746566303321E5DBFA8BE6F091635163ECA79A8"
     "585ED3E3170807E7C03B720FC54C7B23897FCBA0E9D0B4A06894CFD249F22367",
     true, "message of size 100 (added 2022-12)"},
};

Bytes Unhex(std::string_view hex) {
  auto b = FromHex(hex);
  REQUIRE(b.has_value());
  return *b;
}

Hash32 Unhex32(std::string_view hex) {
  auto h = Hash32FromHex(hex);
  REQUIRE(h.has_value());
  return *h;
}

Signature UnhexSig(std::string_view hex) {
  auto s = ToSignature(Unhex(hex));
  REQUIRE(s.has_value());
  return *s;
}

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

TEST_CASE("all 19 published BIP340 vectors are transcribed") {
  CHECK(std::size(kBip340Vectors) == 19);
  for (size_t i = 0; i < std::size(kBip340Vectors); ++i) {
    CHECK(kBip340Vectors[i].index == static_cast<int>(i));
  }
}

TEST_CASE("BIP340 signing vectors reproduce the published key and signature") {
  int signing_rows = 0;
  for (const Bip340Vector& v : kBip340Vectors) {
    if (std::string_view(v.secret_key).empty()) continue;
    CAPTURE(v.index);
    ++signing_rows;
    auto key = PrivateKey::FromBytes(Unhex32(v.secret_key));
    REQUIRE(key.ok());
    CHECK(Upper(Hex(key->Public().bytes)) == v.public_key);

    const Hash32 aux = Unhex32(v.aux_rand);
    const Bytes msg = Unhex(v.message);
    CHECK(Upper(Hex(key->SignBip340WithAux(msg, aux))) == v.signature);
    if (msg.size() == 32) {  // the path Puhui itself uses for its tagged digests
      auto digest = ToHash32(msg);
      CHECK(Upper(Hex(key->SignWithAux(*digest, aux))) == v.signature);
    }
  }
  CHECK(signing_rows == 8);  // rows 0-3 and 15-18
}

TEST_CASE("BIP340 verification vectors give the published result") {
  for (const Bip340Vector& v : kBip340Vectors) {
    CAPTURE(v.index);
    CAPTURE(v.comment);
    const Bytes pub_bytes = Unhex(v.public_key);
    const Bytes msg = Unhex(v.message);
    const Signature sig = UnhexSig(v.signature);

    auto parsed = ParsePublicKey(pub_bytes);
    // A key that does not parse can never verify anything, so the result must be false.
    if (!parsed.ok()) {
      CHECK_FALSE(v.valid);
      CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
    }
    // VerifySchnorr is also given the raw bytes, to show it rejects an invalid key by itself.
    const PublicKey raw{*ToHash32(pub_bytes)};
    CHECK(VerifyBip340(raw, msg, sig) == v.valid);
    if (msg.size() == 32) CHECK(VerifySchnorr(raw, *ToHash32(msg), sig) == v.valid);
  }
}

TEST_CASE("BIP340 vectors with an invalid public key fail to parse") {
  // Row 5: not on the curve; row 14: exceeds the field size.
  for (int index : {5, 14}) {
    CAPTURE(index);
    CHECK_FALSE(ParsePublicKey(Unhex(kBip340Vectors[index].public_key)).ok());
  }
  // Every other row's key is a valid point, so its FALSE result comes from the signature.
  for (const Bip340Vector& v : kBip340Vectors) {
    if (v.index == 5 || v.index == 14) continue;
    CAPTURE(v.index);
    CHECK(ParsePublicKey(Unhex(v.public_key)).ok());
  }
}

TEST_CASE("a generated key signs and the signature verifies") {
  PrivateKey key = PrivateKey::Generate();
  const Hash32 msg = Sha256(std::string_view("hello"));
  const Signature sig = key.Sign(msg);
  CHECK(VerifySchnorr(key.Public(), msg, sig));
  // The secret round trips through FromBytes to the same public key.
  auto again = PrivateKey::FromBytes(key.secret());
  REQUIRE(again.ok());
  CHECK(again->Public() == key.Public());
}

TEST_CASE("two generated keys differ") {
  CHECK(PrivateKey::Generate().Public() != PrivateKey::Generate().Public());
}

TEST_CASE("signing twice uses fresh randomness and both signatures verify") {
  PrivateKey key = PrivateKey::Generate();
  const Hash32 msg = Sha256(std::string_view("twice"));
  const Signature a = key.Sign(msg);
  const Signature b = key.Sign(msg);
  CHECK(a != b);
  CHECK(VerifySchnorr(key.Public(), msg, a));
  CHECK(VerifySchnorr(key.Public(), msg, b));
}

TEST_CASE("signing with fixed aux randomness is deterministic") {
  auto key = PrivateKey::FromBytes(Sha256(std::string_view("fixed key")));
  REQUIRE(key.ok());
  const Hash32 msg = Sha256(std::string_view("m"));
  CHECK(key->SignWithAux(msg, kZeroHash) == key->SignWithAux(msg, kZeroHash));
}

TEST_CASE("a signature does not verify under another key") {
  PrivateKey a = PrivateKey::Generate();
  PrivateKey b = PrivateKey::Generate();
  const Hash32 msg = Sha256(std::string_view("payload"));
  CHECK_FALSE(VerifySchnorr(b.Public(), msg, a.Sign(msg)));
}

TEST_CASE("a flipped bit in the message the signature or the key fails verification") {
  PrivateKey key = PrivateKey::Generate();
  const PublicKey pub = key.Public();
  const Hash32 msg = Sha256(std::string_view("flip me"));
  const Signature sig = key.Sign(msg);
  REQUIRE(VerifySchnorr(pub, msg, sig));

  for (size_t bit = 0; bit < msg.size() * 8; ++bit) {
    Hash32 m = msg;
    m[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    CHECK_FALSE(VerifySchnorr(pub, m, sig));
  }
  for (size_t bit = 0; bit < sig.size() * 8; ++bit) {
    Signature s = sig;
    s[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    CHECK_FALSE(VerifySchnorr(pub, msg, s));
  }
  // About half of these are not valid keys at all; either way nothing may verify or abort.
  for (size_t bit = 0; bit < pub.bytes.size() * 8; ++bit) {
    PublicKey p = pub;
    p.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    CHECK_FALSE(VerifySchnorr(p, msg, sig));
  }
}

TEST_CASE("private keys must be nonzero and below the curve order") {
  const std::string order = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141";
  CHECK_FALSE(PrivateKey::FromBytes(kZeroHash).ok());
  CHECK(PrivateKey::FromBytes(kZeroHash).status().code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(PrivateKey::FromBytes(Unhex32(order)).ok());
  CHECK_FALSE(PrivateKey::FromBytes(
                  Unhex32("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364142"))
                  .ok());
  CHECK_FALSE(PrivateKey::FromBytes(Unhex32(std::string(64, 'F'))).ok());
  // The extremes of the valid range.
  CHECK(PrivateKey::FromBytes(
            Unhex32("0000000000000000000000000000000000000000000000000000000000000001"))
            .ok());
  CHECK(PrivateKey::FromBytes(
            Unhex32("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140"))
            .ok());
}

TEST_CASE("public keys and signatures parse only at their exact lengths") {
  const PublicKey pub = PrivateKey::Generate().Public();
  auto parsed = ParsePublicKey(pub.bytes);
  REQUIRE(parsed.ok());
  CHECK(*parsed == pub);
  CHECK_FALSE(ParsePublicKey(ByteView(pub.bytes).first(31)).ok());
  CHECK_FALSE(ParsePublicKey(Bytes(33, 2)).ok());
  CHECK_FALSE(ParsePublicKey(Bytes{}).ok());
  CHECK_FALSE(ParsePublicKey(kZeroHash).ok());  // x = 0 is not on secp256k1

  CHECK(ToSignature(Bytes(64, 1)).has_value());
  CHECK_FALSE(ToSignature(Bytes(63, 1)).has_value());
  CHECK_FALSE(ToSignature(Bytes(65, 1)).has_value());
}

TEST_CASE("verification is correct when run from many threads at once") {
  struct Item {
    PublicKey pub;
    Hash32 msg;
    Signature sig;
  };
  std::vector<Item> items;
  for (int i = 0; i < 32; ++i) {
    PrivateKey key = PrivateKey::Generate();
    Hash32 msg = Sha256(std::string_view(std::to_string(i)));
    items.push_back({key.Public(), msg, key.Sign(msg)});
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 10; ++round) {
        for (size_t i = 0; i < items.size(); ++i) {
          const Item& it = items[i];
          // Alternate a good check with a mismatched one so both answers are exercised.
          const Item& other = items[(i + 1 + static_cast<size_t>(t)) % items.size()];
          if (!VerifySchnorr(it.pub, it.msg, it.sig)) ++wrong;
          if (VerifySchnorr(other.pub, it.msg, it.sig)) ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong.load() == 0);
}

TEST_CASE("parsed keys are remembered without ever mixing one key up with another") {
  // Many keys, each parsed twice (the second time from the cache) next to its neighbour and to a
  // key that is not on the curve: a cached parse must never answer for another key.
  std::vector<PrivateKey> keys;
  for (int i = 0; i < 300; ++i) keys.push_back(PrivateKey::Generate());
  const Hash32 msg = Sha256(std::string_view("parse cache"));
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < keys.size(); ++i) {
      const PublicKey pub = keys[i].Public();
      const PublicKey other = keys[(i + 1) % keys.size()].Public();
      const Signature sig = keys[i].Sign(msg);
      CHECK(ParsePublicKey(pub.bytes).ok());
      CHECK(VerifySchnorr(pub, msg, sig));
      CHECK_FALSE(VerifySchnorr(other, msg, sig));
    }
  }
  Hash32 not_on_curve{};
  not_on_curve.fill(0xff);  // x >= the field prime
  CHECK_FALSE(ParsePublicKey(not_on_curve).ok());
  CHECK_FALSE(VerifySchnorr(PublicKey{not_on_curve}, msg, keys[0].Sign(msg)));
}

}  // namespace
}  // namespace puhui
