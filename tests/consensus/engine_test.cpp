#include <doctest/doctest.h>

#include "consensus/block_time.h"
#include "engine_harness.h"

using namespace puhui;
using namespace puhui::testing;
using namespace puhui::consensus;

namespace {

const std::optional<Hash32> kNil;

// Four validators of power 10 and the engine of the one that proposes round 3 at height 1, so that
// the proposers of rounds 0, 1 and 2 are the other three, in that order.
struct Solo {
  Solo() : set(MakeSet({{"a", 10}, {"b", 10}, {"c", 10}, {"d", 10}})) {
    auto order = ProposerSequence(set, 1, 4);
    for (size_t i : order) proposer.push_back(set.proto().validators(static_cast<int>(i)).name());
    me = proposer[3];
    node = std::make_unique<TestNode>(me);
    Step(Start{1, set, 0});
  }

  std::vector<Action> Step(EventBody body) {
    return node->engine.Step(At(now_ms += 10, std::move(body)));
  }
  std::vector<Action> Vote(size_t who, pb::VoteType type, uint32_t round,
                           const std::optional<Hash32>& block) {
    return Step(VoteReceived{MakeVote(proposer[who], type, 1, round, block)});
  }
  Engine& engine() { return node->engine; }

  ValidatorSet set;
  std::vector<std::string> proposer;  // of rounds 0..3
  std::string me;
  std::unique_ptr<TestNode> node;
  uint64_t now_ms = 5000;
};

bool HasDrop(const std::vector<Action>& actions, StatusCode code, bool peer_fault) {
  for (const auto& d : All<InputDropped>(actions)) {
    if (d.reason.code() == code && d.peer_fault == peer_fault) return true;
  }
  return false;
}

std::optional<ScheduleTimeout> TimeoutIn(const std::vector<Action>& actions, RoundStep step) {
  for (const auto& t : All<ScheduleTimeout>(actions)) {
    if (t.step == step) return t;
  }
  return std::nullopt;
}

// Round 0 of Solo: proposal A, our prevote for A, a polka, our lock and precommit on A; the others
// precommit nil and the round times out.
void LockOnAInRoundZero(Solo& s) {
  s.Step(ProposalReceived{MakeProposal(s.proposer[0], 1, 0, "A")});
  auto acts = s.Step(BlockValidated{HashOf("A"), true});
  auto prevotes = VotesOf(acts, pb::VOTE_PREVOTE);
  REQUIRE(prevotes.size() == 1);
  CHECK(prevotes[0].block_hash() == ToString(ByteView(HashOf("A"))));
  s.Vote(1, pb::VOTE_PREVOTE, 0, HashOf("A"));
  acts = s.Vote(2, pb::VOTE_PREVOTE, 0, HashOf("A"));
  auto precommits = VotesOf(acts, pb::VOTE_PRECOMMIT);
  REQUIRE(precommits.size() == 1);
  CHECK(precommits[0].block_hash() == ToString(ByteView(HashOf("A"))));
  CHECK(s.engine().locked_round() == 0);
  CHECK(s.engine().locked_value() == HashOf("A"));
  s.Vote(1, pb::VOTE_PRECOMMIT, 0, kNil);
  acts = s.Vote(2, pb::VOTE_PRECOMMIT, 0, kNil);
  REQUIRE(TimeoutIn(acts, RoundStep::kPrecommit));
  s.Step(TimeoutFired{1, 0, RoundStep::kPrecommit});
  REQUIRE(s.engine().round() == 1);
}

}  // namespace

TEST_CASE("four validators agree on the proposer's block and certify it") {
  TestCluster cluster({{"a", 10}, {"b", 10}, {"c", 10}, {"d", 10}});
  for (uint64_t height = 1; height <= 3; ++height) {
    cluster.StartAll(height);
    std::string proposer = NameOf(cluster.set(), cluster.node(0).engine.ProposerOf(0));
    std::string expected = std::to_string(height) + "/0/" + proposer;
    for (size_t i = 0; i < cluster.size(); ++i) {
      REQUIRE(cluster.commits().count(i) == 1);
      const auto& commits = cluster.commits().at(i);
      REQUIRE(commits.size() == height);
      const CommitBlock& c = commits.back();
      CHECK(c.height == height);
      CHECK(c.round == 0);
      CHECK(c.block == expected);
      CHECK(c.block_hash == HashOf(expected));
      CHECK(VerifyCommit(kChainId, cluster.set(), height, c.block_hash, c.commit).ok());
      CHECK(c.time_ms == WeightedMedianTimeMs(c.commit, cluster.set()));
      CHECK(cluster.node(i).engine.decided());
    }
  }
}

