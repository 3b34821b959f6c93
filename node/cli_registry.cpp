#include "node/cli_registry.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>

#include "chain/genesis.h"
#include "chain/genesis_methodology.h"
#include "chain/hash.h"
#include "chain/keys.h"
#include "node/cli_reader.h"
#include "node/files.h"
#include "rpc/encode.h"

namespace puhui::cli {

const char kRegistryUsage[] = R"(
registry transactions (tx KIND --key FILE ...; docs/registry.md has a worked example of each)
  file-methodology      --file METHODOLOGY.json   (the format of a genesis methodology)
  review-methodology    --id ID --version N --decision approve|reject --comment TEXT
  deprecate-methodology --id ID --version N --from-height H
  recognize-methodology --id ID --version N --region CODE
  set-review-threshold  --region CODE --threshold K
  register-project      --id ID --region CODE --methodology ID --methodology-version N
                        --title TEXT --location TEXT --boundary TEXT --baseline TEXT
                        --crediting-start YYYYMMDD --crediting-end YYYYMMDD
  review-project        --id ID --decision approve|reject --comment TEXT
  submit-report         --project ID --period-start YYYYMMDD --period-end YYYYMMDD
                        --activity NAME=N[,NAME=N...] --claimed-grams N
  verify-report         --report ID --opinion TEXT
  issue-credits         --report ID
  pledge                --batch SERIAL --grams N --pledgee ADDRESS
  release-pledge        --pledge ID          claim-pledge --pledge ID
  set-obligation        --entity ADDRESS --region CODE --period ID --cap-base verified_emissions|
                        allocated_allowances|allowances_to_surrender --cap-base-grams N
                        --cap-ratio-bp N [--min-local-share-bp N] --vintage-from D --vintage-to D
  retire-offset         --batch SERIAL --grams N --region CODE --period ID
  retire-voluntary      --batch SERIAL --grams N --beneficiary TEXT
                        --purpose event|organisation|product|personal|other [--purpose-text TEXT]
  cancel                --batch SERIAL --holder ADDRESS --grams N
                        --reason double_counting|issuance_error|holder_request|reversal|other
  propose               --id ID --region CODE --vote-until HEIGHT
                        (--add-region CODE --region-name NAME --authority ADDRESS |
                         --set-param NAME --value N |
                         --validator KEY --power N [--validator-region CODE
                          --validator-name NAME --node-key KEY]   (power 0 removes))
  vote                  --id ID --region CODE --decision approve|reject
  set-authorisation     --exchange ADDRESS [--batch SERIAL] --grams N --expiry-height H
                        (a holder lets an exchange move up to N g; --grams 0 revokes;
                         docs/exchange.md. Settlements are built and sent by the exchange's own
                         integration, or puhui-cli exchange-demo)
  Document, comment and opinion texts are hashed (SHA-256) on the client; pass --location-hash HEX
  (and so on: --comment-hash, --opinion-hash, --boundary-hash, --baseline-hash) to give the hash.

registry queries (JSON on stdout)
  methodology ID [VERSION]   project ID   report ID   pledge ID   retirement ID   proposal ID
  region CODE                obligation ENTITY REGION PERIOD      balances ADDRESS
  list methodologies|projects|reports|batches|pledges|retirements|obligations|proposals
       [--region R --status S --methodology M --project P --owner A --vintage YEAR --kind K
        --batch B --holder A --after SEQ --limit N]
)";

