#include "node/missed_gossip.h"

#include <doctest/doctest.h>

#include "test_util.h"

using namespace puhui;
using namespace puhui::testing;

TEST_CASE("a peer is due for waiting transactions after it connects, refuses or is dropped on") {
  MissedGossip g;
  const PublicKey a = KeyOf("a").Public(), b = KeyOf("b").Public();
  CHECK(g.Due().empty());
  // Status messages with an unchanged count, and no frames dropped: nothing missed.
  g.PeerRefused(a, 0);
  g.Dropped(b, 0);
  CHECK(g.Due().empty());

  g.Connected(a);
  CHECK(g.Due() == std::vector<PublicKey>{a});
  g.Offered({a});
  CHECK(g.Due().empty());

  // Its count of refusals grows: it missed some. The same count again is nothing new.
  g.PeerRefused(a, 7);
  CHECK(g.Due() == std::vector<PublicKey>{a});
  g.Offered({a});
  g.PeerRefused(a, 7);
  CHECK(g.Due().empty());

  // Frames dropped on the way to b: due until offered, whoever else is offered meanwhile.
  g.Dropped(b, 3);
  CHECK(g.Due() == std::vector<PublicKey>{b});
  g.Offered({a});
  CHECK(g.Due() == std::vector<PublicKey>{b});
  g.Offered({b});
  CHECK(g.Due().empty());

  // A new connection counts its drops from zero: a lower total is not news, a higher one is.
  g.Connected(b);
  g.Offered({b});
  g.Dropped(b, 0);
  CHECK(g.Due().empty());
  g.Dropped(b, 1);
  CHECK(g.Due() == std::vector<PublicKey>{b});
}
