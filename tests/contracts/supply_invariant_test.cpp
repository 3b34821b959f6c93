// The supply invariant under thousands of random mixed operations: for every batch,
// issued = held (sum of balances) + locked + retired + cancelled, after every transaction.
#include <doctest/doctest.h>

#include <random>

#include "contracts/supply.h"
#include "registry_fixture.h"

using namespace puhui;
using namespace puhui::testing;

namespace {

// Σ balances of `serial`, by scanning every bal/<serial>/<addr> key.
uint64_t Held(const MemoryState& state, const std::string& serial) {
  const std::string prefix = "bal/" + serial + "/";
  uint64_t sum = 0;
  for (const auto& [k, v] : state.values()) {
    if (k.size() == prefix.size() + 32 && std::equal(prefix.begin(), prefix.end(), k.begin())) {
      sum += *DecodeU64(v);
    }
  }
  return sum;
}

void CheckSupply(Registry& r, const std::vector<std::string>& serials) {
  for (const auto& s : serials) {
    auto b = r.Batch(s);
    REQUIRE_MESSAGE(b.issued_grams() == Held(r.state, s) + b.locked_grams() + b.retired_grams() +
                                            b.cancelled_grams(),
                    "batch ", s);
  }
}

}  // namespace

TEST_CASE("issued = held + locked + retired + cancelled through 20000 random operations") {
  const uint32_t seed = 20260101;
  INFO("seed ", seed);
  std::mt19937 rng(seed);
  Registry r;
  const std::string issued = r.IssuedBatch();
  std::vector<std::string> serials = {kBatch, issued};
  const std::vector<std::string> holders = {"owner", "alice", "bob", "ent", "ver2"};
  r.Ok("sh-auth", Obligation("SH", 100'000'000, 500, 0, 20250101, 20251231,
                             pb::CAP_BASE_ALLOCATED_ALLOWANCES));
  std::vector<std::string> open_pledges;
  uint64_t pledges = 0, ok = 0;
  auto pick = [&](const auto& v) { return v[rng() % v.size()]; };
  for (int i = 0; i < 20000; ++i) {
    const std::string serial = pick(serials);
    const std::string who = pick(holders);
    const uint64_t grams = 1 + rng() % 20'000;
    pb::Receipt rec;
    switch (rng() % 7) {
      case 0:
      case 1: {
        std::string to = pick(holders);
        if (to == who) to = to == "alice" ? "bob" : "alice";
        rec = r.Run(who, [&](pb::TxBody& b) {
          b.mutable_transfer()->set_batch(serial);
          b.mutable_transfer()->set_to(RawAddr(to));
          b.mutable_transfer()->set_grams(grams);
        });
        break;
      }
      case 2: {
        std::string to = who == "ver2" ? "bob" : "ver2";
        rec = r.Run(who, [&](pb::TxBody& b) {
          b.mutable_pledge_credits()->set_batch(serial);
          b.mutable_pledge_credits()->set_grams(grams);
          b.mutable_pledge_credits()->set_pledgee(RawAddr(to));
        });
        if (rec.code() == pb::RECEIPT_OK) {
          open_pledges.push_back("PL-" + std::to_string(++pledges) + "/" + to);
        }
        break;
      }
      case 3: {
        if (open_pledges.empty()) continue;
        const size_t k = rng() % open_pledges.size();
        const std::string entry = open_pledges[k];
        const std::string id = entry.substr(0, entry.find('/'));
        const std::string pledgee = entry.substr(entry.find('/') + 1);
        const bool claim = rng() % 2 == 0;
        rec = r.Run(pledgee, [&](pb::TxBody& b) {
          if (claim) {
            b.mutable_claim_pledge()->set_pledge(id);
          } else {
            b.mutable_release_pledge()->set_pledge(id);
          }
        });
        REQUIRE_MESSAGE(rec.code() == pb::RECEIPT_OK, rec.reason());
        open_pledges.erase(open_pledges.begin() + static_cast<long>(k));
        break;
      }
      case 4:
        rec = r.Run(who, [&](pb::TxBody& b) {
          auto* a = b.mutable_retire_voluntary();
          a->set_batch(serial);
          a->set_grams(grams);
          a->set_beneficiary("org");
          a->set_purpose(pb::RETIREMENT_PURPOSE_ORGANISATION);
        });
        break;
      case 5:
        rec = r.Run("sh-op", [&](pb::TxBody& b) {
          auto* a = b.mutable_cancel_credits();
          a->set_batch(serial);
          a->set_holder(RawAddr(who));
          a->set_grams(grams);
          a->set_reason(pb::CANCEL_REASON_ISSUANCE_ERROR);
        });
        break;
      case 6:
        rec = r.Run("ent", [&](pb::TxBody& b) {
          b.mutable_retire_offset()->set_batch(serial);
          b.mutable_retire_offset()->set_grams(grams);
          b.mutable_retire_offset()->set_region("SH");
          b.mutable_retire_offset()->set_period("2025");
        });
        break;
    }
    if (rec.code() == pb::RECEIPT_OK) ++ok;
    CheckSupply(r, serials);
  }
  CHECK(ok > 500);  // the mix exercised real moves, not only refusals
}

TEST_CASE("a block whose changes break a batch's supply is refused as our own fault") {
  Registry r;
  StateChanges bad;
  bad[state_keys::Balance(kBatch, KeyOf("alice").Public())] = EncodeU64(1);  // grams from nowhere
  Status s = CheckSupplyConserved(r.state, bad);
  CHECK(s.code() == StatusCode::kInternal);
  CHECK(s.message().find(kBatch) != std::string::npos);
  // Moving grams between holders, or into the retired total, conserves the supply.
  StateChanges moved;
  moved[state_keys::Balance(kBatch, KeyOf("owner").Public())] = EncodeU64(999'000);
  moved[state_keys::Balance(kBatch, KeyOf("alice").Public())] = EncodeU64(1'000);
  CHECK(CheckSupplyConserved(r.state, moved).ok());
  pb::CreditBatch b = r.Batch(kBatch);
  b.set_retired_grams(1'000);
  StateChanges retired;
  retired[state_keys::Batch(kBatch)] = ToBytes(b.SerializeAsString());
  retired[state_keys::Balance(kBatch, KeyOf("owner").Public())] = EncodeU64(999'000);
  CHECK(CheckSupplyConserved(r.state, retired).ok());
}
