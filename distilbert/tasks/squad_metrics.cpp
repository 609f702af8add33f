// SQuAD v1.1 / v2.0 exact match and F1 as the official evaluation scripts (evaluate-v1.1.py,
// evaluate-v2.0.py): normalize_answer = white_space_fix(remove_articles(remove_punc(lower(s)))).
// Python works on Unicode code points; this file decodes UTF-8 and reproduces str.lower() (with Final_Sigma) and
// the regex word class \w (for \b) from tables generated out of Python (unicode_tables.cpp); str.isspace() and UTF-8
// encoding are the tokenizer library's (tokenizer/unicode.h).
#include <algorithm>
#include <cstdint>
#include <map>

#include "distilbert/core/error.h"
#include "distilbert/tasks/metrics.h"
#include "distilbert/tasks/unicode_tables.h"
#include "distilbert/tokenizer/unicode.h"

namespace distilbert::tasks {

namespace {

// Not the tokenizer's decode_utf8: every byte of an ill-formed sequence becomes its own U+FFFD here (the tokenizer
// replaces maximal subparts), and surrogates and overlong forms decode as code points, so answers with invalid UTF-8
// keep the tokens and scores they had.
std::vector<std::uint32_t> decode_utf8(const std::string& s) {
  std::vector<std::uint32_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    std::uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = len > 0 && i + static_cast<std::size_t>(len) <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      ok = (c & 0xC0) == 0x80;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok) {  // invalid byte: keep it as U+FFFD, as a lenient decoder would
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

/// Python's string.punctuation (ASCII only, as the official script).
bool is_ascii_punct(std::uint32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

bool in_ranges(const unicode::CodeRange* table, std::size_t n, std::uint32_t c) {
  const auto* end = table + n;
  const auto* it = std::upper_bound(table, end, c, [](std::uint32_t v, const unicode::CodeRange& r) { return v < r.first; });
  return it != table && c <= (it - 1)->last;
}

/// The regex \w class (str.isalnum() or '_'), which decides where \b falls.
bool is_word(std::uint32_t c) { return in_ranges(unicode::kWordRanges, unicode::kWordRangesCount, c); }
bool is_cased(std::uint32_t c) { return in_ranges(unicode::kCasedRanges, unicode::kCasedRangesCount, c); }
bool is_case_ignorable(std::uint32_t c) {
  return in_ranges(unicode::kCaseIgnorableRanges, unicode::kCaseIgnorableRangesCount, c);
}

/// Single-code-point str.lower() mapping.
std::uint32_t to_lower(std::uint32_t c) {
  const auto* begin = unicode::kLowerRuns;
  const auto* end = begin + unicode::kLowerRunsCount;
  const auto* it = std::upper_bound(begin, end, c, [](std::uint32_t v, const unicode::LowerRun& r) { return v < r.first; });
  if (it == begin) return c;
  const auto& run = *(it - 1);
  if (c > run.last || (c - run.first) % run.stride != 0) return c;
  return static_cast<std::uint32_t>(static_cast<std::int64_t>(c) + run.delta);
}

/// lower(): with Python's special cases U+0130 -> "i" + U+0307 and Final_Sigma (Σ -> ς when a cased letter
/// precedes it and none follows, skipping case-ignorable characters, as CPython's handle_capital_sigma).
std::vector<std::uint32_t> lower(const std::vector<std::uint32_t>& in) {
  std::vector<std::uint32_t> out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::uint32_t c = in[i];
    if (c == 0x0130) {
      out.push_back('i');
      out.push_back(0x0307);
    } else if (c == 0x03A3) {
      std::size_t j = i;
      while (j > 0 && is_case_ignorable(in[j - 1])) --j;
      bool final_sigma = j > 0 && is_cased(in[j - 1]);
      if (final_sigma) {
        std::size_t k = i + 1;
        while (k < in.size() && is_case_ignorable(in[k])) ++k;
        final_sigma = k == in.size() || !is_cased(in[k]);
      }
      out.push_back(final_sigma ? 0x03C2 : 0x03C3);
    } else {
      out.push_back(to_lower(c));
    }
  }
  return out;
}

/// normalize_answer as a list of tokens (its white_space_fix joins them with single spaces).
std::vector<std::string> normalized_tokens(const std::string& text) {
  std::vector<std::uint32_t> chars;
  for (std::uint32_t c : lower(decode_utf8(text))) {
    if (!is_ascii_punct(c)) chars.push_back(c);
  }
  // remove_articles: \b(a|an|the)\b == a maximal run of word characters equal to an article -> " ".
  std::vector<std::uint32_t> kept;
  for (std::size_t i = 0; i < chars.size();) {
    if (!is_word(chars[i])) {
      kept.push_back(chars[i++]);
      continue;
    }
    std::size_t j = i;
    while (j < chars.size() && is_word(chars[j])) ++j;
    std::string word;
    for (std::size_t k = i; k < j; ++k) tokenizer::unicode::append_utf8(chars[k], word);
    if (word == "a" || word == "an" || word == "the") {
      kept.push_back(' ');
    } else {
      kept.insert(kept.end(), chars.begin() + static_cast<long>(i), chars.begin() + static_cast<long>(j));
    }
    i = j;
  }
  std::vector<std::string> tokens;
  std::string current;
  for (std::uint32_t c : kept) {
    if (tokenizer::unicode::is_python_isspace(c)) {
      if (!current.empty()) tokens.push_back(std::move(current));
      current.clear();
    } else {
      tokenizer::unicode::append_utf8(c, current);
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

std::size_t common_count(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::map<std::string, long> counts;
  for (const auto& t : a) ++counts[t];
  std::size_t same = 0;
  for (const auto& t : b) {
    auto it = counts.find(t);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  return same;
}

double token_f1(const std::vector<std::string>& pred, const std::vector<std::string>& gold) {
  const std::size_t same = common_count(pred, gold);
  if (same == 0) return 0.0;
  const double precision = static_cast<double>(same) / static_cast<double>(pred.size());
  const double recall = static_cast<double>(same) / static_cast<double>(gold.size());
  return 2 * precision * recall / (precision + recall);
}

void check_inputs(const char* what, const std::vector<std::string>& predictions,
                  const std::vector<std::vector<std::string>>& ground_truths) {
  DISTILBERT_CHECK(!predictions.empty(), what, ": expected at least one question, found an empty input");
  DISTILBERT_CHECK(predictions.size() == ground_truths.size(), what, ": expected one prediction per question, found ",
                   predictions.size(), " predictions for ", ground_truths.size(), " questions");
}

}  // namespace

std::string squad_normalize_answer(const std::string& text) {
  std::string out;
  for (const auto& t : normalized_tokens(text)) out += (out.empty() ? "" : " ") + t;
  return out;
}

bool squad_exact_match(const std::string& prediction, const std::string& ground_truth) {
  return squad_normalize_answer(prediction) == squad_normalize_answer(ground_truth);
}

double squad_f1(const std::string& prediction, const std::string& ground_truth) {
  return token_f1(normalized_tokens(prediction), normalized_tokens(ground_truth));
}

double squad_v2_f1(const std::string& prediction, const std::string& ground_truth) {
  const auto pred = normalized_tokens(prediction);
  const auto gold = normalized_tokens(ground_truth);
  if (pred.empty() || gold.empty()) return pred == gold ? 1.0 : 0.0;
  return token_f1(pred, gold);
}

SquadScores squad_v1_evaluate(const std::vector<std::string>& predictions,
                              const std::vector<std::vector<std::string>>& ground_truths) {
  check_inputs("SQuAD v1.1 evaluation", predictions, ground_truths);
  SquadScores s;
  double em = 0, f1 = 0;
  for (std::size_t q = 0; q < predictions.size(); ++q) {
    DISTILBERT_CHECK(
        !ground_truths[q].empty(), "SQuAD v1.1 evaluation: question ", q,
        ": expected at least one ground-truth answer, found none (use SQuAD v2 evaluation for unanswerable "
        "questions)");
    double best_em = 0, best_f1 = 0;
    for (const auto& gold : ground_truths[q]) {
      best_em = std::max(best_em, squad_exact_match(predictions[q], gold) ? 1.0 : 0.0);
      best_f1 = std::max(best_f1, squad_f1(predictions[q], gold));
    }
    em += best_em;
    f1 += best_f1;
  }
  s.total = predictions.size();
  s.exact_match = 100.0 * em / static_cast<double>(s.total);
  s.f1 = 100.0 * f1 / static_cast<double>(s.total);
  return s;
}

SquadScores squad_v2_evaluate(const std::vector<std::string>& predictions,
                              const std::vector<std::vector<std::string>>& ground_truths) {
  check_inputs("SQuAD v2.0 evaluation", predictions, ground_truths);
  SquadScores s;
  double em = 0, f1 = 0, has_em = 0, has_f1 = 0, no_em = 0, no_f1 = 0;
  for (std::size_t q = 0; q < predictions.size(); ++q) {
    std::vector<std::string> golds;
    for (const auto& g : ground_truths[q]) {
      if (!normalized_tokens(g).empty()) golds.push_back(g);
    }
    if (golds.empty()) golds.emplace_back();  // unanswerable: the only correct answer is ""
    double best_em = 0, best_f1 = 0;
    for (const auto& gold : golds) {
      best_em = std::max(best_em, squad_exact_match(predictions[q], gold) ? 1.0 : 0.0);
      best_f1 = std::max(best_f1, squad_v2_f1(predictions[q], gold));
    }
    em += best_em;
    f1 += best_f1;
    if (!ground_truths[q].empty()) {  // the script's qid_to_has_ans = bool(qa['answers'])
      has_em += best_em;
      has_f1 += best_f1;
      ++s.has_ans_total;
    } else {
      no_em += best_em;
      no_f1 += best_f1;
      ++s.no_ans_total;
    }
  }
  auto pct = [](double sum, std::size_t n) { return n ? 100.0 * sum / static_cast<double>(n) : 0.0; };
  s.total = predictions.size();
  s.exact_match = pct(em, s.total);
  s.f1 = pct(f1, s.total);
  s.has_ans_exact = pct(has_em, s.has_ans_total);
  s.has_ans_f1 = pct(has_f1, s.has_ans_total);
  s.no_ans_exact = pct(no_em, s.no_ans_total);
  s.no_ans_f1 = pct(no_f1, s.no_ans_total);
  return s;
}

}  // namespace distilbert::tasks