TEST_CASE("a validator locked on a block prevotes nil for a fresh proposal of another") {
  Solo s;
  LockOnAInRoundZero(s);
  s.Step(ProposalReceived{MakeProposal(s.proposer[1], 1, 1, "B")});
  auto acts = s.Step(BlockValidated{HashOf("B"), true});
  auto prevotes = VotesOf(acts, pb::VOTE_PREVOTE);
  REQUIRE(prevotes.size() == 1);
  CHECK(prevotes[0].round() == 1);
  CHECK(prevotes[0].block_hash().empty());
  CHECK(s.engine().locked_value() == HashOf("A"));
}

TEST_CASE("a locked validator prevotes another block only once a later polka backs it") {
  for (bool polka : {true, false}) {
    CAPTURE(polka);
    Solo s;
    LockOnAInRoundZero(s);
    // Round 1: we see no proposal and prevote nil; the others prevote B (all three, or only two).
    auto acts = s.Step(TimeoutFired{1, 1, RoundStep::kPropose});
    REQUIRE(VotesOf(acts, pb::VOTE_PREVOTE).size() == 1);
    s.Vote(0, pb::VOTE_PREVOTE, 1, HashOf("B"));
    s.Vote(1, pb::VOTE_PREVOTE, 1, HashOf("B"));
    if (polka) s.Vote(2, pb::VOTE_PREVOTE, 1, HashOf("B"));
    acts = s.Step(TimeoutFired{1, 1, RoundStep::kPrevote});
    REQUIRE(VotesOf(acts, pb::VOTE_PRECOMMIT).size() == 1);
    s.Vote(0, pb::VOTE_PRECOMMIT, 1, kNil);
    s.Vote(1, pb::VOTE_PRECOMMIT, 1, kNil);
    s.Step(TimeoutFired{1, 1, RoundStep::kPrecommit});
    REQUIRE(s.engine().round() == 2);
    // Round 2: B re-proposed with pol_round 1.
    s.Step(ProposalReceived{MakeProposal(s.proposer[2], 1, 2, "B", 1)});
    acts = s.Step(BlockValidated{HashOf("B"), true});
    auto prevotes = VotesOf(acts, pb::VOTE_PREVOTE);
    if (polka) {
      REQUIRE(prevotes.size() == 1);
      CHECK(prevotes[0].block_hash() == ToString(ByteView(HashOf("B"))));
    } else {
      CHECK(prevotes.empty());  // the proposal waits for a polka that never comes
      acts = s.Step(TimeoutFired{1, 2, RoundStep::kPropose});
      prevotes = VotesOf(acts, pb::VOTE_PREVOTE);
      REQUIRE(prevotes.size() == 1);
      CHECK(prevotes[0].block_hash().empty());
    }
  }
}

TEST_CASE("a re-proposal backed by a polka older than the lock gets a nil prevote") {
  Solo s;
  // Round 0: the others prevote B, whose proposal we never see; we prevote and precommit nil.
  s.Step(TimeoutFired{1, 0, RoundStep::kPropose});
  for (size_t who = 0; who < 3; ++who) s.Vote(who, pb::VOTE_PREVOTE, 0, HashOf("B"));
  s.Step(TimeoutFired{1, 0, RoundStep::kPrevote});
  for (size_t who = 0; who < 2; ++who) s.Vote(who, pb::VOTE_PRECOMMIT, 0, kNil);
  s.Step(TimeoutFired{1, 0, RoundStep::kPrecommit});
  REQUIRE(s.engine().round() == 1);
  REQUIRE(s.engine().locked_round() == -1);
  // Round 1: A is proposed and gets a polka; we lock on it.
  s.Step(ProposalReceived{MakeProposal(s.proposer[1], 1, 1, "A")});
  s.Step(BlockValidated{HashOf("A"), true});
  s.Vote(0, pb::VOTE_PREVOTE, 1, HashOf("A"));
  s.Vote(2, pb::VOTE_PREVOTE, 1, HashOf("A"));
  REQUIRE(s.engine().locked_round() == 1);
  for (size_t who = 0; who < 2; ++who) s.Vote(who, pb::VOTE_PRECOMMIT, 1, kNil);
  s.Step(TimeoutFired{1, 1, RoundStep::kPrecommit});
  REQUIRE(s.engine().round() == 2);
  // Round 2: B re-proposed on the strength of round 0's polka, older than our lock.
  s.Step(ProposalReceived{MakeProposal(s.proposer[2], 1, 2, "B", 0)});
  auto prevotes = VotesOf(s.Step(BlockValidated{HashOf("B"), true}), pb::VOTE_PREVOTE);
  REQUIRE(prevotes.size() == 1);
  CHECK(prevotes[0].block_hash().empty());
  CHECK(s.engine().locked_value() == HashOf("A"));
}

