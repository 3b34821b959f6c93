#include "node/mempool.h"

#include <doctest/doctest.h>

#include "node/verifier_pool.h"
#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {
auto Zero = [](const PublicKey&) { return uint64_t{0}; };
}

TEST_CASE("the mempool refuses a transaction it already holds") {
  Mempool m({});
  DecodedTx tx = Decoded(TransferBody("owner", "alice", 1, 0), "owner");
  CHECK(m.Add(tx, 0, 1).ok());
  Status again = m.Add(tx, 0, 1);
  CHECK(again.code() == StatusCode::kAlreadyExists);
  CHECK(m.size() == 1);
}

TEST_CASE("a second transaction with a pending nonce is refused") {
  Mempool m({});
  CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 0), "owner"), 0, 1).ok());
  Status s = m.Add(Decoded(TransferBody("owner", "alice", 2, 0), "owner"), 0, 1);
  CHECK(s.code() == StatusCode::kAlreadyExists);
  CHECK(s.message().find("nonce 0") != std::string::npos);
}

TEST_CASE("a used nonce and an expired transaction are refused") {
  Mempool m({});
  Status used = m.Add(Decoded(TransferBody("owner", "alice", 1, 2), "owner"), 3, 1);
  CHECK(used.code() == StatusCode::kFailedPrecondition);
  CHECK(used.message().find("already used") != std::string::npos);
  pb::TxBody body = TransferBody("owner", "alice", 1, 0);
  body.set_expiry_height(4);
  Status expired = m.Add(Decoded(body, "owner"), 0, 5);
  CHECK(expired.code() == StatusCode::kFailedPrecondition);
  CHECK(m.size() == 0);
}

TEST_CASE("the mempool enforces its entry, byte and per-sender limits") {
  SUBCASE("entries") {
    Mempool m({.max_txs = 3, .max_bytes = 1 << 20, .max_per_sender = 100});
    for (uint64_t n = 0; n < 3; ++n)
      CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, n), "owner"), 0, 1).ok());
    CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 3), "owner"), 0, 1).code() ==
          StatusCode::kResourceExhausted);
    CHECK(m.size() == 3);
  }
  SUBCASE("bytes") {
    DecodedTx a = Decoded(TransferBody("owner", "alice", 1, 0), "owner");
    DecodedTx b = Decoded(TransferBody("owner", "alice", 1, 1), "owner");
    const size_t limit = a.envelope_bytes.size() + b.envelope_bytes.size();
    Mempool m({.max_txs = 100, .max_bytes = limit, .max_per_sender = 100});
    CHECK(m.Add(a, 0, 1).ok());
    CHECK(m.Add(b, 0, 1).ok());
    CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 2), "owner"), 0, 1).code() ==
          StatusCode::kResourceExhausted);
    CHECK(m.bytes() == limit);
  }
  SUBCASE("per sender, and nonces too far ahead") {
    Mempool m({.max_txs = 100, .max_bytes = 1 << 20, .max_per_sender = 2});
    CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 0), "owner"), 0, 1).ok());
    CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 1), "owner"), 0, 1).ok());
    CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 2), "owner"), 0, 1).code() ==
          StatusCode::kResourceExhausted);
    CHECK(m.Add(Decoded(TransferBody("alice", "owner", 1, 0), "alice"), 0, 1).ok());
  }
}

TEST_CASE(
    "reaping takes each sender's consecutive nonces from the committed one, in arrival order") {
  Mempool m({});
  CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 1), "owner"), 0, 1).ok());
  CHECK(m.Add(Decoded(TransferBody("alice", "owner", 1, 0), "alice"), 0, 1).ok());
  CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 0), "owner"), 0, 1).ok());
  CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 3), "owner"), 0, 1).ok());  // gap at 2
  auto txs = m.Reap(100, 1 << 20, Zero);
  REQUIRE(txs.size() == 3);
  CHECK(txs[0].sender == KeyOf("owner").Public());
  CHECK(txs[0].body->nonce() == 0);
  CHECK(txs[1].body->nonce() == 1);
  CHECK(txs[2].sender == KeyOf("alice").Public());
  CHECK(m.PendingNonce(KeyOf("owner").Public(), 0) == 2);
  CHECK(m.Reap(2, 1 << 20, Zero).size() == 2);
}

