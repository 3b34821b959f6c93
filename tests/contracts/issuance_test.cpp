// Projects, monitoring reports, verification and issuance: every rule refused with its own code,
// a reason naming it, and no state change.
#include <doctest/doctest.h>

#include <tuple>

#include "registry_fixture.h"

using namespace puhui;
using namespace puhui::testing;

TEST_CASE("a project owner registers a project under a filed methodology, experts approve it") {
  Registry r;
  r.FiledMethodology();
  r.Ok("owner", Registry::Register("P1"));
  auto p = r.Project("P1");
  CHECK(p.status() == pb::REVIEW_STATUS_PENDING);
  CHECK(p.owner() == RawAddr("owner"));
  r.Ok("e1", Registry::ReviewP("P1", true));
  r.Ok("e2", Registry::ReviewP("P1", true));
  CHECK(r.Project("P1").status() == pb::REVIEW_STATUS_APPROVED);
  r.Refused("e3", Registry::ReviewP("P1", false), pb::RECEIPT_REVIEW_CLOSED, "approved");
  r.Refused("e3", Registry::ReviewP("P9", false), pb::RECEIPT_PROJECT_NOT_FOUND,
            "project 'P9' does not exist");
}

TEST_CASE("project registration rules") {
  Registry r;
  r.Refused("owner", Registry::Register("P1"), pb::RECEIPT_METHODOLOGY_NOT_FOUND,
            "PV v1 does not exist");
  r.Ok("sh-op", Registry::File("PV", 1));
  r.Refused("owner", Registry::Register("P1"), pb::RECEIPT_METHODOLOGY_NOT_FILED,
            "needs the experts' approval");
  r.Ok("e1", Registry::ReviewM("PV", 1, true));
  r.Ok("e2", Registry::ReviewM("PV", 1, true));
  r.Refused("ver", Registry::Register("P1"), pb::RECEIPT_PERMISSION_DENIED,
            "not a project_owner of region 'SH'");
  r.Ok("owner", Registry::Register("P1"));
  r.Refused("owner", Registry::Register("P1"), pb::RECEIPT_ALREADY_EXISTS, "exists already");
  // A personal-scenario methodology does not carry projects.
  r.Ok("sh-op", Registry::File("BUS", 1, "SH", pb::METHODOLOGY_CATEGORY_PERSONAL));
  r.Ok("e1", Registry::ReviewM("BUS", 1, true));
  r.Ok("e2", Registry::ReviewM("BUS", 1, true));
  r.Refused("owner", Registry::Register("P2", "BUS"), pb::RECEIPT_METHODOLOGY_CATEGORY,
            "needs a project-category methodology");
}

TEST_CASE("a project in another region needs the methodology recognised there") {
  Registry r;
  r.FiledMethodology();
  r.Ok("js-auth", [](pb::TxBody& b) {
    b.mutable_grant_role()->set_account(RawAddr("owner"));
    b.mutable_grant_role()->set_role(pb::ROLE_PROJECT_OWNER);
    b.mutable_grant_role()->set_region("JS");
  });
  r.Refused("owner", Registry::Register("J1", "PV", 1, "JS"), pb::RECEIPT_METHODOLOGY_NOT_IN_REGION,
            "not recognised by 'JS'");
  r.Ok("js-auth", [](pb::TxBody& b) {
    b.mutable_recognize_methodology()->set_id("PV");
    b.mutable_recognize_methodology()->set_version(1);
    b.mutable_recognize_methodology()->set_region("JS");
  });
  r.Ok("owner", Registry::Register("J1", "PV", 1, "JS"));
}

TEST_CASE("a project whose serials would exceed 128 characters is refused") {
  const std::string long_region(100, 'R');
  Registry r(RegistryGenesisJson(long_region));
  r.FiledMethodology();
  r.Ok("x-auth", [&](pb::TxBody& b) {
    b.mutable_recognize_methodology()->set_id("PV");
    b.mutable_recognize_methodology()->set_version(1);
    b.mutable_recognize_methodology()->set_region(long_region);
  });
  r.Refused("x-owner", Registry::Register("P1", "PV", 1, long_region), pb::RECEIPT_SERIAL_TOO_LONG,
            "choose a shorter project id");
}

TEST_CASE("project review: the owner may not review its own project") {
  Registry r;
  r.FiledMethodology();
  r.Ok("e3", Registry::Register("P3"));
  r.Refused("e3", Registry::ReviewP("P3", true), pb::RECEIPT_REVIEWER_CONFLICT,
            "may not review their own filing");
  r.Ok("e1", Registry::ReviewP("P3", false));
  r.Ok("e2", Registry::ReviewP("P3", false));
  CHECK(r.Project("P3").status() == pb::REVIEW_STATUS_REJECTED);
}

