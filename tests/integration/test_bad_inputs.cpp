// Bad inputs that used to give wrong answers with exit 0 or raw library errors (the reliability issue): each is now
// refused before any work, with exit 1 and a message naming the file, key or folder and what was expected against
// what was found, and never a LibTorch / nlohmann / standard-library message alone.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "support/run_command.h"
#include "support/scratch_files.h"
#include "test_paths.h"

using namespace distilbert;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

const std::string kTinyConfig = kSource + "/configs/tiny-distilbert.json";

/// A command's failure: exit 1, our sentence, no raw library message.
void check_refused(const testing::CommandResult& r) {
  INFO(r.output);
  CHECK(r.exit_code == 1);
  for (const char* raw : {"error (LibTorch)", "c10::Error", "[json.exception", "std::bad_alloc", "Target -1",
                          "index out of range in self"})
    CHECK_THAT(r.output, !Contains(raw));
}

/// An SST-2-layout task folder of 8 rows per split; `dev_header` lets a test drop the label column.
fs::path write_task(const fs::path& dir, const std::string& train_header, const std::string& dev_header) {
  fs::create_directories(dir);
  const char* rows[] = {"a fine film", "dull and long", "great fun", "awful", "good acting", "bad plot",
                        "lovely", "boring"};
  for (const auto& [file, header] : {std::pair{"train.tsv", train_header}, std::pair{"dev.tsv", dev_header}}) {
    std::ofstream out(dir / file);
    out << header << "\n";
    for (int i = 0; i < 8; ++i)
      out << rows[i] << (header.find("label") != std::string::npos ? "\t" + std::to_string(i % 2) : "") << "\n";
  }
  return dir;
}

/// A tiny DistilBERT with the shared bert-base-uncased tokenizer, `head` as `distilbert init` writes it.
fs::path tiny_model(const fs::path& dir, const std::string& head) {
  const auto r = testing::run_command(kCli + " init --config " + kTinyConfig + " --head " + head +
                                      " --seed 1 --tokenizer " + kShared + "/bert-base-uncased --output '" +
                                      dir.string() + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return dir;
}

std::string recipe(const fs::path& dir, const fs::path& model, const fs::path& task) {
  const nlohmann::json j = {{"model", model.string()},
                            {"output_dir", (dir / "run").string()},
                            {"threads", 1},
                            {"task", {{"name", "sst2"}, {"data_dir", task.string()}, {"max_seq_len", 16}}},
                            {"trainer", {{"epochs", 1}, {"batch_size", 4}, {"progress", false}}}};
  const fs::path p = dir / "recipe.json";
  std::ofstream(p) << j.dump(2);
  return p.string();
}

bool have_vocab() {
  if (fs::is_regular_file(kShared + "/bert-base-uncased/vocab.txt")) return true;
  WARN("SKIPPED: " << kShared << "/bert-base-uncased is missing: the bad-input checks did not run");
  return false;
}

}  // namespace

TEST_CASE("bad inputs: a GLUE split without its label column is refused for training and scoring",
          "[integration][bad_inputs]") {
  if (!have_vocab()) return;
  const fs::path dir = testing::scratch_dir("bad_labels");
  const fs::path model = tiny_model(dir / "model", "seq-cls");
  // Scoring a dev file without labels printed {"accuracy": 0.0} with exit 0.
  auto task = write_task(dir / "nodevlabel", "sentence\tlabel", "sentence");
  auto r = testing::run_command(kCli + " evaluate --recipe " + recipe(dir, model, task));
  check_refused(r);
  CHECK_THAT(r.output, Contains((task / "dev.tsv").string()) && Contains("no label column"));
  // Training on a train file without labels ended in LibTorch's "Target -1 is out of bounds".
  task = write_task(dir / "notrainlabel", "sentence", "sentence\tlabel");
  r = testing::run_command(kCli + " finetune --recipe " + recipe(dir, model, task));
  check_refused(r);
  CHECK_THAT(r.output, Contains((task / "train.tsv").string()) && Contains("no label column"));
  CHECK_FALSE(fs::exists(dir / "run" / "best"));
}