TEST_CASE("after a block the mempool drops what was committed and what expired") {
  Mempool m({});
  CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 0), "owner"), 0, 1).ok());
  CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 1), "owner"), 0, 1).ok());
  pb::TxBody short_lived = TransferBody("alice", "owner", 1, 0);
  short_lived.set_expiry_height(2);
  CHECK(m.Add(Decoded(short_lived, "alice"), 0, 1).ok());
  PublicKey owner = KeyOf("owner").Public();
  const std::vector<PublicKey> block_senders = {owner};
  m.Update(
      block_senders, [&](const PublicKey& k) { return k == owner ? uint64_t{1} : uint64_t{0}; }, 3);
  CHECK(m.size() == 1);
  auto left = m.Reap(10, 1 << 20,
                     [&](const PublicKey& k) { return k == owner ? uint64_t{1} : uint64_t{0}; });
  REQUIRE(left.size() == 1);
  CHECK(left[0].body->nonce() == 1);
}

TEST_CASE("after a block the mempool reads only the block's senders' nonces") {
  Mempool m({});
  CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 0), "owner"), 0, 1).ok());
  CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 1), "owner"), 0, 1).ok());
  CHECK(m.Add(Decoded(TransferBody("alice", "owner", 1, 0), "alice"), 0, 1).ok());
  const PublicKey owner = KeyOf("owner").Public();
  std::vector<PublicKey> asked;
  auto nonces = [&](const PublicKey& k) {
    asked.push_back(k);
    return k == owner ? uint64_t{2} : uint64_t{1};  // alice's nonce moved too, but not by a block
  };
  // Two of owner's transactions, and one of a sender with nothing waiting here.
  const std::vector<PublicKey> block_senders = {owner, KeyOf("carol").Public(), owner};
  m.Update(block_senders, nonces, 2);
  CHECK(asked == std::vector<PublicKey>{owner});  // once, and only owner
  CHECK(m.size() == 1);
  CHECK(m.Contains(Decoded(TransferBody("alice", "owner", 1, 0), "alice").id));
  // A sender the block did not carry is left alone; a later block of that sender drops it.
  const std::vector<PublicKey> alice_block = {KeyOf("alice").Public()};
  m.Update(alice_block, nonces, 3);
  CHECK(m.size() == 0);
}

TEST_CASE("the mempool drops expired transactions once the chain passes their expiry") {
  Mempool m({});
  pb::TxBody soon = TransferBody("alice", "owner", 1, 0);
  soon.set_expiry_height(5);
  pb::TxBody later = TransferBody("owner", "alice", 1, 0);
  later.set_expiry_height(8);
  CHECK(m.Add(Decoded(soon, "alice"), 0, 1).ok());
  CHECK(m.Add(Decoded(later, "owner"), 0, 1).ok());
  m.Update({}, Zero, 5);  // block 4 committed: the next block is 5, nothing has expired
  CHECK(m.size() == 2);
  m.Update({}, Zero, 6);
  CHECK(m.size() == 1);
  CHECK(m.Contains(Decoded(later, "owner").id));
  m.Update({}, Zero, 8);
  CHECK(m.size() == 1);
  m.Update({}, Zero, 9);
  CHECK(m.size() == 0);
}

TEST_CASE(
    "the verifier pool checks signatures in parallel, each time it is asked, and counts them") {
  VerifierPool pool(2);
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < 10; ++n)
    txs.push_back(Decoded(TransferBody("owner", "alice", 1, n), "owner"));
  txs.push_back(Decoded(TransferBody("owner", "alice", 1, 99), "alice"));  // wrong signer
  std::vector<const DecodedTx*> ptrs;
  for (const auto& t : txs) ptrs.push_back(&t);
  auto ok = pool.Verify(ptrs);
  REQUIRE(ok.size() == 11);
  for (size_t i = 0; i < 10; ++i) CHECK(ok[i]);
  CHECK_FALSE(ok[10]);
  CHECK(pool.checked() == 11);
  // Asked again, it checks again: nothing is remembered.
  auto again = pool.Verify(std::span<const DecodedTx* const>(ptrs).subspan(9));
  CHECK(again == std::vector<bool>{true, false});
  CHECK(pool.checked() == 13);
  CHECK(pool.Verify({}).empty());
  CHECK(pool.checked() == 13);
  // What `needed` turns down is skipped and not counted; the rest is checked as before.
  auto some = pool.Verify(ptrs, [&](const DecodedTx& tx) { return tx.body->nonce() % 2 == 1; });
  REQUIRE(some.size() == 11);
  for (size_t i = 0; i < 10; ++i) {
    CHECK(some[i] == (i % 2 == 1 ? SignatureCheck::kGood : SignatureCheck::kSkipped));
  }
  CHECK(some[10] == SignatureCheck::kBad);  // nonce 99, wrong signer
  CHECK(pool.checked() == 19);
}