TEST_CASE("a report's grams are computed from the filed formula, a differing claim names both") {
  Registry r;
  r.FiledMethodology();
  r.ApprovedProject();
  r.Refused("owner", Registry::Report("P1", 20250101, 20250331, 1000, 536601),
            pb::RECEIPT_CLAIM_MISMATCH,
            "claimed 536601 g, but the filed formula of PV v1 gives 536600 g");
  r.Ok("owner", Registry::Report("P1", 20250101, 20250331, 1000, 536600));
  auto rep = r.Read<pb::MonitoringReport>(registry_keys::Report("P1-R1"));
  REQUIRE(rep.has_value());
  CHECK(rep->status() == pb::REPORT_STATUS_SUBMITTED);
  CHECK(rep->baseline_grams() == 536600);
  CHECK(r.Project("P1").last_period_end() == 20250331);
}

TEST_CASE("report rules: owner only, approved project, within crediting, no overlap, valid data") {
  Registry r;
  r.FiledMethodology();
  r.Ok("owner", Registry::Register("P1"));
  r.Refused("owner", Registry::Report("P1", 20250101, 20250331, 1000, 536600),
            pb::RECEIPT_PROJECT_NOT_APPROVED, "only an approved project reports");
  r.Ok("e1", Registry::ReviewP("P1", true));
  r.Ok("e2", Registry::ReviewP("P1", true));
  r.Refused("e3", Registry::Report("P1", 20250101, 20250331, 1000, 536600),
            pb::RECEIPT_PERMISSION_DENIED, "only its owner reports");
  r.Refused("owner", Registry::Report("P9", 20250101, 20250331, 1000, 536600),
            pb::RECEIPT_PROJECT_NOT_FOUND, "'P9' does not exist");
  r.Refused("owner", Registry::Report("P1", 20241201, 20250331, 1000, 536600),
            pb::RECEIPT_PERIOD_OUTSIDE_CREDITING, "outside the crediting period");
  r.Refused("owner", Registry::Report("P1", 20271201, 20280131, 1000, 536600),
            pb::RECEIPT_PERIOD_OUTSIDE_CREDITING, "outside the crediting period");
  r.Refused("owner", Registry::Report("P1", 20250101, 20250331, 0, 1), pb::RECEIPT_NO_REDUCTION,
            "gives 0 g");
  r.Refused(
      "owner",
      [](pb::TxBody& b) {
        Registry::Report("P1", 20250101, 20250331, 1000, 536600)(b);
        b.mutable_submit_report()->mutable_activity(0)->set_name("kwh");
      },
      pb::RECEIPT_ACTIVITY_INVALID, "do not fit the formula of PV v1");
  r.Refused("owner", Registry::Report("P1", 20250101, 20250331, 2'000'000'000, 1),
            pb::RECEIPT_ACTIVITY_INVALID, "pv_kwh");
  r.Ok("owner", Registry::Report("P1", 20250101, 20250331, 1000, 536600));
  r.Refused("owner", Registry::Report("P1", 20250331, 20250630, 1000, 536600),
            pb::RECEIPT_PERIOD_OVERLAP, "has reported up to 20250331");
  r.Ok("owner", Registry::Report("P1", 20250401, 20250630, 10, 5366));
  CHECK(r.Project("P1").report_count() == 2);
}

TEST_CASE("a report whose project emissions exceed the baseline earns nothing and is refused") {
  Registry r;
  // EV trips: baseline km × 0.08 L/km × 2,370 g/L, project km × kWh/km × 536.6 g/kWh.
  r.Ok("sh-op", [](pb::TxBody& b) {
    Registry::File("EV", 1)(b);
    auto* f = b.mutable_file_methodology()->mutable_formula();
    f->Clear();
    f->add_inputs()->set_name("km");
    f->mutable_inputs(0)->set_unit("km");
    f->mutable_inputs(0)->set_max_value(100'000);
    f->add_inputs()->set_name("kwh");
    f->mutable_inputs(1)->set_unit("kWh");
    f->mutable_inputs(1)->set_max_value(100'000);
    for (auto [name, value, decimals] :
         {std::tuple{"l_per_km", 8, 2}, std::tuple{"petrol", 2370, 0},
          std::tuple{"grid", 5366, 1}}) {
      auto* fa = f->add_factors();
      fa->set_name(name);
      fa->set_value(static_cast<uint64_t>(value));
      fa->set_decimals(static_cast<uint32_t>(decimals));
      fa->set_unit("u");
      fa->set_source("T/CSAE 235-2021; MEE 2024");
    }
    f->add_baseline()->set_input("km");
    f->mutable_baseline(0)->add_factors("l_per_km");
    f->mutable_baseline(0)->add_factors("petrol");
    f->add_project()->set_input("kwh");
    f->mutable_project(0)->add_factors("grid");
  });
  r.Ok("e1", Registry::ReviewM("EV", 1, true));
  r.Ok("e2", Registry::ReviewM("EV", 1, true));
  r.Ok("owner", Registry::Register("E2", "EV"));
  r.Ok("e1", Registry::ReviewP("E2", true));
  r.Ok("e2", Registry::ReviewP("E2", true));
  // 100 km (18,960 g) on 100 kWh (53,660 g): more emitted than the baseline.
  r.Refused(
      "owner",
      [](pb::TxBody& b) {
        auto* a = b.mutable_submit_report();
        a->set_project("E2");
        a->set_period_start(20250101);
        a->set_period_end(20250131);
        auto* km = a->add_activity();
        km->set_name("km");
        km->set_value(100);
        auto* kwh = a->add_activity();
        kwh->set_name("kwh");
        kwh->set_value(100);
        a->set_claimed_grams(1);
      },
      pb::RECEIPT_NO_REDUCTION, "the formula of EV v1 yields no reduction");
}

TEST_CASE("verification: a verifier of the region, not the owner, once") {
  Registry r;
  r.FiledMethodology();
  r.ApprovedProject();
  r.Ok("owner", Registry::Report("P1", 20250101, 20250331, 1000, 536600));
  r.Refused("sh-op", Registry::Verify("P1-R1"), pb::RECEIPT_PERMISSION_DENIED,
            "not a verifier of region 'SH'");
  r.Refused("owner", Registry::Verify("P1-R1"), pb::RECEIPT_VERIFIER_CONFLICT,
            "may not verify its own report");
  r.Refused("ver2", Registry::Verify("P1-R9"), pb::RECEIPT_REPORT_NOT_FOUND, "does not exist");
  r.Ok("ver", Registry::Verify("P1-R1"));
  r.Refused("ver2", Registry::Verify("P1-R1"), pb::RECEIPT_REPORT_NOT_SUBMITTED,
            "verified already");
}

TEST_CASE("issuance: an operator other than the verifier, a verified report, once") {
  Registry r;
  r.FiledMethodology();
  r.ApprovedProject();
  r.Ok("owner", Registry::Report("P1", 20250101, 20250331, 1000, 536600));
  r.Refused("sh-op", Registry::Issue("P1-R1"), pb::RECEIPT_REPORT_NOT_VERIFIED, "is not verified");
  r.Ok("ver", Registry::Verify("P1-R1"));
  r.Refused("ver2", Registry::Issue("P1-R1"), pb::RECEIPT_PERMISSION_DENIED,
            "not an operator of region 'SH'");
  r.Refused("ver", Registry::Issue("P1-R1"), pb::RECEIPT_MAKER_CHECKER,
            "another account (an operator) must issue");
  auto rec = r.Run("sh-op", Registry::Issue("P1-R1"));
  REQUIRE(rec.code() == pb::RECEIPT_OK);
  const std::string serial = "SH-PV-v1-P1-20250101-20250331-1";
  auto b = r.Batch(serial);
  CHECK(b.issued_grams() == 536600);
  CHECK(b.project() == "P1");
  CHECK(b.vintage_start() == 20250101);
  CHECK(b.owner() == RawAddr("owner"));
  CHECK(r.Balance(serial, "owner") == 536600);
  r.Refused("sh-op", Registry::Issue("P1-R1"), pb::RECEIPT_REPORT_ALREADY_ISSUED,
            "a report issues once");
  // The next report issues the project's next sequence.
  r.Ok("owner", Registry::Report("P1", 20250401, 20250630, 10, 5366));
  r.Ok("ver", Registry::Verify("P1-R2"));
  r.Ok("sh-op", Registry::Issue("P1-R2"));
  CHECK(r.Batch("SH-PV-v1-P1-20250401-20250630-2").issued_grams() == 5366);
}

TEST_CASE("no issuance under a deprecated methodology version") {
  Registry r;
  r.FiledMethodology();
  r.ApprovedProject();
  r.Ok("owner", Registry::Report("P1", 20250101, 20250331, 1000, 536600));
  r.Ok("ver", Registry::Verify("P1-R1"));
  r.Ok("sh-auth", [&](pb::TxBody& b) {
    b.mutable_deprecate_methodology()->set_id("PV");
    b.mutable_deprecate_methodology()->set_version(1);
    b.mutable_deprecate_methodology()->set_from_height(r.height);
  });
  r.Refused("sh-op", Registry::Issue("P1-R1"), pb::RECEIPT_METHODOLOGY_DEPRECATED,
            "no issuance under it");
}
