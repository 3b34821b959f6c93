// Holding and using credits: pledges, compliance offsets, voluntary retirement and cancellation.
// Every rule refused with its own code, a reason naming it, and no state change.
#include <doctest/doctest.h>

#include "registry_fixture.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

const std::string kSerial = "SH-PV-v1-P1-20250101-20250331-1";  // 536,600 g owned by "owner"

std::function<void(pb::TxBody&)> Pledge(const std::string& batch, uint64_t grams,
                                        const std::string& pledgee) {
  return [=](pb::TxBody& b) {
    b.mutable_pledge_credits()->set_batch(batch);
    b.mutable_pledge_credits()->set_grams(grams);
    b.mutable_pledge_credits()->set_pledgee(RawAddr(pledgee));
  };
}
std::function<void(pb::TxBody&)> Release(const std::string& id) {
  return [=](pb::TxBody& b) { b.mutable_release_pledge()->set_pledge(id); };
}
std::function<void(pb::TxBody&)> Claim(const std::string& id) {
  return [=](pb::TxBody& b) { b.mutable_claim_pledge()->set_pledge(id); };
}
std::function<void(pb::TxBody&)> Transfer(const std::string& batch, const std::string& to,
                                          uint64_t grams) {
  return [=](pb::TxBody& b) {
    b.mutable_transfer()->set_batch(batch);
    b.mutable_transfer()->set_to(RawAddr(to));
    b.mutable_transfer()->set_grams(grams);
  };
}
std::function<void(pb::TxBody&)> Offset(const std::string& batch, uint64_t grams,
                                        const std::string& region) {
  return [=](pb::TxBody& b) {
    b.mutable_retire_offset()->set_batch(batch);
    b.mutable_retire_offset()->set_grams(grams);
    b.mutable_retire_offset()->set_region(region);
    b.mutable_retire_offset()->set_period("2025");
  };
}
std::function<void(pb::TxBody&)> Neutral(const std::string& batch, uint64_t grams) {
  return [=](pb::TxBody& b) {
    auto* a = b.mutable_retire_voluntary();
    a->set_batch(batch);
    a->set_grams(grams);
    a->set_beneficiary("Shanghai Marathon 2025");
    a->set_purpose(pb::RETIREMENT_PURPOSE_EVENT);
    a->set_purpose_text("neutrality of the event's travel");
  };
}
std::function<void(pb::TxBody&)> Cancel(const std::string& batch, const std::string& holder,
                                        uint64_t grams) {
  return [=](pb::TxBody& b) {
    auto* a = b.mutable_cancel_credits();
    a->set_batch(batch);
    a->set_holder(RawAddr(holder));
    a->set_grams(grams);
    a->set_reason(pb::CANCEL_REASON_DOUBLE_COUNTING);
  };
}

}  // namespace

