// Tests for distilbert/tasks/metrics.h against values worked out by hand in the comments (confusion counts,
// MCC and Pearson formulas, tie ranks, seqeval entities, SQuAD normalisation), plus the edge cases: empty
// input and length mismatch throw, constant predictions give MCC 0 and Pearson / Spearman NaN.
#include <catch2/catch.hpp>

#include <cmath>

#include "distilbert/core/error.h"
#include "distilbert/tasks/metrics.h"

using namespace distilbert::tasks;
using distilbert::Error;
using Catch::Matchers::Contains;

namespace {
// preds vs labels, position by position:  0:(1,1) TP  1:(0,1) FN  2:(1,1) TP  3:(1,0) FP  4:(0,0) TN
const std::vector<int> kPred = {1, 0, 1, 1, 0};
const std::vector<int> kLabel = {1, 1, 1, 0, 0};
}  // namespace

TEST_CASE("accuracy counts equal positions", "[metrics]") {
  // correct at 0, 2, 4 -> 3/5
  CHECK(accuracy(kPred, kLabel) == Approx(0.6));
  CHECK(accuracy({2, 2}, {2, 2}) == 1.0);
  CHECK_THROWS_WITH(accuracy({}, {}), Contains("empty"));
  CHECK_THROWS_WITH(accuracy({1, 0}, {1}), Contains("2 predictions and 1 labels"));
}

TEST_CASE("binary F1 of the positive class (sklearn f1_score default)", "[metrics]") {
  // tp = 2, fp = 1, fn = 1: F1 = 2tp / (2tp + fp + fn) = 4 / 6
  CHECK(binary_f1(kPred, kLabel) == Approx(4.0 / 6.0));
  // only negatives everywhere: tp + fp + fn = 0 -> 0 (zero_division default)
  CHECK(binary_f1({0, 0, 0}, {0, 0, 0}) == 0.0);
  // all predicted positive, labels 1,0,0: tp 1, fp 2, fn 0 -> 2/4
  CHECK(binary_f1({1, 1, 1}, {1, 0, 0}) == Approx(0.5));
  CHECK_THROWS_WITH(binary_f1({2, 0}, {1, 0}), Contains("{0, 1}"));
  CHECK_THROWS(binary_f1({}, {}));
}

TEST_CASE("Matthews correlation (sklearn semantics)", "[metrics]") {
  // 2x2: TP 2, TN 1, FP 1, FN 1: (TP*TN - FP*FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = (2-1)/sqrt(3*3*2*2) = 1/6
  CHECK(matthews_corrcoef(kPred, kLabel) == Approx(1.0 / 6.0));
  CHECK(matthews_corrcoef({0, 1, 1, 0}, {0, 1, 1, 0}) == Approx(1.0));
  CHECK(matthews_corrcoef({1, 0, 0, 1}, {0, 1, 1, 0}) == Approx(-1.0));
  // constant predictions: s^2 - sum p_k^2 = 0 -> 0; constant labels likewise
  CHECK(matthews_corrcoef({1, 1, 1, 1}, {0, 1, 1, 0}) == 0.0);
  CHECK(matthews_corrcoef({0, 1, 1, 0}, {1, 1, 1, 1}) == 0.0);
  // multiclass: preds 0,1,2,2 labels 0,1,1,2: c = 3, s = 4, t = (1,2,1), p = (1,1,2)
  // cov_ytyp = 3*4 - (1+2+2) = 7; cov_ypyp = 16 - (1+1+4) = 10; cov_ytyt = 16 - (1+4+1) = 10 -> 7/10
  CHECK(matthews_corrcoef({0, 1, 2, 2}, {0, 1, 1, 2}) == Approx(0.7));
  CHECK_THROWS(matthews_corrcoef({}, {}));
}

TEST_CASE("Pearson r on a small vector, NaN for constant input", "[metrics]") {
  // x = 1..5 (mean 3), y = 2,4,5,4,5 (mean 4): dx = -2,-1,0,1,2; dy = -2,0,1,0,1
  // sum dx*dy = 4+0+0+0+2 = 6; sum dx^2 = 10; sum dy^2 = 6 -> r = 6 / sqrt(60)
  const std::vector<double> x = {1, 2, 3, 4, 5}, y = {2, 4, 5, 4, 5};
  CHECK(pearson(x, y) == Approx(6.0 / std::sqrt(60.0)));
  CHECK(pearson(x, {10, 8, 6, 4, 2}) == Approx(-1.0));
  // scipy returns nan (ConstantInputWarning) when an input is constant; so do we
  CHECK(std::isnan(pearson(x, {3, 3, 3, 3, 3})));
  CHECK(std::isnan(pearson({1, 1}, {1, 2})));
  CHECK_THROWS_WITH(pearson({1}, {1}), Contains("at least 2"));
  CHECK_THROWS(pearson({}, {}));
  CHECK_THROWS(pearson({1, 2}, {1, 2, 3}));
}

