// SQuAD reading, windowing and answer decoding (distilbert/tasks/squad.h) against hand-derived expectations:
// answer_start converted from code points to bytes, malformed questions reported with file:line, the windows of a
// 16-token context (ids, token types, offsets, start/end labels worked out by hand from run_qa.py's rules), question
// truncation, and utils_qa.py's decoding (question tokens excluded, max_answer_length, n_best_size, the v2 null
// score, the "empty" placeholder) scored with the official EM/F1 computed by hand.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "distilbert/core/error.h"
#include "distilbert/tasks/metrics.h"
#include "distilbert/tasks/squad.h"
#include "support/char_vocab.h"
#include "support/scratch_files.h"

using namespace distilbert::tasks;
using distilbert::tokenizer::Offset;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string squad_file(const std::string& name, const std::string& text) {
  return distilbert::testing::write_scratch("squad", name, text);
}

/// The character vocabulary: [CLS] 2, [SEP] 3, 'a' .. 'z' = 5 .. 30, '##a' .. = 41 ...
std::shared_ptr<distilbert::tokenizer::Tokenizer> char_tokenizer() {
  const auto path = distilbert::testing::scratch_dir("squad") / "vocab.txt";
  distilbert::testing::write_char_vocab(path);
  return distilbert::tokenizer::load_tokenizer(path);
}

int64_t letter(char c) { return 5 + (c - 'a'); }

QaExample example(const std::string& question, const std::string& context, const std::string& answer,
                  size_t start) {
  QaExample e;
  e.id = question;
  e.question = question;
  e.context = context;
  if (!answer.empty()) e.answers.push_back({answer, start});
  return e;
}

}  // namespace

TEST_CASE("SQuAD reader: answers in bytes, v2 unanswerable questions", "[tasks][squad]") {
  // "café" has a 2-byte é: answer_start 11 (code points) is byte 12.
  const auto v1 = squad_file("v1.json", R"({"version": "1.1", "data": [{"title": "Cafe", "paragraphs": [
    {"context": "café is in paris", "qas": [
      {"id": "q1", "question": "where is the café?", "answers": [{"text": "paris", "answer_start": 11},
                                                                {"text": "in paris", "answer_start": 8}]}]}]}]})");
  const auto r = read_squad_file(v1);
  REQUIRE(r.examples.size() == 1);
  CHECK_FALSE(r.version_2);
  const auto& e = r.examples[0];
  CHECK(e.id == "q1");
  CHECK(e.title == "Cafe");
  REQUIRE(e.answers.size() == 2);
  CHECK(e.answers[0].start == 12);
  CHECK(e.context.substr(12, 5) == "paris");
  CHECK(e.answers[1].start == 9);
  CHECK(e.line == 3);

  const auto v2 = squad_file("v2.json", R"({"version": "v2.0", "data": [{"title": "T", "paragraphs": [
    {"context": "the cat sat", "qas": [
      {"id": "a", "question": "who?", "answers": [{"text": "the cat", "answer_start": 0}], "is_impossible": false},
      {"id": "b", "question": "why?", "answers": [], "plausible_answers": [{"text": "sat", "answer_start": 8}],
       "is_impossible": true}]}]}]})");
  const auto r2 = read_squad_file(v2);
  CHECK(r2.version_2);
  REQUIRE(r2.examples.size() == 2);
  CHECK(r2.examples[0].answers.size() == 1);
  CHECK(r2.examples[1].answers.empty());
}

