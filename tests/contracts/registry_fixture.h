// A registry network for the contracts tests: regions SH and JS with every role the rules need,
// one block per transaction, nonces kept per signer, and builders for each registry action.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <string>

#include "contracts/executor.h"
#include "contracts/genesis_state.h"
#include "contracts/registry_keys.h"
#include "contracts/state_keys.h"
#include "test_util.h"

namespace puhui::testing {

// sh-auth/js-auth: authorities; sh-op/js-op: operators; e1, e2, e3: SH experts (e3 also operator
// and project owner, to test conflicts); owner: SH project owner and verifier (holds kBatch);
// ver: SH verifier and operator; ver2: SH verifier; ent: compliance entity in SH and JS;
// with an extra region, x-auth its authority and x-owner a project owner there.
inline std::string RegistryGenesisJson(const std::string& extra_region = "") {
  auto acct = [](const std::string& name, const std::string& roles) {
    return R"({"address": ")" + Addr(name) + R"(", "roles": [)" + roles + "]}";
  };
  auto role = [](const std::string& r, const std::string& region) {
    return R"({"role": ")" + r + R"(", "region": ")" + region + R"("})";
  };
  std::string regions = R"([{"code": "SH", "name": "Shanghai"}, {"code": "JS", "name": "Jiangsu"})";
  if (!extra_region.empty()) regions += R"(, {"code": ")" + extra_region + R"(", "name": "x"})";
  regions += "]";
  return std::string(R"({"chain_id": ")") + kChainId +
         R"(", "genesis_time": "2026-01-01T00:00:00Z", "regions": )" + regions +
         R"(, "validators": [{"name": "v", "region": "SH", "power": 10, "pub_key": ")" +
         Addr("validator") + R"("}], "accounts": [)" + acct("sh-auth", role("authority", "SH")) +
         "," + acct("js-auth", role("authority", "JS")) + "," +
         acct("sh-op", role("operator", "SH")) + "," + acct("js-op", role("operator", "JS")) + "," +
         acct("e1", role("expert", "SH")) + "," + acct("e2", role("expert", "SH")) + "," +
         acct("e3", role("expert", "SH") + "," + role("operator", "SH") + "," +
                        role("project_owner", "SH")) +
         "," + acct("owner", role("project_owner", "SH") + "," + role("verifier", "SH")) + "," +
         acct("ver", role("verifier", "SH") + "," + role("operator", "SH")) + "," +
         acct("ver2", role("verifier", "SH")) + "," +
         acct("ent", role("compliance_entity", "SH") + "," + role("compliance_entity", "JS")) +
         (extra_region.empty() ? std::string()
                               : "," + acct("x-auth", role("authority", extra_region)) + "," +
                                     acct("x-owner", role("project_owner", extra_region))) +
         R"(], "credit_batches": [{"serial": ")" + kBatch + R"(", "region": "SH", "owner": ")" +
         Addr("owner") + R"(", "grams": 1000000}]})";
}

inline std::string HashOf(const std::string& text) { return ToString(Sha256(text)); }

