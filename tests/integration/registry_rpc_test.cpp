// The registry's whole path over JSON-RPC against a running puhuid: file a methodology, review it,
// register and approve a project, report, verify, issue, transfer, pledge and release, retire for
// an offset and for neutrality, cancel — and read every record back through the query methods.
#include <doctest/doctest.h>

#include <functional>
#include <map>

#include "chain/hash.h"
#include "process.h"

using namespace puhui;
using namespace puhui::testing;
using nlohmann::json;

namespace {

struct Chain {
  RunningNode& n;
  std::map<std::string, uint64_t> nonces;

  // Signs and submits one transaction of `signer`, waits for it, returns its receipt.
  json Send(const std::string& signer, const std::function<void(pb::TxBody&)>& fill) {
    pb::TxBody body = Body(signer, nonces[signer]++, 10'000);
    fill(body);
    json sent = n.Ok("tx_submit", {{"tx", Hex(AsBytes(Signed(body, signer)))}});
    return n.WaitCommitted(sent["tx_hash"])["receipt"];
  }
  json Ok(const std::string& signer, const std::function<void(pb::TxBody&)>& fill) {
    json r = Send(signer, fill);
    REQUIRE_MESSAGE(r["ok"] == true, r.dump());
    return r;
  }
  void Grant(const std::string& who, pb::Role role) {
    Ok("sh-auth", [&](pb::TxBody& b) {
      b.mutable_grant_role()->set_account(RawAddr(who));
      b.mutable_grant_role()->set_role(role);
      b.mutable_grant_role()->set_region("SH");
    });
  }
};

std::string H(const std::string& text) { return ToString(Sha256(text)); }

}  // namespace

TEST_CASE("registry over RPC: the whole life of a credit, from filing to cancellation") {
  RunningNode n;
  Chain c{n, {}};
  c.Grant("op", pb::ROLE_OPERATOR);
  c.Grant("e1", pb::ROLE_EXPERT);
  c.Grant("e2", pb::ROLE_EXPERT);
  c.Grant("ver", pb::ROLE_VERIFIER);
  c.Grant("owner", pb::ROLE_PROJECT_OWNER);
  c.Grant("ent", pb::ROLE_COMPLIANCE_ENTITY);

  // File and review a methodology.
  c.Ok("op", [](pb::TxBody& b) {
    auto* a = b.mutable_file_methodology();
    a->set_id("PV");
    a->set_version(1);
    a->set_title("Distributed rooftop PV");
    a->set_category(pb::METHODOLOGY_CATEGORY_PROJECT);
    a->set_region("SH");
    a->set_document_hash(H("doc"));
    auto* f = a->mutable_formula();
    auto* in = f->add_inputs();
    in->set_name("pv_kwh");
    in->set_unit("kWh");
    in->set_max_value(1'000'000'000);
    auto* fa = f->add_factors();
    fa->set_name("grid");
    fa->set_value(5366);
    fa->set_decimals(1);
    fa->set_unit("gCO2/kWh");
    fa->set_source("MEE release, Dec 2024");
    f->add_baseline()->set_input("pv_kwh");
    f->mutable_baseline(0)->add_factors("grid");
  });
  for (const char* e : {"e1", "e2"}) {
    c.Ok(e, [](pb::TxBody& b) {
      auto* a = b.mutable_review_methodology();
      a->set_id("PV");
      a->set_version(1);
      a->set_approve(true);
      a->set_comment_hash(H("fine"));
    });
  }
  json m = n.Ok("methodology_get", {{"id", "PV"}});
  CHECK(m["latest_version"] == 1);
  CHECK(m["versions"][0]["status"] == "approved");
  CHECK(m["versions"][0]["reviews"].size() == 2);
  CHECK(m["versions"][0]["reviews"][0]["expert"] == Addr("e1"));
  CHECK(m["versions"][0]["formula"]["factors"][0]["value"] == 5366);

  // Register and approve a project.
  c.Ok("owner", [](pb::TxBody& b) {
    auto* a = b.mutable_register_project();
    a->set_id("P1");
    a->set_region("SH");
    a->set_methodology_id("PV");
    a->set_methodology_version(1);
    a->set_location_hash(H("loc"));
    a->set_boundary_hash(H("bnd"));
    a->set_baseline_hash(H("base"));
    a->set_crediting_start(20250101);
    a->set_crediting_end(20271231);
    a->set_title("Workshop roof");
  });
  for (const char* e : {"e1", "e2"}) {
    c.Ok(e, [](pb::TxBody& b) {
      b.mutable_review_project()->set_id("P1");
      b.mutable_review_project()->set_approve(true);
      b.mutable_review_project()->set_comment_hash(H("ok"));
    });
  }
  CHECK(n.Ok("project_get", {{"id", "P1"}})["status"] == "approved");

  // Report (a wrong claim is refused with both numbers), verify, issue.
  auto report = [](uint64_t claimed) {
    return [claimed](pb::TxBody& b) {
      auto* a = b.mutable_submit_report();
      a->set_project("P1");
      a->set_period_start(20250101);
      a->set_period_end(20250331);
      auto* v = a->add_activity();
      v->set_name("pv_kwh");
      v->set_value(10'000);
      a->set_claimed_grams(claimed);
    };
  };
  json wrong = c.Send("owner", report(5'000'000));
  CHECK(wrong["ok"] == false);
  CHECK(wrong["code"] == "claim_mismatch");
  CHECK(wrong["reason"].get<std::string>().find("gives 5366000 g") != std::string::npos);
  c.Ok("owner", report(5'366'000));
  c.Ok("ver", [](pb::TxBody& b) {
    b.mutable_verify_report()->set_report("P1-R1");
    b.mutable_verify_report()->set_opinion_hash(H("verified"));
  });
  json issued = c.Ok("op", [](pb::TxBody& b) { b.mutable_issue_credits()->set_report("P1-R1"); });
  const std::string serial = "SH-PV-v1-P1-20250101-20250331-1";
  CHECK(issued["events"][0]["attributes"]["batch"] == serial);
  CHECK(n.Ok("report_get", {{"id", "P1-R1"}})["status"] == "issued");
  CHECK(n.Ok("balance_get", {{"batch", serial}, {"address", Addr("owner")}})["grams"] == 5'366'000);

  // Transfer; pledge and release.
  c.Ok("owner", [&](pb::TxBody& b) {
    b.mutable_transfer()->set_batch(serial);
    b.mutable_transfer()->set_to(RawAddr("ent"));
    b.mutable_transfer()->set_grams(1'000'000);
  });
  c.Ok("owner", [&](pb::TxBody& b) {
    b.mutable_pledge_credits()->set_batch(serial);
    b.mutable_pledge_credits()->set_grams(2'000'000);
    b.mutable_pledge_credits()->set_pledgee(RawAddr("bank"));
  });
  CHECK(n.Ok("batch_get", {{"serial", serial}})["locked_grams"] == 2'000'000);
  CHECK(n.Ok("pledge_get", {{"id", "PL-1"}})["status"] == "locked");
  c.Ok("bank", [](pb::TxBody& b) { b.mutable_release_pledge()->set_pledge("PL-1"); });
  CHECK(n.Ok("pledge_get", {{"id", "PL-1"}})["status"] == "released");

  // Offset within the entity's obligation; voluntary neutrality; cancellation.
  c.Ok("sh-auth", [](pb::TxBody& b) {
    auto* a = b.mutable_set_obligation();
    a->set_entity(RawAddr("ent"));
    a->set_region("SH");
    a->set_period("2025");
    a->set_cap_base(pb::CAP_BASE_ALLOCATED_ALLOWANCES);
    a->set_cap_base_grams(100'000'000);
    a->set_cap_ratio_bp(500);
    a->set_vintage_from(20250101);
    a->set_vintage_to(20251231);
  });
  c.Ok("ent", [&](pb::TxBody& b) {
    b.mutable_retire_offset()->set_batch(serial);
    b.mutable_retire_offset()->set_grams(600'000);
    b.mutable_retire_offset()->set_region("SH");
    b.mutable_retire_offset()->set_period("2025");
  });
  c.Ok("ent", [&](pb::TxBody& b) {
    auto* a = b.mutable_retire_voluntary();
    a->set_batch(serial);
    a->set_grams(400'000);
    a->set_beneficiary("Expo 2025 carbon-neutral event");
    a->set_purpose(pb::RETIREMENT_PURPOSE_EVENT);
  });
  c.Ok("op", [&](pb::TxBody& b) {
    auto* a = b.mutable_cancel_credits();
    a->set_batch(serial);
    a->set_holder(RawAddr("owner"));
    a->set_grams(66'000);
    a->set_reason(pb::CANCEL_REASON_ISSUANCE_ERROR);
  });

  json batch = n.Ok("batch_get", {{"serial", serial}});
  CHECK(batch["issued_grams"] == 5'366'000);
  CHECK(batch["retired_grams"] == 1'000'000);
  CHECK(batch["cancelled_grams"] == 66'000);
  CHECK(batch["locked_grams"] == 0);
  CHECK(batch["project"] == "P1");
  json rt1 = n.Ok("retirement_get", {{"id", "RT-1"}});
  CHECK(rt1["kind"] == "offset");
  CHECK(rt1["holder"] == Addr("ent"));
  json rt2 = n.Ok("retirement_get", {{"id", "RT-2"}});
  CHECK(rt2["purpose"] == "event");
  CHECK(n.Ok("retirement_get", {{"id", "CX-3"}})["cancel_reason"] == "issuance_error");
  CHECK(n.Ok("obligation_get",
             {{"entity", Addr("ent")}, {"region", "SH"}, {"period", "2025"}})["offset_grams"] ==
        600'000);

  // Lists, filters and paging.
  json batches = n.Ok("batch_list", {{"region", "SH"}, {"vintage", 2025}});
  REQUIRE(batches["items"].size() == 1);
  CHECK(batches["items"][0]["serial"] == serial);
  json page = n.Ok("batch_list", {{"limit", 1}});
  CHECK(page["items"][0]["serial"] == kBatch);
  CHECK(page["next"] == 1);
  CHECK(n.Ok("batch_list", {{"after", 1}})["items"][0]["serial"] == serial);
  CHECK(n.Ok("retirement_list", {{"kind", "voluntary"}})["items"].size() == 1);
  CHECK(n.Ok("project_list", {{"owner", Addr("owner")}})["items"].size() == 1);
  CHECK(n.Ok("methodology_list", {{"status", "approved"}})["items"].size() == 1);
  json balances = n.Ok("balances_get", {{"address", Addr("owner")}});
  CHECK(balances["items"].size() == 2);  // the genesis batch and the issued one
  CHECK(n.Ok("region_get", {{"code", "SH"}})["role_holders"]["expert"] == 2);

  // Governance: both regions vote to add AH; its authority then shows in account_get.
  c.Ok("sh-auth", [](pb::TxBody& b) {
    auto* a = b.mutable_submit_proposal();
    a->set_id("add-ah");
    a->set_region("SH");
    a->set_expiry_height(10'000);
    a->mutable_add_region()->set_code("AH");
    a->mutable_add_region()->set_name("Anhui");
    a->mutable_add_region()->set_authority(RawAddr("ah-auth"));
  });
  c.Ok("js-auth", [](pb::TxBody& b) {
    b.mutable_vote_proposal()->set_id("add-ah");
    b.mutable_vote_proposal()->set_region("JS");
    b.mutable_vote_proposal()->set_approve(true);
  });
  CHECK(n.Ok("proposal_get", {{"id", "add-ah"}})["status"] == "passed");
  json ah = n.Ok("account_get", {{"address", Addr("ah-auth")}});
  REQUIRE(ah["roles"].size() == 1);
  CHECK(ah["roles"][0]["region"] == "AH");
  CHECK(n.Ok("region_get", {{"code", "AH"}})["role_holders"]["authority"] == 1);

  // Unknown records and bad params are errors with stable codes.
  CHECK(n.ErrorCode("methodology_get", {{"id", "NOPE"}}) == 1002);
  CHECK(n.ErrorCode("retirement_get", {{"id", "RT-99"}}) == 1002);
  CHECK(n.ErrorCode("batch_list", {{"limit", 0}}) == -32602);
  CHECK(n.ErrorCode("project_list", {{"colour", "red"}}) == -32602);
}

TEST_CASE("scripts/registry-demo runs the whole path with puhui-cli on the dev genesis") {
  TempDir dir;
  const std::string home = InitDevHome(dir);
  NodeProcess node(home, dir / "node.log");
  node.Start();
  auto [code, out] = RunDemoScript("registry-demo", node.url());
  CHECK_MESSAGE(code == 0, out, "\nnode log:\n", node.log());
  CHECK(out.find("registry-demo: done") != std::string::npos);
}
