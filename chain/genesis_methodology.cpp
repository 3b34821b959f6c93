#include "chain/genesis_methodology.h"

#include <fmt/format.h>

#include <initializer_list>
#include <string_view>

#include "chain/bytes.h"
#include "chain/genesis.h"

namespace puhui {

namespace {

using nlohmann::json;

Status Fail(const std::string& where, const std::string& what) {
  return InvalidArgument(fmt::format("genesis: {} {}", where, what));
}

Result<std::string> Str(const json& obj, const char* field, const std::string& where,
                        bool required = true) {
  auto it = obj.find(field);
  if (it == obj.end()) {
    if (!required) return std::string();
    return Fail(where, fmt::format("needs a string field '{}'", field));
  }
  if (!it->is_string()) return Fail(where, fmt::format("field '{}' must be a string", field));
  return it->get<std::string>();
}

Result<uint64_t> Uint(const json& obj, const char* field, const std::string& where,
                      uint64_t max = UINT64_MAX) {
  auto it = obj.find(field);
  if (it == obj.end() || !it->is_number_unsigned() || it->get<uint64_t>() > max) {
    return Fail(where,
                fmt::format("needs a non-negative integer field '{}' (at most {})", field, max));
  }
  return it->get<uint64_t>();
}

Result<const json*> Array(const json& obj, const char* field, const std::string& where,
                          bool required) {
  auto it = obj.find(field);
  if (it == obj.end()) {
    if (required) return Fail(where, fmt::format("needs an array field '{}'", field));
    return static_cast<const json*>(nullptr);
  }
  if (!it->is_array()) return Fail(where, fmt::format("field '{}' must be an array", field));
  return &*it;
}

Status ParseTerms(const json& formula, const char* part, const std::string& where,
                  google::protobuf::RepeatedPtrField<pb::Term>* out) {
  auto terms = Array(formula, part, where, /*required=*/false);
  if (!terms.ok()) return terms.status();
  if (*terms == nullptr) return Status::Ok();
  for (size_t i = 0; i < (*terms)->size(); ++i) {
    const json& t = (**terms)[i];
    const std::string w = fmt::format("{} {}[{}]", where, part, i);
    PUHUI_RETURN_IF_ERROR(GenesisOnlyFields(t, {"input", "factors"}, w));
    auto input = Str(t, "input", w);
    if (!input.ok()) return input.status();
    auto factors = Array(t, "factors", w, /*required=*/true);
    if (!factors.ok()) return factors.status();
    pb::Term* term = out->Add();
    term->set_input(*input);
    for (const json& f : **factors) {
      if (!f.is_string()) return Fail(w, "factors must be names (strings)");
      term->add_factors(f.get<std::string>());
    }
  }
  return Status::Ok();
}

Status ParseFormula(const json& f, const std::string& where, pb::Formula* out) {
  PUHUI_RETURN_IF_ERROR(
      GenesisOnlyFields(f, {"inputs", "factors", "baseline", "project", "leakage"}, where));
  auto inputs = Array(f, "inputs", where, /*required=*/true);
  if (!inputs.ok()) return inputs.status();
  for (size_t i = 0; i < (*inputs)->size(); ++i) {
    const json& in = (**inputs)[i];
    const std::string w = fmt::format("{} inputs[{}]", where, i);
    PUHUI_RETURN_IF_ERROR(GenesisOnlyFields(in, {"name", "unit", "max_value"}, w));
    auto name = Str(in, "name", w);
    if (!name.ok()) return name.status();
    auto unit = Str(in, "unit", w);
    if (!unit.ok()) return unit.status();
    auto max = Uint(in, "max_value", w);
    if (!max.ok()) return max.status();
    pb::ActivityInput* a = out->add_inputs();
    a->set_name(*name);
    a->set_unit(*unit);
    a->set_max_value(*max);
  }
  auto factors = Array(f, "factors", where, /*required=*/true);
  if (!factors.ok()) return factors.status();
  for (size_t i = 0; i < (*factors)->size(); ++i) {
    const json& fa = (**factors)[i];
    const std::string w = fmt::format("{} factors[{}]", where, i);
    PUHUI_RETURN_IF_ERROR(
        GenesisOnlyFields(fa, {"name", "value", "decimals", "unit", "source"}, w));
    auto name = Str(fa, "name", w);
    if (!name.ok()) return name.status();
    auto value = Uint(fa, "value", w);
    if (!value.ok()) return value.status();
    auto decimals = Uint(fa, "decimals", w, 18);
    if (!decimals.ok()) return decimals.status();
    auto unit = Str(fa, "unit", w);
    if (!unit.ok()) return unit.status();
    auto source = Str(fa, "source", w);
    if (!source.ok()) return source.status();
    pb::Factor* x = out->add_factors();
    x->set_name(*name);
    x->set_value(*value);
    x->set_decimals(static_cast<uint32_t>(*decimals));
    x->set_unit(*unit);
    x->set_source(*source);
  }
  PUHUI_RETURN_IF_ERROR(ParseTerms(f, "baseline", where, out->mutable_baseline()));
  PUHUI_RETURN_IF_ERROR(ParseTerms(f, "project", where, out->mutable_project()));
  return ParseTerms(f, "leakage", where, out->mutable_leakage());
}

Result<pb::MethodologyVersion> ParseOne(const json& m, const std::set<std::string>& regions) {
  PUHUI_RETURN_IF_ERROR(GenesisOnlyFields(m,
                                          {"id", "version", "title", "category", "region",
                                           "document_hash", "formula", "params", "recognized_in"},
                                          "methodology"));
  auto id = Str(m, "id", "methodology");
  if (!id.ok()) return id.status();
  const std::string where = "methodology " + *id;
  if (!IsValidId(*id) || id->size() > 32) {
    return Fail(where, "id must be 1..32 characters of [A-Za-z0-9._:-]");
  }
  auto version = Uint(m, "version", where, UINT32_MAX);
  if (!version.ok()) return version.status();
  if (*version == 0) return Fail(where, "version must be ≥ 1");
  auto title = Str(m, "title", where);
  if (!title.ok()) return title.status();
  auto category = Str(m, "category", where);
  if (!category.ok()) return category.status();
  auto region = Str(m, "region", where);
  if (!region.ok()) return region.status();
  if (!regions.count(*region))
    return Fail(where, fmt::format("names unknown region '{}'", *region));
  auto doc_hex = Str(m, "document_hash", where);
  if (!doc_hex.ok()) return doc_hex.status();
  auto doc = Hash32FromHex(*doc_hex);
  if (!doc) return Fail(where, "document_hash must be 64 hex digits");

  pb::MethodologyVersion out;
  out.set_id(*id);
  out.set_version(static_cast<uint32_t>(*version));
  out.set_title(*title);
  if (*category == "project") {
    out.set_category(pb::METHODOLOGY_CATEGORY_PROJECT);
  } else if (*category == "personal") {
    out.set_category(pb::METHODOLOGY_CATEGORY_PERSONAL);
  } else {
    return Fail(where, "category must be 'project' or 'personal'");
  }
  out.set_region(*region);
  out.set_document_hash(ToString(*doc));
  auto formula = m.find("formula");
  if (formula == m.end()) return Fail(where, "needs an object field 'formula'");
  PUHUI_RETURN_IF_ERROR(ParseFormula(*formula, where + " formula", out.mutable_formula()));
  if (auto params = m.find("params"); params != m.end()) {
    if (!params->is_object()) return Fail(where, "field 'params' must be an object of integers");
    for (const auto& [name, value] : params->items()) {
      if (!IsValidId(name) || !value.is_number_unsigned()) {
        return Fail(where,
                    fmt::format("param '{}' must be an id with a non-negative integer", name));
      }
      pb::Parameter* p = out.add_params();
      p->set_name(name);
      p->set_value(value.get<uint64_t>());
    }
  }
  auto recognized = Array(m, "recognized_in", where, /*required=*/false);
  if (!recognized.ok()) return recognized.status();
  if (*recognized != nullptr) {
    for (const json& r : **recognized) {
      if (!r.is_string() || !regions.count(r.get<std::string>()) || r == *region) {
        return Fail(where, "recognized_in must list other existing regions");
      }
      out.add_recognized_in(r.get<std::string>());
    }
  }
  out.set_status(pb::REVIEW_STATUS_APPROVED);
  return out;
}

}  // namespace

Status GenesisOnlyFields(const json& obj, std::initializer_list<std::string_view> allowed,
                         const std::string& where) {
  if (!obj.is_object()) return Fail(where, "must be an object");
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) return Fail(where, fmt::format("has unknown field '{}'", key));
  }
  return Status::Ok();
}

Status ParseGenesisMethodologies(const json& list, const std::set<std::string>& region_codes,
                                 std::vector<pb::MethodologyVersion>* out) {
  if (!list.is_array()) return InvalidArgument("genesis: field 'methodologies' must be an array");
  std::set<std::pair<std::string, uint32_t>> seen;
  for (const json& m : list) {
    auto parsed = ParseOne(m, region_codes);
    if (!parsed.ok()) return parsed.status();
    // Versions of one id start at 1 and follow one another, as filing on chain requires.
    uint32_t v = parsed->version();
    if (!seen.insert({parsed->id(), v}).second) {
      return Fail("methodology " + parsed->id(), fmt::format("v{} is listed twice", v));
    }
    if (v > 1 && !seen.count({parsed->id(), v - 1})) {
      return Fail("methodology " + parsed->id(),
                  fmt::format("v{} is listed before v{}; versions follow one another", v, v - 1));
    }
    out->push_back(std::move(*parsed));
  }
  return Status::Ok();
}

}  // namespace puhui
