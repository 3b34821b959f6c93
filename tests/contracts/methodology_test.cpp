// Methodologies: filing, expert review (k of n), revision, deprecation and recognition — every
// rule refused with its own code, a reason naming it, and no state change.
#include <doctest/doctest.h>

#include "registry_fixture.h"

using namespace puhui;
using namespace puhui::testing;

TEST_CASE("an operator files a methodology: pending, with the region's threshold, listed") {
  Registry r;
  auto rec = r.Run("sh-op", Registry::File("PV", 1));
  REQUIRE(rec.code() == pb::RECEIPT_OK);
  auto m = r.Methodology("PV", 1);
  CHECK(m.status() == pb::REVIEW_STATUS_PENDING);
  CHECK(m.threshold() == 2);
  CHECK(m.formula().inputs(0).name() == "pv_kwh");
  CHECK(m.params(0).name() == "daily_cap_grams");
  CHECK(*ReadU64(r.state, registry_keys::Seq(kKindMethodology)) == 1);
}

TEST_CASE("filing needs an operator or authority of the region, and an existing region") {
  Registry r;
  r.Refused("owner", Registry::File("PV", 1), pb::RECEIPT_PERMISSION_DENIED,
            "neither an operator nor an authority of region 'SH'");
  r.Refused("js-op", Registry::File("PV", 1), pb::RECEIPT_PERMISSION_DENIED, "region 'SH'");
  r.Refused("sh-op", Registry::File("PV", 1, "XX"), pb::RECEIPT_NOT_FOUND,
            "region 'XX' does not exist");
  r.Ok("sh-auth", Registry::File("PV", 1));
}

TEST_CASE("versions follow one another, a revision stays in its region, old versions stay") {
  Registry r;
  r.Refused("sh-op", Registry::File("PV", 2), pb::RECEIPT_METHODOLOGY_VERSION_GAP,
            "the next version must be v1");
  r.FiledMethodology();
  r.Refused("sh-op", Registry::File("PV", 1), pb::RECEIPT_ALREADY_EXISTS, "PV v1 exists already");
  r.Refused("sh-op", Registry::File("PV", 3), pb::RECEIPT_METHODOLOGY_VERSION_GAP, "must be v2");
  r.Refused("js-op", Registry::File("PV", 2, "JS"), pb::RECEIPT_METHODOLOGY_REGION_MISMATCH,
            "belongs to region 'SH'");
  r.Ok("sh-op", Registry::File("PV", 2));
  CHECK(r.Methodology("PV", 1).status() == pb::REVIEW_STATUS_APPROVED);
  CHECK(r.Methodology("PV", 2).status() == pb::REVIEW_STATUS_PENDING);
  CHECK(*ReadU64(r.state, registry_keys::MethodologyLatest("PV")) == 2);
}

TEST_CASE("k approvals of the region's experts file a methodology") {
  Registry r;
  r.Ok("sh-op", Registry::File("PV", 1));
  r.Ok("e1", Registry::ReviewM("PV", 1, true));
  CHECK(r.Methodology("PV", 1).status() == pb::REVIEW_STATUS_PENDING);
  auto rec = r.Run("e2", Registry::ReviewM("PV", 1, true));
  CHECK(rec.code() == pb::RECEIPT_OK);
  auto m = r.Methodology("PV", 1);
  CHECK(m.status() == pb::REVIEW_STATUS_APPROVED);
  CHECK(m.reviews_size() == 2);
  CHECK(m.decided_height() == r.height - 1);
  r.Refused("e3", Registry::ReviewM("PV", 1, true), pb::RECEIPT_REVIEW_CLOSED, "approved");
}

TEST_CASE("a methodology is rejected once approval can no longer be reached") {
  Registry r;  // 3 experts, k = 2: two rejections leave 1 possible approval
  r.Ok("sh-op", Registry::File("PV", 1));
  r.Ok("e1", Registry::ReviewM("PV", 1, false));
  CHECK(r.Methodology("PV", 1).status() == pb::REVIEW_STATUS_PENDING);
  r.Ok("e2", Registry::ReviewM("PV", 1, false));
  CHECK(r.Methodology("PV", 1).status() == pb::REVIEW_STATUS_REJECTED);
}

