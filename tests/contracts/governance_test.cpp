// Network governance: proposals pass with more than 2/3 of the regions' authorities (one vote per
// region) before their expiry height, and are enacted by the passing vote.
#include <doctest/doctest.h>

#include "contracts/validator_changes.h"
#include "registry_fixture.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

std::function<void(pb::TxBody&)> ProposeRegion(const std::string& id, const std::string& code,
                                               const std::string& by_region, uint64_t expiry) {
  return [=](pb::TxBody& b) {
    auto* a = b.mutable_submit_proposal();
    a->set_id(id);
    a->set_region(by_region);
    a->set_expiry_height(expiry);
    a->mutable_add_region()->set_code(code);
    a->mutable_add_region()->set_name("Anhui");
    a->mutable_add_region()->set_authority(RawAddr("ah-auth"));
  };
}
std::function<void(pb::TxBody&)> Vote(const std::string& id, const std::string& region,
                                      bool approve) {
  return [=](pb::TxBody& b) {
    b.mutable_vote_proposal()->set_id(id);
    b.mutable_vote_proposal()->set_region(region);
    b.mutable_vote_proposal()->set_approve(approve);
  };
}

}  // namespace

TEST_CASE("adding a region passes with more than 2/3 of the regions and is enacted") {
  Registry r;  // SH and JS: both must vote yes
  r.Ok("sh-auth", ProposeRegion("add-ah", "AH", "SH", 100));
  auto p = r.Read<pb::GovernanceProposal>(registry_keys::Proposal("add-ah"));
  CHECK(p->status() == pb::PROPOSAL_STATUS_OPEN);
  CHECK(p->regions_at_submission() == 2);
  CHECK_FALSE(*RegionExists(r.state, "AH"));
  r.Refused("sh-auth", Vote("add-ah", "SH", true), pb::RECEIPT_ALREADY_VOTED,
            "one vote per region");
  r.Refused("sh-auth", Vote("add-ah", "JS", true), pb::RECEIPT_PERMISSION_DENIED,
            "not an authority of region 'JS'");
  r.Ok("js-auth", Vote("add-ah", "JS", true));
  CHECK(r.Read<pb::GovernanceProposal>(registry_keys::Proposal("add-ah"))->status() ==
        pb::PROPOSAL_STATUS_PASSED);
  CHECK(*RegionExists(r.state, "AH"));
  CHECK(*HasRole(r.state, "AH", pb::ROLE_AUTHORITY, KeyOf("ah-auth").Public()));
  CHECK(*ReadU64(r.state, registry_keys::RegionCount()) == 3);
  CHECK(*r.state.Get(registry_keys::Index(kKindRegion, 3)) == state_keys::Region("AH"));
  r.Refused("js-auth", Vote("add-ah", "JS", true), pb::RECEIPT_PROPOSAL_CLOSED, "passed already");
  // The new authority governs its region.
  r.Ok("ah-auth", [](pb::TxBody& b) {
    b.mutable_grant_role()->set_account(RawAddr("ah-op"));
    b.mutable_grant_role()->set_role(pb::ROLE_OPERATOR);
    b.mutable_grant_role()->set_region("AH");
  });
}

TEST_CASE("proposal rules: authorities only, unique ids, future expiry, votes before expiry") {
  Registry r;
  r.Refused("sh-op", ProposeRegion("p", "AH", "SH", 100), pb::RECEIPT_PERMISSION_DENIED,
            "not an authority of region 'SH'");
  r.Refused("sh-auth", ProposeRegion("p", "AH", "SH", 1), pb::RECEIPT_EXPIRY_IN_PAST,
            "below the current height");
  r.Refused("sh-auth", ProposeRegion("p", "JS", "SH", 100), pb::RECEIPT_REGION_EXISTS,
            "region 'JS' exists already");
  r.Ok("sh-auth", ProposeRegion("p", "AH", "SH", r.height + 1));
  r.Refused("sh-auth", ProposeRegion("p", "AH", "SH", 100), pb::RECEIPT_ALREADY_EXISTS,
            "exists already");
  r.Refused("js-auth", Vote("q", "JS", true), pb::RECEIPT_PROPOSAL_NOT_FOUND, "does not exist");
  r.Refused("js-auth", Vote("p", "JS", true), pb::RECEIPT_PROPOSAL_EXPIRED, "expired at height");
  CHECK_FALSE(*RegionExists(r.state, "AH"));
}

TEST_CASE("a proposal is rejected once it can no longer pass") {
  Registry r;
  r.Ok("sh-auth", ProposeRegion("p", "AH", "SH", 100));
  r.Ok("js-auth", Vote("p", "JS", false));
  CHECK(r.Read<pb::GovernanceProposal>(registry_keys::Proposal("p"))->status() ==
        pb::PROPOSAL_STATUS_REJECTED);
  CHECK_FALSE(*RegionExists(r.state, "AH"));
}

