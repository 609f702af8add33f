// Tests for the GLUE readers (distilbert/tasks/glue.h): the real shared SST-2, MRPC, STS-B, RTE and
// WNLI-resplit files (row counts from the data README, first/last rows as read with head/tail), small
// hand-written files in the CoLA, QQP, QNLI, MNLI, WNLI and AX layouts (tests/data/tasks), and malformed rows
// under the Fail and Skip policies.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "distilbert/core/error.h"
#include "distilbert/tasks/glue.h"
#include "test_paths.h"
#include "support/scratch_files.h"

using namespace distilbert::tasks;
using Catch::Matchers::Contains;

namespace {

std::string glue_file(const std::string& name, const std::string& contents) {
  return distilbert::testing::write_scratch("glue", name, contents);
}

const std::string kData = std::string(DISTILBERT_SOURCE_DIR) + "/tests/data/tasks";
const std::string kGlue = std::string(DISTILBERT_SHARED_DATA) + "/glue";

bool have_shared_glue() {
  if (std::filesystem::exists(kGlue + "/SST-2/dev.tsv")) return true;
  WARN("SKIPPED: the real-file checks: shared GLUE data not found at " << kGlue);
  return false;
}

}  // namespace

TEST_CASE("GLUE task names, labels and split files", "[glue]") {
  CHECK(parse_glue_task("SST-2") == GlueTask::SST2);
  CHECK(parse_glue_task("sst2") == GlueTask::SST2);
  CHECK(parse_glue_task("sts-b") == GlueTask::STSB);
  CHECK(parse_glue_task("MNLI") == GlueTask::MNLI);
  CHECK(parse_glue_task("diagnostic") == GlueTask::AX);
  CHECK_THROWS_WITH(parse_glue_task("squad"), Contains("cola, sst2"));
  CHECK(all_glue_tasks().size() == 10);
  CHECK(glue_label_names(GlueTask::CoLA) == std::vector<std::string>{"unacceptable", "acceptable"});
  CHECK(glue_label_names(GlueTask::MNLI) == std::vector<std::string>{"entailment", "neutral", "contradiction"});
  CHECK(glue_label_names(GlueTask::WNLI) == std::vector<std::string>{"not_entailment", "entailment"});
  CHECK(glue_label_names(GlueTask::RTE) == std::vector<std::string>{"entailment", "not_entailment"});
  CHECK(glue_num_labels(GlueTask::STSB) == 1);
  CHECK(glue_num_labels(GlueTask::MNLI) == 3);
  CHECK(glue_is_pair(GlueTask::QQP));
  CHECK_FALSE(glue_is_pair(GlueTask::CoLA));
  CHECK(glue_dir_name(GlueTask::STSB) == "STS-B");
  CHECK(glue_split_file(GlueTask::SST2, "validation") == "dev.tsv");
  CHECK(glue_split_file(GlueTask::MNLI, "validation_mismatched") == "dev_mismatched.tsv");
  CHECK(glue_split_file(GlueTask::MNLI, "test_matched") == "test_matched.tsv");
  CHECK(glue_split_file(GlueTask::AX, "test") == "diagnostic.tsv");
  CHECK_THROWS_WITH(glue_split_file(GlueTask::MNLI, "validation"), Contains("validation_matched"));
  CHECK_THROWS_WITH(read_glue_split(GlueTask::QQP, kData + "/nowhere", "train"), Contains("nowhere/QQP/train.tsv"));
}

TEST_CASE("real SST-2 files", "[glue][shared]") {
  if (!have_shared_glue()) return;
  const auto train = read_glue_split(GlueTask::SST2, kGlue, "train");
  REQUIRE(train.examples.size() == 67349);
  CHECK(train.has_labels);
  CHECK(train.skipped == 0);
  CHECK(train.examples.front().text_a == "hide new secretions from the parental units ");
  CHECK(train.examples.front().label == 0);
  CHECK(train.examples.front().line == 2);
  CHECK_FALSE(train.examples.front().text_b.has_value());
  CHECK(train.examples.back().text_a ==
        "this new jangle of noise , mayhem and stupidity must be a serious contender for the title . ");
  CHECK(train.examples.back().line == 67350);
  const auto dev = read_glue_split(GlueTask::SST2, kGlue + "/SST-2", "validation");
  REQUIRE(dev.examples.size() == 872);
  CHECK(dev.examples[0].text_a == "it 's a charming and often affecting journey . ");
  CHECK(dev.examples[0].label == 1);
  const auto test = read_glue_split(GlueTask::SST2, kGlue, "test");
  REQUIRE(test.examples.size() == 1821);
  CHECK_FALSE(test.has_labels);
  CHECK(test.examples[0].label == -1);
  CHECK(test.examples[0].guid == "0");
  CHECK(test.examples[0].text_a == "uneasy mishmash of styles and genres .");
  CHECK(test.examples.back().guid == "1820");
}