TEST_CASE("bad inputs: evaluate and predict refuse a folder without the trained head unless --fresh-head",
          "[integration][bad_inputs]") {
  if (!have_vocab()) return;
  const fs::path dir = testing::scratch_dir("bad_head");
  const fs::path mlm = tiny_model(dir / "mlm", "mlm");
  const fs::path task = write_task(dir / "task", "sentence\tlabel", "sentence\tlabel");
  const std::string rec = recipe(dir, mlm, task);
  auto r = testing::run_command(kCli + " evaluate --recipe " + rec);
  check_refused(r);
  CHECK_THAT(r.output, Contains(mlm.string()) && Contains("classifier.weight") && Contains("--fresh-head"));
  r = testing::run_command(kCli + " evaluate --recipe " + rec + " --fresh-head");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("accuracy"));
  // A folder whose config names a classifier its weights lack.
  const fs::path cls = dir / "cls";
  fs::copy(mlm, cls);
  auto config = nlohmann::json::parse(std::ifstream(cls / "config.json"));
  config["architectures"] = {"DistilBertForSequenceClassification"};
  std::ofstream(cls / "config.json") << config.dump(2);
  testing::write_file(dir / "in.txt", "a fine film\n");
  r = testing::run_command(kCli + " predict --model '" + cls.string() + "' --input '" + (dir / "in.txt").string() + "'");
  check_refused(r);
  CHECK_THAT(r.output, Contains("classifier.weight") && Contains("--fresh-head"));
  r = testing::run_command(kCli + " predict --model '" + cls.string() + "' --input '" + (dir / "in.txt").string() +
                           "' --fresh-head");
  CHECK(r.exit_code == 0);
}

TEST_CASE("bad inputs: a tokenizer larger than the model's vocabulary is refused naming both",
          "[integration][bad_inputs]") {
  if (!have_vocab()) return;
  const fs::path dir = testing::scratch_dir("bad_vocab");
  auto config = nlohmann::json::parse(std::ifstream(kTinyConfig));
  config["vocab_size"] = 1000;
  std::ofstream(dir / "small.json") << config.dump(2);
  auto r = testing::run_command(kCli + " init --config '" + (dir / "small.json").string() +
                                "' --head seq-cls --output '" + (dir / "model").string() + "'");
  REQUIRE(r.exit_code == 0);
  testing::write_file(dir / "in.txt", "a zebra walked into the quantum bar\n");
  r = testing::run_command(kCli + " predict --model '" + (dir / "model").string() + "' --input '" +
                           (dir / "in.txt").string() + "' --tokenizer " + kShared + "/bert-base-uncased --fresh-head");
  check_refused(r);
  CHECK_THAT(r.output, Contains("30522 tokens") && Contains("vocab_size 1000") && Contains("bert-base-uncased"));
  const fs::path task = write_task(dir / "task", "sentence\tlabel", "sentence\tlabel");
  auto rec = nlohmann::json::parse(std::ifstream(recipe(dir, dir / "model", task)));
  rec["tokenizer"] = kShared + "/bert-base-uncased";
  std::ofstream(dir / "recipe2.json") << rec.dump(2);
  r = testing::run_command(kCli + " finetune --recipe '" + (dir / "recipe2.json").string() + "'");
  check_refused(r);
  CHECK_THAT(r.output, Contains("vocab_size 1000"));
}

TEST_CASE("bad inputs: a tied alias of another shape is a size mismatch, as in HF", "[integration][bad_inputs]") {
  const fs::path dir = testing::scratch_dir("bad_tied");
  auto config = ModelConfig::load(kTinyConfig);
  config.vocab_size = 50;
  torch::manual_seed(0);
  auto model = build_model(config, Head::MaskedLM);
  save_model_folder(*model, dir.string());
  auto weights = load_safetensors((dir / "model.safetensors").string());
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& [k, t] : weights.tensors) tensors.emplace_back(k, t);
  tensors.emplace_back("vocab_projector.weight", torch::zeros({50, config.hidden_size / 2}));
  save_safetensors((dir / "model.safetensors").string(), tensors);
  LoadOptions lo;
  lo.verbose = false;
  CHECK_THROWS_WITH(load_model_folder(dir.string(), lo),
                    Contains("vocab_projector.weight") && Contains("[50, 32]") && Contains("tied"));
}

