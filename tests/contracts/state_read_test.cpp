// The read path without copies (StateReader::Find) and the overlay's short list of writes
// (StateOverlay::kFew): what each layer hands back, and that the writes come out in key order
// whichever way they were kept.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>
#include <string>

#include "contracts/state.h"
#include "contracts/state_keys.h"
#include "counting_reader.h"
#include "test_util.h"

using namespace puhui;

namespace {

// A reader whose every read fails, as a store that cannot be read does.
class FailingReader : public StateReader {
 public:
  Result<std::optional<Bytes>> Get(ByteView) const override { return IoError("disk gone"); }
};

MemoryState Committed(std::initializer_list<std::pair<std::string, std::string>> kv) {
  StateChanges changes;
  for (const auto& [k, v] : kv) changes[ToBytes(k)] = ToBytes(v);
  MemoryState s;
  s.Apply(changes);
  return s;
}

// What Find says of `key`, as a string, or "absent".
std::string Found(const StateReader& r, std::string_view key) {
  std::optional<Bytes> scratch;
  auto found = r.Find(AsBytes(key), scratch);
  REQUIRE(found.ok());
  return *found ? ToString(**found) : "absent";
}

std::string Key(int i) { return "k/" + std::to_string(i); }

}  // namespace

TEST_CASE("a reader without a Find of its own finds through Get, into the caller's scratch") {
  MemoryState committed = Committed({{"a", "1"}});
  testing::CountingReader plain(&committed);
  std::optional<Bytes> scratch;
  auto found = plain.Find(AsBytes("a"), scratch);
  REQUIRE(found.ok());
  REQUIRE(*found == &*scratch);
  CHECK(**found == ToBytes("1"));
  CHECK(Found(plain, "b") == "absent");
}