TEST_CASE("real MRPC files (byte-order mark, Quality header, literal quotes)", "[glue][shared]") {
  if (!have_shared_glue()) return;
  const auto train = read_glue_split(GlueTask::MRPC, kGlue, "train");
  REQUIRE(train.examples.size() == 3668);
  CHECK(train.examples[0].label == 1);
  CHECK(train.examples[0].text_a ==
        "Amrozi accused his brother, whom he called \"the witness\", of deliberately distorting his evidence.");
  CHECK(*train.examples[0].text_b ==
        "Referring to him as only \"the witness\", Amrozi accused his brother of deliberately distorting his "
        "evidence.");
  CHECK(train.examples.back().label == 0);
  const auto dev = read_glue_split(GlueTask::MRPC, kGlue, "validation");
  REQUIRE(dev.examples.size() == 408);
  // an unbalanced leading quote is text (QUOTE_NONE), not the start of a quoted field
  CHECK(*dev.examples[0].text_b == "\"The foodservice pie business does not fit our long-term growth strategy.");
  const auto test = read_glue_split(GlueTask::MRPC, kGlue, "test");
  REQUIRE(test.examples.size() == 1725);
  CHECK(test.examples[0].guid == "0");
  CHECK(test.examples[0].label == -1);
}

TEST_CASE("real STS-B files (10 columns, score last)", "[glue][shared]") {
  if (!have_shared_glue()) return;
  const auto train = read_glue_split(GlueTask::STSB, kGlue, "train");
  REQUIRE(train.examples.size() == 5749);
  CHECK(train.is_regression);
  CHECK(train.label_names.empty());
  CHECK(train.examples[0].text_a == "A plane is taking off.");
  CHECK(*train.examples[0].text_b == "An air plane is taking off.");
  CHECK(train.examples[0].score == 5.0f);
  CHECK(train.examples[1].score == Approx(3.8));
  CHECK(train.examples[0].label == -1);
  const auto dev = read_glue_split(GlueTask::STSB, kGlue, "validation");
  REQUIRE(dev.examples.size() == 1500);
  CHECK(dev.examples.back().score == 0.0f);
  CHECK(dev.examples.back().text_a == "New video shows US police officers beating mentally-ill man");
  const auto test = read_glue_split(GlueTask::STSB, kGlue, "test");
  REQUIRE(test.examples.size() == 1379);
  CHECK_FALSE(test.has_labels);
  CHECK(std::isnan(test.examples[0].score));
}

TEST_CASE("real RTE and WNLI-resplit files", "[glue][shared]") {
  if (!have_shared_glue()) return;
  const auto train = read_glue_split(GlueTask::RTE, kGlue, "train");
  REQUIRE(train.examples.size() == 2490);
  CHECK(train.examples[0].label == 1);  // not_entailment
  CHECK(train.examples[0].text_a == "No Weapons of Mass Destruction Found in Iraq Yet.");
  CHECK(train.examples.back().guid == "2489");
  const auto dev = read_glue_split(GlueTask::RTE, kGlue, "validation");
  REQUIRE(dev.examples.size() == 277);
  CHECK(dev.examples[1].label == 0);  // entailment
  CHECK(read_glue_split(GlueTask::RTE, kGlue, "test").examples.size() == 3000);

  const std::string wnli = kGlue + "/WNLI-resplit";
  const auto wdev = read_glue_split(GlueTask::WNLI, wnli, "validation");
  REQUIRE(wdev.examples.size() == 70);
  CHECK(wdev.examples[0].guid == "40");
  CHECK(wdev.examples[0].label == 1);  // 1 = entailment in HF's [not_entailment, entailment]
  CHECK(wdev.examples[0].text_a == "Jackson was greatly influenced by Arnold, though he lived two centuries earlier.");
  CHECK(read_glue_split(GlueTask::WNLI, wnli, "train").examples.size() == 565);
  const auto wtest = read_glue_split(GlueTask::WNLI, wnli, "test");  // the re-split test keeps its labels
  CHECK(wtest.examples.size() == 71);
  CHECK(wtest.has_labels);
}

