#include "node/cli_personal.h"

#include <fmt/format.h>

#include <set>

#include "chain/genesis_scenario.h"
#include "node/cli_reader.h"
#include "node/files.h"

namespace puhui::cli {

const char kPersonalUsage[] = R"(
personal carbon account transactions (docs/personal.md has a worked example of each)
  register-scenario  --file SCENARIO.json   (the format of a genesis scenario, genesis/README.md)
  open-account       --region CODE (--external-id TEXT --salt TEXT | --external-id-hash HEX)
  attest             --file RECORDS.json    ([{"account": HEX, "record_id": HEX, "scenario": ID,
                                              "amount": N, "time_ms": N}, ...])
  publish-offer      --id ID --region CODE --title TEXT --points-price N --stock N
                     --valid-from YYYYMMDD --valid-to YYYYMMDD
  redeem             --offer ID [--account ADDRESS] (--code TEXT | --code-hash HEX)
  consign            [--account ADDRESS] --scenario ID --month YYYYMM --grams N
  issue-pooled       --scenario ID --month YYYYMM
personal queries: puhui-cli rpc METHOD '{...}' with personal_account_get, scenario_get,
  scenario_list, provider_stats_get, attestation_get, record_proof, offer_get, offer_list,
  redemption_get, pool_get, personal_totals, personal_account_address (docs/rpc.md)
)";

namespace {

nlohmann::json ReadJsonFile(Reader& r) {
  std::string path = r.Text("file");
  if (path.empty()) return nullptr;
  auto text = ReadFile(path);
  if (!text.ok()) {
    r.Fail(text.status().message());
    return nullptr;
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) r.Fail(path + " is not JSON");
  return j;
}

void FillScenario(Reader& r, pb::TxBody& body) {
  nlohmann::json j = ReadJsonFile(r);
  if (j.is_null()) return;
  std::set<std::string> regions;
  if (j.is_object() && j.contains("region") && j["region"].is_string()) regions.insert(j["region"]);
  std::vector<pb::RegisterScenario> parsed;
  Status s = ParseGenesisScenarios(nlohmann::json::array({j}), regions, &parsed);
  if (!s.ok()) return r.Fail(s.message());
  *body.mutable_register_scenario() = parsed.at(0);
}

void FillAttest(Reader& r, pb::TxBody& body) {
  nlohmann::json j = ReadJsonFile(r);
  if (j.is_null()) return;
  if (!j.is_array()) return r.Fail("--file must hold a JSON array of records");
  auto* a = body.mutable_attest_behaviour();
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& x = j[i];
    auto hex = [&](const char* f) -> std::string {
      auto h =
          x.contains(f) && x[f].is_string() ? Hash32FromHex(x[f].get<std::string>()) : std::nullopt;
      if (!h) r.Fail(fmt::format("record {}: '{}' must be 64 hex digits", i, f));
      return h ? ToString(ByteView(*h)) : "";
    };
    auto num = [&](const char* f) -> uint64_t {
      if (!x.contains(f) || !x[f].is_number_unsigned()) {
        r.Fail(fmt::format("record {}: '{}' must be a non-negative integer", i, f));
        return 0;
      }
      return x[f].get<uint64_t>();
    };
    if (!x.is_object() || !x.contains("scenario") || !x["scenario"].is_string()) {
      return r.Fail(fmt::format("record {}: needs a string 'scenario'", i));
    }
    auto* rec = a->add_records();
    rec->set_account(hex("account"));
    rec->set_record_id(hex("record_id"));
    rec->set_scenario(x["scenario"].get<std::string>());
    rec->set_amount(num("amount"));
    rec->set_time_ms(num("time_ms"));
  }
}

}  // namespace

Fill FillPersonalAction(const std::string& kind, const Flags& flags, pb::TxBody& body,
                        std::string& error) {
  Reader r(flags);
  if (kind == "register-scenario") {
    FillScenario(r, body);
  } else if (kind == "open-account") {
    auto* a = body.mutable_open_personal_account();
    a->set_region(r.Text("region"));
    if (flags.count("external-id-hash")) {
      a->set_external_id_hash(r.Hash("external-id"));
    } else {
      a->set_external_id_hash(ToString(Sha256(r.Text("salt") + r.Text("external-id"))));
    }
  } else if (kind == "attest") {
    FillAttest(r, body);
  } else if (kind == "publish-offer") {
    auto* a = body.mutable_publish_offer();
    a->set_id(r.Text("id"));
    a->set_region(r.Text("region"));
    a->set_title(r.Text("title"));
    a->set_points_price(r.U64("points-price"));
    a->set_stock(r.U64("stock"));
    a->set_valid_from(r.U32("valid-from"));
    a->set_valid_to(r.U32("valid-to"));
  } else if (kind == "redeem") {
    auto* a = body.mutable_redeem_offer();
    a->set_offer(r.Text("offer"));
    if (flags.count("account")) a->set_account(r.Address32("account"));
    a->set_code_hash(r.Hash("code"));
  } else if (kind == "consign") {
    auto* a = body.mutable_consign_reductions();
    if (flags.count("account")) a->set_account(r.Address32("account"));
    a->set_scenario(r.Text("scenario"));
    a->set_month(r.U32("month"));
    a->set_grams(r.U64("grams"));
  } else if (kind == "issue-pooled") {
    body.mutable_issue_pooled_credits()->set_scenario(r.Text("scenario"));
    body.mutable_issue_pooled_credits()->set_month(r.U32("month"));
  } else {
    return Fill::kNotRegistry;
  }
  error = r.error();
  return error.empty() ? Fill::kOk : Fill::kError;
}

}  // namespace puhui::cli
