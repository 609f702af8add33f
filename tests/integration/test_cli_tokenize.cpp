// The CLI's train-tokenizer and tokenize commands end to end: train WordPiece / unigram tokenizers on the small
// test corpus, tokenize plain text, TSV and JSONL with them, and compare every output line with the library's
// own encode(); plus the error paths (exit code 1, message naming the option / column).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "distilbert/tokenizer/tokenizer.h"
#include "support/json_lines.h"
#include "support/run_command.h"
#include "support/scratch_files.h"
#include "test_paths.h"

using distilbert::testing::read_jsonl;
using distilbert::testing::run_command;
using distilbert::testing::write_file;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;
namespace tk = distilbert::tokenizer;

namespace {

std::string tokenize_dir(const std::string& name) {
  return distilbert::testing::fresh_dir("cli_tokenize_tests", name).string();
}

const std::string kCorpus = std::string(DISTILBERT_SOURCE_DIR) + "/tests/data/tokenizer/tiny_corpus.txt";

bool have_cli() {
  if (fs::exists(kCli)) return true;
  WARN("SKIPPED: " << kCli << " is not built (cmake --build <dir> --target distilbert)");
  return false;
}

/// One output line against the library's encoding of the same input.
void check_line(const nlohmann::json& j, const tk::Encoding& e) {
  CHECK(j.at("ids").get<std::vector<std::int64_t>>() == e.ids);
  CHECK(j.at("tokens").get<std::vector<std::string>>() == e.tokens);
  const auto offsets = j.at("offsets").get<std::vector<std::vector<std::size_t>>>();
  REQUIRE(offsets.size() == e.size());
  for (std::size_t i = 0; i < e.size(); ++i) CHECK(offsets[i] == std::vector<std::size_t>{e.offsets[i].begin, e.offsets[i].end});
  if (e.type_ids.empty()) {
    CHECK_FALSE(j.contains("type_ids"));
  } else {
    CHECK(j.at("type_ids").get<std::vector<std::int64_t>>() == e.type_ids);
  }
}

/// A WordPiece tokenizer trained once per process from the test corpus by the CLI, in this process's scratch folder:
/// ctest runs test cases as concurrent processes, and a shared folder would be replaced under another one's feet.
const std::string& wordpiece_dir() {
  static const std::string dir = [] {
    const std::string d = (distilbert::testing::scratch_dir("cli_tokenize") / "wordpiece").string();
    const auto r = run_command(kCli + " train-tokenizer --input " + kCorpus + " " + kCorpus +
                               " --type wordpiece --vocab-size 300 --min-frequency 1 --output " + d);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    return d;
  }();
  return dir;
}

}  // namespace

TEST_CASE("cli: train-tokenizer wordpiece writes a folder BertTokenizer loads", "[integration][cli][tokenizer]") {
  if (!have_cli()) return;
  const std::string dir = wordpiece_dir();
  for (const char* f : {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    CHECK(fs::is_regular_file(fs::path(dir) / f));
  }
  const auto tok = tk::load_tokenizer(dir);
  CHECK(tok->vocab_size() == 300);
  CHECK(tok->id_to_token(0) == "[PAD]");
  CHECK(tok->id_to_token(4) == "[MASK]");
  // Same input twice -> the same files (deterministic), and an existing folder needs --overwrite.
  const std::string again = tokenize_dir("wordpiece_again") + "/tok";
  auto r = run_command(kCli + " train-tokenizer --input " + kCorpus + " " + kCorpus +
                       " --type wordpiece --vocab-size 300 --min-frequency 1 --quiet --output " + again);
  REQUIRE(r.exit_code == 0);
  CHECK(tk::load_tokenizer(again)->fingerprint() == tok->fingerprint());
  r = run_command(kCli + " train-tokenizer --input " + kCorpus + " --vocab-size 300 --output " + again);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Contains("--overwrite"));
}