TEST_CASE("a governed parameter changes the default review threshold") {
  Registry r;
  r.Ok("sh-auth", [](pb::TxBody& b) {
    auto* a = b.mutable_submit_proposal();
    a->set_id("k3");
    a->set_region("SH");
    a->set_expiry_height(100);
    a->mutable_set_parameter()->set_name("default_review_threshold");
    a->mutable_set_parameter()->set_value(3);
  });
  r.Ok("js-auth", Vote("k3", "JS", true));
  r.Ok("sh-op", Registry::File("PV", 1));
  CHECK(r.Methodology("PV", 1).threshold() == 3);
}

namespace {

std::function<void(pb::TxBody&)> ProposeValidator(const std::string& id, const std::string& who,
                                                  uint64_t power, const std::string& node = "") {
  return [=](pb::TxBody& b) {
    auto* a = b.mutable_submit_proposal();
    a->set_id(id);
    a->set_region("SH");
    a->set_expiry_height(100);
    auto* v = a->mutable_change_validator();
    v->set_pub_key(RawAddr(who));
    v->set_power(power);
    v->set_region("JS");
    v->set_name(who);
    if (!node.empty()) v->set_node_key(RawAddr(node));
  };
}

std::vector<std::string> KeysOf(const pb::ValidatorSet& set) {
  std::vector<std::string> out;
  for (const auto& v : set.validators()) out.push_back(v.pub_key());
  return out;
}

}  // namespace

TEST_CASE("a validator added by governance signs from a fixed number of blocks after the vote") {
  Registry r;
  r.Ok("sh-auth", ProposeValidator("v2", "alice", 10, "alice-node"));
  r.Ok("js-auth", Vote("v2", "JS", true));
  const uint64_t decided = r.height - 1;
  CHECK(r.Read<pb::GovernanceProposal>(registry_keys::Proposal("v2"))->status() ==
        pb::PROPOSAL_STATUS_PASSED);
  auto pending =
      r.Read<pb::ValidatorSet>(state_keys::ValidatorsPending(decided + kValidatorChangeDelay));
  REQUIRE(pending.has_value());
  std::vector<std::string> expected = {RawAddr("validator"), RawAddr("alice")};
  std::sort(expected.begin(), expected.end());
  CHECK(KeysOf(*pending) == expected);
  // Blocks go on; at the effective height the new set is the one that signs.
  while (r.height <= decided + kValidatorChangeDelay) {
    r.Ok("sh-auth", [&r](pb::TxBody& b) {
      b.mutable_grant_role()->set_account(RawAddr("filler-" + std::to_string(r.height)));
      b.mutable_grant_role()->set_role(pb::ROLE_MERCHANT);
      b.mutable_grant_role()->set_region("SH");
    });
  }
  auto sets = ReadValidatorSets(r.state, r.height - 1);
  REQUIRE(sets.ok());
  CHECK(KeysOf(*sets->next) == expected);
}

TEST_CASE("validator changes in flight build on each other, and impossible ones are refused") {
  Registry r;
  // (Refusals are checked in blocks where no earlier change takes effect, so that nothing but the
  // sender's nonce may change.)
  r.Refused("sh-auth", ProposeValidator("rm-carol", "carol", 0), pb::RECEIPT_VALIDATOR_SET_INVALID,
            "not in the set");
  r.Ok("sh-auth", ProposeValidator("add-alice", "alice", 10));
  r.Ok("js-auth", Vote("add-alice", "JS", true));
  // Decided one block later, still before alice's change takes effect: it must keep alice.
  r.Ok("sh-auth", ProposeValidator("add-bob", "bob", 5));
  r.Ok("js-auth", Vote("add-bob", "JS", true));
  const uint64_t decided = r.height - 1;
  auto pending =
      r.Read<pb::ValidatorSet>(state_keys::ValidatorsPending(decided + kValidatorChangeDelay));
  REQUIRE(pending.has_value());
  CHECK(pending->validators_size() == 3);

  Registry shared;
  shared.Ok("sh-auth", ProposeValidator("add-dan", "dan", 5, "shared-node"));
  shared.Ok("js-auth", Vote("add-dan", "JS", true));
  shared.Refused("sh-auth", ProposeValidator("add-erin", "erin", 5, "shared-node"),
                 pb::RECEIPT_VALIDATOR_SET_INVALID, "share a node key");

  Registry lone;  // one validator: removing it would leave nobody to sign
  lone.Refused("sh-auth", ProposeValidator("rm", "validator", 0), pb::RECEIPT_VALIDATOR_SET_INVALID,
               "needs a validator");
}