TEST_CASE("SQuAD reader: malformed questions name file and line, fail or skip", "[tasks][squad]") {
  const auto path = squad_file("bad.json",
                          "{\"version\": \"1.1\", \"data\": [\n"                                                  // 1
                          " {\"title\": \"T\", \"paragraphs\": [\n"                                                // 2
                          "  {\"context\": \"the cat sat on the mat\", \"qas\": [\n"                               // 3
                          "   {\"id\": \"q1\", \"question\": \"who?\", \"answers\": [{\"text\": \"the cat\", \"answer_start\": 0}]},\n"
                          "   {\"id\": \"q2\", \"question\": \"  \", \"answers\": [{\"text\": \"mat\", \"answer_start\": 19}]},\n"
                          "   {\"id\": \"q3\", \"question\": \"where?\", \"answers\": [{\"text\": \"mat\", \"answer_start\": 18}]},\n"
                          "   {\"id\": \"q4\", \"question\": \"what?\", \"answers\": []},\n"                        // 7
                          "   {\"question\": \"no id\", \"answers\": [{\"text\": \"cat\", \"answer_start\": 4}]}\n"  // 8
                          "  ]},\n"                                                                              // 9
                          "  {\"context\": \"\", \"qas\": [{\"id\": \"q5\", \"question\": \"x?\", \"answers\": []}]}\n"
                          " ]}]}\n");
  CHECK_THROWS_WITH(read_squad_file(path), Contains(path + ":5: question 'q2'") && Contains("question"));
  ReadOptions skip;
  skip.policy = BadRowPolicy::Skip;
  const auto r = read_squad_file(path, skip);
  REQUIRE(r.examples.size() == 1);
  CHECK(r.examples[0].id == "q1");
  CHECK(r.skipped == 5);
  REQUIRE(r.messages.size() == 5);
  CHECK_THAT(r.messages[0], Contains(path + ":5:") && Contains("non-empty \"question\""));
  CHECK_THAT(r.messages[1], Contains(path + ":6:") && Contains("'mat' is not at answer_start 18") &&
                                Contains("found ' ma'"));
  CHECK_THAT(r.messages[2], Contains(path + ":7:") && Contains("at least one answer"));
  CHECK_THAT(r.messages[3], Contains(path + ":8:") && Contains("\"id\""));
  CHECK_THAT(r.messages[4], Contains(path + ":10:") && Contains("context"));
  CHECK_THROWS_WITH(read_squad_file(squad_file("notsquad.json", "{\"data\": 3}")), Contains("\"data\" array"));
  CHECK_THROWS_WITH(read_squad_file(squad_file("broken.json", "{\"data\": [")), Contains("invalid JSON"));
}

TEST_CASE("SQuAD windows: only_second truncation with doc_stride, offsets and labels by hand", "[tasks][squad]") {
  const auto tok = char_tokenizer();
  // 16 one-letter words a .. p at bytes 0, 2, ..., 30. Question "q r" (2 tokens), max_seq_len 12: 7 context tokens per
  // window, stride 3 -> step 4: windows a-g, e-k, i-o, m-p.
  const std::string ctx = "a b c d e f g h i j k l m n o p";
  QaFeatureOptions o;
  o.max_seq_len = 12;
  o.doc_stride = 3;
  o.max_query_len = 4;
  o.token_type_ids = true;
  // "j k" starts at byte 18; "g" (byte 12) is the last context token of the first window.
  const std::vector<QaExample> ex = {example("q r", ctx, "j k", 18), example("q r", ctx, "g", 12)};
  const auto f = prepare_qa_features(*tok, ex, o);
  REQUIRE(f.size() == 8);
  for (size_t i = 0; i < 8; ++i) CHECK(f[i].example == i / 4);
  // Window 2 (e .. k): [CLS] q r [SEP] e f g h i j k [SEP].
  const auto& w = f[1];
  CHECK(w.ids == std::vector<int64_t>{2, letter('q'), letter('r'), 3, letter('e'), letter('f'), letter('g'),
                                      letter('h'), letter('i'), letter('j'), letter('k'), 3});
  CHECK(w.type_ids == std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1});
  CHECK(w.is_context == std::vector<uint8_t>{0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0});
  CHECK(w.offsets[4] == Offset{8, 9});
  CHECK(w.offsets[10] == Offset{20, 21});
  CHECK(f[0].offsets[10] == Offset{12, 13});  // window 1 ends with g
  CHECK(f[3].ids.size() == 9);                  // m n o p: [CLS] q r [SEP] m n o p [SEP]
  CHECK(f[3].offsets[4] == Offset{24, 25});
  // "j k": not (fully) in window 1 -> [CLS]; j, k at positions 9, 10 in window 2 and 5, 6 in window 3; not in 4.
  const std::vector<std::pair<int64_t, int64_t>> jk = {{0, 0}, {9, 10}, {5, 6}, {0, 0}};
  // "g": the last context token of window 1 (position 10), position 6 in window 2, absent from windows 3 and 4.
  const std::vector<std::pair<int64_t, int64_t>> g = {{10, 10}, {6, 6}, {0, 0}, {0, 0}};
  for (size_t i = 0; i < 4; ++i) {
    INFO("window " << i);
    CHECK(std::make_pair(f[i].start_position, f[i].end_position) == jk[i]);
    CHECK(std::make_pair(f[4 + i].start_position, f[4 + i].end_position) == g[i]);
  }
  // Without segment ids (DistilBERT) type_ids stay empty.
  o.token_type_ids = false;
  CHECK(prepare_qa_features(*tok, ex, o)[0].type_ids.empty());
}