TEST_CASE("bad inputs: sizes beyond the machine are refused before any allocation", "[integration][bad_inputs]") {
  const fs::path dir = testing::scratch_dir("bad_sizes");
  auto config = nlohmann::json::parse(std::ifstream(kTinyConfig));
  config["dim"] = 4000000;  // 4M wide: hundreds of TB of weights
  config["hidden_dim"] = 4000000;
  std::ofstream(dir / "huge.json") << config.dump(2);
  auto r = testing::run_command(kCli + " init --config '" + (dir / "huge.json").string() + "' --output '" +
                                (dir / "model").string() + "'");
  check_refused(r);
  CHECK_THAT(r.output, Contains("huge.json") && Contains("hidden_size 4000000") && Contains("available"));
  CHECK_FALSE(fs::exists(dir / "model"));
  // A vocabulary size far beyond the corpus: the vocabulary the corpus gives, with a warning (HF's trainer does the
  // same), not std::bad_alloc.
  testing::write_file(dir / "corpus.txt", "the cat sat on the mat\nthe dog sat on the log\n");
  r = testing::run_command(kCli + " train-tokenizer --input '" + (dir / "corpus.txt").string() +
                           "' --type wordpiece --vocab-size 4294967295 --output '" + (dir / "tok").string() + "'");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("fewer than the 4294967295 asked for"));
  CHECK(fs::exists(dir / "tok" / "vocab.txt"));
}

namespace {

/// Every file under `dir` with its bytes, to show that a refused command changed nothing.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = testing::read_file(e.path());
  return files;
}

/// No `.<name>.partial-*` sibling of `dir` is left behind.
bool no_partial_sibling(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir.parent_path()))
    if (e.path().filename().string().rfind("." + dir.filename().string() + ".partial-", 0) == 0) return false;
  return true;
}

}  // namespace

TEST_CASE("bad inputs: multi-file outputs appear whole or not at all", "[integration][bad_inputs]") {
  if (!have_vocab()) return;
  const fs::path dir = testing::scratch_dir("bad_atomic");
  const fs::path model = tiny_model(dir / "model", "seq-cls");
  const auto before = snapshot(model);
  // A vocab.txt with a Latin-1 byte: refused when read, naming file and line; the existing folder is untouched
  // (init --overwrite used to rewrite model.safetensors and vocab.txt, then fail writing tokenizer.json).
  fs::create_directories(dir / "badtok");
  testing::write_file(dir / "badtok" / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\ncaf\xe9\n");
  auto r = testing::run_command(kCli + " init --config " + kTinyConfig + " --head seq-cls --tokenizer '" +
                                (dir / "badtok").string() + "' --output '" + model.string() + "' --overwrite");
  check_refused(r);
  CHECK_THAT(r.output, Contains("vocab.txt:6") && Contains("caf\\xE9") && Contains("not valid UTF-8"));
  CHECK(snapshot(model) == before);
  // A failure after the output was started (bf16 cannot be ONNX): no folder, no partial sibling.
  r = testing::run_command(kCli + " export --model '" + model.string() + "' --format onnx --dtype bf16 --output '" +
                           (dir / "export").string() + "'");
  check_refused(r);
  CHECK_FALSE(fs::exists(dir / "export"));
  CHECK(no_partial_sibling(dir / "export"));
  // --overwrite into a folder with other files: the command's files replace their namesakes, the rest stay.
  fs::create_directories(dir / "export2");
  testing::write_file(dir / "export2" / "notes.txt", "mine");
  r = testing::run_command(kCli + " export --model '" + model.string() + "' --format hf --output '" +
                           (dir / "export2").string() + "' --overwrite");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(testing::read_file(dir / "export2" / "notes.txt") == "mine");
  CHECK(fs::exists(dir / "export2" / "model.safetensors"));
  CHECK(no_partial_sibling(dir / "export2"));
}

TEST_CASE("bad inputs: paths that are not UTF-8 work, only their display is escaped", "[integration][bad_inputs]") {
  if (!have_vocab()) return;
  const fs::path dir = testing::scratch_dir("bad_utf8_path");
  const fs::path latin = dir / "caf\xe9";  // a Latin-1 byte in a folder name: bytes on Linux
  fs::create_directories(latin);
  testing::write_file(latin / "text.txt", "the cat sat on the mat .\nthe dog sat on the log .\n");
  const std::string tok = kShared + "/bert-base-uncased";
  auto r = testing::run_command(kCli + " binarize --tokenizer " + tok + " --input '" + (latin / "text.txt").string() +
                                "' --output '" + (latin / "store").string() + "' --quiet");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);  // was a raw "[json.exception.type_error.316] invalid UTF-8 byte"
  const auto meta = nlohmann::json::parse(testing::read_file(latin / "store.json"));
  CHECK_THAT(meta["sources"][0]["path"].get<std::string>(), Contains("caf\\xE9"));
  r = testing::run_command(kCli + " token-counts --data '" + (latin / "store").string() + "' --output '" +
                           (latin / "counts.json").string() + "'");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  // --overwrite of an existing store from that path: the new store replaces the old one whole.
  r = testing::run_command(kCli + " binarize --tokenizer " + tok + " --input '" + (latin / "text.txt").string() +
                           "' --output '" + (latin / "store").string() + "' --quiet --overwrite");
  CHECK(r.exit_code == 0);
  for (const char* ext : {".ids", ".idx", ".json"}) CHECK(fs::exists(latin / ("store" + std::string(ext))));
}