TEST_CASE("CoLA layouts: header-less train/dev, test with index header", "[glue]") {
  const auto train = read_glue_split(GlueTask::CoLA, kData, "train");
  REQUIRE(train.examples.size() == 4);
  CHECK(train.has_labels);
  CHECK(train.examples[0].text_a == "Our friends won't buy this analysis, let alone the next one we propose.");
  CHECK(train.examples[0].line == 1);
  CHECK(train.examples[0].guid == "0");
  std::vector<int> labels;
  for (const auto& e : train.examples) labels.push_back(e.label);
  CHECK(labels == std::vector<int>{1, 1, 0, 0});
  const auto dev = read_glue_split(GlueTask::CoLA, kData, "dev");
  REQUIRE(dev.examples.size() == 3);
  CHECK(dev.examples[1].text_a == "The weights made the rope stretch over the pulley.  \"");
  const auto test = read_glue_split(GlueTask::CoLA, kData, "test");
  REQUIRE(test.examples.size() == 2);
  CHECK_FALSE(test.has_labels);
  CHECK(test.examples[1].guid == "1");
  CHECK(test.examples[1].text_a == "The car honked its way down the road.");
  CHECK(test.examples[1].line == 3);
}

TEST_CASE("QQP and QNLI layouts", "[glue]") {
  const auto train = read_glue_split(GlueTask::QQP, kData, "train");
  REQUIRE(train.examples.size() == 3);
  CHECK(train.examples[0].guid == "133273");
  CHECK(train.examples[1].text_a == "How do I control my horny emotions?");
  CHECK(*train.examples[1].text_b == "How do you control your horniness?");
  CHECK(train.examples[1].label == 1);
  CHECK(read_glue_split(GlueTask::QQP, kData, "validation").examples.size() == 2);
  const auto test = read_glue_split(GlueTask::QQP, kData, "test");
  REQUIRE(test.examples.size() == 3);
  CHECK_FALSE(test.has_labels);
  CHECK(test.examples[2].text_a == "What is the meaning of \"namaste\"?");
  CHECK(*test.examples[2].text_b == "\"Namaste\": what does it mean?");

  const auto qnli = read_glue_split(GlueTask::QNLI, kData, "train");
  REQUIRE(qnli.examples.size() == 3);
  CHECK(qnli.examples[0].label == 1);  // not_entailment
  CHECK(qnli.examples[2].label == 0);  // entailment
  CHECK(qnli.examples[0].text_a == "When did the third Digimon series begin?");
  const auto qtest = read_glue_split(GlueTask::QNLI, kData, "test");
  REQUIRE(qtest.examples.size() == 1);
  CHECK(qtest.examples[0].label == -1);
}

TEST_CASE("MNLI layouts: train (label1), dev (label1..5), test (no labels)", "[glue]") {
  const auto train = read_glue_split(GlueTask::MNLI, kData, "train");
  REQUIRE(train.examples.size() == 3);
  CHECK(train.examples[0].label == 1);  // neutral
  CHECK(train.examples[0].text_a == "Conceptually cream skimming has two basic dimensions - product and geography.");
  CHECK(*train.examples[0].text_b == "Product and geography are what make cream skimming work. ");
  CHECK(train.examples[1].label == 0);  // entailment
  const auto matched = read_glue_split(GlueTask::MNLI, kData, "validation_matched");
  REQUIRE(matched.examples.size() == 2);
  CHECK(matched.examples[0].label == 1);  // gold_label neutral although label2 is entailment
  CHECK(matched.examples[1].label == 2);  // contradiction
  const auto mismatched = read_glue_split(GlueTask::MNLI, kData, "validation_mismatched");
  REQUIRE(mismatched.examples.size() == 1);
  CHECK(*mismatched.examples[0].text_b == "Your contributions were of no help with our students' education.");
  const auto test = read_glue_split(GlueTask::MNLI, kData, "test_matched");
  REQUIRE(test.examples.size() == 2);
  CHECK_FALSE(test.has_labels);
  CHECK(test.examples[1].text_a.rfind("The extent of the behavioral effects", 0) == 0);
  CHECK(read_glue_split(GlueTask::MNLI, kData, "test_mismatched").examples.size() == 1);
}

