// Tests for the transfer-set augmentation (distilbert/tasks/augment.h): what each operation may produce (masks in
// place of words, n-grams that are runs of the text's own words), the rates against their binomial spread, the
// per-example streams, texts without words, and the option checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "distilbert/core/error.h"
#include "distilbert/core/text.h"
#include "distilbert/tasks/augment.h"

using namespace distilbert::tasks;
using Catch::Matchers::Contains;

namespace {

const std::string kText = "the quick brown fox jumps over the lazy dog today";

}  // namespace

TEST_CASE("augment: no operation keeps the words, p_mask 1 masks every word", "[tasks][augment]") {
  std::uint64_t state = 7;
  AugmentOptions o;
  o.p_mask = 0;
  o.p_ngram = 0;
  CHECK(augment_text("  a  b\tc ", o, state) == "a b c");
  CHECK(augment_text("", o, state).empty());
  // Whitespace alone (a quoted CSV field can hold tabs and newlines) has no words: empty, so the output line keeps
  // its columns and the file its line count (tests/data/fuzz_regressions/augment/whitespace_only_text).
  CHECK(augment_text(" \n\t \r\n", o, state).empty());
  o.p_mask = 1;
  o.mask_token = "<mask>";
  const auto w = distilbert::split_whitespace(augment_text(kText, o, state));
  CHECK(w == std::vector<std::string>(10, "<mask>"));
}

TEST_CASE("augment: n-gram sampling keeps a run of 1..max_ngram consecutive words, every length and start",
          "[tasks][augment]") {
  AugmentOptions o;
  o.p_mask = 0;
  o.p_ngram = 1;
  o.max_ngram = 3;
  const auto all = distilbert::split_whitespace(kText);
  std::set<std::size_t> lengths, starts;
  std::uint64_t state = 11;
  for (int i = 0; i < 2000; ++i) {
    const auto w = distilbert::split_whitespace(augment_text(kText, o, state));
    REQUIRE(!w.empty());
    REQUIRE(w.size() <= 3);
    // a run of the original: find its start
    bool found = false;
    for (std::size_t s = 0; s + w.size() <= all.size() && !found; ++s)
      if (std::equal(w.begin(), w.end(), all.begin() + static_cast<std::ptrdiff_t>(s))) {
        found = true;
        starts.insert(s);
      }
    REQUIRE(found);
    lengths.insert(w.size());
  }
  CHECK(lengths == std::set<std::size_t>{1, 2, 3});
  CHECK(starts.size() == all.size());  // every word can start an n-gram (the last one as a 1-gram)
  // a text shorter than max_ngram is never lengthened
  o.max_ngram = 5;
  for (int i = 0; i < 50; ++i) CHECK(distilbert::split_whitespace(augment_text("one two", o, state)).size() <= 2);
}

TEST_CASE("augment: masking and n-gram rates match their probabilities within 5 binomial standard deviations",
          "[tasks][augment]") {
  AugmentOptions o;
  o.p_mask = 0.1;
  o.p_ngram = 0.25;
  o.max_ngram = 5;
  const int trials = 4000;  // texts of 10 words: 40,000 word draws
  int masked = 0, words_seen = 0, cut = 0;
  std::uint64_t state = 3;
  for (int i = 0; i < trials; ++i) {
    const auto w = distilbert::split_whitespace(augment_text(kText, o, state));
    if (w.size() < 10) ++cut;  // an n-gram has at most 5 of the 10 words
    words_seen += static_cast<int>(w.size());
    for (const auto& x : w) masked += x == "[MASK]";
  }
  const double p_cut = static_cast<double>(cut) / trials;
  CHECK(std::abs(p_cut - 0.25) < 5 * std::sqrt(0.25 * 0.75 / trials));
  // Masking is drawn per word before the cut, so the words kept are a fair sample of the draws.
  const double p_masked = static_cast<double>(masked) / words_seen;
  CHECK(std::abs(p_masked - 0.1) < 5 * std::sqrt(0.1 * 0.9 / words_seen));
}

TEST_CASE("augment: examples get their copies in order, labels cleared, one stream per example", "[tasks][augment]") {
  std::vector<Example> in(3);
  for (int i = 0; i < 3; ++i) {
    in[static_cast<std::size_t>(i)].text_a = kText + " " + std::to_string(i);
    in[static_cast<std::size_t>(i)].label = 1;
    in[static_cast<std::size_t>(i)].guid = "g" + std::to_string(i);
  }
  in[1].text_b = "a second text of the pair";
  AugmentOptions o;
  o.copies = 4;
  o.p_mask = 0.3;
  o.p_ngram = 0.5;
  const auto out = augment_examples(in, o);
  REQUIRE(out.size() == 12);
  CHECK(out[0].guid == "g0-aug1");
  CHECK(out[5].guid == "g1-aug2");
  CHECK(out[11].guid == "g2-aug4");
  for (const auto& e : out) {
    CHECK(e.label == -1);
    CHECK(std::isnan(e.score));
  }
  CHECK(!out[0].text_b);
  CHECK(out[4].text_b);  // example 1 is a pair: both texts augmented
  // The same seed gives the same file; example 2's copies do not depend on examples 0 and 1.
  CHECK(augment_examples(in, o)[7].text_a == out[7].text_a);
  std::vector<Example> tail{in[0], in[2]};
  const auto out2 = augment_examples(tail, o);
  CHECK(out2[0].text_a == out[0].text_a);
  std::set<std::string> copies;
  for (int c = 0; c < 4; ++c) copies.insert(out[static_cast<std::size_t>(8 + c)].text_a);
  CHECK(copies.size() > 1);
  o.seed = 2;
  const auto other = augment_examples(in, o);
  int differ = 0;
  for (std::size_t i = 0; i < out.size(); ++i) differ += other[i].text_a != out[i].text_a;
  CHECK(differ > 0);
}

TEST_CASE("augment: bad options name the option, what was expected and what was found", "[tasks][augment]") {
  AugmentOptions o;
  o.copies = 0;
  CHECK_THROWS_WITH(check_augment_options(o), Contains("copies") && Contains("at least 1") && Contains("found 0"));
  o = {};
  o.p_mask = 1.5;
  CHECK_THROWS_WITH(check_augment_options(o), Contains("p_mask") && Contains("[0, 1]") && Contains("1.5"));
  o = {};
  o.p_ngram = -0.1;
  CHECK_THROWS_WITH(check_augment_options(o), Contains("p_ngram") && Contains("-0.1"));
  o = {};
  o.max_ngram = 0;
  CHECK_THROWS_WITH(check_augment_options(o), Contains("max_ngram"));
  o = {};
  o.mask_token = "two words";
  CHECK_THROWS_WITH(check_augment_options(o), Contains("mask_token") && Contains("'two words'"));
  for (const std::string bad : {"", " [MASK]", "[MASK]\t", "[MA\tSK]"}) {
    o.mask_token = bad;
    CHECK_THROWS_WITH(check_augment_options(o), Contains("mask_token") && Contains("'" + bad + "'"));
  }
  CHECK_THROWS_AS(augment_examples({Example{}}, o), distilbert::Error);
}
