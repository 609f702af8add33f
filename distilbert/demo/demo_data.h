// The built-in demo data: what `distilbert make-demo-data` writes so the main job runs out of the box with no
// download. Both parts come from small seeded probabilistic grammars (a few hundred words), so they are the same
// on every machine for a given seed and have structure a model can learn:
//
//  * an English-like corpus for MLM pretraining and distillation: lines of 3-7 sentences about farmers, dogs,
//    rivers and films, with subject-verb agreement (the dog runs / the dogs run, was / were), verbs that select
//    their objects (eat bread, drink water, read a letter) and review sentences like the task's (unlabelled);
//  * a sentiment task in GLUE SST-2 layout (train.tsv / dev.tsv: `sentence<TAB>label`, test.tsv:
//    `index<TAB>sentence`): short film reviews whose label follows from the words *and their order*:
//    a clause's polarity is its adjective's or verb's, flipped by `not` / `never` / `did not`; clauses joined by
//    `and` agree; after `but` or in `although A , B` the second clause decides. A bag of words cannot tell
//    "good but dull" from "dull but good", so a classifier has to use the structure. Labels are balanced
//    (chance = 50%) and no sentence occurs in two splits.
//
// The random numbers come from SplitMix64 (core/splitmix64.h) with our own bounded draws (no std:: distributions,
// whose output differs between standard libraries), so a seed gives byte-identical files everywhere.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace distilbert::demo {

/// SplitMix64 with unbiased bounded draws.
class DemoRng {
 public:
  explicit DemoRng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  /// Uniform in [0, n); n > 0.
  uint64_t below(uint64_t n);
  /// True with probability p.
  bool chance(double p);
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(below(v.size()))];
  }

 private:
  uint64_t state_;
};

/// How a review's label is decided (kept for the data README and the tests).
enum class ReviewForm { Single, And, But, Although };
const char* review_form_name(ReviewForm f);

struct DemoReview {
  std::string text;  ///< lower-case words and punctuation separated by single spaces
  int label = 0;     ///< 0 negative, 1 positive
  ReviewForm form = ReviewForm::Single;
  int negations = 0;  ///< negated clauses in the sentence
};

/// One review with the given label (0 or 1).
DemoReview demo_review(DemoRng& rng, int label);

/// One corpus line (a paragraph of 3-7 sentences; about a third of them reviews).
std::string demo_corpus_line(DemoRng& rng);

struct DemoDataOptions {
  uint64_t seed = 1;
  int64_t corpus_lines = 6000;
  int64_t train = 6000, dev = 1000, test = 1000;
};

struct DemoData {
  std::vector<std::string> corpus;  ///< lines; none contains a dev or test sentence
  std::vector<DemoReview> train, dev, test;
};

/// Generate everything (deterministic in options). Throws distilbert::Error for sizes < 1 (corpus: >= 0).
DemoData make_demo_data(const DemoDataOptions& options);

/// SST-2 layout: header `sentence\tlabel` and one row per review; with test_layout `index\tsentence`.
std::string demo_task_tsv(const std::vector<DemoReview>& reviews, bool test_layout);

/// The corpus as text (one line each, '\n' terminated).
std::string demo_corpus_text(const std::vector<std::string>& lines);

/// A README.md describing the files, the grammar, the labelling rule and the split statistics.
std::string demo_data_readme(const DemoDataOptions& options, const DemoData& data);

/// The lexicon's polarity of a word: +1 (positive adjective/verb), -1 (negative), 0 (neither). For tests.
int demo_word_polarity(const std::string& word);

}  // namespace distilbert::demo
