// Fuzz target: the metric code that parses free text and tag strings: SQuAD answer normalisation and F1 on
// arbitrary (also invalid UTF-8) strings, and seqeval entity extraction on arbitrary tag sequences (CoNLL-style
// B-/I-/E-/S-/O tags). Lines of the input are tags; an empty line ends a sentence; a line "|||" switches from the
// references to the predictions. Scores must be finite fractions in [0, 1] (SQuAD F1) and entity spans must lie
// inside the flattened sequence.
#include <cmath>
#include <string>
#include <vector>

#include "distilbert/tasks/metrics.h"
#include "fuzz_target.h"

DISTILBERT_FUZZ_TARGET(metrics) {
  using namespace distilbert;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto half = text.size() / 2;
  const std::string a = text.substr(0, half), b = text.substr(half);
  fuzz::guarded("squad", [&] {
    (void)tasks::squad_normalize_answer(text);
    const double f1 = tasks::squad_f1(a, b), f2 = tasks::squad_v2_f1(a, b);
    fuzz::require(f1 >= 0 && f1 <= 1 && f2 >= 0 && f2 <= 1, "SQuAD F1 in [0, 1]");
    const bool em = tasks::squad_exact_match(a, b);
    fuzz::require(!em || tasks::squad_v2_f1(a, b) == 1.0, "exact match implies v2 F1 = 1");
  });
  std::vector<std::vector<std::string>> refs, preds, *cur = &refs;
  std::vector<std::string> sent;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line == "|||") {
      if (!sent.empty()) cur->push_back(sent);
      sent.clear();
      cur = &preds;
    } else if (line.empty()) {
      if (!sent.empty()) cur->push_back(sent);
      sent.clear();
    } else {
      sent.push_back(line);
    }
  }
  if (!sent.empty()) cur->push_back(sent);
  fuzz::guarded("seqeval", [&] {
    std::size_t tokens = 0;
    for (const auto& s : refs) tokens += s.size() + 1;
    for (const auto& e : tasks::get_entities(refs))
      fuzz::require(e.begin <= e.end && e.end < tokens + 1, "entity span inside the sequence");
    const auto r = tasks::seqeval(preds, refs);
    fuzz::require(std::isfinite(r.overall.f1) && r.overall.f1 >= 0 && r.overall.f1 <= 1, "seqeval F1 in [0, 1]");
  });
  return 0;
}