TEST_CASE("average ranks and Spearman rho with ties (scipy rankdata 'average')", "[metrics]") {
  // 10,20,10,30,20,20 sorted: 10,10 take ranks 1,2 -> 1.5; 20 x3 take 3,4,5 -> 4; 30 -> 6
  CHECK(average_ranks({10, 20, 10, 30, 20, 20}) == std::vector<double>{1.5, 4, 1.5, 6, 4, 4});
  // y = 2,4,5,4,5 -> ranks 1, 2.5, 4.5, 2.5, 4.5 (mean 3, deviations -2,-.5,1.5,-.5,1.5, sum sq 9)
  // x ranks 1..5 (deviations -2..2, sum sq 10); sum of products = 4 + .5 + 0 - .5 + 3 = 7 -> 7 / sqrt(90)
  const std::vector<double> x = {1, 2, 3, 4, 5}, y = {2, 4, 5, 4, 5};
  CHECK(spearman(x, y) == Approx(7.0 / std::sqrt(90.0)));
  // monotone but non-linear: rho = 1
  CHECK(spearman({1, 2, 3, 4}, {1, 8, 27, 64}) == Approx(1.0));
  CHECK(std::isnan(spearman(x, {1, 1, 1, 1, 1})));
}

TEST_CASE("glue_metrics follows the HF glue metric and run_glue's combined_score", "[metrics]") {
  SECTION("mrpc / qqp: accuracy, f1, combined_score in that order") {
    const auto m = glue_metrics("mrpc", kPred, kLabel);
    REQUIRE(m.size() == 3);
    CHECK(m[0].first == "accuracy");
    CHECK(m[0].second == Approx(0.6));
    CHECK(m[1].first == "f1");
    CHECK(m[1].second == Approx(4.0 / 6.0));
    CHECK(m[2].first == "combined_score");
    CHECK(m[2].second == Approx((0.6 + 4.0 / 6.0) / 2));
    CHECK(glue_metrics("qqp", kPred, kLabel).size() == 3);
  }
  SECTION("cola: matthews_correlation only, no combined_score") {
    const auto m = glue_metrics("cola", kPred, kLabel);
    REQUIRE(m.size() == 1);
    CHECK(m[0].first == "matthews_correlation");
    CHECK(m[0].second == Approx(1.0 / 6.0));
  }
  SECTION("stsb: pearson, spearmanr, combined_score") {
    const auto m = glue_metrics("stsb", std::vector<double>{1, 2, 3, 4, 5}, std::vector<double>{2, 4, 5, 4, 5});
    REQUIRE(m.size() == 3);
    CHECK(m[0].first == "pearson");
    CHECK(m[1].first == "spearmanr");
    CHECK(metric_value(m, "combined_score") == Approx((6.0 / std::sqrt(60.0) + 7.0 / std::sqrt(90.0)) / 2));
  }
  SECTION("accuracy-only tasks") {
    for (const char* task : {"sst2", "mnli", "mnli_matched", "mnli_mismatched", "qnli", "rte", "wnli", "hans"}) {
      const auto m = glue_metrics(task, kPred, kLabel);
      REQUIRE(m.size() == 1);
      CHECK(m[0].first == "accuracy");
      CHECK(m[0].second == Approx(0.6));
    }
    CHECK(glue_metrics("mnli", std::vector<int>{0, 1, 2}, std::vector<int>{0, 2, 2})[0].second == Approx(2.0 / 3));
  }
  SECTION("errors") {
    CHECK_THROWS_WITH(glue_metrics("squad", kPred, kLabel), Contains("expected one of"));
    CHECK_THROWS_WITH(glue_metrics("sst2", std::vector<double>{0.5}, std::vector<double>{1}), Contains("argmax"));
    CHECK_THROWS_WITH(glue_metrics("sst2", std::vector<int>{}, std::vector<int>{}), Contains("empty"));
    CHECK_THROWS_WITH(metric_value(glue_metrics("cola", kPred, kLabel), "f1"), Contains("matthews_correlation"));
  }
  SECTION("main metric per task") {
    CHECK(glue_main_metric("cola") == "matthews_correlation");
    CHECK(glue_main_metric("stsb") == "combined_score");
    CHECK(glue_main_metric("mrpc") == "combined_score");
    CHECK(glue_main_metric("qqp") == "combined_score");
    CHECK(glue_main_metric("mnli") == "accuracy");
    CHECK(glue_main_metric("rte") == "accuracy");
    CHECK_THROWS(glue_main_metric("nope"));
  }
}