TEST_CASE("SQuAD windows: long questions are cut to max_query_len, multi-byte contexts", "[tasks][squad]") {
  const auto tok = char_tokenizer();
  QaFeatureOptions o;
  o.max_seq_len = 12;
  o.doc_stride = 3;
  o.max_query_len = 4;
  // "s t u v w x" keeps s t u v: 5 context tokens per window, step 2 over 16 tokens -> 7 windows.
  const auto f = prepare_qa_features(*tok, {example("s t u v w x", "a b c d e f g h i j k l m n o p", "", 0)}, o);
  REQUIRE(f.size() == 7);
  CHECK(f[0].ids == std::vector<int64_t>{2, letter('s'), letter('t'), letter('u'), letter('v'), 3, letter('a'),
                                         letter('b'), letter('c'), letter('d'), letter('e'), 3});
  CHECK(f[6].offsets[6] == Offset{24, 25});  // the last window starts at m
  for (const auto& w : f) CHECK(std::make_pair(w.start_position, w.end_position) == std::make_pair<int64_t, int64_t>(0, 0));
  // é is two bytes and is stripped by the uncased normaliser: c ##a ##f ##e i ##s i ##n p ##a ##r ##i ##s.
  const auto g = prepare_qa_features(*tok, {example("q", "café is in paris", "paris", 12)}, QaFeatureOptions{});
  REQUIRE(g.size() == 1);
  CHECK(g[0].start_position == 11);
  CHECK(g[0].end_position == 15);
  CHECK(g[0].offsets[6] == Offset{3, 5});  // ##e covers "é"
  CHECK(g[0].offsets[15] == Offset{16, 17});
  o.max_query_len = 6;  // 12 > 6 + 3 + 3 fails
  CHECK_THROWS_WITH(prepare_qa_features(*tok, {}, o), Contains("max_seq_len (12) must exceed"));
}

namespace {

// "the cat sat on the mat": the (0,3) cat (4,7) sat (8,11) on (12,14) the (15,18) mat (19,22).
const std::string kMat = "the cat sat on the mat";

/// [CLS] q [SEP] <context words> [SEP] with the given word offsets.
QaFeature window(size_t example_index, const std::vector<Offset>& words) {
  QaFeature f;
  f.example = example_index;
  f.ids.assign(words.size() + 4, 7);
  f.offsets.assign(f.ids.size(), Offset{});
  f.is_context.assign(f.ids.size(), 0);
  for (size_t i = 0; i < words.size(); ++i) {
    f.offsets[3 + i] = words[i];
    f.is_context[3 + i] = 1;
  }
  return f;
}

}  // namespace