TEST_CASE("bad inputs: binarize refuses a binary or mis-encoded file, naming file and line", "[integration][bad_inputs]") {
  if (!have_vocab()) return;
  const fs::path dir = testing::scratch_dir("bad_binary");
  const std::string tok = kShared + "/bert-base-uncased";
  const char binary[] = "a fine line\nbin\0ary\n";
  testing::write_file(dir / "nul.txt", std::string(binary, sizeof(binary) - 1));
  testing::write_file(dir / "latin1.txt", "a fine line\nanother\ncaf\xe9 au lait\n");
  for (const auto& [file, what] : {std::pair{"nul.txt:2", "a NUL byte"}, std::pair{"latin1.txt:3", "not UTF-8"}}) {
    const std::string name = std::string(file).substr(0, std::string(file).find(':'));
    auto r = testing::run_command(kCli + " binarize --tokenizer " + tok + " --input '" + (dir / name).string() +
                                  "' --output '" + (dir / "store").string() + "' --quiet");
    check_refused(r);
    CHECK_THAT(r.output, Contains(file) && Contains(what));
    for (const char* ext : {".ids", ".idx", ".json"}) CHECK_FALSE(fs::exists(dir / ("store" + std::string(ext))));
  }
}

TEST_CASE("bad inputs: an unknown DISTILBERT_HEAD_PRODUCTS is refused naming the variable and its values",
          "[integration][bad_inputs]") {
  if (!have_vocab()) return;
  const fs::path dir = testing::scratch_dir("bad_head_products");
  const fs::path model = tiny_model(dir / "model", "seq-cls");
  const auto task = write_task(dir / "task", "sentence\tlabel", "sentence\tlabel");
  // Training runs the attention products with dropout, the path that reads the variable on both LibTorch versions.
  const auto rec = recipe(dir, model, task);
  auto r = testing::run_command("DISTILBERT_HEAD_PRODUCTS=threads " + kCli + " finetune --recipe " + rec);
  check_refused(r);
  CHECK_THAT(r.output, Contains("DISTILBERT_HEAD_PRODUCTS must be auto, loop or matmul, got 'threads'"));
  CHECK_FALSE(fs::exists(dir / "run" / "best"));
  // Each accepted value trains.
  for (const char* v : {"auto", "loop", "matmul"}) {
    fs::remove_all(dir / "run");
    r = testing::run_command(std::string("DISTILBERT_HEAD_PRODUCTS=") + v + " " + kCli + " finetune --recipe " + rec);
    INFO(v << ": " << r.output);
    CHECK(r.exit_code == 0);
  }
}
