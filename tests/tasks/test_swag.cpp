// SWAG CSV reading and choice encoding (distilbert/tasks/swag.h): the published header (leading unnamed index column),
// quoted fields, malformed rows with file:line under fail / skip, an unlabeled test file, and the pairs
// (sent1, sent2 + " " + ending) checked token by token on a character vocabulary, truncation included.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "distilbert/core/error.h"
#include "distilbert/tasks/swag.h"
#include "support/char_vocab.h"
#include "support/scratch_files.h"

using namespace distilbert::tasks;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string swag_file(const std::string& name, const std::string& text) {
  return distilbert::testing::write_scratch("swag", name, text);
}

const std::string kHeader = ",video-id,fold-ind,startphrase,sent1,sent2,gold-source,ending0,ending1,ending2,ending3,label\n";

}  // namespace

TEST_CASE("SWAG reader: the published CSV layout", "[tasks][swag]") {
  const auto path = swag_file("train.csv", kHeader +
      "0,anetv_jkn6uvmqwh4,3416,\"Members of the procession walk down the street holding small horn brass "
      "instruments. A drum line\",Members of the procession walk down the street holding small horn brass "
      "instruments.,A drum line,gold,passes by walking down the street playing their instruments.,has heard "
      "approaching them.,\"arrives and they're outside dancing, asleep.\",turns the lead singer watches the "
      "performance.,0\n"
      "1,lsmdc3001_21_JUMP_STREET-422,11783,Now it's someone's turn. Someone,He is in the bed.,Someone,gold,"
      "looks at the ceiling.,stands up.,falls asleep.,turns.,3\n");
  const auto r = read_swag_file(path);
  CHECK(r.num_choices == 4);
  CHECK(r.has_labels);
  REQUIRE(r.examples.size() == 2);
  const auto& e = r.examples[0];
  CHECK(e.context == "Members of the procession walk down the street holding small horn brass instruments.");
  CHECK(e.start == "A drum line");
  REQUIRE(e.endings.size() == 4);
  CHECK(e.endings[2] == "arrives and they're outside dancing, asleep.");
  CHECK(e.label == 0);
  CHECK(e.line == 2);
  CHECK(r.examples[1].label == 3);
  CHECK(r.examples[1].endings[3] == "turns.");
  // SWAG's test.csv has no label column.
  const auto t = read_swag_file(swag_file("test.csv", ",video-id,fold-ind,startphrase,sent1,sent2,gold-source,ending0,"
                                                  "ending1,ending2,ending3\n0,v,1,s,a b,c,gold,d,e,f,g\n"));
  CHECK_FALSE(t.has_labels);
  CHECK(t.examples[0].label == -1);
}

TEST_CASE("SWAG reader: malformed rows name file and line, fail or skip", "[tasks][swag]") {
  const auto path = swag_file("bad.csv", kHeader +
                                         "0,v,1,s,a b,c,gold,d,e,f,g,1\n"      // 2: fine
                                         "1,v,1,s,a b,c,gold,d,e,f,2\n"        // 3: 11 columns
                                         "2,v,1,s,a b,c,gold,d,e, ,g,0\n"      // 4: empty ending2
                                         "3,v,1,s,a b,c,gold,d,e,f,g,4\n"      // 5: label out of range
                                         "4,v,1,s,,c,gold,d,e,f,g,0\n");       // 6: empty sent1
  CHECK_THROWS_WITH(read_swag_file(path), Contains(path + ":3: expected 12 columns") && Contains("found 11"));
  ReadOptions skip;
  skip.policy = BadRowPolicy::Skip;
  const auto r = read_swag_file(path, skip);
  REQUIRE(r.examples.size() == 1);
  CHECK(r.skipped == 4);
  REQUIRE(r.messages.size() == 4);
  CHECK_THAT(r.messages[1], Contains(path + ":4: column 10 ('ending2')") && Contains("empty"));
  CHECK_THAT(r.messages[2], Contains(path + ":5: column 12 ('label'): expected a choice 0 .. 3, found '4'"));
  CHECK_THAT(r.messages[3], Contains(path + ":6: column 5 ('sent1')"));
  CHECK_THROWS_WITH(read_swag_file(swag_file("nohead.csv", "a,b\n1,2\n")), Contains("'sent1'"));
}

TEST_CASE("SWAG encoding: (sent1, sent2 + ' ' + ending) per choice, longest_first truncation", "[tasks][swag]") {
  const auto vocab = distilbert::testing::scratch_dir("swag") / "vocab.txt";
  distilbert::testing::write_char_vocab(vocab);
  const auto tok = distilbert::tokenizer::load_tokenizer(vocab);
  ChoiceExample e;
  e.context = "a b";
  e.start = "c";
  e.endings = {"d e", "f", "g h", "i"};
  e.label = 2;
  auto id = [](char c) { return int64_t{5 + (c - 'a')}; };
  auto f = encode_choice_examples(*tok, {e}, 32, true);
  REQUIRE(f.size() == 1);
  REQUIRE(f[0].ids.size() == 4);
  CHECK(f[0].label == 2);
  // [CLS] a b [SEP] c d e [SEP]
  CHECK(f[0].ids[0] == std::vector<int64_t>{2, id('a'), id('b'), 3, id('c'), id('d'), id('e'), 3});
  CHECK(f[0].type_ids[0] == std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1, 1});
  CHECK(f[0].ids[1] == std::vector<int64_t>{2, id('a'), id('b'), 3, id('c'), id('f'), 3});
  // max_seq_len 7 leaves 4 tokens for (2, 3): the longer loses one -> [CLS] a b [SEP] c d [SEP].
  f = encode_choice_examples(*tok, {e}, 7, false);
  CHECK(f[0].ids[0] == std::vector<int64_t>{2, id('a'), id('b'), 3, id('c'), id('d'), 3});
  CHECK(f[0].ids[1].size() == 7);  // "c f" fits: [CLS] a b [SEP] c f [SEP]
  CHECK(f[0].type_ids[0].empty());
}
