// Unicode tables (generated from Python by scripts/gen_unicode_tables.py into unicode_tables.cpp) that let the SQuAD
// normalisation reproduce Python's str.lower(), regex \w (for \b) and the Final_Sigma context exactly.
// Every table is sorted by code point and its ranges do not overlap.
#pragma once

#include <cstddef>
#include <cstdint>

namespace distilbert::tasks::unicode {

/// Code points first, first+stride, ..., last lower-case to cp + delta.
struct LowerRun {
  std::uint32_t first, last;
  std::int32_t delta;
  std::uint32_t stride;
};

/// Inclusive code-point range.
struct CodeRange {
  std::uint32_t first, last;
};

extern const LowerRun kLowerRuns[];
extern const std::size_t kLowerRunsCount;
extern const CodeRange kWordRanges[];           ///< re.match(r"\w", c)
extern const std::size_t kWordRangesCount;
extern const CodeRange kCaseIgnorableRanges[];  ///< Case_Ignorable, as str.lower()'s Final_Sigma sees it
extern const std::size_t kCaseIgnorableRangesCount;
extern const CodeRange kCasedRanges[];          ///< Cased (and not Case_Ignorable)
extern const std::size_t kCasedRangesCount;

}  // namespace distilbert::tasks::unicode