TEST_CASE("WNLI and AX layouts", "[glue]") {
  const auto train = read_glue_split(GlueTask::WNLI, kData, "train");
  REQUIRE(train.examples.size() == 4);
  CHECK(train.examples[3].label == 0);
  CHECK(train.examples[3].text_a == "Steve follows Fred's example in everything. He influences him hugely.");
  const auto test = read_glue_split(GlueTask::WNLI, kData, "test");
  REQUIRE(test.examples.size() == 2);
  CHECK_FALSE(test.has_labels);
  const auto ax = read_glue_split(GlueTask::AX, kData, "test");
  REQUIRE(ax.examples.size() == 3);
  CHECK_FALSE(ax.has_labels);
  CHECK(ax.label_names.size() == 3);
  CHECK(*ax.examples[1].text_b == "The cat sat on the mat.");
  // HF datasets downloads the diagnostic set as AX.tsv
  const auto ax_file = glue_file("AX.tsv", "index\tsentence1\tsentence2\n0\tA b.\tC d.\n");
  const auto ax2 = read_glue_split(GlueTask::AX, std::filesystem::path(ax_file).parent_path().string(), "test");
  REQUIRE(ax2.examples.size() == 1);
  CHECK(ax2.examples[0].text_a == "A b.");
}

TEST_CASE("malformed rows: Fail names file:line and column, Skip counts", "[glue]") {
  const std::string bad = kData + "/bad/RTE_dev.tsv";
  SECTION("fail policy throws at the first bad row") {
    CHECK_THROWS_AS(read_glue_file(GlueTask::RTE, bad), distilbert::Error);
    CHECK_THROWS_WITH(read_glue_file(GlueTask::RTE, bad),
                      Contains("RTE_dev.tsv:3: expected 4 tab-separated columns") && Contains("found 3"));
  }
  SECTION("skip policy keeps the good rows and reports the rest") {
    ReadOptions options;
    options.policy = BadRowPolicy::Skip;
    const auto r = read_glue_file(GlueTask::RTE, bad, options);
    REQUIRE(r.examples.size() == 2);
    CHECK(r.examples[0].line == 2);
    CHECK(r.examples[1].line == 7);
    CHECK(r.examples[1].guid == "5");
    CHECK(r.skipped == 4);
    REQUIRE(r.messages.size() == 4);
    CHECK_THAT(r.messages[0], Contains(":3:"));
    CHECK_THAT(r.messages[1], Contains(":4: column 4 ('label')") && Contains("found 'contradiction'") &&
                                  Contains("entailment, not_entailment"));
    CHECK_THAT(r.messages[2], Contains(":5: column 3 ('sentence2'): expected a text, found empty"));
    CHECK_THAT(r.messages[3], Contains(":6: expected 4") && Contains("found 5"));
    options.max_messages = 1;
    const auto capped = read_glue_file(GlueTask::RTE, bad, options);
    CHECK(capped.skipped == 4);
    CHECK(capped.messages.size() == 1);
  }
  SECTION("a file of another task fails on its header") {
    CHECK_THROWS_WITH(read_glue_file(GlueTask::QQP, bad),
                      Contains("RTE_dev.tsv:1:") && Contains("'question1' and 'question2'") &&
                          Contains("found [index, sentence1, sentence2, label]"));
  }
  SECTION("bad STS-B score and CoLA column count") {
    const auto sts = glue_file("sts.tsv",
                               "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
                               "0\tg\tf\t2012\t0\tnone\tnone\tA.\tB.\tfive\n");
    CHECK_THROWS_WITH(read_glue_file(GlueTask::STSB, sts), Contains("sts.tsv:2: column 10 ('score')") &&
                                                              Contains("found 'five'"));
    const auto cola = glue_file("cola.tsv", "gj04\t1\t\tGood sentence.\ngj04\t1\tToo few columns.\n");
    CHECK_THROWS_WITH(read_glue_file(GlueTask::CoLA, cola), Contains("cola.tsv:2: expected 4"));
  }
  SECTION("byte-order mark, CRLF line ends and a missing final newline") {
    const auto mrpc = glue_file("mrpc.tsv",
                                "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n"
                                "1\t11\t12\tA b.\tC d.\r\n\r\n0\t13\t14\tE f.\tG h.");
    const auto r = read_glue_file(GlueTask::MRPC, mrpc);
    REQUIRE(r.examples.size() == 2);
    CHECK(*r.examples[0].text_b == "C d.");
    CHECK(r.examples[1].label == 0);
    CHECK(r.examples[1].line == 4);
  }
  SECTION("empty and missing files") {
    CHECK_THROWS_WITH(read_glue_file(GlueTask::RTE, glue_file("empty.tsv", "")), Contains("is empty"));
    CHECK_THROWS_WITH(read_glue_file(GlueTask::RTE, kData + "/missing.tsv"), Contains("missing.tsv"));
  }
}