TEST_CASE("a round without a proposal ends in nil votes and the next round waits longer") {
  Solo s;
  auto acts = s.Step(TimeoutFired{1, 0, RoundStep::kPropose});
  auto prevotes = VotesOf(acts, pb::VOTE_PREVOTE);
  REQUIRE(prevotes.size() == 1);
  CHECK(prevotes[0].block_hash().empty());
  s.Vote(0, pb::VOTE_PREVOTE, 0, kNil);
  acts = s.Vote(1, pb::VOTE_PREVOTE, 0, kNil);
  CHECK(TimeoutIn(acts, RoundStep::kPrevote));
  REQUIRE(VotesOf(acts, pb::VOTE_PRECOMMIT).size() == 1);  // a nil polka: precommit nil at once
  s.Vote(0, pb::VOTE_PRECOMMIT, 0, kNil);
  acts = s.Vote(1, pb::VOTE_PRECOMMIT, 0, kNil);
  auto precommit_timeout = TimeoutIn(acts, RoundStep::kPrecommit);
  REQUIRE(precommit_timeout);
  CHECK(precommit_timeout->duration_ms == kPrecommitTimeoutBaseMs);
  acts = s.Step(TimeoutFired{1, 0, RoundStep::kPrecommit});
  CHECK(s.engine().round() == 1);
  CHECK(s.engine().step() == RoundStep::kPropose);
  auto propose_timeout = TimeoutIn(acts, RoundStep::kPropose);
  REQUIRE(propose_timeout);
  CHECK(propose_timeout->round == 1);
  CHECK(propose_timeout->duration_ms == kProposeTimeoutBaseMs + kProposeTimeoutDeltaMs);
  // A timer of the finished round changes nothing.
  CHECK(s.Step(TimeoutFired{1, 0, RoundStep::kPropose}).empty());
  CHECK(s.engine().round() == 1);
  CHECK(TimeoutConfig{}.DurationMs(RoundStep::kPrevote, 4) ==
        kPrevoteTimeoutBaseMs + 4 * kPrevoteTimeoutDeltaMs);
  CHECK(TimeoutConfig{}.DurationMs(RoundStep::kPropose, 0xffffffffu) == kMaxTimeoutMs);
}

TEST_CASE("votes from more than a third of the power in a higher round move the engine there") {
  Solo s;
  s.Vote(0, pb::VOTE_PREVOTE, 7, kNil);  // 10 of 40: could be one faulty validator
  CHECK(s.engine().round() == 0);
  auto acts = s.Vote(1, pb::VOTE_PRECOMMIT, 5, kNil);  // 20 of 40 seen at round 5 or above
  CHECK(s.engine().round() == 5);
  auto timeout = TimeoutIn(acts, RoundStep::kPropose);
  REQUIRE(timeout);
  CHECK(timeout->round == 5);
}