// kWh generated × grid factor 536.6 g/kWh: 1,000 kWh earn 536,600 g.
inline pb::Formula PvFormula() {
  pb::Formula f;
  auto* in = f.add_inputs();
  in->set_name("pv_kwh");
  in->set_unit("kWh");
  in->set_max_value(1'000'000'000);
  auto* fa = f.add_factors();
  fa->set_name("grid");
  fa->set_value(5366);
  fa->set_decimals(1);
  fa->set_unit("gCO2/kWh");
  fa->set_source("MEE release, Dec 2024");
  auto* t = f.add_baseline();
  t->set_input("pv_kwh");
  t->add_factors("grid");
  return f;
}

struct Registry {
  MemoryState state;
  uint64_t height = 1;
  std::map<std::string, uint64_t> nonces;

  explicit Registry(const std::string& genesis = RegistryGenesisJson()) {
    auto g = ParseGenesis(genesis);
    REQUIRE_MESSAGE(g.ok(), g.status().ToString());
    state.Apply(GenesisState(*g));
  }

  // Runs one transaction of `signer` as its own block; `fill` sets the action.
  pb::Receipt Run(const std::string& signer, const std::function<void(pb::TxBody&)>& fill) {
    pb::TxBody body = Body(signer, nonces[signer], height + 1000);
    fill(body);
    auto tx = DecodeTx(kChainId, Signed(body, signer));
    REQUIRE_MESSAGE(tx.ok(), tx.status().ToString());
    BlockContext ctx{kChainId, height, 1'767'225'600'000 + height};
    auto out = ApplyBlock(state, ctx, std::span<const DecodedTx>(&*tx, 1));
    REQUIRE_MESSAGE(out.ok(), out.status().ToString());
    state.Apply(out->changes);
    ++height;
    ++nonces[signer];
    return out->receipts.at(0);
  }

  void Ok(const std::string& signer, const std::function<void(pb::TxBody&)>& fill) {
    auto r = Run(signer, fill);
    REQUIRE_MESSAGE(r.code() == pb::RECEIPT_OK, r.reason());
  }

  // Runs a transaction that a rule must refuse: checks its code, that its reason contains
  // `reason_part`, and that nothing but the sender's nonce changed.
  void Refused(const std::string& signer, const std::function<void(pb::TxBody&)>& fill,
               pb::ReceiptCode code, const std::string& reason_part) {
    auto before = state.values();
    before.erase(state_keys::Account(KeyOf(signer).Public()));
    auto r = Run(signer, fill);
    CHECK_MESSAGE(r.code() == code, "got ", pb::ReceiptCode_Name(r.code()), ": ", r.reason());
    CHECK_MESSAGE(r.reason().find(reason_part) != std::string::npos, r.reason());
    auto after = state.values();
    after.erase(state_keys::Account(KeyOf(signer).Public()));
    CHECK_MESSAGE(after == before, "a refused action changed state");
  }

  template <typename T>
  std::optional<T> Read(const Bytes& key) {
    auto r = ReadProto<T>(state, key);
    REQUIRE(r.ok());
    return *r;
  }
  pb::MethodologyVersion Methodology(const std::string& id, uint32_t v) {
    auto m = Read<pb::MethodologyVersion>(registry_keys::Methodology(id, v));
    REQUIRE(m.has_value());
    return *m;
  }
  pb::Project Project(const std::string& id) {
    auto p = Read<pb::Project>(registry_keys::Project(id));
    REQUIRE(p.has_value());
    return *p;
  }
  pb::CreditBatch Batch(const std::string& serial) {
    auto b = ReadBatch(state, serial);
    REQUIRE(b.ok());
    REQUIRE(b->has_value());
    return **b;
  }
  uint64_t Balance(const std::string& serial, const std::string& who) {
    return *ReadU64(state, state_keys::Balance(serial, KeyOf(who).Public()));
  }

  // ---- builders
  static std::function<void(pb::TxBody&)> File(
      const std::string& id, uint32_t version, const std::string& region = "SH",
      pb::MethodologyCategory category = pb::METHODOLOGY_CATEGORY_PROJECT) {
    return [=](pb::TxBody& b) {
      auto* a = b.mutable_file_methodology();
      a->set_id(id);
      a->set_version(version);
      a->set_title("Distributed rooftop PV");
      a->set_category(category);
      a->set_region(region);
      a->set_document_hash(HashOf(id + " document"));
      *a->mutable_formula() = PvFormula();
      auto* p = a->add_params();
      p->set_name("daily_cap_grams");
      p->set_value(5000);
    };
  }
  static std::function<void(pb::TxBody&)> ReviewM(const std::string& id, uint32_t version,
                                                  bool approve) {
    return [=](pb::TxBody& b) {
      auto* a = b.mutable_review_methodology();
      a->set_id(id);
      a->set_version(version);
      a->set_approve(approve);
      a->set_comment_hash(HashOf("comment"));
    };
  }
  static std::function<void(pb::TxBody&)> Register(const std::string& id,
                                                   const std::string& meth = "PV",
                                                   uint32_t version = 1,
                                                   const std::string& region = "SH") {
    return [=](pb::TxBody& b) {
      auto* a = b.mutable_register_project();
      a->set_id(id);
      a->set_region(region);
      a->set_methodology_id(meth);
      a->set_methodology_version(version);
      a->set_location_hash(HashOf("location"));
      a->set_boundary_hash(HashOf("boundary"));
      a->set_baseline_hash(HashOf("baseline"));
      a->set_crediting_start(20250101);
      a->set_crediting_end(20271231);
      a->set_title("Rooftop PV on a workshop");
    };
  }
  static std::function<void(pb::TxBody&)> ReviewP(const std::string& id, bool approve) {
    return [=](pb::TxBody& b) {
      auto* a = b.mutable_review_project();
      a->set_id(id);
      a->set_approve(approve);
      a->set_comment_hash(HashOf("comment"));
    };
  }
  static std::function<void(pb::TxBody&)> Report(const std::string& project, uint32_t start,
                                                 uint32_t end, uint64_t kwh, uint64_t claimed) {
    return [=](pb::TxBody& b) {
      auto* a = b.mutable_submit_report();
      a->set_project(project);
      a->set_period_start(start);
      a->set_period_end(end);
      auto* v = a->add_activity();
      v->set_name("pv_kwh");
      v->set_value(kwh);
      a->set_claimed_grams(claimed);
    };
  }
  static std::function<void(pb::TxBody&)> Verify(const std::string& report) {
    return [=](pb::TxBody& b) {
      b.mutable_verify_report()->set_report(report);
      b.mutable_verify_report()->set_opinion_hash(HashOf("opinion"));
    };
  }
  static std::function<void(pb::TxBody&)> Issue(const std::string& report) {
    return [=](pb::TxBody& b) { b.mutable_issue_credits()->set_report(report); };
  }

  // ---- whole steps
  void FiledMethodology(const std::string& id = "PV", const std::string& filer = "sh-op") {
    Ok(filer, File(id, 1));
    Ok("e1", ReviewM(id, 1, true));
    Ok("e2", ReviewM(id, 1, true));
  }
  void ApprovedProject(const std::string& id = "P1", const std::string& owner = "owner") {
    Ok(owner, Register(id));
    Ok("e1", ReviewP(id, true));
    Ok("e2", ReviewP(id, true));
  }
  // Files PV, approves P1, reports 1,000 kWh for Q1 2025, verifies and issues: 536,600 g.
  std::string IssuedBatch() {
    FiledMethodology();
    ApprovedProject();
    Ok("owner", Report("P1", 20250101, 20250331, 1000, 536600));
    Ok("ver2", Verify("P1-R1"));
    Ok("sh-op", Issue("P1-R1"));
    return "SH-PV-v1-P1-20250101-20250331-1";
  }
};

// The authority's action that sets entity "ent"'s 2025 offset obligation in `region`: a cap of
// `base` grams (of `cap_base`) × `ratio_bp` basis points, a minimum local share, a vintage window.
inline std::function<void(pb::TxBody&)> Obligation(
    const std::string& region, uint64_t base, uint32_t ratio_bp, uint32_t local_bp,
    uint32_t from = 20250101, uint32_t to = 20251231,
    pb::CapBase cap_base = pb::CAP_BASE_VERIFIED_EMISSIONS) {
  return [=](pb::TxBody& b) {
    auto* a = b.mutable_set_obligation();
    a->set_entity(RawAddr("ent"));
    a->set_region(region);
    a->set_period("2025");
    a->set_cap_base(cap_base);
    a->set_cap_base_grams(base);
    a->set_cap_ratio_bp(ratio_bp);
    a->set_min_local_share_bp(local_bp);
    a->set_vintage_from(from);
    a->set_vintage_to(to);
  };
}

}  // namespace puhui::testing
