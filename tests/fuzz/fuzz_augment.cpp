// Fuzz target: `distilbert augment`'s text operations (tasks/augment.h) on arbitrary options and texts (any bytes:
// tabs, newlines, invalid UTF-8). The first bytes pick the options, then examples follow, each an optional pair:
// text_a, a flag, text_b. Invariants: copies x examples come out, in order; every augmented text fits on one line
// of the output file (no tab, newline or carriage return, which would shift the columns or the line count that the
// teacher's labels are pasted against); its words are a run of the original's consecutive words, some replaced by
// the mask token, all of them when there is no n-gram draw; the same seed gives the same examples.
#include <string>
#include <vector>

#include "distilbert/core/text.h"
#include "distilbert/tasks/augment.h"
#include "fuzz_target.h"

namespace {

// `out` is a run of `in`'s consecutive words with some replaced by `mask` (every word kept when `whole`).
bool is_masked_run(const std::vector<std::string>& out, const std::vector<std::string>& in, const std::string& mask,
                   bool whole) {
  if (out.size() > in.size() || (whole && out.size() != in.size())) return false;
  for (std::size_t start = 0; start + out.size() <= in.size(); ++start) {
    bool ok = true;
    for (std::size_t k = 0; k < out.size() && ok; ++k) ok = out[k] == mask || out[k] == in[start + k];
    if (ok) return true;
  }
  return false;
}

void check_text(const std::string& out, const std::string& in, const distilbert::tasks::AugmentOptions& o) {
  using distilbert::fuzz::require;
  require(out.find_first_of("\t\n\r") == std::string::npos, "an augmented text is one line without tabs");
  require(is_masked_run(distilbert::split_whitespace(out), distilbert::split_whitespace(in), o.mask_token, o.p_ngram == 0),
          "an augmented text is a run of the original's words, some masked");
}

}  // namespace

DISTILBERT_FUZZ_TARGET(augment) {
  using namespace distilbert;
  fuzz::ByteReader r(data, size);
  tasks::AugmentOptions o;
  o.copies = static_cast<int>(r.range(1, 4));
  o.p_mask = static_cast<double>(r.u8()) / 255.0;
  o.p_ngram = static_cast<double>(r.u8() % 3) / 2.0;  // 0, 0.5 or 1: the "whole text" invariant needs exact 0
  o.max_ngram = static_cast<int>(r.range(1, 8));
  o.seed = r.range(0, 65535);
  if (r.boolean()) o.mask_token = r.string(8);  // also invalid tokens (spaces, tabs, empty): refused with an Error
  std::vector<tasks::Example> examples;
  while (r.remaining() > 0 && examples.size() < 16) {
    tasks::Example e;
    e.text_a = r.string(200);
    if (r.boolean()) e.text_b = r.string(200);
    e.guid = "train-" + std::to_string(examples.size());
    examples.push_back(std::move(e));
  }
  fuzz::guarded("augment", [&] {
    const auto out = tasks::augment_examples(examples, o);
    fuzz::require(out.size() == examples.size() * static_cast<std::size_t>(o.copies), "copies x examples");
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto& src = examples[i / static_cast<std::size_t>(o.copies)];
      check_text(out[i].text_a, src.text_a, o);
      fuzz::require(out[i].text_b.has_value() == src.text_b.has_value(), "a pair stays a pair");
      if (src.text_b) check_text(*out[i].text_b, *src.text_b, o);
      fuzz::require(out[i].guid.rfind(src.guid + "-aug", 0) == 0, "the copy's guid names its example");
    }
    const auto again = tasks::augment_examples(examples, o);
    for (std::size_t i = 0; i < out.size(); ++i)
      fuzz::require(again[i].text_a == out[i].text_a && again[i].text_b == out[i].text_b, "same seed, same copies");
  });
  return 0;
}