TEST_CASE(
    "votes from a non-validator, another height or chain, or with a bad signature are dropped") {
  Solo s;
  const Hash32 a = HashOf("A");
  CHECK(HasDrop(s.Step(VoteReceived{MakeVote("mallory", pb::VOTE_PREVOTE, 1, 0, a)}),
                StatusCode::kPermissionDenied, true));
  CHECK(HasDrop(s.Step(VoteReceived{MakeVote(s.proposer[0], pb::VOTE_PREVOTE, 7, 0, a)}),
                StatusCode::kFailedPrecondition, false));
  CHECK(
      HasDrop(s.Step(VoteReceived{MakeVote(s.proposer[0], pb::VOTE_PREVOTE, 1, 0, a, 1, "other")}),
              StatusCode::kInvalidArgument, true));
  for (size_t who = 0; who < 3; ++who) {
    pb::SignedVote forged = MakeVote(s.proposer[who], pb::VOTE_PREVOTE, 1, 0, a);
    std::string sig = forged.signature();
    sig[5] ^= 0x40;
    forged.set_signature(sig);
    CHECK(HasDrop(s.Step(VoteReceived{forged}), StatusCode::kUnauthenticated, true));
  }
  pb::SignedVote garbage;
  garbage.set_vote("\xff\xff\xff\x01garbage");
  CHECK(HasDrop(s.Step(VoteReceived{garbage}), StatusCode::kInvalidArgument, true));
  pb::SignedProposal wrong_proposer = MakeProposal(s.proposer[1], 1, 0, "A");
  CHECK(HasDrop(s.Step(ProposalReceived{wrong_proposer}), StatusCode::kPermissionDenied, true));
  pb::SignedProposal mismatched = MakeProposal(s.proposer[0], 1, 0, "A");
  pb::Proposal p;
  p.ParseFromString(mismatched.proposal());
  p.set_block("not A");
  mismatched = SignProposal(p, kChainId, KeyOf(s.proposer[0]));
  CHECK(HasDrop(s.Step(ProposalReceived{mismatched}), StatusCode::kInvalidArgument, true));
  // None of it counted: three forged prevotes would otherwise have armed the prevote timeout.
  s.Step(TimeoutFired{1, 0, RoundStep::kPropose});
  CHECK(s.engine().step() == RoundStep::kPrevote);
  CHECK_FALSE(TimeoutIn(s.Vote(0, pb::VOTE_PREVOTE, 0, kNil), RoundStep::kPrevote));
  CHECK(s.engine().round() == 0);
}

TEST_CASE("two votes of one validator for different blocks in one slot are evidence") {
  Solo s;
  pb::SignedVote first = MakeVote(s.proposer[0], pb::VOTE_PREVOTE, 1, 0, HashOf("A"));
  pb::SignedVote second = MakeVote(s.proposer[0], pb::VOTE_PREVOTE, 1, 0, HashOf("B"));
  CHECK(All<Evidence>(s.Step(VoteReceived{first})).empty());
  CHECK(HasDrop(s.Step(VoteReceived{first}), StatusCode::kAlreadyExists, false));
  auto evidence = All<Evidence>(s.Step(VoteReceived{second}));
  REQUIRE(evidence.size() == 1);
  CHECK(evidence[0].first.SerializeAsString() == first.SerializeAsString());
  CHECK(evidence[0].second.SerializeAsString() == second.SerializeAsString());
  // Reported once per slot; the same validator's precommit slot is separate.
  CHECK(All<Evidence>(s.Vote(0, pb::VOTE_PREVOTE, 0, kNil)).empty());
  s.Vote(0, pb::VOTE_PRECOMMIT, 0, HashOf("A"));
  CHECK(All<Evidence>(s.Vote(0, pb::VOTE_PRECOMMIT, 0, kNil)).size() == 1);
}

TEST_CASE("an equivocator's vote completes a polka for the block it was sent for") {
  // The first vote seen from the equivocator is nil, the second for A. Counting only the first
  // would leave this node short of the polka that the other nodes saw.
  Solo s;
  s.Step(ProposalReceived{MakeProposal(s.proposer[0], 1, 0, "A")});
  s.Step(BlockValidated{HashOf("A"), true});  // our prevote for A
  s.Vote(1, pb::VOTE_PREVOTE, 0, HashOf("A"));
  s.Vote(0, pb::VOTE_PREVOTE, 0, kNil);
  auto acts = s.Vote(0, pb::VOTE_PREVOTE, 0, HashOf("A"));
  CHECK(All<Evidence>(acts).size() == 1);
  auto precommits = VotesOf(acts, pb::VOTE_PRECOMMIT);
  REQUIRE(precommits.size() == 1);
  CHECK(precommits[0].block_hash() == ToString(ByteView(HashOf("A"))));
  // Beyond two votes in a slot, votes for blocks this node does not hold are not kept.
  auto third = s.Vote(0, pb::VOTE_PREVOTE, 0, HashOf("made up"));
  CHECK(HasDrop(third, StatusCode::kResourceExhausted, false));
}