TEST_CASE("seqeval entities: IOB2 and the tolerant default mode", "[metrics][seqeval]") {
  using Seqs = std::vector<std::vector<std::string>>;
  // I- after O starts an entity; I-PER after I-LOC closes LOC and starts PER.
  CHECK(get_entities(Seqs{{"I-PER", "I-PER", "O", "I-LOC", "I-PER"}}) ==
        std::vector<Entity>{{"PER", 0, 1}, {"LOC", 3, 3}, {"PER", 4, 4}});
  // B- always starts a new entity; a type change inside a chunk splits it.
  CHECK(get_entities(Seqs{{"B-PER", "B-PER", "I-LOC"}}) ==
        std::vector<Entity>{{"PER", 0, 0}, {"PER", 1, 1}, {"LOC", 2, 2}});
  // Sentences are joined with an "O": an I- at the start of sentence 2 does not continue sentence 1.
  CHECK(get_entities(Seqs{{"B-PER"}, {"I-PER"}}) == std::vector<Entity>{{"PER", 0, 0}, {"PER", 2, 2}});
  // A tag without a type has type "_"; IOBES tags are understood.
  CHECK(get_entities(Seqs{{"B", "I", "O", "S-X", "B-Y", "E-Y"}}) ==
        std::vector<Entity>{{"_", 0, 1}, {"X", 3, 3}, {"Y", 4, 5}});
  CHECK_THROWS(get_entities(Seqs{{""}}));
}

