// The built-in demo data: deterministic per seed, balanced, disjoint splits, a corpus free of dev/test sentences,
// files the GLUE SST-2 reader accepts, and labels that an independent re-implementation of the documented rule
// (the last clause decides; its polarity word flipped by not / never) recovers for every review.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "distilbert/core/error.h"
#include "distilbert/demo/demo_data.h"
#include "distilbert/tasks/glue.h"

using namespace distilbert;
using namespace distilbert::demo;
using namespace distilbert::tasks;
using Catch::Matchers::Contains;

namespace {

std::vector<std::string> words_of(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

// The documented rule, written from the README's description: drop the final " .", take the text after the last
// " but ", " and " or " , " (the deciding clause), find its one polarity word and flip it for each not / never.
int polarity_of_clause(const std::string& clause) {
  int pol = 0, found = 0;
  bool negated = false;
  for (const auto& w : words_of(clause)) {
    if (w == "not" || w == "never") negated = !negated;
    if (const int p = demo_word_polarity(w)) {
      pol = p;
      ++found;
    }
  }
  if (found != 1) return 0;  // ambiguous: the test fails on it
  return negated ? -pol : pol;
}

std::pair<std::string, std::string> split_last_clause(const std::string& text) {
  std::string t = text.substr(0, text.size() - 2);  // " ."
  size_t best = std::string::npos, len = 0;
  for (const std::string sep : {" but ", " and ", " , "}) {
    const size_t p = t.rfind(sep);
    if (p != std::string::npos && (best == std::string::npos || p > best)) best = p, len = sep.size();
  }
  if (best == std::string::npos) return {"", t};
  return {t.substr(0, best), t.substr(best + len)};
}

}  // namespace

TEST_CASE("demo data: the same seed gives the same data, another seed other data", "[tasks][demo]") {
  DemoDataOptions o;
  o.corpus_lines = 50;
  o.train = 200;
  o.dev = 50;
  o.test = 50;
  const auto a = make_demo_data(o), b = make_demo_data(o);
  CHECK(a.corpus == b.corpus);
  CHECK(demo_task_tsv(a.train, false) == demo_task_tsv(b.train, false));
  o.seed = 2;
  const auto c = make_demo_data(o);
  CHECK(a.corpus != c.corpus);
  CHECK(demo_task_tsv(a.train, false) != demo_task_tsv(c.train, false));
  // The generator's first draws are fixed: SplitMix64 from state 0 gives the published first output.
  DemoRng r(0);
  CHECK(r.next() == 0xE220A8397B1DCDAFull);
  CHECK_THROWS_WITH(make_demo_data({1, 10, 0, 1, 1}), Contains("must be >= 1"));
}

TEST_CASE("demo data: labels follow the documented rule, and the structure matters", "[tasks][demo]") {
  DemoDataOptions o;
  o.corpus_lines = 300;
  o.train = 3000;
  o.dev = 500;
  o.test = 500;
  const auto d = make_demo_data(o);
  REQUIRE(d.train.size() == 3000);
  size_t contrast = 0, negated = 0;
  for (const auto* split : {&d.train, &d.dev, &d.test}) {
    size_t pos = 0;
    for (const auto& r : *split) {
      INFO(r.text);
      REQUIRE(r.text.size() > 2);
      CHECK(r.text.substr(r.text.size() - 2) == " .");
      const auto [first, last] = split_last_clause(r.text);
      const int p = polarity_of_clause(last);
      CHECK(p == (r.label == 1 ? 1 : -1));
      if (r.form == ReviewForm::But || r.form == ReviewForm::Although) {
        // The first clause says the opposite: the words alone do not decide the label.
        std::string head = first;
        if (head.rfind("although ", 0) == 0) head = head.substr(9);
        const auto pos_although = head.find("although ");
        if (pos_although != std::string::npos) head = head.substr(pos_although + 9);
        CHECK(polarity_of_clause(head) == -p);
        ++contrast;
      }
      negated += r.negations > 0;
      pos += r.label == 1;
    }
    // Balanced to within one example.
    CHECK(std::abs(static_cast<long>(2 * pos) - static_cast<long>(split->size())) <= 1);
  }
  CHECK(contrast > 1000);  // 40% of 4,000 expected
  CHECK(negated > 1000);
}

TEST_CASE("demo data: splits are disjoint and the corpus holds no dev or test review", "[tasks][demo]") {
  DemoDataOptions o;
  o.corpus_lines = 2000;
  o.train = 2000;
  o.dev = 400;
  o.test = 400;
  const auto d = make_demo_data(o);
  std::set<std::string> train, held;
  for (const auto& r : d.train) train.insert(r.text);
  CHECK(train.size() == d.train.size());
  for (const auto* split : {&d.dev, &d.test})
    for (const auto& r : *split) {
      CHECK(train.count(r.text) == 0);
      CHECK(held.insert(r.text).second);
    }
  std::set<std::string> vocab;
  size_t reviews_in_corpus = 0;
  for (const auto& line : d.corpus) {
    const auto w = words_of(line);
    CHECK(w.size() >= 12);  // long enough for the LM sequence rules (> 11 tokens)
    vocab.insert(w.begin(), w.end());
    // Split into sentences at " . " and look every one up.
    size_t start = 0;
    while (start < line.size()) {
      size_t end = line.find(" . ", start);
      end = end == std::string::npos ? line.size() : end + 2;
      const std::string sentence = line.substr(start, end - start);
      CHECK(held.count(sentence) == 0);
      reviews_in_corpus += train.count(sentence);
      start = end + 1;
    }
  }
  CHECK(vocab.size() > 300);  // "a few hundred words"
  CHECK(vocab.size() < 800);
  CHECK(vocab.count("an") == 1);
  CHECK(vocab.count("barked") == 1);
}

TEST_CASE("demo data: the files are GLUE SST-2 files", "[tasks][demo]") {
  DemoDataOptions o;
  o.corpus_lines = 10;
  o.train = 100;
  o.dev = 20;
  o.test = 20;
  const auto d = make_demo_data(o);
  const auto dir = std::filesystem::temp_directory_path() / "distilbert_demo_data_test";
  std::filesystem::create_directories(dir);
  for (const auto& [name, split, test] :
       {std::tuple<std::string, const std::vector<DemoReview>*, bool>{"train.tsv", &d.train, false},
        {"dev.tsv", &d.dev, false},
        {"test.tsv", &d.test, true}}) {
    std::ofstream(dir / name) << demo_task_tsv(*split, test);
  }
  const auto train = read_glue_file(GlueTask::SST2, (dir / "train.tsv").string());
  REQUIRE(train.examples.size() == 100);
  CHECK(train.has_labels);
  for (size_t i = 0; i < 100; ++i) {
    CHECK(train.examples[i].text_a == d.train[i].text);
    CHECK(train.examples[i].label == d.train[i].label);
  }
  const auto test = read_glue_file(GlueTask::SST2, (dir / "test.tsv").string());
  CHECK_FALSE(test.has_labels);
  CHECK(test.examples.size() == 20);
  const auto dev = read_glue_split(GlueTask::SST2, dir.string(), "validation");
  CHECK(dev.examples.size() == 20);
  const std::string readme = demo_data_readme(o, d);
  CHECK_THAT(readme, Contains("| train | "));
  CHECK_THAT(readme, Contains("100 / 20 film reviews"));
}
