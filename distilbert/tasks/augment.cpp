// Text augmentation for transfer sets; see augment.h.
#include "distilbert/tasks/augment.h"

#include <algorithm>
#include <cmath>

#include "distilbert/core/error.h"
#include "distilbert/core/splitmix64.h"
#include "distilbert/core/text.h"

namespace distilbert::tasks {

namespace {
// A draw in [0, 1) from the top 53 bits.
double uniform(std::uint64_t& state) { return static_cast<double>(splitmix64_next(state) >> 11) * 0x1.0p-53; }

// A draw in 0..n-1.
std::size_t below(std::uint64_t& state, std::size_t n) {
  return std::min(n - 1, static_cast<std::size_t>(uniform(state) * static_cast<double>(n)));
}
}  // namespace

void check_augment_options(const AugmentOptions& o) {
  DISTILBERT_CHECK(o.copies >= 1, "augment: copies: expected at least 1, found ", o.copies);
  DISTILBERT_CHECK(o.p_mask >= 0 && o.p_mask <= 1, "augment: p_mask: expected a probability in [0, 1], found ",
                   o.p_mask);
  DISTILBERT_CHECK(o.p_ngram >= 0 && o.p_ngram <= 1, "augment: p_ngram: expected a probability in [0, 1], found ",
                   o.p_ngram);
  DISTILBERT_CHECK(o.max_ngram >= 1, "augment: max_ngram: expected at least 1, found ", o.max_ngram);
  // One word that reads back as itself: not empty, no space or tab inside or around it.
  DISTILBERT_CHECK(split_whitespace(o.mask_token) == std::vector<std::string>{o.mask_token},
                   "augment: mask_token: expected one word without spaces, found '", o.mask_token, "'");
}

std::string augment_text(const std::string& text, const AugmentOptions& o, std::uint64_t& state) {
  auto w = split_whitespace(text);
  // A text of whitespace alone (a quoted CSV field may hold tabs and newlines) has no words: it becomes empty, so
  // that every augmented example stays one line of `augment`'s output, in its columns.
  if (w.empty()) return "";
  for (auto& word : w)
    if (uniform(state) < o.p_mask) word = o.mask_token;
  if (uniform(state) < o.p_ngram) {
    const std::size_t n = 1 + below(state, std::min<std::size_t>(static_cast<std::size_t>(o.max_ngram), w.size()));
    const std::size_t start = below(state, w.size() - n + 1);
    w = std::vector<std::string>(w.begin() + static_cast<std::ptrdiff_t>(start),
                                 w.begin() + static_cast<std::ptrdiff_t>(start + n));
  }
  std::string out = w[0];
  for (std::size_t i = 1; i < w.size(); ++i) out += ' ' + w[i];
  return out;
}

std::vector<Example> augment_examples(const std::vector<Example>& examples, const AugmentOptions& o) {
  check_augment_options(o);
  std::vector<Example> out;
  out.reserve(examples.size() * static_cast<std::size_t>(o.copies));
  for (std::size_t i = 0; i < examples.size(); ++i) {
    // One stream per example: its copies do not depend on the examples before it.
    std::uint64_t state = splitmix64_mix(o.seed ^ splitmix64_mix(i + 1));
    for (int c = 0; c < o.copies; ++c) {
      Example e;
      e.text_a = augment_text(examples[i].text_a, o, state);
      if (examples[i].text_b) e.text_b = augment_text(*examples[i].text_b, o, state);
      e.guid = examples[i].guid + "-aug" + std::to_string(c + 1);
      e.line = examples[i].line;
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace distilbert::tasks