TEST_CASE("a pledge locks grams that only the pledgee releases, locked grams do not move") {
  Registry r;
  r.Ok("owner", Pledge(kBatch, 400'000, "ver2"));
  CHECK(r.Balance(kBatch, "owner") == 600'000);
  CHECK(r.Batch(kBatch).locked_grams() == 400'000);
  r.Refused("owner", Transfer(kBatch, "alice", 600'001), pb::RECEIPT_INSUFFICIENT_FUNDS,
            "free balance");
  r.Refused("owner", Transfer("NOPE", "alice", 1), pb::RECEIPT_NOT_FOUND,
            "credit batch 'NOPE' does not exist");
  r.Refused("owner", Release("PL-1"), pb::RECEIPT_NOT_PLEDGEE, "only the pledgee releases it");
  r.Refused("ver2", Release("PL-9"), pb::RECEIPT_PLEDGE_NOT_FOUND, "'PL-9' does not exist");
  r.Ok("ver2", Release("PL-1"));
  CHECK(r.Balance(kBatch, "owner") == 1'000'000);
  CHECK(r.Batch(kBatch).locked_grams() == 0);
  r.Refused("ver2", Release("PL-1"), pb::RECEIPT_PLEDGE_CLOSED, "released already");
  r.Refused("ver2", Claim("PL-1"), pb::RECEIPT_PLEDGE_CLOSED, "released already");
}

TEST_CASE("a pledgee claims a pledge into its own free balance") {
  Registry r;
  r.Ok("owner", Pledge(kBatch, 1000, "ver2"));
  r.Refused("owner", Claim("PL-1"), pb::RECEIPT_NOT_PLEDGEE, "only the pledgee claims it");
  r.Ok("ver2", Claim("PL-1"));
  CHECK(r.Balance(kBatch, "ver2") == 1000);
  CHECK(r.Batch(kBatch).locked_grams() == 0);
  CHECK(r.Read<pb::Pledge>(registry_keys::Pledge("PL-1"))->status() == pb::PLEDGE_STATUS_CLAIMED);
}

TEST_CASE("pledging more than the free balance or of an unknown batch is refused") {
  Registry r;
  r.Refused("owner", Pledge(kBatch, 1'000'001, "ver2"), pb::RECEIPT_INSUFFICIENT_FUNDS,
            "1000001 g to pledge");
  r.Refused("owner", Pledge("NOPE", 1, "ver2"), pb::RECEIPT_BATCH_NOT_FOUND,
            "'NOPE' does not exist");
}

TEST_CASE("an authority sets an obligation for a compliance entity of its region") {
  Registry r;
  r.Refused("js-auth", Obligation("SH", 10'000'000, 500, 0), pb::RECEIPT_PERMISSION_DENIED,
            "not an authority of region 'SH'");
  r.Refused(
      "sh-auth",
      [](pb::TxBody& b) {
        Obligation("SH", 10'000'000, 500, 0)(b);
        b.mutable_set_obligation()->set_entity(RawAddr("owner"));
      },
      pb::RECEIPT_ENTITY_NOT_COMPLIANCE, "not a compliance entity of region 'SH'");
  r.Ok("sh-auth", Obligation("SH", 10'000'000, 500, 0));
  auto o = r.Read<pb::Obligation>(registry_keys::Obligation("SH", "2025", KeyOf("ent").Public()));
  REQUIRE(o.has_value());
  CHECK(o->cap_grams() == 500'000);  // 5 % of 10 t
}

TEST_CASE("an offset retires eligible credits within the cap, the rules refuse the rest") {
  Registry r;
  const std::string serial = r.IssuedBatch();
  r.Ok("owner", Transfer(serial, "ent", 536'600));
  r.Ok("owner", Transfer(kBatch, "ent", 1000));
  r.Refused("ent", Offset(serial, 1000, "SH"), pb::RECEIPT_OBLIGATION_NOT_FOUND,
            "no compliance obligation in region 'SH' for period '2025'");
  r.Ok("sh-auth", Obligation("SH", 10'000'000, 500, 0));  // cap 500,000 g
  r.Refused("ent", Offset(kBatch, 1000, "SH"), pb::RECEIPT_NOT_ELIGIBLE_REGION,
            "not issued under a methodology on chain");
  r.Refused("ent", Offset(serial, 536'601, "SH"), pb::RECEIPT_INSUFFICIENT_FUNDS, "free balance");
  r.Ok("ent", Offset(serial, 300'000, "SH"));
  CHECK(r.Batch(serial).retired_grams() == 300'000);
  auto rt = r.Read<pb::Retirement>(registry_keys::Retirement("RT-1"));
  REQUIRE(rt.has_value());
  CHECK(rt->kind() == pb::RETIREMENT_KIND_OFFSET);
  CHECK(rt->period() == "2025");
  r.Refused("ent", Offset(serial, 200'001, "SH"), pb::RECEIPT_OFFSET_CAP_EXCEEDED,
            "300000 g of 500000 g used");
  r.Ok("ent", Offset(serial, 200'000, "SH"));
  // A new cap below what was offset is refused.
  r.Refused("sh-auth", Obligation("SH", 1'000'000, 500, 0), pb::RECEIPT_CAP_BELOW_OFFSETS,
            "below what was offset already");
}

TEST_CASE("an offset needs the vintage in the window") {
  Registry r;
  const std::string serial = r.IssuedBatch();
  r.Ok("owner", Transfer(serial, "ent", 1000));
  r.Ok("sh-auth", Obligation("SH", 10'000'000, 500, 0, 20250401, 20251231));
  r.Refused("ent", Offset(serial, 1000, "SH"), pb::RECEIPT_VINTAGE_OUTSIDE_WINDOW,
            "outside the allowed window 20250401..20251231");
}

TEST_CASE("an offset in another region needs recognition there and respects its local share") {
  Registry r;
  const std::string serial = r.IssuedBatch();
  r.Ok("owner", Transfer(serial, "ent", 536'600));
  // JS: cap 500,000 g of which at least 70 % local, so at most 150,000 g from SH.
  r.Ok("js-auth", Obligation("JS", 10'000'000, 500, 7000));
  r.Refused("ent", Offset(serial, 1000, "JS"), pb::RECEIPT_NOT_ELIGIBLE_REGION,
            "neither filed in nor recognised by region 'JS'");
  r.Ok("js-auth", [](pb::TxBody& b) {
    b.mutable_recognize_methodology()->set_id("PV");
    b.mutable_recognize_methodology()->set_version(1);
    b.mutable_recognize_methodology()->set_region("JS");
  });
  r.Ok("ent", Offset(serial, 150'000, "JS"));
  r.Refused("ent", Offset(serial, 1, "JS"), pb::RECEIPT_LOCAL_SHARE_VIOLATED,
            "at most 150000 g may come from outside 'JS'");
}

TEST_CASE("voluntary retirement leaves a certificate anyone can look up") {
  Registry r;
  r.Ok("owner", Neutral(kBatch, 2500));
  auto rt = r.Read<pb::Retirement>(registry_keys::Retirement("RT-1"));
  REQUIRE(rt.has_value());
  CHECK(rt->kind() == pb::RETIREMENT_KIND_VOLUNTARY);
  CHECK(rt->beneficiary() == "Shanghai Marathon 2025");
  CHECK(rt->purpose() == pb::RETIREMENT_PURPOSE_EVENT);
  CHECK(rt->holder() == RawAddr("owner"));
  CHECK(r.Batch(kBatch).retired_grams() == 2500);
  CHECK(r.Balance(kBatch, "owner") == 997'500);
  r.Refused("owner", Neutral(kBatch, 997'501), pb::RECEIPT_INSUFFICIENT_FUNDS, "free balance");
  r.Refused("owner", Neutral("NOPE", 1), pb::RECEIPT_BATCH_NOT_FOUND, "does not exist");
  // Locked grams cannot be retired.
  r.Ok("owner", Pledge(kBatch, 997'000, "ver2"));
  r.Refused("owner", Neutral(kBatch, 501), pb::RECEIPT_INSUFFICIENT_FUNDS,
            "locked grams cannot be retired");
}

TEST_CASE("an operator of the batch's region cancels a holder's credits with a reason") {
  Registry r;
  r.Refused("js-op", Cancel(kBatch, "owner", 10), pb::RECEIPT_PERMISSION_DENIED,
            "not an operator of region 'SH'");
  r.Refused("sh-op", Cancel(kBatch, "owner", 1'000'001), pb::RECEIPT_INSUFFICIENT_FUNDS,
            "free balance");
  r.Ok("sh-op", Cancel(kBatch, "owner", 10));
  CHECK(r.Batch(kBatch).cancelled_grams() == 10);
  auto cx = r.Read<pb::Retirement>(registry_keys::Retirement("CX-1"));
  REQUIRE(cx.has_value());
  CHECK(cx->cancel_reason() == pb::CANCEL_REASON_DOUBLE_COUNTING);
  CHECK(cx->operator_() == RawAddr("sh-op"));
}

TEST_CASE("retired and cancelled grams never move again") {
  Registry r;
  r.Ok("owner", Neutral(kBatch, 999'000));
  r.Ok("sh-op", Cancel(kBatch, "owner", 1000));
  CHECK(r.Balance(kBatch, "owner") == 0);
  r.Refused("owner", Transfer(kBatch, "alice", 1), pb::RECEIPT_INSUFFICIENT_FUNDS, "free balance");
  r.Refused("owner", Pledge(kBatch, 1, "alice"), pb::RECEIPT_INSUFFICIENT_FUNDS, "free balance");
  r.Refused("owner", Neutral(kBatch, 1), pb::RECEIPT_INSUFFICIENT_FUNDS, "free balance");
  r.Refused("sh-op", Cancel(kBatch, "owner", 1), pb::RECEIPT_INSUFFICIENT_FUNDS, "free balance");
  auto b = r.Batch(kBatch);
  CHECK(b.retired_grams() == 999'000);
  CHECK(b.cancelled_grams() == 1000);
}
