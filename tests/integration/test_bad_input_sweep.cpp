// The sweep of issue 22's third rule: every command, every path argument, given each kind of bad input (missing,
// empty, random bytes, a folder where a file is expected, a folder of garbage files, truncated JSON, a name that is
// not UTF-8), either works or fails with our own sentence: exit 1 (or 2 for an argument error), "error" and the
// argument's file named, and no message of LibTorch, nlohmann/json or the C++ library, no crash.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "support/run_command.h"
#include "support/scratch_files.h"
#include "test_paths.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

// Texts that only a library's own exception or a crash prints.
const char* const kRawMessages[] = {"error (LibTorch)", "c10::Error",     "[json.exception",   "std::bad_alloc",
                                    "Exception raised from", "terminate called", "what():",     "basic_string::",
                                    "stoi",             "stol",           "stod",              "vector::_M",
                                    "map::at",          "Aborted",        "Segmentation fault", "Target -1",
                                    "index out of range in self",         "std::out_of_range", "std::invalid_argument"};

struct BadInput {
  std::string kind;
  fs::path path;
  bool utf8_name = true;
};

std::vector<BadInput> make_bad_inputs(const fs::path& dir) {
  std::string bytes;
  for (int i = 0; i < 4096; ++i) bytes += static_cast<char>((i * 131 + 7) % 256);  // NULs and invalid UTF-8
  distilbert::testing::write_file(dir / "empty.txt", "");
  distilbert::testing::write_file(dir / "garbage.bin", bytes);
  distilbert::testing::write_file(dir / "truncated.json", "{\"model\": [1, 2,");
  distilbert::testing::write_file(dir / "bad\xe9name.bin", bytes);
  fs::create_directories(dir / "empty_folder");
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "metrics.jsonl",
                        "recipe.json", "pytorch_model.bin"})
    distilbert::testing::write_file(dir / "garbage_folder" / f, bytes);
  return {{"missing", dir / "no_such_file"},
          {"empty", dir / "empty.txt"},
          {"random bytes", dir / "garbage.bin"},
          {"truncated JSON", dir / "truncated.json"},
          {"empty folder", dir / "empty_folder"},
          {"folder of garbage files", dir / "garbage_folder"},
          {"name not UTF-8", dir / "bad\xe9name.bin", false}};
}

}  // namespace

TEST_CASE("bad input sweep: every command's path arguments with bad files fail with our message, never raw",
          "[integration][bad_inputs]") {
  const fs::path dir = distilbert::testing::scratch_dir("bad_input_sweep");
  const fs::path tok = kShared + "/bert-base-uncased";
  if (!fs::is_regular_file(tok / "vocab.txt")) {
    WARN("SKIPPED: the sweep did not run: " << tok.string() << " is missing");
    return;
  }
  const std::string good_text = (dir / "good.txt").string(), good_jsonl = (dir / "good.jsonl").string();
  distilbert::testing::write_file(good_text, "a good line of text\nanother line\n");
  distilbert::testing::write_file(good_jsonl, "{\"input_ids\": [2, 7, 9, 3]}\n");
  const std::string student = kSource + "/tests/data/golden/distilbert_mlm";
  const std::string teacher = kSource + "/tests/data/golden/bert_mlm";
  const std::string config = kSource + "/configs/tiny-distilbert.json";
  const std::string out = (dir / "out").string();
  // {X} is the bad path; everything else is valid.
  const std::vector<std::string> commands = {
      "binarize --tokenizer {X} --input " + good_text + " --output " + out + "/store",
      "binarize --tokenizer " + tok.string() + " --input {X} --output " + out + "/store",
      "token-counts --data {X} --output " + out + "/counts.json",
      "tokenize --tokenizer {X} --input " + good_text,
      "tokenize --tokenizer " + tok.string() + " --input {X}",
      "train-tokenizer --input {X} --vocab-size 200 --output " + out + "/tok",
      "init --config {X} --output " + out + "/init",
      "init --config " + config + " --tokenizer {X} --output " + out + "/init",
      "init-student --teacher {X} --config " + config + " --output " + out + "/student",
      "init-student --teacher " + teacher + " --config {X} --output " + out + "/student",
      "info --model {X}",
      "export --model {X} --output " + out + "/export",
      "predict --model {X} --input " + good_jsonl,
      "predict --model " + student + " --input {X}",
      "evaluate --recipe {X}",
      "finetune --recipe {X}",
      "distill --recipe {X}",
      "pretrain --recipe {X}",
      "report --run {X} --output " + out + "/report",
  };
  for (const auto& bad : make_bad_inputs(dir)) {
    for (const auto& c : commands) {
      std::string command = c;
      command.replace(command.find("{X}"), 3, "'" + bad.path.string() + "'");
      fs::remove_all(out);
      const auto r = distilbert::testing::run_command(kCli + " " + command + " 2>&1 < /dev/null");
      INFO(bad.kind << ": distilbert " << command << "\n" << r.output);
      CHECK((r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 2));  // 134, 139: abort, segfault
      for (const char* raw : kRawMessages) CHECK_THAT(r.output, !Contains(raw));
      if (r.exit_code == 0) continue;
      CHECK_THAT(r.output, Contains("error", Catch::CaseSensitive::No));
      if (bad.utf8_name) CHECK_THAT(r.output, Contains(bad.path.filename().string()));
    }
  }
}
