// Tests for the users' data reader (distilbert/tasks/user_data.h) and the record layer under it: RFC 4180
// CSV quoting (embedded commas, "" escapes, multi-line fields), unquoted TSV, JSONL, label discovery in
// sorted order, given label lists, regression labels and malformed rows.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "distilbert/core/error.h"
#include "distilbert/tasks/delimited.h"
#include "distilbert/tasks/user_data.h"
#include "test_paths.h"
#include "support/scratch_files.h"

using namespace distilbert::tasks;
using Catch::Matchers::Contains;

namespace {

std::string user_file(const std::string& name, const std::string& contents) {
  return distilbert::testing::write_scratch("user", name, contents);
}

const std::string kUser = std::string(DISTILBERT_SOURCE_DIR) + "/tests/data/tasks/user";

}  // namespace

TEST_CASE("RFC 4180 records", "[user_data]") {
  const auto r = read_quoted_records("a,b\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",z\n\n,\n", ',', "t.csv");
  REQUIRE(r.size() == 4);
  CHECK(r[1].fields == std::vector<std::string>{"x, y", "say \"hi\""});
  CHECK(r[2].fields == std::vector<std::string>{"multi\nline", "z"});
  CHECK(r[2].line == 3);
  CHECK(r[3].fields == std::vector<std::string>{"", ""});
  CHECK(r[3].line == 6);
  CHECK_THROWS_WITH(read_quoted_records("a\n\"open\nnever closed\n", ',', "t.csv"),
                    Contains("t.csv:2:1: unterminated quoted field"));
  CHECK_THROWS_WITH(read_quoted_records("a,b\n\"ab\"c,d\n", ',', "t.csv"),
                    Contains("t.csv:2:5: expected the delimiter ','") && Contains("found 'c'"));
  const auto u = read_unquoted_records("\xEF\xBB\xBF\"a\tb\rc\td\n", '\t');
  REQUIRE(u.size() == 2);
  CHECK(u[0].fields == std::vector<std::string>{"\"a", "b"});
  CHECK(u[1].line == 2);
}

TEST_CASE("CSV with quoting, discovered labels in sorted order", "[user_data]") {
  UserDataOptions options;
  options.id_column = std::optional<std::string>("id");  // not = "id": GCC 12 warns maybe-uninitialized, falsely
  const auto r = read_user_data(kUser + "/reviews.csv", options);
  CHECK(r.label_names == std::vector<std::string>{"neg", "neutral", "pos"});
  REQUIRE(r.examples.size() == 4);
  CHECK(r.examples[0].text_a == "Great, really great \"fun\" movie");
  CHECK(r.examples[0].label == 2);
  CHECK(r.examples[0].guid == "7");
  CHECK(r.examples[1].label == 0);
  CHECK(r.examples[2].text_a == "two\nlines");
  CHECK(r.examples[2].line == 4);
  CHECK(r.examples[3].text_a == "plain \"quote\" inside");
  CHECK(r.examples[3].line == 6);
  CHECK_FALSE(r.examples[0].text_b.has_value());
}

TEST_CASE("given label list: unknown labels are malformed rows", "[user_data]") {
  UserDataOptions options;
  options.label_names = std::vector<std::string>{"pos", "neg"};
  CHECK_THROWS_WITH(read_user_data(kUser + "/reviews.csv", options),
                    Contains("reviews.csv:4: column 3 ('label'): expected one of the labels [pos, neg]") &&
                        Contains("found 'neutral'"));
  options.read.policy = BadRowPolicy::Skip;
  const auto r = read_user_data(kUser + "/reviews.csv", options);
  CHECK(r.skipped == 1);
  REQUIRE(r.examples.size() == 3);
  CHECK(r.examples[0].label == 0);
  CHECK(r.examples[1].label == 1);
  CHECK(r.label_names == std::vector<std::string>{"pos", "neg"});
}

TEST_CASE("TSV pairs with float labels (regression), quotes are text", "[user_data]") {
  UserDataOptions options;
  options.text_column = "sentence1";
  options.text_pair_column = "sentence2";
  options.label_column = "score";
  options.regression = true;
  const auto r = read_user_data(kUser + "/pairs.tsv", options);
  REQUIRE(r.examples.size() == 2);
  CHECK(r.is_regression);
  CHECK(r.label_names.empty());
  CHECK(r.examples[0].text_a == "\"A man\"");
  CHECK(*r.examples[0].text_b == "A man is here.");
  CHECK(r.examples[0].score == 4.5f);
  CHECK(r.examples[0].label == -1);
  CHECK(r.examples[1].score == 0.25f);
  options.text_column = "premise";
  CHECK_THROWS_WITH(read_user_data(kUser + "/pairs.tsv", options),
                    Contains("expected a column named 'premise'") && Contains("[sentence1, sentence2, score]"));
}

TEST_CASE("JSONL with integer labels sorted numerically", "[user_data]") {
  const auto r = read_user_data(kUser + "/reviews.jsonl");
  CHECK(r.label_names == std::vector<std::string>{"0", "1", "2", "10"});
  REQUIRE(r.examples.size() == 4);
  CHECK(r.examples[0].label == 1);
  CHECK(r.examples[1].label == 0);
  CHECK(r.examples[2].text_a == "meh \"ok\"");
  CHECK(r.examples[2].line == 4);
  CHECK(r.examples[3].label == 3);
  UserDataOptions unlabeled;
  unlabeled.label_column.reset();
  const auto u = read_user_data(kUser + "/reviews.jsonl", unlabeled);
  CHECK_FALSE(u.has_labels);
  CHECK(u.examples[0].label == -1);
}

TEST_CASE("malformed user rows", "[user_data]") {
  SECTION("invalid JSON names file:line:column") {
    const auto p = user_file("bad.jsonl", "{\"text\": \"ok\", \"label\": \"a\"}\n{\"text\": oops}\n");
    CHECK_THROWS_WITH(read_user_data(p), Contains("bad.jsonl:2:10: expected a JSON object, found invalid JSON"));
    UserDataOptions options;
    options.read.policy = BadRowPolicy::Skip;
    const auto r = read_user_data(p, options);
    CHECK(r.examples.size() == 1);
    CHECK(r.skipped == 1);
  }
  SECTION("JSON with a missing key, a non-string text or a float class label") {
    const auto p = user_file("keys.jsonl",
                             "{\"label\": \"a\"}\n{\"text\": 3, \"label\": \"a\"}\n{\"text\": \"x\", \"label\": 0.5}\n"
                             "{\"text\": \"x\"}\n[1]\n");
    UserDataOptions options;
    options.read.policy = BadRowPolicy::Skip;
    const auto r = read_user_data(p, options);
    CHECK(r.examples.empty());
    REQUIRE(r.messages.size() == 5);
    CHECK_THAT(r.messages[0], Contains("keys.jsonl:1: key 'text': expected a string, found no such key"));
    CHECK_THAT(r.messages[1], Contains(":2: key 'text': expected a string, found number"));
    CHECK_THAT(r.messages[2], Contains(":3: key 'label': expected a class label") && Contains("0.5"));
    CHECK_THAT(r.messages[3], Contains(":4: key 'label': expected a label, found no such key"));
    CHECK_THAT(r.messages[4], Contains(":5: expected a JSON object, found a array"));
  }
  SECTION("CSV column count, empty text, bad regression value") {
    const auto p = user_file("bad.csv", "text,label\nfine,1.5\nshort\n\"\",2\nx,abc\n");
    UserDataOptions options;
    options.regression = true;
    options.read.policy = BadRowPolicy::Skip;
    const auto r = read_user_data(p, options);
    REQUIRE(r.examples.size() == 1);
    CHECK(r.examples[0].score == 1.5f);
    REQUIRE(r.messages.size() == 3);
    CHECK_THAT(r.messages[0], Contains("bad.csv:3: expected 2 columns (text, label), found 1"));
    CHECK_THAT(r.messages[1], Contains("bad.csv:4: column 1 ('text'): expected a text, found empty"));
    CHECK_THAT(r.messages[2], Contains("bad.csv:5: column 2 ('label'): expected a number") && Contains("'abc'"));
  }
  SECTION("format detection") {
    CHECK(detect_format("a/b.CSV") == DataFormat::Csv);
    CHECK(detect_format("x.tsv") == DataFormat::Tsv);
    CHECK(detect_format("x.jsonl") == DataFormat::Jsonl);
    CHECK_THROWS_WITH(detect_format("data.txt"), Contains("'txt'"));
    CHECK_THROWS_WITH(read_user_data(kUser + "/nope.csv"), Contains("nope.csv"));
  }
}

TEST_CASE("user data: JSONL labels that are no usable number are malformed rows, not undefined casts", "[tasks][user]") {
  // Found by fuzzing: an integral float past 2^63 was cast to long long (undefined behaviour; UBSan trapped it), and
  // a number like 1e99999 escaped the reader as a raw JSON exception.
  const auto p = user_file("huge.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 4.3e19}\n"
                                         "{\"text\": \"c\", \"label\": 1e99999}\n");
  CHECK_THROWS_WITH(read_user_data(p), Contains(":2:") && Contains("too large to be a class id"));
  UserDataOptions o;
  o.read.policy = BadRowPolicy::Skip;
  const auto r = read_user_data(p, o);
  CHECK(r.examples.size() == 1);
  CHECK(r.skipped == 2);
}
