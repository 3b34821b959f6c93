// Validation and exact evaluation of a methodology's formula; the rounding rule is in formula.h.
#include "contracts/formula.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string_view>
#include <tuple>

#include "chain/genesis.h"

namespace puhui {
namespace {

// GCC's 128-bit integer: wide enough for input × factor with room to spare, and exact.
// __extension__ keeps -Wpedantic quiet about the non-ISO type.
__extension__ typedef unsigned __int128 U128;

using Terms = google::protobuf::RepeatedPtrField<pb::Term>;

constexpr uint64_t Pow10(uint32_t n) {
  uint64_t p = 1;
  for (uint32_t i = 0; i < n; ++i) p *= 10;
  return p;
}

// Declared names, ordered maps so that nothing depends on hashing or pointer order.
struct Declarations {
  std::map<std::string_view, const pb::ActivityInput*> inputs;
  std::map<std::string_view, const pb::Factor*> factors;
};

// A name that came from outside may be anything; quote it only when it is a well-formed id, so
// that a receipt's reason stays short and printable.
std::string Quoted(std::string_view name) {
  if (IsValidId(name)) return fmt::format("'{}'", name);
  return "(a name that is not an id)";
}

Status ValidateText(std::string_view what, std::string_view text, size_t max_bytes) {
  if (text.empty()) return InvalidArgument(fmt::format("{} is empty", what));
  if (text.size() > max_bytes) {
    return InvalidArgument(fmt::format("{} is {} bytes; at most {}", what, text.size(), max_bytes));
  }
  return Status::Ok();
}

// The sum of the decimals of a term's factors; the term must have been validated.
uint32_t TermDecimals(const pb::Term& term, const Declarations& d) {
  uint32_t decimals = 0;
  for (const std::string& f : term.factors()) decimals += d.factors.at(f)->decimals();
  return decimals;
}

Status ValidateTerms(std::string_view part, const Terms& terms, const Declarations& d,
                     std::set<std::string_view>& used_inputs) {
  for (int i = 0; i < terms.size(); ++i) {
    const pb::Term& term = terms[i];
    const std::string where = fmt::format("{}[{}]", part, i);
    if (!d.inputs.contains(term.input())) {
      return InvalidArgument(fmt::format("{} names input {}, which the formula does not declare",
                                         where, Quoted(term.input())));
    }
    used_inputs.insert(term.input());
    if (term.factors().empty() || static_cast<size_t>(term.factors_size()) > kMaxFactorsPerTerm) {
      return InvalidArgument(fmt::format("{} has {} factors; a term has 1 to {}", where,
                                         term.factors_size(), kMaxFactorsPerTerm));
    }
    uint32_t decimals = 0;
    for (const std::string& f : term.factors()) {
      auto it = d.factors.find(f);
      if (it == d.factors.end()) {
        return InvalidArgument(fmt::format("{} names factor {}, which the formula does not declare",
                                           where, Quoted(f)));
      }
      decimals += it->second->decimals();  // each ≤ kMaxFactorDecimals, so no overflow
    }
    if (decimals > kMaxTermDecimals) {
      return InvalidArgument(fmt::format("{}: its factors have {} decimals together; at most {}",
                                         where, decimals, kMaxTermDecimals));
    }
  }
  return Status::Ok();
}

Result<Declarations> Declare(const pb::Formula& f) {
  if (static_cast<size_t>(f.inputs_size()) > kMaxFormulaInputs) {
    return InvalidArgument(
        fmt::format("{} inputs; at most {}", f.inputs_size(), kMaxFormulaInputs));
  }
  if (static_cast<size_t>(f.factors_size()) > kMaxFormulaFactors) {
    return InvalidArgument(
        fmt::format("{} factors; at most {}", f.factors_size(), kMaxFormulaFactors));
  }
  Declarations d;
  // One namespace for inputs and factors, so a term can never be read two ways.
  std::set<std::string_view> names;
  for (int i = 0; i < f.inputs_size(); ++i) {
    const pb::ActivityInput& in = f.inputs(i);
    if (!IsValidId(in.name())) {
      return InvalidArgument(
          fmt::format("inputs[{}]: name is not an id (1-128 of [A-Za-z0-9._:-])", i));
    }
    if (!names.insert(in.name()).second) {
      return InvalidArgument(fmt::format("name '{}' is declared twice", in.name()));
    }
    PUHUI_RETURN_IF_ERROR(
        ValidateText(fmt::format("the unit of input '{}'", in.name()), in.unit(), kMaxUnitBytes));
    if (in.max_value() == 0) {
      return InvalidArgument(
          fmt::format("input '{}' has max_value 0; it must be at least 1", in.name()));
    }
    d.inputs.emplace(in.name(), &in);
  }
  for (int i = 0; i < f.factors_size(); ++i) {
    const pb::Factor& fa = f.factors(i);
    if (!IsValidId(fa.name())) {
      return InvalidArgument(
          fmt::format("factors[{}]: name is not an id (1-128 of [A-Za-z0-9._:-])", i));
    }
    if (!names.insert(fa.name()).second) {
      return InvalidArgument(fmt::format("name '{}' is declared twice", fa.name()));
    }
    PUHUI_RETURN_IF_ERROR(
        ValidateText(fmt::format("the unit of factor '{}'", fa.name()), fa.unit(), kMaxUnitBytes));
    PUHUI_RETURN_IF_ERROR(ValidateText(fmt::format("the source of factor '{}'", fa.name()),
                                       fa.source(), kMaxFactorSourceBytes));
    if (fa.decimals() > kMaxFactorDecimals) {
      return InvalidArgument(fmt::format("factor '{}' has {} decimals; at most {}", fa.name(),
                                         fa.decimals(), kMaxFactorDecimals));
    }
    d.factors.emplace(fa.name(), &fa);
  }
  return d;
}

std::string ToDecimal(U128 v) {
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  return digits;
}

// Exact decimal text of numerator / 10^decimals, for messages ("8049.13").
std::string FormatFixed(U128 numerator, uint32_t decimals) {
  const uint64_t scale = Pow10(decimals);
  std::string text = ToDecimal(numerator / scale);
  if (decimals == 0) return text;
  std::string fraction = fmt::format("{:0{}}", static_cast<uint64_t>(numerator % scale), decimals);
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (!fraction.empty()) text += "." + fraction;
  return text;
}

// Σ terms as an exact numerator over 10^scale_decimals (see the rounding rule in formula.h).
Result<U128> SumTerms(std::string_view part, const Terms& terms, const Declarations& d,
                      const std::map<std::string, uint64_t>& activity, uint32_t scale_decimals) {
  U128 sum = 0;
  for (int i = 0; i < terms.size(); ++i) {
    const pb::Term& term = terms[i];
    const uint64_t quantity = activity.at(term.input());
    U128 value = quantity;
    bool overflow = false;
    for (const std::string& f : term.factors()) {
      overflow |= __builtin_mul_overflow(value, U128{d.factors.at(f)->value()}, &value);
    }
    overflow |=
        __builtin_mul_overflow(value, U128{Pow10(scale_decimals - TermDecimals(term, d))}, &value);
    overflow |= __builtin_add_overflow(sum, value, &sum);
    if (overflow) {
      return InvalidArgument(fmt::format(
          "{}[{}] overflows: input '{}' = {} times its factors is beyond exact 128-bit arithmetic",
          part, i, term.input(), quantity));
    }
  }
  return sum;
}

}  // namespace

Status ValidateFormula(const pb::Formula& formula) {
  auto d = Declare(formula);
  if (!d.ok()) return d.status();
  const size_t terms = static_cast<size_t>(formula.baseline_size()) + formula.project_size() +
                       formula.leakage_size();
  if (terms > kMaxFormulaTerms) {
    return InvalidArgument(fmt::format("{} terms; at most {}", terms, kMaxFormulaTerms));
  }
  if (formula.baseline().empty()) {
    return InvalidArgument("the formula has no baseline term, so it could never yield a reduction");
  }
  std::set<std::string_view> used_inputs;
  PUHUI_RETURN_IF_ERROR(ValidateTerms("baseline", formula.baseline(), *d, used_inputs));
  PUHUI_RETURN_IF_ERROR(ValidateTerms("project", formula.project(), *d, used_inputs));
  PUHUI_RETURN_IF_ERROR(ValidateTerms("leakage", formula.leakage(), *d, used_inputs));
  // An unused input would make every monitoring report carry a figure that changes nothing.
  for (const pb::ActivityInput& in : formula.inputs()) {
    if (!used_inputs.contains(in.name())) {
      return InvalidArgument(fmt::format("input '{}' is used by no term", in.name()));
    }
  }
  return Status::Ok();
}

Result<FormulaResult> EvaluateFormula(const pb::Formula& formula,
                                      const std::map<std::string, uint64_t>& activity) {
  PUHUI_RETURN_IF_ERROR(ValidateFormula(formula));
  auto d = Declare(formula);
  if (!d.ok()) return d.status();

  for (const auto& [name, value] : activity) {
    if (!d->inputs.contains(name)) {
      return InvalidArgument(
          fmt::format("activity {} is not an input of this formula", Quoted(name)));
    }
  }
  for (const pb::ActivityInput& in : formula.inputs()) {
    auto it = activity.find(in.name());
    if (it == activity.end()) {
      return InvalidArgument(
          fmt::format("activity input '{}' ({}) is missing", in.name(), in.unit()));
    }
    if (it->second > in.max_value()) {
      return InvalidArgument(fmt::format("activity input '{}' is {} {}; at most {}", in.name(),
                                         it->second, in.unit(), in.max_value()));
    }
  }

  // One denominator for the whole formula, so that the parts can be added and subtracted exactly.
  uint32_t scale_decimals = 0;
  for (const Terms* terms : {&formula.baseline(), &formula.project(), &formula.leakage()}) {
    for (const pb::Term& term : *terms) {
      scale_decimals = std::max(scale_decimals, TermDecimals(term, *d));
    }
  }
  const uint64_t scale = Pow10(scale_decimals);

  auto baseline = SumTerms("baseline", formula.baseline(), *d, activity, scale_decimals);
  if (!baseline.ok()) return baseline.status();
  auto project = SumTerms("project", formula.project(), *d, activity, scale_decimals);
  if (!project.ok()) return project.status();
  auto leakage = SumTerms("leakage", formula.leakage(), *d, activity, scale_decimals);
  if (!leakage.ok()) return leakage.status();

  FormulaResult r;
  for (auto [part, exact, grams] : {std::tuple{"baseline", *baseline, &r.baseline_grams},
                                    std::tuple{"project", *project, &r.project_grams},
                                    std::tuple{"leakage", *leakage, &r.leakage_grams}}) {
    const U128 whole = exact / scale;  // rounds down: all values are non-negative
    if (whole > UINT64_MAX) {
      return InvalidArgument(fmt::format(
          "{} emissions exceed {} g, the largest quantity on the ledger", part, UINT64_MAX));
    }
    *grams = static_cast<uint64_t>(whole);
  }
  // Each part is below 2^64 × 10^18 < 2^124 now, so this sum cannot overflow.
  const U128 emitted = *project + *leakage;
  if (emitted > *baseline) {
    return FailedPrecondition(fmt::format(
        "project plus leakage emissions ({} g) exceed baseline emissions ({} g): the reduction "
        "would be negative, so no credits",
        FormatFixed(emitted, scale_decimals), FormatFixed(*baseline, scale_decimals)));
  }
  r.reduction_grams = static_cast<uint64_t>((*baseline - emitted) / scale);
  return r;
}

}  // namespace puhui