TEST_CASE("finding through two overlays sees the nearest write, a delete as absent") {
  MemoryState committed = Committed({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  testing::CountingReader counted(&committed);
  StateOverlay block(&counted, StateOverlay::Reads::kRemember);
  block.Put(ToBytes("a"), ToBytes("10"));
  block.Delete(ToBytes("b"));
  StateOverlay tx(&block);
  tx.Put(ToBytes("c"), ToBytes("30"));
  CHECK(Found(tx, "a") == "10");
  CHECK(Found(tx, "b") == "absent");
  CHECK(Found(tx, "c") == "30");
  CHECK(Found(block, "c") == "3");
  CHECK(Found(tx, "d") == "absent");
  CHECK(Found(tx, "d") == "absent");
  CHECK(Found(block, "c") == "3");
  // Every value that came from below was read from the base once, found or absent.
  CHECK(counted.reads == 2);
  CHECK(Found(committed, "a") == "1");
}

TEST_CASE("a block overlay's found value stays where it is while other keys are read and written") {
  MemoryState committed = Committed({{"a", "1"}});
  StateOverlay block(&committed, StateOverlay::Reads::kRemember);
  std::optional<Bytes> scratch;
  auto first = block.Find(AsBytes("a"), scratch);
  REQUIRE(first.ok());
  const Bytes* a = *first;
  // Enough other keys to build the index and grow it several times.
  for (int i = 0; i < 1000; ++i) {
    CHECK(Found(block, Key(i)) == "absent");
    block.Put(ToBytes(Key(i) + "/w"), ToBytes("x"));
  }
  auto again = block.Find(AsBytes("a"), scratch);
  REQUIRE(again.ok());
  CHECK(*again == a);
  CHECK(*a == ToBytes("1"));
  CHECK_FALSE(scratch.has_value());  // the overlay hands out its own values
}

// Fails the first read of each key, then reads its base: a read that failed must be tried again.
class FailingOnceReader : public StateReader {
 public:
  explicit FailingOnceReader(const StateReader* base) : base_(*base) {}
  Result<std::optional<Bytes>> Get(ByteView key) const override {
    if (failed_.insert(Bytes(key.begin(), key.end())).second) return IoError("disk hiccup");
    return base_.Get(key);
  }

 private:
  const StateReader& base_;
  mutable std::set<Bytes> failed_;
};

TEST_CASE("a read that fails below the block overlay fails through every layer, not remembered") {
  FailingReader broken;
  StateOverlay block(&broken, StateOverlay::Reads::kRemember);
  StateOverlay tx(&block);
  std::optional<Bytes> scratch;
  CHECK(tx.Find(AsBytes("a"), scratch).status().code() == StatusCode::kIoError);
  CHECK(tx.Get(AsBytes("a")).status().code() == StatusCode::kIoError);
  CHECK(ReadU64(tx, AsBytes("a")).status().code() == StatusCode::kIoError);
  CHECK(BatchExists(tx, "B").status().code() == StatusCode::kIoError);

  MemoryState committed = Committed({{"a", "1"}});
  FailingOnceReader flaky(&committed);
  StateOverlay again(&flaky, StateOverlay::Reads::kRemember);
  CHECK(again.Get(AsBytes("a")).status().code() == StatusCode::kIoError);
  CHECK(Found(again, "a") == "1");
}

TEST_CASE("an overlay keeps every write past its short list, and gives them back in key order") {
  MemoryState committed = Committed({{Key(3), "old"}});
  // Writes in an order that is not the keys' order, with overwrites and deletes, below, at and
  // past the short list's size.
  for (int n : {1, int(StateOverlay::kFew) - 1, int(StateOverlay::kFew),
                int(StateOverlay::kFew) + 1, int(StateOverlay::kFew) * 5}) {
    CAPTURE(n);
    StateOverlay o(&committed);
    StateChanges expected;
    for (int i = n - 1; i >= 0; --i) {
      o.Put(ToBytes(Key(i)), ToBytes("v" + std::to_string(i)));
      expected[ToBytes(Key(i))] = ToBytes("v" + std::to_string(i));
    }
    for (int i = 0; i < n; i += 3) {
      o.Put(ToBytes(Key(i)), ToBytes("w"));
      expected[ToBytes(Key(i))] = ToBytes("w");
    }
    o.Delete(ToBytes(Key(3)));
    expected[ToBytes(Key(3))] = std::nullopt;
    for (const auto& [k, v] : expected) {
      CHECK(o.Changed(k));
      CHECK(Found(o, AsString(k)) == (v ? ToString(*v) : "absent"));
      CHECK(*o.Get(k) == v);
    }
    CHECK_FALSE(o.Changed(AsBytes("k/none")));
    CHECK(o.changes() == expected);
    CHECK(o.TakeChanges() == expected);
    CHECK(o.changes().empty());
  }
}

TEST_CASE("a block overlay absorbs children of any size, the later write of a key winning") {
  MemoryState committed;
  StateOverlay block(&committed);
  StateChanges expected;
  for (int t = 0; t < 6; ++t) {
    StateOverlay tx(&block);
    const int writes = t % 2 == 0 ? 2 : int(StateOverlay::kFew) + 3;  // short list, then map
    for (int i = 0; i < writes; ++i) {
      const std::string key = Key(t + i);  // overlaps the writes of earlier children
      tx.Put(ToBytes(key), ToBytes(std::to_string(t)));
      expected[ToBytes(key)] = ToBytes(std::to_string(t));
    }
    if (t == 4) {
      tx.Delete(ToBytes(Key(0)));
      expected[ToBytes(Key(0))] = std::nullopt;
    }
    block.Absorb(std::move(tx));
    CHECK(tx.changes().empty());
    CHECK(block.changes() == expected);
  }
  CHECK(Found(block, Key(0)) == "absent");
  CHECK(Found(block, Key(5)) == "5");
}

TEST_CASE("a transaction's dropped overlay leaves the block overlay unchanged") {
  MemoryState committed = Committed({{"a", "1"}});
  StateOverlay block(&committed);
  block.Put(ToBytes("b"), ToBytes("2"));
  const StateChanges before = block.changes();
  {
    StateOverlay tx(&block);
    tx.Put(ToBytes("a"), ToBytes("9"));
    tx.Put(ToBytes("b"), ToBytes("9"));
    tx.Delete(ToBytes("c"));
    CHECK(Found(tx, "b") == "9");
  }
  CHECK(block.changes() == before);
  CHECK(Found(block, "a") == "1");
  CHECK(Found(block, "b") == "2");
}

TEST_CASE("a record written with WriteProto has the bytes SerializeAsString gives") {
  MemoryState committed;
  StateOverlay o(&committed);
  pb::Account account;
  for (uint64_t nonce : {0ull, 1ull, 300ull, ~0ull}) {
    account.set_nonce(nonce);
    WriteProto(o, ToBytes("acct"), account);
    auto got = o.Get(AsBytes("acct"));
    REQUIRE(got.ok());
    REQUIRE(got->has_value());
    CHECK(AsString(**got) == account.SerializeAsString());
    CHECK(ReadAccountAt(o, AsBytes("acct"))->nonce() == nonce);
  }
}

TEST_CASE("reads and writes of a block overlay in any order agree with a plain ordered map") {
  // Random reads, writes and deletes over a few hundred keys, through the short list and past it,
  // checked read by read and, at the end, in order, against std::map.
  MemoryState committed = Committed({{Key(7), "c7"}, {Key(70), "c70"}});
  for (auto reads : {StateOverlay::Reads::kPassThrough, StateOverlay::Reads::kRemember}) {
    StateOverlay block(&committed, reads);
    std::map<std::string, std::optional<std::string>> expected;
    std::mt19937 random(12345);  // fixed: the same sequence every run
    for (int step = 0; step < 20'000; ++step) {
      const std::string key = Key(static_cast<int>(random() % 400));
      switch (random() % 3) {
        case 0: {
          auto it = expected.find(key);
          const std::string want = it != expected.end() ? (it->second ? *it->second : "absent")
                                   : key == Key(7)      ? "c7"
                                   : key == Key(70)     ? "c70"
                                                        : "absent";
          REQUIRE(Found(block, key) == want);
          break;
        }
        case 1:
          block.Delete(ToBytes(key));
          expected[key] = std::nullopt;
          break;
        default: {
          const std::string value = std::to_string(step);
          block.Put(ToBytes(key), ToBytes(value));
          expected[key] = value;
        }
      }
    }
    StateChanges want;
    for (const auto& [k, v] : expected) {
      want[ToBytes(k)] = v ? std::optional<Bytes>(ToBytes(*v)) : std::nullopt;
    }
    CHECK(block.changes() == want);
    CHECK(block.TakeChanges() == want);
  }
}