TEST_CASE("a transaction behind a nonce gap is held but not includable") {
  Mempool m({});
  CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 1), "owner"), 0, 1).ok());
  CHECK_FALSE(m.HasIncludable(Zero));
  CHECK(m.Reap(10, 1 << 20, Zero).empty());
  CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 0), "owner"), 0, 1).ok());
  CHECK(m.HasIncludable(Zero));
}

TEST_CASE("an expiry too far ahead is refused, so nothing waits in the mempool for ever") {
  Mempool m({.max_txs = 10, .max_bytes = 1 << 20, .max_per_sender = 10, .max_expiry_ahead = 100});
  pb::TxBody far = TransferBody("owner", "alice", 1, 0);
  far.set_expiry_height(1 + 101);
  Status s = m.Add(Decoded(far, "owner"), 0, 1);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message().find("more than 100 blocks ahead") != std::string::npos);
  far.set_expiry_height(1 + 100);
  CHECK(m.Add(Decoded(far, "owner"), 0, 1).ok());
}

TEST_CASE("the mempool says when it is full, and hands out copies of what it holds") {
  Mempool m({.max_txs = 2, .max_bytes = 1 << 20, .max_per_sender = 100});
  DecodedTx a = Decoded(TransferBody("owner", "alice", 1, 0), "owner");
  CHECK_FALSE(m.Get(a.id).has_value());
  REQUIRE(m.Add(a, 0, 1).ok());
  CHECK_FALSE(m.Full());
  auto held = m.Get(a.id);
  REQUIRE(held.has_value());
  CHECK(held->envelope_bytes == a.envelope_bytes);
  REQUIRE(m.Add(Decoded(TransferBody("owner", "alice", 1, 1), "owner"), 0, 1).ok());
  CHECK(m.Full());
  m.Remove(a.id);
  CHECK_FALSE(m.Full());
  CHECK_FALSE(m.Get(a.id).has_value());
}

TEST_CASE(
    "transactions still waiting blocks after their last offer are offered again, oldest first") {
  Mempool m({.max_txs = 100, .reoffer_after_blocks = 3, .max_reoffer_txs = 2});
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < 3; ++n)
    txs.push_back(Decoded(TransferBody("owner", "alice", 1, n), "owner"));
  // Admitted while the tip was 10 (next block 11): admission counts as the first offer.
  for (const auto& tx : txs) REQUIRE(m.Add(tx, 0, 11).ok());
  CHECK(m.TakeStale(12).empty());
  // At 13 they have waited three blocks: the two oldest go out (the bound), then the third.
  CHECK(m.TakeStale(13) == std::vector<std::string>{txs[0].envelope_bytes, txs[1].envelope_bytes});
  CHECK(m.TakeStale(13) == std::vector<std::string>{txs[2].envelope_bytes});
  CHECK(m.TakeStale(15).empty());
  // One that left the mempool is not offered; the others wait three blocks from their last offer.
  m.Remove(txs[1].id);
  CHECK(m.TakeStale(16) == std::vector<std::string>{txs[0].envelope_bytes, txs[2].envelope_bytes});
  CHECK(m.TakeStale(18).empty());
  m.Update(
      std::vector<PublicKey>{txs[0].sender}, [](const PublicKey&) { return uint64_t{1}; }, 19);
  CHECK(m.TakeStale(19) == std::vector<std::string>{txs[2].envelope_bytes});
  CHECK(m.size() == 1);
}