namespace {

void FillFile(Reader& r, pb::TxBody& body) {
  std::string path = r.Text("file");
  if (path.empty()) return;
  auto text = ReadFile(path);
  if (!text.ok()) return r.Fail(text.status().message());
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return r.Fail(path + " is not a JSON object");
  if (j.contains("recognized_in")) return r.Fail("recognition is its own transaction");
  std::set<std::string> regions;
  if (j.contains("region") && j["region"].is_string()) regions.insert(j["region"]);
  std::vector<pb::MethodologyVersion> parsed;
  Status s = ParseGenesisMethodologies(nlohmann::json::array({j}), regions, &parsed);
  if (!s.ok()) return r.Fail(s.message());
  const pb::MethodologyVersion& m = parsed.at(0);
  auto* a = body.mutable_file_methodology();
  a->set_id(m.id());
  a->set_version(m.version());
  a->set_title(m.title());
  a->set_category(m.category());
  a->set_region(m.region());
  a->set_document_hash(m.document_hash());
  *a->mutable_formula() = m.formula();
  *a->mutable_params() = m.params();
}

void FillReport(Reader& r, pb::TxBody& body) {
  auto* a = body.mutable_submit_report();
  a->set_project(r.Text("project"));
  a->set_period_start(r.U32("period-start"));
  a->set_period_end(r.U32("period-end"));
  a->set_claimed_grams(r.U64("claimed-grams"));
  std::string list = r.Text("activity");
  size_t pos = 0;
  while (!list.empty() && pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string item =
        list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t eq = item.find('=');
    char* end = nullptr;
    uint64_t v = eq == std::string::npos ? 0 : std::strtoull(item.c_str() + eq + 1, &end, 10);
    if (eq == std::string::npos || end == nullptr || *end != '\0' || eq + 1 == item.size()) {
      return r.Fail("--activity must be NAME=N[,NAME=N...]");
    }
    auto* x = a->add_activity();
    x->set_name(item.substr(0, eq));
    x->set_value(v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
}

void FillProposal(Reader& r, const Flags& flags, pb::TxBody& body) {
  auto* a = body.mutable_submit_proposal();
  a->set_id(r.Text("id"));
  a->set_region(r.Text("region"));
  a->set_expiry_height(r.U64("vote-until"));
  if (flags.count("add-region")) {
    a->mutable_add_region()->set_code(r.Text("add-region"));
    a->mutable_add_region()->set_name(r.Text("region-name"));
    a->mutable_add_region()->set_authority(r.Address("authority"));
  } else if (flags.count("set-param")) {
    a->mutable_set_parameter()->set_name(r.Text("set-param"));
    a->mutable_set_parameter()->set_value(r.U64("value"));
  } else if (flags.count("validator")) {
    auto* v = a->mutable_change_validator();
    v->set_pub_key(r.Address("validator"));
    v->set_power(r.U64("power"));
    if (v->power() != 0) {
      v->set_region(r.Text("validator-region"));
      v->set_name(r.Text("validator-name"));
      if (flags.count("node-key")) v->set_node_key(r.Address("node-key"));
    }
  } else {
    r.Fail(
        "propose needs --add-region CODE ..., --set-param NAME --value N or --validator KEY "
        "--power N ...");
  }
}

}  // namespace

Fill FillRegistryAction(const std::string& kind, const Flags& flags, pb::TxBody& body,
                        std::string& error) {
  Reader r(flags);
  if (kind == "file-methodology") {
    FillFile(r, body);
  } else if (kind == "review-methodology") {
    auto* a = body.mutable_review_methodology();
    a->set_id(r.Text("id"));
    a->set_version(r.U32("version"));
    a->set_approve(r.Decision());
    a->set_comment_hash(r.Hash("comment"));
  } else if (kind == "deprecate-methodology") {
    auto* a = body.mutable_deprecate_methodology();
    a->set_id(r.Text("id"));
    a->set_version(r.U32("version"));
    a->set_from_height(r.U64("from-height"));
  } else if (kind == "recognize-methodology") {
    auto* a = body.mutable_recognize_methodology();
    a->set_id(r.Text("id"));
    a->set_version(r.U32("version"));
    a->set_region(r.Text("region"));
  } else if (kind == "set-review-threshold") {
    body.mutable_set_review_threshold()->set_region(r.Text("region"));
    body.mutable_set_review_threshold()->set_threshold(r.U32("threshold"));
  } else if (kind == "register-project") {
    auto* a = body.mutable_register_project();
    a->set_id(r.Text("id"));
    a->set_region(r.Text("region"));
    a->set_methodology_id(r.Text("methodology"));
    a->set_methodology_version(r.U32("methodology-version"));
    a->set_title(r.Text("title"));
    a->set_location_hash(r.Hash("location"));
    a->set_boundary_hash(r.Hash("boundary"));
    a->set_baseline_hash(r.Hash("baseline"));
    a->set_crediting_start(r.U32("crediting-start"));
    a->set_crediting_end(r.U32("crediting-end"));
  } else if (kind == "review-project") {
    auto* a = body.mutable_review_project();
    a->set_id(r.Text("id"));
    a->set_approve(r.Decision());
    a->set_comment_hash(r.Hash("comment"));
  } else if (kind == "submit-report") {
    FillReport(r, body);
  } else if (kind == "verify-report") {
    body.mutable_verify_report()->set_report(r.Text("report"));
    body.mutable_verify_report()->set_opinion_hash(r.Hash("opinion"));
  } else if (kind == "issue-credits") {
    body.mutable_issue_credits()->set_report(r.Text("report"));
  } else if (kind == "pledge") {
    auto* a = body.mutable_pledge_credits();
    a->set_batch(r.Text("batch"));
    a->set_grams(r.U64("grams"));
    a->set_pledgee(r.Address("pledgee"));
  } else if (kind == "release-pledge") {
    body.mutable_release_pledge()->set_pledge(r.Text("pledge"));
  } else if (kind == "claim-pledge") {
    body.mutable_claim_pledge()->set_pledge(r.Text("pledge"));
  } else if (kind == "set-obligation") {
    auto* a = body.mutable_set_obligation();
    a->set_entity(r.Address("entity"));
    a->set_region(r.Text("region"));
    a->set_period(r.Text("period"));
    a->set_cap_base(static_cast<pb::CapBase>(r.Enum("cap-base", pb::CapBase_descriptor())));
    a->set_cap_base_grams(r.U64("cap-base-grams"));
    a->set_cap_ratio_bp(r.U32("cap-ratio-bp"));
    a->set_min_local_share_bp(r.U32("min-local-share-bp", false));
    a->set_vintage_from(r.U32("vintage-from"));
    a->set_vintage_to(r.U32("vintage-to"));
  } else if (kind == "retire-offset") {
    auto* a = body.mutable_retire_offset();
    a->set_batch(r.Text("batch"));
    a->set_grams(r.U64("grams"));
    a->set_region(r.Text("region"));
    a->set_period(r.Text("period"));
  } else if (kind == "retire-voluntary") {
    auto* a = body.mutable_retire_voluntary();
    a->set_batch(r.Text("batch"));
    a->set_grams(r.U64("grams"));
    a->set_beneficiary(r.Text("beneficiary"));
    a->set_purpose(
        static_cast<pb::RetirementPurpose>(r.Enum("purpose", pb::RetirementPurpose_descriptor())));
    a->set_purpose_text(r.Text("purpose-text", false));
  } else if (kind == "set-authorisation") {
    auto* a = body.mutable_set_authorisation();
    a->set_exchange(r.Address("exchange"));
    a->set_batch(r.Text("batch", false));
    a->set_grams(r.U64("grams"));
    a->set_expiry_height(a->grams() == 0 ? 0 : r.U64("expiry-height"));
  } else if (kind == "cancel") {
    auto* a = body.mutable_cancel_credits();
    a->set_batch(r.Text("batch"));
    a->set_holder(r.Address("holder"));
    a->set_grams(r.U64("grams"));
    a->set_reason(static_cast<pb::CancelReason>(r.Enum("reason", pb::CancelReason_descriptor())));
  } else if (kind == "propose") {
    FillProposal(r, flags, body);
  } else if (kind == "vote") {
    auto* a = body.mutable_vote_proposal();
    a->set_id(r.Text("id"));
    a->set_region(r.Text("region"));
    a->set_approve(r.Decision());
  } else {
    return Fill::kNotRegistry;
  }
  error = r.error();
  return error.empty() ? Fill::kOk : Fill::kError;
}

std::optional<Query> RegistryQuery(const std::vector<std::string>& w, const Flags& flags,
                                   std::string& error) {
  if (w.empty()) return std::nullopt;
  const std::string& cmd = w[0];
  auto by_id = [&](const char* method) -> std::optional<Query> {
    if (w.size() != 2) return std::nullopt;
    return Query{method, {{"id", w[1]}}};
  };
  if (cmd == "methodology" && (w.size() == 2 || w.size() == 3)) {
    Query q{"methodology_get", {{"id", w[1]}}};
    if (w.size() == 3) {
      char* end = nullptr;
      uint64_t v = std::strtoull(w[2].c_str(), &end, 10);
      if (*end != '\0' || w[2].empty()) {
        error = "methodology VERSION must be an integer";
        return q;
      }
      q.params["version"] = v;
    }
    return q;
  }
  if (cmd == "project") return by_id("project_get");
  if (cmd == "report") return by_id("report_get");
  if (cmd == "pledge") return by_id("pledge_get");
  if (cmd == "retirement") return by_id("retirement_get");
  if (cmd == "proposal") return by_id("proposal_get");
  if (cmd == "region" && w.size() == 2) return Query{"region_get", {{"code", w[1]}}};
  if (cmd == "balances" && w.size() == 2) return Query{"balances_get", {{"address", w[1]}}};
  if (cmd == "obligation" && w.size() == 4) {
    return Query{"obligation_get", {{"entity", w[1]}, {"region", w[2]}, {"period", w[3]}}};
  }
  if (cmd == "list" && w.size() == 2) {
    static const std::map<std::string, std::vector<std::string>> kLists = {
        {"methodologies", {"region", "status", "category"}},
        {"projects", {"region", "methodology", "owner", "status"}},
        {"reports", {"project", "status"}},
        {"batches", {"region", "methodology", "project", "vintage", "owner"}},
        {"pledges", {"batch", "pledger", "pledgee", "status"}},
        {"retirements", {"batch", "holder", "kind", "region"}},
        {"obligations", {"region", "entity", "period"}},
        {"proposals", {"status"}},
    };
    auto it = kLists.find(w[1]);
    if (it == kLists.end()) {
      error = fmt::format("unknown list '{}'", w[1]);
      return Query{};
    }
    std::string singular = w[1] == "batches" ? "batch" : w[1].substr(0, w[1].size() - 1);
    if (singular == "methodologie") singular = "methodology";
    Query q{singular + "_list", nlohmann::json::object()};
    if (w[1] == "batches") q.method = "batch_list";
    std::vector<std::string> names = it->second;
    names.push_back("after");
    names.push_back("limit");
    for (const auto& [flag, value] : flags) {
      if (flag == "node") continue;
      bool known = false;
      for (const auto& n : names) known = known || n == flag;
      if (!known) {
        error = fmt::format("list {} takes no --{}", w[1], flag);
        return q;
      }
      bool numeric = flag == "after" || flag == "limit" || flag == "vintage";
      if (numeric) {
        char* end = nullptr;
        uint64_t v = std::strtoull(value.c_str(), &end, 10);
        if (*end != '\0' || value.empty()) {
          error = fmt::format("--{} must be an integer", flag);
          return q;
        }
        q.params[flag] = v;
      } else {
        q.params[flag] = value;
      }
    }
    return q;
  }
  return std::nullopt;
}

}  // namespace puhui::cli