TEST_CASE("a signer that refuses leaves the engine running without that message") {
  Solo s;
  s.node->signer.refuse_all = true;
  auto acts = s.Step(TimeoutFired{1, 0, RoundStep::kPropose});
  CHECK(All<SignFailed>(acts).size() == 1);
  CHECK(All<BroadcastVote>(acts).empty());
  CHECK(s.engine().step() == RoundStep::kPrevote);
  for (size_t who = 0; who < 3; ++who) s.Vote(who, pb::VOTE_PREVOTE, 0, kNil);
  CHECK(s.engine().step() == RoundStep::kPrecommit);
  for (size_t who = 0; who < 3; ++who) s.Vote(who, pb::VOTE_PRECOMMIT, 0, kNil);
  s.Step(TimeoutFired{1, 0, RoundStep::kPrecommit});
  CHECK(s.engine().round() == 1);
}

TEST_CASE("block sync hands a lagging engine a certified block") {
  Solo s;
  pb::Commit commit;
  commit.set_height(1);
  commit.set_round(2);
  commit.set_block_hash(ToString(ByteView(HashOf("A"))));
  for (size_t who = 0; who < 2; ++who) {
    *commit.add_precommits() = MakeVote(s.proposer[who], pb::VOTE_PRECOMMIT, 1, 2, HashOf("A"));
  }
  CHECK(HasDrop(s.Step(CommitReceived{"A", commit}), StatusCode::kUnauthenticated, true));
  *commit.add_precommits() = MakeVote(s.proposer[2], pb::VOTE_PRECOMMIT, 1, 2, HashOf("A"));
  CHECK(HasDrop(s.Step(CommitReceived{"B", commit}), StatusCode::kInvalidArgument, true));
  auto acts = s.Step(CommitReceived{"A", commit});
  REQUIRE(All<ValidateBlock>(acts).size() == 1);
  acts = s.Step(BlockValidated{HashOf("A"), true});
  auto commits = All<CommitBlock>(acts);
  REQUIRE(commits.size() == 1);
  CHECK(commits[0].round == 2);
  CHECK(commits[0].block == "A");
  CHECK(VerifyCommit(kChainId, s.set, 1, HashOf("A"), commits[0].commit).ok());
}

TEST_CASE("messages for the next height wait until it starts") {
  Solo s;
  s.Step(VoteReceived{MakeVote(s.proposer[0], pb::VOTE_PREVOTE, 2, 3, kNil)});
  auto acts = s.Step(VoteReceived{MakeVote(s.proposer[1], pb::VOTE_PREVOTE, 2, 3, kNil)});
  CHECK(All<InputDropped>(acts).empty());
  CHECK(s.engine().round() == 0);
  s.Step(Start{2, s.set, 1234});
  CHECK(s.engine().height() == 2);
  CHECK(s.engine().round() == 3);  // the buffered votes count at once: more than 1/3 at round 3
  // Votes carry times after the previous block's.
  auto prevotes = VotesOf(s.Step(TimeoutFired{2, 3, RoundStep::kPropose}), pb::VOTE_PREVOTE);
  REQUIRE(prevotes.size() == 1);
  CHECK(prevotes[0].time_ms() > 1234);
  CHECK(HasDrop(s.Step(Start{1, s.set, 0}), StatusCode::kFailedPrecondition, false));
}

TEST_CASE("gossip resends what a peer may have missed, and resent copies are cheap duplicates") {
  TestCluster cluster({{"a", 10}, {"b", 10}, {"c", 10}, {"d", 10}});
  cluster.StartAll(1);
  Engine& engine = cluster.node(0).engine;
  auto gossip = engine.Gossip();
  CHECK(All<BroadcastProposal>(gossip).size() == 1);
  CHECK(All<BroadcastVote>(gossip).size() == 8);  // every prevote and precommit of round 0
  Engine& other = cluster.node(1).engine;
  for (const auto& v : All<BroadcastVote>(gossip)) {
    auto acts = other.Step(At(1, VoteReceived{v.vote}));
    for (const auto& d : All<InputDropped>(acts)) CHECK_FALSE(d.peer_fault);
  }
}