TEST_CASE(
    "transactions behind nonce gaps fill half the mempool at most, and past their share one that "
    "can "
    "go in the next block takes their place") {
  // Relays fill it to max_txs (10: 5 may wait behind gaps), clients to 4 (2 behind gaps).
  Mempool m({.max_txs = 10, .max_bytes = 1 << 20, .max_per_sender = 100});
  for (uint64_t n : {1, 2, 3}) {
    REQUIRE(m.Add(Decoded(TransferBody("alice", "owner", 1, n), "alice"), 0, 1).ok());
  }
  CHECK(m.behind_gaps() == 3);
  const PublicKey owner = KeyOf("owner").Public();

  SUBCASE("a client's behind a gap is refused once the share is taken, and nothing changes") {
    Status gap = m.Add(Decoded(TransferBody("carol", "owner", 1, 5), "carol"), 0, 1, 4);
    CHECK(gap.code() == StatusCode::kResourceExhausted);
    CHECK(gap.message().find("3 transactions wait behind nonce gaps") != std::string::npos);
    CHECK(gap.message().find("send nonce 0 first") != std::string::npos);
    CHECK(m.size() == 3);
    CHECK(m.displaced() == 0);
  }
  SUBCASE("past the share, the next nonce takes the place of the gapped sender's highest") {
    REQUIRE(m.Add(Decoded(TransferBody("owner", "alice", 1, 0), "owner"), 0, 1, 4).ok());
    CHECK_FALSE(m.Full(4));  // full for clients, but 3 behind gaps exceed their 2
    DecodedTx next = Decoded(TransferBody("owner", "alice", 1, 1), "owner");
    CHECK(m.HasRoom(owner, 1, 0, next.envelope_bytes.size(), 4));
    REQUIRE(m.Add(next, 0, 1, 4).ok());
    CHECK(m.size() == 4);
    CHECK(m.displaced() == 1);
    CHECK(m.behind_gaps() == 2);
    CHECK_FALSE(m.Contains(Decoded(TransferBody("alice", "owner", 1, 3), "alice").id));
    CHECK(m.Contains(Decoded(TransferBody("alice", "owner", 1, 2), "alice").id));
    // Within their share they stay: the next is refused, and blocks make room.
    CHECK(m.Full(4));
    CHECK(m.Add(Decoded(TransferBody("owner", "alice", 1, 2), "owner"), 0, 1, 4).code() ==
          StatusCode::kResourceExhausted);
    CHECK(m.displaced() == 1);
    CHECK(m.Reap(10, 1 << 20, Zero).size() == 2);  // owner's 0 and 1
  }
  SUBCASE("a sender's own later nonces behind a further gap go, the ones it makes ready stay") {
    Mempool own({.max_txs = 6, .max_bytes = 1 << 20, .max_per_sender = 100});
    for (uint64_t n : {1, 2, 9}) {
      REQUIRE(own.Add(Decoded(TransferBody("alice", "owner", 1, n), "alice"), 0, 1).ok());
    }
    REQUIRE(own.Add(Decoded(TransferBody("alice", "owner", 1, 0), "alice"), 0, 1, 3).ok());
    CHECK_FALSE(own.Contains(Decoded(TransferBody("alice", "owner", 1, 9), "alice").id));
    CHECK(own.Reap(10, 1 << 20, Zero).size() == 3);  // 0, 1, 2
    CHECK(own.behind_gaps() == 0);
  }
  SUBCASE("bytes are freed until the newcomer fits") {
    const size_t one = Decoded(TransferBody("alice", "owner", 1, 1), "alice").envelope_bytes.size();
    Mempool b({.max_txs = 100, .max_bytes = 3 * one + one / 2, .max_per_sender = 100});
    for (uint64_t n : {1, 2, 3}) {
      REQUIRE(b.Add(Decoded(TransferBody("alice", "owner", 1, n), "alice"), 0, 1, 100).ok());
    }
    REQUIRE(b.Add(Decoded(TransferBody("owner", "alice", 1, 0), "owner"), 0, 1, 4).ok());
    CHECK(b.displaced() == 1);
    CHECK(b.size() == 3);
    CHECK(b.bytes() <= 3 * one + one / 2);
  }
}