TEST_CASE("review rules: experts of the region only, once each, never one's own filing") {
  Registry r;
  r.Ok("e3", Registry::File("PV", 1));
  r.Refused("owner", Registry::ReviewM("PV", 1, true), pb::RECEIPT_PERMISSION_DENIED,
            "not an expert of region 'SH'");
  r.Refused("e3", Registry::ReviewM("PV", 1, true), pb::RECEIPT_REVIEWER_CONFLICT,
            "may not review their own filing");
  r.Ok("e1", Registry::ReviewM("PV", 1, true));
  r.Refused("e1", Registry::ReviewM("PV", 1, false), pb::RECEIPT_ALREADY_REVIEWED,
            "each expert reviews once");
  r.Refused("e1", Registry::ReviewM("NOPE", 1, true), pb::RECEIPT_METHODOLOGY_NOT_FOUND,
            "NOPE v1 does not exist");
}

TEST_CASE("the region's authority sets the review threshold, new filings use it") {
  Registry r;
  auto set = [](uint32_t k) {
    return [=](pb::TxBody& b) {
      b.mutable_set_review_threshold()->set_region("SH");
      b.mutable_set_review_threshold()->set_threshold(k);
    };
  };
  r.Refused("js-auth", set(3), pb::RECEIPT_PERMISSION_DENIED, "not an authority of region 'SH'");
  r.Ok("sh-auth", set(3));
  r.Ok("sh-op", Registry::File("PV", 1));
  CHECK(r.Methodology("PV", 1).threshold() == 3);
  r.Ok("e1", Registry::ReviewM("PV", 1, true));
  r.Ok("e2", Registry::ReviewM("PV", 1, true));
  CHECK(r.Methodology("PV", 1).status() == pb::REVIEW_STATUS_PENDING);
  // One rejection of three experts makes 3 approvals unreachable.
  r.Ok("e3", Registry::ReviewM("PV", 1, false));
  CHECK(r.Methodology("PV", 1).status() == pb::REVIEW_STATUS_REJECTED);
}

namespace {
std::function<void(pb::TxBody&)> Deprecate(const std::string& id, uint32_t v, uint64_t from) {
  return [=](pb::TxBody& b) {
    b.mutable_deprecate_methodology()->set_id(id);
    b.mutable_deprecate_methodology()->set_version(v);
    b.mutable_deprecate_methodology()->set_from_height(from);
  };
}
std::function<void(pb::TxBody&)> Recognise(const std::string& id, uint32_t v,
                                           const std::string& region) {
  return [=](pb::TxBody& b) {
    b.mutable_recognize_methodology()->set_id(id);
    b.mutable_recognize_methodology()->set_version(v);
    b.mutable_recognize_methodology()->set_region(region);
  };
}
}  // namespace

TEST_CASE("deprecation: by the region's authority, of a filed version, from a height not past") {
  Registry r;
  r.Ok("sh-op", Registry::File("PV", 1));
  r.Refused("sh-auth", Deprecate("PV", 1, 100), pb::RECEIPT_METHODOLOGY_NOT_FILED, "pending");
  r.Ok("e1", Registry::ReviewM("PV", 1, true));
  r.Ok("e2", Registry::ReviewM("PV", 1, true));
  r.Refused("sh-op", Deprecate("PV", 1, 100), pb::RECEIPT_PERMISSION_DENIED,
            "not an authority of region 'SH'");
  r.Refused("sh-auth", Deprecate("PV", 1, 1), pb::RECEIPT_DEPRECATION_IN_PAST,
            "below the current height");
  r.Ok("sh-auth", Deprecate("PV", 1, r.height + 3));
  r.Refused("sh-auth", Deprecate("PV", 1, 500), pb::RECEIPT_ALREADY_DEPRECATED,
            "deprecated from height");
  // Before the height, projects may still register; from it, not.
  r.Ok("owner", Registry::Register("P1"));
  r.Refused("owner", Registry::Register("P2"), pb::RECEIPT_METHODOLOGY_DEPRECATED,
            "deprecated since height");
}