TEST_CASE("seqeval scores as the HF seqeval metric", "[metrics][seqeval]") {
  SECTION("the seqeval README example") {
    // true MISC(3,5) PER(8,9); predicted MISC(2,5) PER(8,9) (sentence 2 starts at 8 after the joining "O")
    // tp = 1 (PER), 2 predicted, 2 true -> P = R = F1 = 0.5. Tokens: 10, wrong at 2 and 3 -> accuracy 0.8.
    const std::vector<std::vector<std::string>> refs = {{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"},
                                                        {"B-PER", "I-PER", "O"}};
    const std::vector<std::vector<std::string>> preds = {{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"},
                                                         {"B-PER", "I-PER", "O"}};
    const auto r = seqeval(preds, refs);
    CHECK(r.overall.precision == Approx(0.5));
    CHECK(r.overall.recall == Approx(0.5));
    CHECK(r.overall.f1 == Approx(0.5));
    CHECK(r.overall.support == 2);
    CHECK(r.accuracy == Approx(0.8));
    REQUIRE(r.per_type.size() == 2);
    CHECK(r.per_type.at("MISC").f1 == 0.0);
    CHECK(r.per_type.at("MISC").support == 1);
    CHECK(r.per_type.at("PER").precision == 1.0);
  }
  SECTION("precision and recall differ") {
    // true PER(0,1) LOC(3,3) ORG(5,5); predicted PER(0,1) LOC(3,4): tp 1 -> P = 1/2, R = 1/3,
    // F1 = 2 * 1/2 * 1/3 / (1/2 + 1/3) = (1/3) / (5/6) = 0.4
    const auto r = seqeval({{"B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O"}},
                           {{"B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG"}});
    CHECK(r.overall.precision == Approx(0.5));
    CHECK(r.overall.recall == Approx(1.0 / 3));
    CHECK(r.overall.f1 == Approx(0.4));
    CHECK(r.per_type.at("ORG").support == 1);
    CHECK(r.per_type.at("ORG").precision == 0.0);  // no ORG predicted: 0 / 0 -> 0
  }
  SECTION("no predicted entities: all zero, no division error") {
    const auto r = seqeval({{"O", "O"}}, {{"B-PER", "O"}});
    CHECK(r.overall.precision == 0.0);
    CHECK(r.overall.f1 == 0.0);
    CHECK(r.accuracy == Approx(0.5));
  }
  SECTION("errors") {
    CHECK_THROWS(seqeval({}, {}));
    CHECK_THROWS_WITH(seqeval({{"O"}}, {{"O", "O"}}), Contains("sentence 0"));
    CHECK_THROWS_WITH(seqeval({{}}, {{}}), Contains("at least one tag"));
  }
}

TEST_CASE("SQuAD normalize_answer as the official script", "[metrics][squad]") {
  // lower -> "the  quick, brown fox!"; punctuation out -> "the  quick brown fox"; "the" -> " "; spaces collapsed
  CHECK(squad_normalize_answer("The  Quick, brown fox!") == "quick brown fox");
  CHECK(squad_normalize_answer("an apple a day") == "apple day");
  CHECK(squad_normalize_answer("Theater and Anne") == "theater and anne");  // articles only as whole words
  CHECK(squad_normalize_answer("A.B.C.") == "abc");  // "a.b.c." -> "abc": no longer an article
  CHECK(squad_normalize_answer("a-the") == "athe");  // punctuation goes before the article removal
  CHECK(squad_normalize_answer("(the) answer's") == "answers");
  CHECK(squad_normalize_answer("\t the \n") == "");
  CHECK(squad_normalize_answer("\xC3\x89lan") == "\xC3\xA9lan");         // É -> é (str.lower)
  CHECK(squad_normalize_answer("the\xC2\xA0" "cat") == "cat");           // NBSP is whitespace for str.split
  CHECK(squad_normalize_answer("\xE2\x80\x9Cthe\xE2\x80\x9D") == "\xE2\x80\x9C \xE2\x80\x9D");  // “the”: not ASCII punctuation
  // Python's str.lower() beyond Latin-1: final sigma ("ΟΔΟΣ" -> "οδος"), Latin Extended-B (Ǆ U+01C4 -> ǆ U+01C6)
  CHECK(squad_normalize_answer("\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3") == "\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82");
  CHECK(squad_normalize_answer("\xCE\xA3\xCE\x9F") == "\xCF\x83\xCE\xBF");  // Σ not at a word end -> σ
  CHECK(squad_normalize_answer("\xC7\x84") == "\xC7\x86");
  // \b is Unicode-aware: "the" glued to a letter is not a word, next to an em dash it is
  CHECK(squad_normalize_answer("the\xC3\xA9") == "the\xC3\xA9");
  CHECK(squad_normalize_answer("the\xE2\x80\x94x") == "\xE2\x80\x94x");
}

TEST_CASE("SQuAD EM and F1", "[metrics][squad]") {
  CHECK(squad_exact_match("The Eiffel Tower", "eiffel tower"));
  CHECK_FALSE(squad_exact_match("Eiffel", "eiffel tower"));
  // pred tokens cat sat on mat; gold tokens cat on mat: common 3, P = 3/4, R = 1, F1 = 1.5/1.75 = 6/7
  CHECK(squad_f1("the cat sat on the mat", "a cat on a mat") == Approx(6.0 / 7));
  // repeated tokens are matched as a multiset: common min(3,1) = 1, P = 1/3, R = 1 -> 0.5
  CHECK(squad_f1("cat cat cat", "cat") == Approx(0.5));
  // v1.1: both empty after normalisation -> no common token -> 0; v2.0: both empty -> 1
  CHECK(squad_f1("the", "a") == 0.0);
  CHECK(squad_v2_f1("the", "") == 1.0);
  CHECK(squad_v2_f1("", "Paris") == 0.0);
  CHECK(squad_v2_f1("Paris", "") == 0.0);
}

TEST_CASE("SQuAD v1.1 evaluate: max over ground truths, percentages", "[metrics][squad]") {
  // q1: exact match with the first answer -> EM 1, F1 1.
  // q2: "in 1990" vs "1990": EM 0, F1 P=1/2 R=1 -> 2/3; vs "the year 1990" (year 1990): P=1/2 R=1/2 -> 1/2; max 2/3
  const auto s = squad_v1_evaluate({"Denver Broncos", "in 1990"},
                                   {{"Denver Broncos", "The Denver Broncos"}, {"1990", "the year 1990"}});
  CHECK(s.total == 2);
  CHECK(s.exact_match == Approx(50.0));
  CHECK(s.f1 == Approx(100.0 * (1 + 2.0 / 3) / 2));
  CHECK_THROWS_WITH(squad_v1_evaluate({"x"}, {{}}), Contains("at least one ground-truth"));
  CHECK_THROWS(squad_v1_evaluate({}, {}));
  CHECK_THROWS(squad_v1_evaluate({"a", "b"}, {{"a"}}));
}

TEST_CASE("SQuAD v2.0 evaluate: unanswerable questions", "[metrics][squad]") {
  // q1 no answer, pred "" -> 1, 1        q2 no answer, pred "something" -> 0, 0
  // q3 "Paris", pred "paris" -> 1, 1     q4 "Paris France", pred "Paris" -> EM 0, F1 P=1 R=1/2 -> 2/3
  // q5 only gold "the" normalises to "" -> treated as no answer, pred "" -> 1, 1 (but counted as HasAns,
  //    like the script's bool(qa['answers']))
  const auto s = squad_v2_evaluate({"", "something", "paris", "Paris", ""},
                                   {{}, {}, {"Paris"}, {"Paris France"}, {"the"}});
  CHECK(s.total == 5);
  CHECK(s.exact_match == Approx(100.0 * 3 / 5));
  CHECK(s.f1 == Approx(100.0 * (1 + 0 + 1 + 2.0 / 3 + 1) / 5));
  CHECK(s.has_ans_total == 3);
  CHECK(s.has_ans_exact == Approx(100.0 * 2 / 3));
  CHECK(s.has_ans_f1 == Approx(100.0 * (1 + 2.0 / 3 + 1) / 3));
  CHECK(s.no_ans_total == 2);
  CHECK(s.no_ans_exact == Approx(50.0));
  CHECK(s.no_ans_f1 == Approx(50.0));
}