TEST_CASE("SQuAD decoding: best span over windows as utils_qa.py, scored with the official EM/F1",
          "[tasks][squad]") {
  const std::vector<QaExample> ex = {example("q1", kMat, "on the mat", 12), example("q2", kMat, "the mat", 15)};
  // Example 1 has two windows: "the cat sat" and "sat on the mat". Positions: 0 [CLS], 1 q, 2 [SEP], 3.. context.
  const std::vector<QaFeature> f = {window(0, {{0, 3}, {4, 7}, {8, 11}}),
                                    window(0, {{8, 11}, {12, 14}, {15, 18}, {19, 22}}),
                                    window(1, {{12, 14}, {15, 18}, {19, 22}})};
  std::vector<std::vector<float>> start = {
      {5, 9, 0, 1, 2, 0, 0},     // the question token (9) is never a start; best here: cat..cat = 2 + 3
      {0, 0, 0, 5, 0, 2, 4, 0},  // sat 5, the 2, mat 4
      {0, 0, 0, 0, 1, 3, 0}};    // the 1, mat 3
  std::vector<std::vector<float>> end = {
      {5, 9, 0, 0, 3, 1, 0},
      {0, 0, 0, -1, 0, 0, 4, 0},  // mat 4
      {0, 0, 0, 0, 2, 1, 0}};     // the 2, mat 1
  QaPostprocessOptions o;
  o.max_answer_length = 4;
  // Example 1: sat..mat = 5 + 4 = 9 (4 tokens) beats mat..mat = 8 and window 1's cat..cat = 5; example 2:
  // mat..mat = 3 + 1 = 4 beats the..the = 1 + 2 = 3 (mat..the = 5 is never a span: it ends before it starts).
  auto p = postprocess_qa_predictions(ex, f, start, end, o);
  CHECK(p == std::vector<std::string>{"sat on the mat", "mat"});
  // Official scores: "sat on the mat" vs "on the mat": EM 0, F1 = 2 * (2/3 * 1) / (2/3 + 1) = 0.8 (articles
  // dropped); "mat" vs "the mat": EM 1, F1 1. EM 50, F1 90.
  auto sc = squad_v1_evaluate(p, {{"on the mat"}, {"the mat"}});
  CHECK(sc.exact_match == Approx(50.0));
  CHECK(sc.f1 == Approx(90.0));
  // max_answer_length 3 drops the 4-token span: mat..mat (8) wins.
  o.max_answer_length = 3;
  CHECK(postprocess_qa_predictions(ex, f, start, end, o)[0] == "mat");
  // n_best_size 1: window 1's only start candidate is the question token -> nothing from it; window 2 gives sat..mat
  // only if 4 tokens are allowed.
  o.max_answer_length = 4;
  o.n_best_size = 1;
  CHECK(postprocess_qa_predictions(ex, f, start, end, o)[0] == "sat on the mat");
  // A question whose windows offer no valid span is answered with the placeholder "empty" (v1).
  std::vector<std::vector<float>> s1 = {{0, 9, 0, 1, 0, 0, 0}}, e1 = {{0, 9, 0, 0, 0, 0, 0}};
  CHECK(postprocess_qa_predictions({ex[0]}, {f[0]}, s1, e1, o) == std::vector<std::string>{"empty"});
}

TEST_CASE("SQuAD v2 decoding: the minimum null score against the best span", "[tasks][squad]") {
  const std::vector<QaExample> ex = {example("q1", kMat, "", 0)};
  const std::vector<QaFeature> f = {window(0, {{0, 3}, {4, 7}, {8, 11}}),
                                    window(0, {{8, 11}, {12, 14}, {15, 18}, {19, 22}})};
  // Null scores: window 1: 5 + 5 = 10, window 2: 1 + 1 = 2 -> null = 2. Best span: sat..mat = 5 + 4 = 9.
  std::vector<std::vector<float>> start = {{5, 0, 0, 1, 2, 0, 0}, {1, 0, 0, 5, 0, 2, 4, 0}};
  std::vector<std::vector<float>> end = {{5, 0, 0, 0, 3, 1, 0}, {1, 0, 0, -1, 0, 0, 4, 0}};
  QaPostprocessOptions o;
  o.version_2_with_negative = true;
  // score_diff = 2 - 9 = -7: not above the threshold 0 -> the span.
  CHECK(postprocess_qa_predictions(ex, f, start, end, o)[0] == "sat on the mat");
  o.null_score_diff_threshold = -8;  // -7 > -8 -> no answer
  CHECK(postprocess_qa_predictions(ex, f, start, end, o)[0] == "");
  o.null_score_diff_threshold = 0;
  start[1][0] = end[1][0] = 6;  // null = min(10, 12) = 10 > 9
  CHECK(postprocess_qa_predictions(ex, f, start, end, o)[0] == "");
  // Only the null answer survives: "empty" (score 0) against a null score of 10 -> "".
  std::vector<std::vector<float>> s1 = {{5, 9, 0, 1, 0, 0, 0}}, e1 = {{5, 9, 0, 0, 0, 0, 0}};
  o.n_best_size = 1;
  CHECK(postprocess_qa_predictions(ex, {f[0]}, s1, e1, o)[0] == "");
  // The v2 score: the unanswerable question answered "" is right; an answerable one answered "" is wrong.
  const auto sc = squad_v2_evaluate({"", ""}, {{}, {"the mat"}});
  CHECK(sc.exact_match == Approx(50.0));
  CHECK(sc.no_ans_exact == Approx(100.0));
  CHECK(sc.has_ans_exact == Approx(0.0));
}
