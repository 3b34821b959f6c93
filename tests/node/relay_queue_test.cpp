#include "node/relay_queue.h"

#include <doctest/doctest.h>

#include <thread>

#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

std::vector<std::string> Envelopes(int n, size_t bytes) {
  return std::vector<std::string>(static_cast<size_t>(n), std::string(bytes, 'x'));
}

}  // namespace

TEST_CASE(
    "the relay queue refuses a batch beyond its byte bound, and takes one again once drained") {
  RelayQueue q(/*max_batches=*/10, /*max_bytes=*/1000);
  const PublicKey alice = KeyOf("alice").Public();
  CHECK(q.Push(alice, Envelopes(4, 100)));        // 400 bytes
  CHECK(q.Push(alice, Envelopes(5, 100)));        // 900
  CHECK_FALSE(q.Push(alice, Envelopes(2, 100)));  // would be 1,100: refused, nothing queued
  CHECK(q.batches() == 2);
  CHECK(q.bytes() == 900);
  std::stop_source never;
  auto first = q.Pop(never.get_token());
  REQUIRE(first.has_value());
  CHECK(first->from == alice);
  CHECK(first->envelopes.size() == 4);
  CHECK(q.bytes() == 500);
  CHECK(q.Push(alice, Envelopes(2, 100)));  // 700 now fits
  CHECK(q.bytes() == 700);
}

TEST_CASE("the relay queue refuses a batch beyond its batch bound, and a stop ends a waiting pop") {
  RelayQueue q(/*max_batches=*/2, /*max_bytes=*/1 << 20);
  const PublicKey bob = KeyOf("bob").Public();
  CHECK(q.Push(bob, Envelopes(1, 10)));
  CHECK(q.Push(bob, Envelopes(1, 10)));
  CHECK_FALSE(q.Push(bob, Envelopes(1, 10)));
  std::stop_source stop;
  CHECK(q.Pop(stop.get_token()).has_value());
  CHECK(q.Pop(stop.get_token()).has_value());
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop.request_stop();
  });
  CHECK_FALSE(q.Pop(stop.get_token()).has_value());  // waited on an empty queue until the stop
}