TEST_CASE("recognition (方法学互认): another region's authority, a filed version, once") {
  Registry r;
  r.Ok("sh-op", Registry::File("PV", 1));
  r.Refused("js-auth", Recognise("PV", 1, "JS"), pb::RECEIPT_METHODOLOGY_NOT_FILED, "pending");
  r.Ok("e1", Registry::ReviewM("PV", 1, true));
  r.Ok("e2", Registry::ReviewM("PV", 1, true));
  r.Refused("sh-auth", Recognise("PV", 1, "JS"), pb::RECEIPT_PERMISSION_DENIED,
            "not an authority of region 'JS'");
  r.Refused("sh-auth", Recognise("PV", 1, "SH"), pb::RECEIPT_RECOGNITION_SAME_REGION,
            "recognition is for other regions");
  r.Ok("js-auth", Recognise("PV", 1, "JS"));
  CHECK(r.Methodology("PV", 1).recognized_in(0) == "JS");
  r.Refused("js-auth", Recognise("PV", 1, "JS"), pb::RECEIPT_ALREADY_RECOGNISED,
            "recognised methodology PV v1 already");
}

TEST_CASE("a deprecated version is not recognised") {
  Registry r;
  r.FiledMethodology();
  r.Ok("sh-auth", Deprecate("PV", 1, r.height));
  r.Refused("js-auth", Recognise("PV", 1, "JS"), pb::RECEIPT_METHODOLOGY_DEPRECATED,
            "deprecated since height");
}

TEST_CASE("registry actions with malformed fields are refused at decoding") {
  auto decode = [](const std::function<void(pb::TxBody&)>& fill) {
    pb::TxBody b = Body("sh-op", 0);
    fill(b);
    return DecodeTx(kChainId, Signed(b, "sh-op")).status();
  };
  CHECK(decode(Registry::File("PV", 1)).ok());
  CHECK(decode([](pb::TxBody& b) {
          Registry::File("PV", 1)(b);
          b.mutable_file_methodology()->set_document_hash("short");
        }).message() == "document_hash must be a 32-byte hash");
  CHECK(decode([](pb::TxBody& b) {
          Registry::File("PV", 1)(b);
          b.mutable_file_methodology()->mutable_formula()->clear_baseline();
        })
            .message()
            .find("formula:") == 0);
  CHECK(decode([](pb::TxBody& b) { Registry::File("PV", 0)(b); }).code() ==
        StatusCode::kInvalidArgument);
  CHECK(decode([](pb::TxBody& b) {
          Registry::Register("P1")(b);
          b.mutable_register_project()->set_crediting_end(20250230);
        })
            .message()
            .find("real dates") != std::string::npos);
  CHECK(decode([](pb::TxBody& b) {
          Registry::Report("P1", 20250101, 20250131, 1, 0)(b);
        }).message() == "claimed_grams must be > 0");
  CHECK(decode([](pb::TxBody& b) {
          b.mutable_pledge_credits()->set_batch(kBatch);
          b.mutable_pledge_credits()->set_grams(1);
          b.mutable_pledge_credits()->set_pledgee(RawAddr("sh-op"));
        }).message() == "pledgee must be another account than the sender");
  CHECK(decode([](pb::TxBody& b) {
          b.mutable_submit_proposal()->set_id("x");
          b.mutable_submit_proposal()->set_region("SH");
          b.mutable_submit_proposal()->set_expiry_height(9);
          b.mutable_submit_proposal()->mutable_set_parameter()->set_name("block_size");
        })
            .message()
            .find("no governed parameter") != std::string::npos);
}
