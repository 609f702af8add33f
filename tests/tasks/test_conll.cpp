// CoNLL-2003 reading and first-sub-word labelling (distilbert/tasks/conll.h): -DOCSTART- and blank lines, the HF tag
// ids, malformed lines with file:line under fail / skip, discovered tag sets, sub-word alignment and truncation worked
// out by hand on a character vocabulary, and word predictions scored with seqeval on a constructed example.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "distilbert/core/error.h"
#include "distilbert/tasks/conll.h"
#include "distilbert/tasks/metrics.h"
#include "support/char_vocab.h"
#include "support/scratch_files.h"

using namespace distilbert::tasks;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string conll_file(const std::string& name, const std::string& text) {
  return distilbert::testing::write_scratch("conll", name, text);
}

const std::string kConll =
    "-DOCSTART- -X- -X- O\n"  // 1
    "\n"
    "EU NNP B-NP B-ORG\n"  // 3
    "rejects VBZ B-VP O\n"
    "German JJ B-NP B-MISC\n"
    "call NN I-NP O\n"
    ". . O O\n"
    "\n"
    "Peter NNP B-NP B-PER\n"  // 9
    "Blackburn NNP I-NP I-PER\n"
    "\n"
    "-DOCSTART- -X- -X- O\n"
    "\n"
    "BRUSSELS NNP B-NP B-LOC\r\n";  // 14, no blank line at the end

ConllReadOptions conll2003() {
  ConllReadOptions o;
  o.label_names = conll2003_ner_labels();
  o.columns = 4;
  return o;
}

}  // namespace

TEST_CASE("CoNLL-2003 reader: sentences, HF tag ids, document markers", "[tasks][conll]") {
  const auto r = read_conll_file(conll_file("train.txt", kConll), conll2003());
  REQUIRE(r.sentences.size() == 3);
  CHECK(r.sentences[0].words == std::vector<std::string>{"EU", "rejects", "German", "call", "."});
  // O 0, B-PER 1, I-PER 2, B-ORG 3, I-ORG 4, B-LOC 5, I-LOC 6, B-MISC 7, I-MISC 8.
  CHECK(r.sentences[0].tags == std::vector<int>{3, 0, 7, 0, 0});
  CHECK(r.sentences[1].tags == std::vector<int>{1, 2});
  CHECK(r.sentences[2].words == std::vector<std::string>{"BRUSSELS"});
  CHECK(r.sentences[2].tags == std::vector<int>{5});
  CHECK(r.sentences[0].line == 3);
  CHECK(r.sentences[1].line == 9);
  CHECK(r.sentences[2].line == 14);
  CHECK(r.skipped == 0);
}

TEST_CASE("CoNLL reader: malformed lines name file and line, a bad sentence is skipped whole", "[tasks][conll]") {
  std::string text = kConll;
  text.replace(text.find("EU NNP B-NP B-ORG"), 17, "EU NNP B-ORG");              // line 3: 3 columns
  text.replace(text.find("Peter NNP B-NP B-PER"), 20, "Peter NNP B-NP B-PERSON");  // line 9: unknown tag
  const auto path = conll_file("bad.txt", text);
  CHECK_THROWS_WITH(read_conll_file(path, conll2003()),
                    Contains(path + ":3: expected 4 columns") && Contains("found 3"));
  auto skip = conll2003();
  skip.read.policy = BadRowPolicy::Skip;
  const auto r = read_conll_file(path, skip);
  REQUIRE(r.sentences.size() == 1);
  CHECK(r.sentences[0].words == std::vector<std::string>{"BRUSSELS"});
  CHECK(r.skipped == 2);
  REQUIRE(r.messages.size() == 2);
  CHECK_THAT(r.messages[1], Contains(path + ":9:") && Contains("'B-PERSON'"));
  // Without a tag list the tags are discovered and sorted bytewise (run_ner's get_label_list).
  const auto d = read_conll_file(conll_file("own.txt", "a B-X\nb I-X\nc O\n\nd B-A\n"));
  CHECK(d.label_names == std::vector<std::string>{"B-A", "B-X", "I-X", "O"});
  CHECK(d.sentences[0].tags == std::vector<int>{1, 2, 3});
  CHECK(d.sentences[1].tags == std::vector<int>{0});
}

TEST_CASE("token labels: the tag on each word's first sub-word, -100 elsewhere, truncation", "[tasks][conll]") {
  const auto vocab = distilbert::testing::scratch_dir("conll") / "vocab.txt";
  distilbert::testing::write_char_vocab(vocab);
  const auto tok = distilbert::tokenizer::load_tokenizer(vocab);
  TokenExample s;
  s.words = {"John", "plays", "chess"};
  s.tags = {1, 0, 0};
  // [CLS] j ##o ##h ##n p ##l ##a ##y ##s c ##h ##e ##s ##s [SEP]
  auto f = encode_token_examples(*tok, {s}, 64, false);
  REQUIRE(f.size() == 1);
  REQUIRE(f[0].ids.size() == 16);
  CHECK(f[0].ids[1] == 5 + ('j' - 'a'));
  CHECK(f[0].word_tokens == std::vector<int64_t>{1, 5, 10});
  std::vector<int64_t> labels(16, -100);
  labels[1] = 1;
  labels[5] = 0;
  labels[10] = 0;
  CHECK(f[0].labels == labels);
  CHECK(f[0].type_ids.empty());
  // max_seq_len 8: [CLS] j ##o ##h ##n p ##l [SEP]; "chess" has no token left.
  f = encode_token_examples(*tok, {s}, 8, true);
  CHECK(f[0].word_tokens == std::vector<int64_t>{1, 5, -1});
  CHECK(f[0].labels == std::vector<int64_t>{-100, 1, -100, -100, -100, 0, -100, -100});
  CHECK(f[0].type_ids == std::vector<int64_t>(8, 0));
  // Predictions are read on the first sub-words; the truncated word is "O".
  const std::vector<std::string> names = conll2003_ner_labels();
  CHECK(word_predictions(f[0], {0, 1, 7, 7, 7, 5, 0, 0}, names) == std::vector<std::string>{"B-PER", "B-LOC", "O"});
}

TEST_CASE("NER scoring: word predictions through seqeval, numbers by hand", "[tasks][conll]") {
  // Gold: [Peter Blackburn]PER visits [Paris]LOC . / [EU]ORG rejects
  // Pred: [Peter Blackburn]PER visits [Paris]ORG . / [EU]ORG [rejects]MISC
  // Gold entities 3, predicted 4, correct 2 (PER, EU): precision 2/4, recall 2/3, F1 = 2 * 0.5 * 2/3 / (0.5 + 2/3)
  // = 4/7; token accuracy 5 of 7 tags.
  const std::vector<std::vector<std::string>> gold = {{"B-PER", "I-PER", "O", "B-LOC", "O"}, {"B-ORG", "O"}};
  const std::vector<std::vector<std::string>> pred = {{"B-PER", "I-PER", "O", "B-ORG", "O"}, {"B-ORG", "B-MISC"}};
  const auto r = seqeval(pred, gold);
  CHECK(r.overall.precision == Approx(0.5));
  CHECK(r.overall.recall == Approx(2.0 / 3.0));
  CHECK(r.overall.f1 == Approx(4.0 / 7.0));
  CHECK(r.accuracy == Approx(5.0 / 7.0));
}