TEST_CASE("what waits behind a gap follows removals, expiry and blocks") {
  Mempool m({});
  const PublicKey alice = KeyOf("alice").Public();
  std::vector<DecodedTx> txs;
  for (uint64_t n = 0; n < 4; ++n) {
    txs.push_back(Decoded(TransferBody("alice", "owner", 1, n), "alice"));
    REQUIRE(m.Add(txs.back(), 0, 1).ok());
  }
  CHECK(m.behind_gaps() == 0);
  m.Remove(txs[1].id);  // 2 and 3 now wait for 1
  CHECK(m.behind_gaps() == 2);
  CHECK(m.PendingNonce(alice, 0) == 1);
  // A block commits alice's 0 and 1 (the 1 from another node): 2 and 3 can go in the next block.
  m.Update(
      std::vector<PublicKey>{alice}, [](const PublicKey&) { return uint64_t{2}; }, 2);
  CHECK(m.behind_gaps() == 0);
  CHECK(m.size() == 2);
  CHECK(m.Add(txs[1], 0, 2).code() ==
        StatusCode::kFailedPrecondition);  // used, though asked with 0
  pb::TxBody soon = TransferBody("alice", "owner", 1, 5);
  soon.set_expiry_height(3);
  REQUIRE(m.Add(Decoded(soon, "alice"), 2, 2).ok());
  CHECK(m.behind_gaps() == 1);
  m.Update({}, Zero, 4);
  CHECK(m.behind_gaps() == 0);
  CHECK(m.size() == 2);
}

TEST_CASE("asked for room, the mempool counts what a batch has already been let through") {
  // Clients fill it to 4, 2 of them behind gaps; relays have put 3 there.
  Mempool m({.max_txs = 10, .max_bytes = 1 << 20, .max_per_sender = 100});
  for (uint64_t n : {1, 2, 3}) {
    REQUIRE(m.Add(Decoded(TransferBody("alice", "owner", 1, n), "alice"), 0, 1).ok());
  }
  const PublicKey owner = KeyOf("owner").Public();
  const PublicKey carol = KeyOf("carol").Public();
  CHECK_FALSE(m.HasRoom(carol, 7, 0, 100, 4, 0));  // behind a gap: the share is taken
  // One free place, then one transaction behind a gap beyond the share to displace.
  CHECK(m.HasRoom(owner, 0, 0, 100, 4, 0));
  CHECK(m.HasRoom(owner, 0, 0, 100, 4, 1));
  CHECK_FALSE(m.HasRoom(owner, 0, 0, 100, 4, 2));
  // Let through while there was room, a transaction whose room others took while its signature
  // was checked still enters, up to the hard limit.
  REQUIRE(m.Add(Decoded(TransferBody("owner", "alice", 1, 0), "owner"), 0, 1, 4).ok());
  REQUIRE(m.Add(Decoded(TransferBody("dave", "owner", 1, 0), "dave"), 0, 1, 4).ok());  // displaces
  CHECK(m.behind_gaps() == 2);
  DecodedTx late = Decoded(TransferBody("erin", "owner", 1, 0), "erin");
  CHECK(m.Add(late, 0, 1, 4).code() == StatusCode::kResourceExhausted);
  CHECK(m.Add(late, 0, 1, 4, /*found_room=*/true).ok());
  CHECK(m.size() == 5);
}

TEST_CASE("transactions that can go in a block are offered again before those behind gaps") {
  Mempool m({.max_txs = 100, .reoffer_after_blocks = 3, .max_reoffer_txs = 1});
  DecodedTx gapped = Decoded(TransferBody("alice", "owner", 1, 4), "alice");
  DecodedTx ready = Decoded(TransferBody("owner", "alice", 1, 0), "owner");
  REQUIRE(m.Add(gapped, 0, 11).ok());  // the older
  REQUIRE(m.Add(ready, 0, 11).ok());
  CHECK(m.TakeStale(13) == std::vector<std::string>{ready.envelope_bytes});
  // The one passed over kept its place; with room it goes too.
  CHECK(m.TakeStale(13) == std::vector<std::string>{gapped.envelope_bytes});
  CHECK(m.TakeStale(14).empty());
}
