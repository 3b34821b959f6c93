#include "node/p2p_handshake.h"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "chain/signing.h"
#include "puhui.pb.h"
#include "test_util.h"

namespace puhui {
namespace {

using testing::KeyOf;
using Role = Handshake::Role;

std::function<bool(const PublicKey&)> AllowNames(std::vector<std::string> names) {
  std::set<PublicKey> keys;
  for (const auto& n : names) keys.insert(KeyOf(n).Public());
  return [keys](const PublicKey& k) { return keys.count(k) > 0; };
}

HandshakeConfig Config(const std::string& name, std::string chain = testing::kChainId) {
  return {std::move(chain), KeyOf(name), AllowNames({"alice", "bob"})};
}

// Delivers frames between the two sides until neither has anything to say; returns the first
// error of each side. `tamper` may rewrite a frame in flight (index counts all frames sent).
struct Run {
  Status initiator_status;
  Status responder_status;
};

Run Exchange(Handshake& initiator, Handshake& responder,
             const std::function<void(size_t, bool, std::string&)>& tamper = {}) {
  Run run;
  std::vector<std::string> to_responder = initiator.Start();
  std::vector<std::string> to_initiator = responder.Start();
  size_t index = 0;
  while (!to_responder.empty() || !to_initiator.empty()) {
    std::vector<std::string> next_to_responder, next_to_initiator;
    for (auto& f : to_responder) {
      if (tamper) tamper(index, true, f);
      ++index;
      if (!run.responder_status.ok()) break;
      auto out = responder.OnFrame(AsBytes(f));
      if (!out.ok()) {
        run.responder_status = out.status();
        break;
      }
      for (auto& o : *out) next_to_initiator.push_back(std::move(o));
    }
    for (auto& f : to_initiator) {
      if (tamper) tamper(index, false, f);
      ++index;
      if (!run.initiator_status.ok()) break;
      auto out = initiator.OnFrame(AsBytes(f));
      if (!out.ok()) {
        run.initiator_status = out.status();
        break;
      }
      for (auto& o : *out) next_to_responder.push_back(std::move(o));
    }
    to_responder = std::move(next_to_responder);
    to_initiator = std::move(next_to_initiator);
  }
  return run;
}

bool Contains(const Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

TEST_CASE("a handshake between allowed peers gives both sides matching keys") {
  Handshake initiator(Role::kInitiator, Config("alice"));
  Handshake responder(Role::kResponder, Config("bob"));
  Run run = Exchange(initiator, responder);
  REQUIRE(run.initiator_status.ok());
  REQUIRE(run.responder_status.ok());
  REQUIRE(initiator.done());
  REQUIRE(responder.done());
  HandshakeResult i = initiator.TakeResult();
  HandshakeResult r = responder.TakeResult();
  CHECK(i.peer_key == KeyOf("bob").Public());
  CHECK(r.peer_key == KeyOf("alice").Public());
  CHECK(i.transcript == r.transcript);
  CHECK(i.send_key == r.receive_key);
  CHECK(i.receive_key == r.send_key);
  CHECK(i.send_key != i.receive_key);
  // The session continues where the handshake's sealed frames left off.
  std::string sealed = *i.sealer.Seal(AsBytes(std::string("first message")));
  CHECK(*r.opener.Open(AsBytes(sealed)) == "first message");
  sealed = *r.sealer.Seal(AsBytes(std::string("reply")));
  CHECK(*i.opener.Open(AsBytes(sealed)) == "reply");
}

TEST_CASE("two handshakes between the same peers derive different keys") {
  Handshake i1(Role::kInitiator, Config("alice")), r1(Role::kResponder, Config("bob"));
  Handshake i2(Role::kInitiator, Config("alice")), r2(Role::kResponder, Config("bob"));
  REQUIRE(Exchange(i1, r1).initiator_status.ok());
  REQUIRE(Exchange(i2, r2).initiator_status.ok());
  CHECK(i1.TakeResult().send_key != i2.TakeResult().send_key);
}

TEST_CASE("a peer on another chain is refused by both sides") {
  Handshake initiator(Role::kInitiator, Config("alice", "other-chain"));
  Handshake responder(Role::kResponder, Config("bob"));
  Run run = Exchange(initiator, responder);
  CHECK(run.responder_status.code() == StatusCode::kPermissionDenied);
  CHECK(Contains(run.responder_status, "peer is on chain 'other-chain'"));
  CHECK_FALSE(initiator.done());
  CHECK_FALSE(responder.done());
}

TEST_CASE("a peer whose key is not allowed is refused") {
  Handshake initiator(Role::kInitiator, Config("mallory"));
  Handshake responder(Role::kResponder, Config("bob"));
  Run run = Exchange(initiator, responder);
  CHECK(run.responder_status.code() == StatusCode::kPermissionDenied);
  CHECK(Contains(run.responder_status, "not allowed"));

  // And the other way round: the initiator refuses a responder it does not allow.
  HandshakeConfig picky = Config("alice");
  picky.is_allowed = AllowNames({"carol"});
  Handshake initiator2(Role::kInitiator, picky);
  Handshake responder2(Role::kResponder, Config("bob"));
  run = Exchange(initiator2, responder2);
  CHECK(Contains(run.initiator_status, "not allowed"));
  CHECK_FALSE(responder2.done());
}

TEST_CASE("a peer of another protocol version is refused") {
  Handshake initiator(Role::kInitiator, Config("alice"));
  Handshake responder(Role::kResponder, Config("bob"));
  Run run = Exchange(initiator, responder, [](size_t index, bool, std::string& frame) {
    if (index != 0) return;
    pb::P2pHello hello;
    REQUIRE(hello.ParseFromString(frame));
    hello.set_version(kP2pProtocolVersion + 1);
    frame = hello.SerializeAsString();
  });
  CHECK(Contains(run.responder_status, "p2p version 2"));
}

TEST_CASE("a peer claiming an allowed key it does not hold is refused: forged signature") {
  // Mallory runs the protocol by hand, claiming Alice's key, and signs with her own.
  const std::string chain = testing::kChainId;
  Handshake responder(Role::kResponder, Config("bob"));
  REQUIRE(responder.Start().empty());
  EphemeralKey eph = EphemeralKey::Generate();
  pb::P2pHello hello;
  hello.set_chain_id(chain);
  hello.set_node_key(testing::RawAddr("alice"));
  hello.set_ephemeral_key(ToString(ByteView(eph.public_key())));
  hello.set_version(kP2pProtocolVersion);
  auto reply = responder.OnFrame(AsBytes(hello.SerializeAsString()));
  REQUIRE(reply.ok());
  REQUIRE(reply->size() == 2);
  pb::P2pHello bob_hello;
  REQUIRE(bob_hello.ParseFromString((*reply)[0]));
  const Hash32 bob_eph = *ToHash32(AsBytes(bob_hello.ephemeral_key()));
  const Hash32 transcript = HandshakeTranscript(chain, eph.public_key(), bob_eph,
                                                KeyOf("alice").Public(), KeyOf("bob").Public());
  SessionKeys keys = *DeriveSessionKeys(*eph.SharedSecret(bob_eph), transcript);
  // Mallory can read Bob's auth (she did the key exchange) ...
  FrameOpener opener(keys.responder_to_initiator);
  REQUIRE(opener.Open(AsBytes((*reply)[1])).ok());
  // ... but cannot sign as Alice.
  pb::P2pAuth auth;
  const Signature forged =
      KeyOf("mallory").Sign(SigningHash(chain, SignKind::kHandshake, transcript));
  auth.set_signature(ToString(ByteView(forged)));
  FrameSealer sealer(keys.initiator_to_responder);
  auto result = responder.OnFrame(AsBytes(*sealer.Seal(AsBytes(auth.SerializeAsString()))));
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kUnauthenticated);
  CHECK(Contains(result.status(), "handshake signature does not verify"));
  CHECK_FALSE(responder.done());
  // The failure is final.
  CHECK_FALSE(responder.OnFrame(AsBytes(std::string("again"))).ok());
}

TEST_CASE("a man in the middle swapping the ephemeral keys makes both sides fail") {
  Handshake initiator(Role::kInitiator, Config("alice"));
  Handshake responder(Role::kResponder, Config("bob"));
  EphemeralKey to_bob = EphemeralKey::Generate();
  EphemeralKey to_alice = EphemeralKey::Generate();
  // Swap the ephemeral key of each hello for one of the attacker's, who could then derive a
  // secret with each side; the signed transcripts no longer match, so nothing opens or verifies.
  Run run = Exchange(initiator, responder, [&](size_t, bool toward_responder, std::string& frame) {
    pb::P2pHello hello;
    if (!hello.ParseFromString(frame) || hello.ephemeral_key().size() != 32 ||
        hello.chain_id().empty()) {
      return;
    }
    const EphemeralKey& mine = toward_responder ? to_bob : to_alice;
    hello.set_ephemeral_key(ToString(ByteView(mine.public_key())));
    frame = hello.SerializeAsString();
  });
  CHECK_FALSE(run.initiator_status.ok());
  CHECK_FALSE(run.responder_status.ok());
  CHECK(run.initiator_status.code() == StatusCode::kUnauthenticated);
  CHECK_FALSE(initiator.done());
  CHECK_FALSE(responder.done());
}

TEST_CASE("a tampered authentication frame is refused") {
  Handshake initiator(Role::kInitiator, Config("alice"));
  Handshake responder(Role::kResponder, Config("bob"));
  Run run = Exchange(initiator, responder, [](size_t index, bool, std::string& frame) {
    if (index == 2) frame[frame.size() / 2] ^= 0x04;  // the responder's P2pAuth
  });
  CHECK(run.initiator_status.code() == StatusCode::kUnauthenticated);
  CHECK_FALSE(initiator.done());
}

TEST_CASE("a peer presenting this node's own key is refused") {
  HandshakeConfig self = Config("alice");
  Handshake initiator(Role::kInitiator, Config("alice"));
  Handshake responder(Role::kResponder, self);
  Run run = Exchange(initiator, responder);
  CHECK(Contains(run.responder_status, "own key"));
}

TEST_CASE("garbage instead of a hello is refused") {
  Handshake responder(Role::kResponder, Config("bob"));
  REQUIRE(responder.Start().empty());
  auto out = responder.OnFrame(AsBytes(std::string("\xff\xff\xff garbage", 11)));
  CHECK_FALSE(out.ok());
}

TEST_CASE("an all-zero ephemeral key gives no secret") {
  EphemeralKey eph = EphemeralKey::Generate();
  CHECK_FALSE(eph.SharedSecret(kZeroHash).ok());
}

}  // namespace
}  // namespace puhui