TEST_CASE("cli: tokenize plain text, TSV and JSONL match the library", "[integration][cli][tokenizer]") {
  if (!have_cli()) return;
  const auto tok = tk::load_tokenizer(wordpiece_dir());
  const std::string work = tokenize_dir("tokenize");

  // Plain text: one text per line, blank lines skipped; "line" is the input line number.
  write_file(work + "/in.txt", "The quick brown fox.\n\nHello, world! caf\xC3\xA9\r\nStudents distil \"knowledge\"\tnow\n");
  auto r = run_command(kCli + " tokenize --tokenizer " + wordpiece_dir() + " --input " + work + "/in.txt --output " +
                       work + "/out.jsonl --threads 2");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("2 thread(s)"));
  auto out = read_jsonl(work + "/out.jsonl");
  REQUIRE(out.size() == 3);
  CHECK(out[0].at("line") == 1);
  CHECK(out[1].at("line") == 3);
  CHECK(out[2].at("line") == 4);
  check_line(out[0], tok->encode("The quick brown fox."));
  check_line(out[1], tok->encode("Hello, world! caf\xC3\xA9"));
  check_line(out[2], tok->encode("Students distil \"knowledge\"\tnow"));
  CHECK(out[0].contains("type_ids"));  // BertTokenizer returns token_type_ids

  // TSV with named columns and pairs, truncated to 12 tokens, character offsets.
  write_file(work + "/in.tsv", "id\tfirst\tsecond\n1\tthe teacher model\tthe student model learns quickly\n"
                          "2\tcaf\xC3\xA9 na\xC3\xAFve\tok\n");
  r = run_command(kCli + " tokenize --tokenizer " + wordpiece_dir() + " --input " + work +
                  "/in.tsv --text-column first --pair-column second --max-length 12 --char-offsets --output " + work +
                  "/out_tsv.jsonl");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  out = read_jsonl(work + "/out_tsv.jsonl");
  REQUIRE(out.size() == 2);
  tk::EncodeOptions o;
  o.truncation = tk::Truncation::longest_first;
  o.max_length = 12;
  o.offsets = tk::OffsetUnit::chars;
  check_line(out[0], tok->encode("the teacher model", std::string_view("the student model learns quickly"), o));
  check_line(out[1], tok->encode("caf\xC3\xA9 na\xC3\xAFve", std::string_view("ok"), o));
  CHECK(out[0].at("ids").size() == 12);
  CHECK(out[1].at("line") == 3);

  // JSONL fields by name, written to stdout.
  write_file(work + "/in.jsonl", "{\"sentence\": \"Hello world\", \"x\": 1}\n{\"sentence\": \"the [MASK] sat\"}\n");
  r = run_command(kCli + " tokenize --quiet --tokenizer " + wordpiece_dir() + " --input " + work +
                  "/in.jsonl --text-column sentence --no-special-tokens > " + work + "/out_stdout.jsonl");
  REQUIRE(r.exit_code == 0);
  out = read_jsonl(work + "/out_stdout.jsonl");
  REQUIRE(out.size() == 2);
  tk::EncodeOptions raw;
  raw.add_special_tokens = false;
  check_line(out[0], tok->encode("Hello world", std::nullopt, raw));
  check_line(out[1], tok->encode("the [MASK] sat", std::nullopt, raw));
}

TEST_CASE("cli: train-tokenizer unigram -> tokenize with the sentencepiece folder", "[integration][cli][tokenizer]") {
  if (!have_cli()) return;
#if defined(__SANITIZE_ADDRESS__)
  // ASan refuses RTLD_DEEPBIND, so the sanitizer build dlopen()s sentencepiece without it; in the CLI, which loads
  // libprotobuf 3.21 (LibTorch, ONNX), the library's own protobuf-lite 3.14 then binds to it and its version check
  // aborts (see distilbert/tokenizer/sentencepiece_runtime.h). The torch-free test_tokenizer covers SentencePiece
  // under the sanitizers; the Release build runs this case.
  WARN("SKIPPED: under AddressSanitizer: sentencepiece needs RTLD_DEEPBIND in a process that links protobuf");
  return;
#endif
  const std::string work = tokenize_dir("unigram");
  auto r = run_command(kCli + " train-tokenizer --input " + kCorpus + " --type unigram --vocab-size 200 --output " +
                       work + "/tok");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(fs::is_regular_file(work + "/tok/spiece.model"));
  const auto tok = tk::load_tokenizer(work + "/tok");
  CHECK(tok->vocab_size() == 200);
  CHECK(tok->special_ids().cls == 2);
  write_file(work + "/in.txt", "The student learns from the teacher.\nA second line\n");
  r = run_command(kCli + " tokenize --tokenizer " + work + "/tok --input " + work + "/in.txt --output " + work +
                  "/out.jsonl");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto out = read_jsonl(work + "/out.jsonl");
  REQUIRE(out.size() == 2);
  check_line(out[0], tok->encode("The student learns from the teacher."));
  check_line(out[1], tok->encode("A second line"));
  // A single .model file works as --tokenizer too.
  r = run_command(kCli + " tokenize --quiet --tokenizer " + work + "/tok/spiece.model --input " + work + "/in.txt");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("\"[CLS]\""));
}

TEST_CASE("cli: tokenize and train-tokenizer errors name the problem", "[integration][cli][tokenizer]") {
  if (!have_cli()) return;
  const std::string work = tokenize_dir("errors");
  write_file(work + "/in.tsv", "sentence\tlabel\nhello\t1\n");
  auto r = run_command(kCli + " tokenize --tokenizer " + wordpiece_dir() + " --input " + work +
                       "/in.tsv --text-column text");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Contains("text"));
  CHECK_THAT(r.output, Contains("in.tsv"));
  write_file(work + "/in.txt", "hello\n");
  r = run_command(kCli + " tokenize --tokenizer " + wordpiece_dir() + " --input " + work + "/in.txt --pair-column b");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Contains("--pair-column"));
  r = run_command(kCli + " tokenize --tokenizer " + work + " --input " + work + "/in.txt");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Contains("spiece.model"));
  r = run_command(kCli + " train-tokenizer --input " + kCorpus + " --type unigram --vocab-size 200 --min-frequency 3 "
                  "--output " + work + "/spm");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Contains("--min-frequency"));
  r = run_command(kCli + " train-tokenizer --input " + kCorpus + " --type sentencepiece --vocab-size 200 --output " +
                  work + "/x");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Contains("--type"));
}
