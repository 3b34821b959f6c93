// The quantification formula of a methodology version (pb::Formula), as data, and its evaluator.
//
// A formula names its activity inputs (what a monitoring report carries) and its factors
// (fixed-point parameters with a published source), and sums terms input × factor × … into
// baseline, project and leakage emissions. The reduction a project earns is baseline − project −
// leakage in grams CO2e. Evaluation is exact integer arithmetic, so every node computes the same
// grams:
//
//   Rounding rule. Each term is the exact rational input × Π factor values / 10^(Σ its decimals).
//   The terms of a sum are brought to one denominator 10^D (D = the largest decimals of any term of
//   the formula) and added exactly. Each of baseline, project and leakage is then rounded down once
//   to whole grams, and the reduction is the exact baseline − project − leakage rounded down once.
//   So the reduction is never more than the rounded parts suggest (at most 2 g less), and no term
//   is ever rounded on its own. Any intermediate that does not fit 128 bits, or a part that does
//   not fit uint64 grams, is an error, never a wrapped value.
//
// Pure functions: no state, no clock, no floating point; safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "chain/status.h"
#include "puhui.pb.h"

namespace puhui {

// Bounds on a filed formula, checked by ValidateFormula. They keep evaluation cheap and, with
// kMaxTermDecimals, keep the common denominator 10^D within 64 bits so that any part that fits
// uint64 grams also fits the 128-bit exact sum.
inline constexpr size_t kMaxFormulaInputs = 32;
inline constexpr size_t kMaxFormulaFactors = 64;
inline constexpr size_t kMaxFormulaTerms = 64;  // baseline, project and leakage together
inline constexpr size_t kMaxFactorsPerTerm = 4;
inline constexpr uint32_t kMaxFactorDecimals = 18;
inline constexpr uint32_t kMaxTermDecimals = 18;  // Σ decimals of the factors of one term
inline constexpr size_t kMaxUnitBytes = 64;
inline constexpr size_t kMaxFactorSourceBytes = 256;

static_assert(kMaxTermDecimals <= 19, "10^D must fit uint64");

// Checks the rules of docs/methodologies.md: names are ids and unique across inputs and factors;
// units are present; every input has a maximum ≥ 1 and is used by some term; every factor has a
// unit, a source and at most kMaxFactorDecimals decimals; every term names a declared input and
// 1..kMaxFactorsPerTerm declared factors whose decimals add up to at most kMaxTermDecimals; there
// is at least one baseline term (without one no activity could ever earn a reduction); counts are
// within the limits above. Fails with kInvalidArgument naming the part at fault.
Status ValidateFormula(const pb::Formula& formula);

// Emissions in grams CO2e, each rounded down once as described above.
struct FormulaResult {
  uint64_t baseline_grams = 0;
  uint64_t project_grams = 0;
  uint64_t leakage_grams = 0;
  uint64_t reduction_grams = 0;  // floor(exact baseline − project − leakage)

  bool operator==(const FormulaResult&) const = default;
};

// Evaluates `formula` (validated first) over `activity`, which must hold exactly the formula's
// inputs, each at most its max_value. Fails with kInvalidArgument for an invalid formula, a
// missing, unknown or out-of-range input (named in the message), or an overflow; with
// kFailedPrecondition when project plus leakage emissions exceed the baseline (a negative reduction
// earns no credits).
Result<FormulaResult> EvaluateFormula(const pb::Formula& formula,
                                      const std::map<std::string, uint64_t>& activity);

}  // namespace puhui
