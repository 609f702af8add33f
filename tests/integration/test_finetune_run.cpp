// Fine-tuning end to end on tiny models: a learnable custom task (the tiny model must clearly learn it), the real
// SST-2 and STS-B readers through the recipe (metrics by task), evaluate on the kept model, and recipe errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <tuple>
#include <algorithm>
#include <random>

#include <nlohmann/json.hpp>

#include "distilbert/core/error.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/predict/glue_test.h"
#include "distilbert/train/finetune.h"
#include "support/json_lines.h"
#include "support/run_command.h"
#include "support/tensorboard_check.h"
#include "test_paths.h"

using namespace distilbert;
using json = nlohmann::json;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

// A model folder: the golden tiny DistilBERT MLM weights plus the bert-base-uncased tokenizer is too big a vocab
// (128 ids): use a word-level vocabulary of 128 tokens instead.
fs::path make_model(const std::string& name, const std::vector<std::string>& words) {
  const fs::path dir = fs::temp_directory_path() / "distilbert_finetune_tests" / name;
  fs::remove_all(dir);
  fs::create_directories(dir / "model");
  std::vector<std::string> v = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  v.insert(v.end(), words.begin(), words.end());
  for (int i = 0; v.size() < 128; ++i) v.push_back("[unused" + std::to_string(i) + "]");
  {
    std::ofstream out(dir / "vocab.txt");
    for (const auto& t : v) out << t << "\n";
  }
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(fs::path(kSource) / "tests/data/golden/distilbert_mlm" / f, dir / "model" / f);
  tokenizer::load_tokenizer(dir / "vocab.txt")->save_pretrained(dir / "model");
  return dir;
}

json recipe_for(const fs::path& dir) {
  json r = json::parse(R"({"seed": 5, "threads": 1,
    "optimizer": {"lr": 3e-3, "warmup_prop": 0.1, "weight_decay": 0.0},
    "trainer": {"epochs": 6, "batch_size": 16, "eval_batch_size": 64, "log_every": 5, "progress": false}})");
  r["model"] = (dir / "model").string();
  r["output_dir"] = (dir / "run").string();
  return r;
}

// Sentiment by keyword: good/great -> pos, bad/awful -> neg, among filler words.
void write_keyword_task(const fs::path& path, int n, std::mt19937& rng) {
  std::ofstream out(path);
  out << "sentence\tlabel\n";
  const std::vector<std::string> filler = {"the", "movie", "was", "film", "is", "a", "plot", "really", "very",
                                           "quite", "acting"};
  for (int i = 0; i < n; ++i) {
    const bool pos = rng() % 2;
    std::string s;
    const int len = 3 + static_cast<int>(rng() % 5);
    const int at = static_cast<int>(rng() % len);
    for (int k = 0; k < len; ++k) {
      if (k == at) s += pos ? (rng() % 2 ? "good " : "great ") : (rng() % 2 ? "bad " : "awful ");
      s += filler[rng() % filler.size()] + " ";
    }
    out << s << "\t" << (pos ? "pos" : "neg") << "\n";
  }
}

// One epoch of a GLUE task from its folder: max length 32, the first `limit` train and dev rows.
json glue_recipe(const fs::path& dir, const std::string& task, const fs::path& data_dir, int limit) {
  auto r = recipe_for(dir);
  r["output_dir"] = (dir / ("run_" + task)).string();
  r["trainer"]["epochs"] = 1;
  r["task"] = {{"name", task}, {"data_dir", data_dir.string()}, {"max_seq_len", 32}, {"limit_train", limit},
               {"limit_eval", limit}};
  return r;
}

const std::vector<std::string> kKeywordWords = {"the", "movie", "was", "film", "is", "a", "plot", "good", "great",
                                                "bad", "awful", "really", "very", "quite", "acting"};

}  // namespace

TEST_CASE("finetune: a tiny model learns a clearly learnable custom task", "[integration][finetune]") {
  const auto dir = make_model("custom", kKeywordWords);
  std::mt19937 rng(7);
  write_keyword_task(dir / "train.tsv", 400, rng);
  write_keyword_task(dir / "dev.tsv", 100, rng);
  auto r = recipe_for(dir);
  r["task"] = {{"name", "custom"}, {"train_file", (dir / "train.tsv").string()},
               {"dev_file", (dir / "dev.tsv").string()}, {"text_column", "sentence"}, {"max_seq_len", 32}};
  auto recipe = FinetuneRecipe::from_tree(r, "test");
  auto s = run_finetune(recipe, false);
  INFO("best dev accuracy " << s.best_metrics["accuracy"]);
  CHECK(s.best_metrics.at("accuracy") > 0.9);
  CHECK(fs::exists(dir / "run" / "best" / "model.safetensors"));
  std::vector<json> metrics;  // fine-tuning writes TensorBoard too: the same scalars as metrics.jsonl
  std::ifstream jsonl(dir / "run" / "metrics.jsonl");
  for (std::string line; std::getline(jsonl, line);)
    if (!line.empty()) metrics.push_back(json::parse(line));
  REQUIRE(metrics.size() >= 2);
  testing::check_tensorboard_matches_metrics(dir / "run", metrics);
  auto results = json::parse(std::ifstream(dir / "run" / "eval_results.json"));
  CHECK(results["main_metric"] == "accuracy");
  CHECK(results["accuracy"].get<double>() == Approx(s.best_metrics.at("accuracy")));
  // evaluate on the kept folder reproduces the kept metrics.
  auto again = evaluate_model(recipe, (dir / "run" / "best").string());
  CHECK(again.at("accuracy") == Approx(s.best_metrics.at("accuracy")));
  auto cfg = json::parse(std::ifstream(dir / "run" / "best" / "config.json"));
  CHECK(cfg["architectures"][0] == "DistilBertForSequenceClassification");
  CHECK(cfg["id2label"]["1"] == "pos");
  // A second run into the same folder is refused without --overwrite.
  CHECK_THROWS_WITH(run_finetune(recipe, false), Contains("--overwrite"));
}

namespace {

// The keyword task as a custom recipe in `dir` (64 training and 32 dev rows), for the trainer tests below.
json keyword_recipe(const fs::path& dir, const std::string& run) {
  std::mt19937 rng(11);
  if (!fs::exists(dir / "train.tsv")) {
    write_keyword_task(dir / "train.tsv", 64, rng);
    write_keyword_task(dir / "dev.tsv", 32, rng);
  }
  auto r = recipe_for(dir);
  r["output_dir"] = (dir / run).string();
  r["task"] = {{"name", "custom"}, {"train_file", (dir / "train.tsv").string()},
               {"dev_file", (dir / "dev.tsv").string()}, {"text_column", "sentence"}, {"max_seq_len", 16}};
  r["trainer"]["epochs"] = 2;
  r["trainer"]["batch_size"] = 8;
  r["trainer"]["log_every"] = 1;
  return r;
}

std::string write_recipe(const fs::path& dir, const std::string& name, const json& r) {
  const fs::path p = dir / name;
  std::ofstream(p) << r.dump(2);
  return p.string();
}

testing::CommandResult finetune_cli(const std::string& env, const std::string& recipe) {
  return testing::run_command(env + " " + kCli + " finetune --recipe '" + recipe + "' 2>&1");
}

std::vector<json> metric_lines(const fs::path& run) {
  std::vector<json> v;
  std::ifstream in(run / "metrics.jsonl");
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) v.push_back(json::parse(l));
  return v;
}

std::vector<std::pair<std::string, torch::Tensor>> weights_of(const fs::path& file) {
  auto v = load_safetensors(file.string()).tensors;
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return v;
}

}  // namespace

TEST_CASE("finetune: SIGTERM inside an accumulation cycle checkpoints, and the resumed run ends bit-identical",
          "[integration][finetune]") {
  const auto dir = make_model("resume", kKeywordWords);
  {  // dropout on, so that the restored random state matters
    auto cfg = json::parse(std::ifstream(dir / "model" / "config.json"));
    cfg["dropout"] = 0.1;
    cfg["seq_classif_dropout"] = 0.2;
    std::ofstream(dir / "model" / "config.json") << cfg.dump(2);
  }
  // 8 micro-batches of 8 per epoch in cycles of 3, 3 and 2 (the epoch's end closes a cycle): 3 steps an epoch.
  auto r = keyword_recipe(dir, "ref");
  r["trainer"]["grad_accum_steps"] = 3;
  r["trainer"]["save_every"] = 2;
  r["trainer"]["eval_every"] = 2;
  auto ref = finetune_cli("", write_recipe(dir, "ref.json", r));
  INFO(ref.output);
  REQUIRE(ref.exit_code == 0);
  CHECK_THAT(ref.output, Contains("6 steps") && Contains("accumulation 3"));
  CHECK(fs::exists(dir / "ref" / "checkpoints" / "step-00000006" / "model.safetensors"));  // the final weights

  // SIGTERM while micro-batch 5 runs (the second of step 2's cycle): checkpoint at step 1 with 2 micro-batches'
  // gradients, exit 130; the rerun continues without --overwrite.
  r["output_dir"] = (dir / "run").string();
  const std::string recipe = write_recipe(dir, "run.json", r);
  auto stopped = finetune_cli("DISTILBERT_FAULT=finetune.loss:term@5", recipe);
  INFO(stopped.output);
  CHECK(stopped.exit_code == 130);
  CHECK_THAT(stopped.output, Contains("stopped by signal at step 1"));
  CHECK(fs::exists(dir / "run" / "checkpoints" / "step-00000001" / "grads.safetensors"));
  CHECK_FALSE(fs::exists(dir / "run" / "eval_results.json"));
  auto resumed = finetune_cli("", recipe);
  INFO(resumed.output);
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.output, Contains("resumed from") && Contains("step-00000001"));
  const auto a = weights_of(dir / "ref" / "checkpoints" / "step-00000006" / "model.safetensors");
  const auto b = weights_of(dir / "run" / "checkpoints" / "step-00000006" / "model.safetensors");
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].first);
    CHECK(a[i].first == b[i].first);
    CHECK(torch::equal(a[i].second, b[i].second));  // the same process, CPU and kernels: bit for bit
  }
  // Every logged record (losses of each step, evaluations) is the uninterrupted run's, none lost or repeated: the
  // loss window of the split step is checkpointed with it.
  CHECK(metric_lines(dir / "run") == metric_lines(dir / "ref"));
  CHECK(json::parse(std::ifstream(dir / "run" / "eval_results.json"))["accuracy"] ==
        json::parse(std::ifstream(dir / "ref" / "eval_results.json"))["accuracy"]);
  // A finished run is not resumed: it is refused without --overwrite.
  auto again = finetune_cli("", recipe);
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.output, Contains("--overwrite"));
}

TEST_CASE("finetune: a checkpoint of another schedule, or with a torn state, is refused naming it",
          "[integration][finetune]") {
  const auto dir = make_model("resume_bad", kKeywordWords);
  auto r = keyword_recipe(dir, "run");
  const std::string recipe = write_recipe(dir, "run.json", r);
  REQUIRE(finetune_cli("DISTILBERT_FAULT=finetune.loss:term@3", recipe).exit_code == 130);
  const fs::path ckpt = dir / "run" / "checkpoints" / "step-00000003";
  REQUIRE(fs::exists(ckpt / "trainer_state.json"));
  // Another batch size: 4 steps an epoch instead of 8.
  auto other = testing::run_command(kCli + " finetune --recipe '" + recipe + "' trainer.batch_size=16 2>&1");
  INFO(other.output);
  CHECK(other.exit_code == 1);
  CHECK_THAT(other.output, Contains("step-00000003") && Contains("belongs to a run of 16 steps") &&
                               Contains("this recipe makes 8"));
  // A field of the wrong type, or a fraction where a count belongs (nlohmann would truncate 2.5 and convert 1e300
  // with undefined behaviour): our sentence naming the file, the key and the value, not the JSON library's.
  const auto good = json::parse(std::ifstream(ckpt / "trainer_state.json"));
  for (const auto& [key, value, expected] : {std::tuple<std::string, json, std::string>{"epoch", "zero", "\"zero\""},
                                             {"batch", 2.5, "2.5"}, {"step", 1e300, "1e+300"}, {"micro", true, "true"}}) {
    auto state = good;
    state[key] = value;
    std::ofstream(ckpt / "trainer_state.json") << state.dump();
    auto torn = finetune_cli("", recipe);
    INFO(torn.output);
    CHECK(torn.exit_code == 1);
    CHECK_THAT(torn.output, Contains("step-00000003/trainer_state.json: '" + key + "' must be an integer, found " +
                                     expected));
    CHECK_THAT(torn.output, !Contains("[json.exception"));
  }
}

TEST_CASE("finetune: grad_accum_steps 2 x batch 4 gives the weights of batch 8", "[integration][finetune]") {
  const auto dir = make_model("accum", kKeywordWords);
  auto r = keyword_recipe(dir, "big");
  r["trainer"]["epochs"] = 1;
  r["trainer"]["save_every"] = 100;  // only the final checkpoint: the final weights
  REQUIRE(run_finetune(FinetuneRecipe::from_tree(r, "test"), false).steps == 8);
  r["output_dir"] = (dir / "small").string();
  r["trainer"]["batch_size"] = 4;
  r["trainer"]["grad_accum_steps"] = 2;
  REQUIRE(run_finetune(FinetuneRecipe::from_tree(r, "test"), false).steps == 8);
  const auto a = weights_of(dir / "big" / "checkpoints" / "step-00000008" / "model.safetensors");
  const auto b = weights_of(dir / "small" / "checkpoints" / "step-00000008" / "model.safetensors");
  REQUIRE(a.size() == b.size());
  // Equal up to float32 rounding: the batch mean is taken in two halves. 8 AdamW steps of lr 3e-3 move a weight by
  // up to 2.4e-2; each step's update direction can differ by rounding only, so 1e-5 absolute is far below a wrong
  // schedule or scaling (a missing 1/2 doubles the first moments' early steps).
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].first);
    CHECK((a[i].second - b[i].second).abs().max().item<double>() < 1e-5);
  }
}

TEST_CASE("finetune: trainer.nan_policy stops naming the step, or skips the micro-batch, and --print-recipe",
          "[integration][finetune]") {
  const auto dir = make_model("nan", kKeywordWords);
  auto r = keyword_recipe(dir, "stop");
  r["trainer"]["epochs"] = 1;
  auto stopped = finetune_cli("DISTILBERT_FAULT=finetune.loss:nan@3", write_recipe(dir, "stop.json", r));
  INFO(stopped.output);
  CHECK(stopped.exit_code == 1);
  CHECK_THAT(stopped.output, Contains("non-finite loss at fine-tuning step 2") && Contains("nan_policy is 'stop'"));
  CHECK_FALSE(fs::exists(dir / "stop" / "eval_results.json"));
  r["output_dir"] = (dir / "skip").string();
  r["trainer"]["nan_policy"] = "skip";
  auto skipped = finetune_cli("DISTILBERT_FAULT=finetune.loss:nan@3", write_recipe(dir, "skip.json", r));
  INFO(skipped.output);
  REQUIRE(skipped.exit_code == 0);
  CHECK_THAT(skipped.output, Contains("non-finite loss at step 2; micro-batch skipped"));
  const auto res = json::parse(std::ifstream(dir / "skip" / "eval_results.json"));
  CHECK(res["skipped_micro_batches"] == 1);
  CHECK(metric_lines(dir / "skip").front()["step"] == 1);
  // --print-recipe prints the resolved recipe and runs nothing.
  r["output_dir"] = (dir / "printed").string();
  auto printed = testing::run_command(kCli + " finetune --print-recipe --recipe '" + write_recipe(dir, "p.json", r) +
                                      "' trainer.grad_accum_steps=4 2>&1");
  INFO(printed.output);
  CHECK(printed.exit_code == 0);
  CHECK_THAT(printed.output, Contains("\"grad_accum_steps\": 4"));
  CHECK_FALSE(fs::exists(dir / "printed"));
}

TEST_CASE("finetune: GLUE SST-2 and STS-B through the recipe report the task's metrics", "[integration][finetune]") {
  const fs::path glue = fs::path(DISTILBERT_SHARED_DATA) / "glue";
  if (!fs::exists(glue / "SST-2")) {
    WARN("SKIPPED: shared GLUE data not found");
    return;
  }
  const auto dir = make_model("glue", {"the", "a", "and", "of", "to", "is", "it", "in", "that", "film", "movie"});
  for (const auto& [task, folder] : std::vector<std::pair<std::string, std::string>>{{"sst2", "SST-2"}, {"stsb", "STS-B"}}) {
    INFO(task);
    auto r = glue_recipe(dir, task, glue / folder, 64);
    auto s = run_finetune(FinetuneRecipe::from_tree(r, "test"), false);
    if (task == "sst2") {
      CHECK(s.best_metrics.count("accuracy") == 1);
    } else {
      CHECK(s.best_metrics.count("pearson") == 1);
      CHECK(s.best_metrics.count("spearmanr") == 1);
      CHECK(s.best_metrics.count("combined_score") == 1);
      auto cfg = json::parse(std::ifstream(dir / ("run_" + task) / "best" / "config.json"));
      CHECK(cfg["problem_type"] == "regression");
    }
  }
}

TEST_CASE("predict --recipe: GLUE test-set submission files and per-example predictions", "[integration][finetune]") {
  const fs::path glue = fs::path(DISTILBERT_SHARED_DATA) / "glue";
  if (!fs::exists(glue / "SST-2") || !fs::exists(glue / "STS-B")) {
    WARN("SKIPPED: shared GLUE data not found");
    return;
  }
  const auto dir = make_model("submission", {"the", "a", "and", "of", "to", "is", "it", "in", "that", "film", "movie"});
  auto read_lines = [](const fs::path& p) {
    std::vector<std::string> lines;
    std::ifstream in(p);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  };
  for (const auto& [task, folder] : std::vector<std::pair<std::string, std::string>>{{"sst2", "SST-2"}, {"stsb", "STS-B"}}) {
    INFO(task);
    auto r = glue_recipe(dir, task, glue / folder, 32);
    const fs::path recipe = dir / (task + ".json");
    std::ofstream(recipe) << r.dump(1);
    const auto sum = run_finetune(FinetuneRecipe::from_tree(r, recipe.string()), false);
    const fs::path out = dir / ("submission_" + task);
    // Through the CLI, as a user runs it, on a folder with the test split alone: predicting needs no train/dev file.
    const fs::path test_only = dir / ("test_only_" + task);
    fs::create_directories(test_only);
    fs::copy_file(glue / folder / "test.tsv", test_only / "test.tsv", fs::copy_options::overwrite_existing);
    const auto cmd = distilbert::testing::run_command(
        std::string("'") + DISTILBERT_CLI + "' predict --model '" + sum.best_dir + "' --recipe '" + recipe.string() +
        "' --submission '" + out.string() + "' --threads 1 --set task.data_dir='" + test_only.string() + "'");
    INFO(cmd.output);
    REQUIRE(cmd.exit_code == 0);
    const std::string file = task == "sst2" ? "SST-2.tsv" : "STS-B.tsv";
    const auto tsv = read_lines(out / file);
    const auto jsonl = read_lines(out / "predictions-test.jsonl");
    const size_t rows = task == "sst2" ? 1821 : 1379;  // the public test sets
    REQUIRE(tsv.size() == rows + 1);
    REQUIRE(jsonl.size() == rows);
    CHECK(tsv[0] == "index\tprediction");
    for (size_t i = 0; i < rows; ++i) {
      const auto j = json::parse(jsonl[i]);
      CHECK(j["index"] == i);
      const std::string cell = tsv[i + 1].substr(tsv[i + 1].find('\t') + 1);
      CHECK(tsv[i + 1].substr(0, tsv[i + 1].find('\t')) == std::to_string(i));
      if (task == "sst2") {
        const auto p = j["probabilities"].get<std::vector<double>>();
        REQUIRE(p.size() == 2);
        CHECK(p[0] + p[1] == Approx(1.0).epsilon(1e-6));
        const int id = p[1] > p[0] ? 1 : 0;
        CHECK(j["label_id"] == id);
        CHECK(j["label"] == (id ? "positive" : "negative"));
        CHECK(cell == std::to_string(id));
      } else {
        const double score = j["score"];
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3f", std::min(5.0, std::max(0.0, score)));
        CHECK(cell == buf);
      }
    }
    // The first test sentence scored by loading the kept model directly gives the same prediction.
    if (task == "sst2") {
      auto loaded = load_model_folder(sum.best_dir);
      loaded.model->eval();
      auto tok = tokenizer::load_tokenizer(sum.best_dir);
      std::ifstream test(glue / folder / "test.tsv");
      std::string header, row;
      std::getline(test, header);
      std::getline(test, row);
      tokenizer::EncodeOptions eo;
      eo.truncation = tokenizer::Truncation::longest_first;
      eo.max_length = 32;
      auto enc = tok->encode(row.substr(row.find('\t') + 1), std::nullopt, eo);
      ModelInputs in;
      in.input_ids = torch::tensor(enc.ids).unsqueeze(0);
      in.attention_mask = torch::ones_like(in.input_ids);
      torch::NoGradGuard ng;
      auto probs = torch::softmax(loaded.model->forward(in).logits, -1)[0];
      const auto j = json::parse(jsonl[0]);
      CHECK(probs[1].item<double>() == Approx(j["probabilities"][1].get<double>()).margin(1e-5));
    }
  }
  // Not a GLUE task: a clear error naming it.
  auto r = recipe_for(dir);
  r["task"] = {{"name", "custom"}, {"train_file", "x.tsv"}, {"dev_file", "y.tsv"}};
  CHECK_THROWS_WITH(predict_glue_test(FinetuneRecipe::from_tree(r, "custom.json"), (dir / "model").string(),
                                      (dir / "nope").string()),
                    Contains("custom") && Contains("GLUE tasks only"));
}

TEST_CASE("finetune recipes: shipped ones parse, errors name the key", "[integration][recipe]") {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(fs::path(kSource) / "recipes/glue")) {
    INFO(e.path().string());
    CHECK_NOTHROW(FinetuneRecipe::load(e.path().string(), {}));
    ++n;
  }
  CHECK(n == 11);  // the nine GLUE tasks, tiny_cpu and sst2_distill
  const auto kd = FinetuneRecipe::load((fs::path(kSource) / "recipes/glue/sst2_distill.yaml").string(), {});
  CHECK(kd.kd_teacher == "runs/glue/sst2_bert/best");
  CHECK(kd.kd_alpha_ce == 0.5);
  CHECK_THROWS_WITH(FinetuneRecipe::load((fs::path(kSource) / "recipes/glue/sst2_distill.yaml").string(),
                                         {"distill.temperature=0"}),
                    Contains("distill.temperature"));
  const auto path = (fs::path(kSource) / "recipes/glue/sst2.yaml").string();
  CHECK_THROWS_WITH(FinetuneRecipe::load(path, {"task.name=sst3"}), Contains("sst3"));
  CHECK_THROWS_WITH(FinetuneRecipe::load(path, {"trainer.batch_sise=3"}), Contains("batch_sise"));
  CHECK_THROWS_WITH(FinetuneRecipe::load(path, {"task.bad_rows=ignore"}), Contains("task.bad_rows"));
  // The AdamW keys share the distill recipe's range checks.
  CHECK_THROWS_WITH(FinetuneRecipe::load(path, {"optimizer.betas=[0.9, 1.5]"}), Contains("optimizer.betas"));
  CHECK_THROWS_WITH(FinetuneRecipe::load(path, {"optimizer.eps=0"}), Contains("optimizer.eps"));
  CHECK_THROWS_WITH(FinetuneRecipe::load(path, {"optimizer.warmup_prop=2"}), Contains("optimizer.warmup_prop"));
  // The run-level keys share the distill recipe's checks too (a negative seed was taken as 2^64 - 1).
  CHECK_THROWS_WITH(FinetuneRecipe::load(path, {"seed=-1"}), Contains("seed") && Contains(">= 0"));
  CHECK_THROWS_WITH(FinetuneRecipe::load(path, {"precision=fp64"}), Contains("precision") && Contains("'fp64'"));
  CHECK_THROWS_WITH(FinetuneRecipe::load(path, {"trainer.grad_accum_steps=0"}), Contains("trainer.grad_accum_steps"));
  CHECK_THROWS_WITH(FinetuneRecipe::load(path, {"trainer.nan_policy=ignore"}), Contains("trainer.nan_policy"));
}

TEST_CASE("finetune: task-specific distillation transfers a fine-tuned teacher's knowledge without labels",
          "[integration][finetune]") {
  const auto dir = make_model("kd", kKeywordWords);
  std::mt19937 rng(9);
  write_keyword_task(dir / "train.tsv", 400, rng);
  write_keyword_task(dir / "dev.tsv", 100, rng);
  const json task = {{"name", "custom"}, {"train_file", (dir / "train.tsv").string()},
                     {"dev_file", (dir / "dev.tsv").string()}, {"text_column", "sentence"}, {"max_seq_len", 32}};
  // 1. The teacher: fine-tuned on the labels.
  auto t = recipe_for(dir);
  t["task"] = task;
  t["output_dir"] = (dir / "teacher").string();
  const auto ts = run_finetune(FinetuneRecipe::from_tree(t, "test"), false);
  REQUIRE(ts.best_metrics.at("accuracy") > 0.9);
  // 2. The student: the same fresh start, trained on the teacher's soft targets alone (alpha_task 0: labels unused).
  auto st = recipe_for(dir);
  st["task"] = task;
  st["output_dir"] = (dir / "student").string();
  st["distill"] = {{"teacher", (dir / "teacher" / "best").string()}, {"temperature", 2.0}, {"alpha_ce", 1.0},
                   {"alpha_task", 0.0}};
  const auto ss = run_finetune(FinetuneRecipe::from_tree(st, "test"), false);
  INFO("teacher " << ts.best_metrics.at("accuracy") << ", student from soft targets only " << ss.best_metrics.at("accuracy"));
  CHECK(ss.best_metrics.at("accuracy") > 0.85);
  std::ifstream in(dir / "student" / "metrics.jsonl");
  std::string line;
  int kd_records = 0;
  while (std::getline(in, line)) {
    const auto rec = json::parse(line);
    if (!rec.contains("loss_kd")) continue;
    ++kd_records;
    CHECK(rec["loss"].get<double>() == Approx(rec["loss_kd"].get<double>()));  // alpha_ce 1, alpha_task 0
  }
  CHECK(kd_records > 0);
  // 3. The paper's L_cos alone (alpha_cos 1, the other terms 0): the student's last hidden states move towards the
  // fine-tuned teacher's, measured here in eval mode on dev sentences as the mean over real tokens of 1 - cos.
  st["output_dir"] = (dir / "student_cos").string();
  st["distill"] = {{"teacher", (dir / "teacher" / "best").string()}, {"alpha_ce", 0.0}, {"alpha_task", 0.0},
                   {"alpha_cos", 1.0}};
  st["trainer"]["epochs"] = 2;
  run_finetune(FinetuneRecipe::from_tree(st, "test"), false);
  auto tok = tokenizer::load_tokenizer(dir / "vocab.txt");
  ModelInputs sentence;
  sentence.input_ids = torch::tensor(tok->encode("the plot was really good acting").ids).unsqueeze(0);
  sentence.attention_mask = torch::ones_like(sentence.input_ids);
  LoadOptions lo;
  lo.verbose = false;
  lo.head = Head::None;
  sentence.output_hidden_states = true;
  auto hidden = [&](const fs::path& folder, size_t index) {  // hidden_states[index]: 0 embeddings, 2 the last
    auto m = load_model_folder(folder.string(), lo).model;
    m->eval();
    torch::NoGradGuard no_grad;
    return m->forward(sentence).hidden_states.at(index).squeeze(0);
  };
  const auto t_last = hidden(dir / "teacher" / "best", 2);
  const double before = (1 - torch::cosine_similarity(hidden(dir / "model", 2), t_last, 1)).mean().item<double>();
  const double after =
      (1 - torch::cosine_similarity(hidden(dir / "student_cos" / "best", 2), t_last, 1)).mean().item<double>();
  INFO("1 - cos to the teacher: fresh student " << before << ", after L_cos " << after);
  CHECK(after < 0.5 * before);
  // 4. A layer pair alone (TinyBERT-style, alpha_layer_mse 1 on student layer 1 against teacher layer 1): the
  // student's first-layer states move towards the teacher's in mean squared error; the last layer is not asked to.
  st["output_dir"] = (dir / "student_layer").string();
  st["distill"] = {{"teacher", (dir / "teacher" / "best").string()}, {"alpha_ce", 0.0}, {"alpha_task", 0.0},
                   {"layer_pairs", {{1, 1}}}, {"alpha_layer_mse", 1.0}};
  run_finetune(FinetuneRecipe::from_tree(st, "test"), false);
  const auto t_first = hidden(dir / "teacher" / "best", 1);
  const double mse_before = (hidden(dir / "model", 1) - t_first).pow(2).mean().item<double>();
  const double mse_after = (hidden(dir / "student_layer" / "best", 1) - t_first).pow(2).mean().item<double>();
  INFO("layer-1 MSE to the teacher: fresh student " << mse_before << ", after the layer term " << mse_after);
  CHECK(mse_after < 0.5 * mse_before);
  // Pairs beyond either model, and pairs without their weight, are refused naming the key.
  st["distill"]["layer_pairs"] = {{3, 1}};
  st["output_dir"] = (dir / "student_bad_pair").string();
  CHECK_THROWS_WITH(run_finetune(FinetuneRecipe::from_tree(st, "test"), false),
                    Contains("distill.layer_pairs: [3, 1]") && Contains("student index 0..2"));
  st["distill"]["alpha_layer_mse"] = 0.0;
  CHECK_THROWS_WITH(FinetuneRecipe::from_tree(st, "test"), Contains("distill.layer_pairs") && Contains("go together"));
  // A teacher without a trained head for the task is refused, naming the folder and what is missing.
  st["distill"] = {{"teacher", (dir / "teacher" / "best").string()}, {"alpha_ce", 1.0}, {"alpha_task", 0.0}};
  st["trainer"]["epochs"] = 6;
  st["output_dir"] = (dir / "student2").string();
  st["distill"]["teacher"] = (dir / "model").string();
  CHECK_THROWS_WITH(run_finetune(FinetuneRecipe::from_tree(st, "test"), false),
                    Contains("has no trained classification head") && Contains((dir / "model").string()));
}

// (No semicolon in a test name: catch_discover_tests would split it into two ctest entries that both fail.)
TEST_CASE("finetune: distill.cache trains as the teacher at every batch, and cache_file is reused, then replaced "
          "when stale or unreadable", "[integration][finetune][teacher_cache]") {
  const auto dir = make_model("kd_cache", kKeywordWords);
  std::mt19937 rng(10);
  write_keyword_task(dir / "train.tsv", 120, rng);
  write_keyword_task(dir / "dev.tsv", 40, rng);
  const json task = {{"name", "custom"}, {"train_file", (dir / "train.tsv").string()},
                     {"dev_file", (dir / "dev.tsv").string()}, {"text_column", "sentence"}, {"max_seq_len", 32}};
  auto t = recipe_for(dir);
  t["task"] = task;
  t["output_dir"] = (dir / "teacher").string();
  t["trainer"]["epochs"] = 2;
  run_finetune(FinetuneRecipe::from_tree(t, "test"), false);
  const std::string teacher = (dir / "teacher" / "best").string();

  // 1. Three epochs with the teacher run at every batch, and with its outputs computed once: the same losses at
  // every logged step, to the rounding of batching the teacher's pass differently: logits that differ by about
  // 1e-6 (fp32 sums in another order) move a KL near 1e-5 (the student soon matches its teacher) by a few 1e-9.
  auto st = recipe_for(dir);
  st["task"] = task;
  st["trainer"]["epochs"] = 3;
  st["distill"] = {{"teacher", teacher}, {"alpha_ce", 0.9}, {"alpha_task", 0.1}, {"cache", false}};
  st["output_dir"] = (dir / "every_batch").string();
  const auto a = run_finetune(FinetuneRecipe::from_tree(st, "test"), false);
  st["distill"]["cache"] = true;
  st["output_dir"] = (dir / "cached").string();
  const auto b = run_finetune(FinetuneRecipe::from_tree(st, "test"), false);
  const auto la = testing::read_jsonl(dir / "every_batch" / "metrics.jsonl");
  const auto lb = testing::read_jsonl(dir / "cached" / "metrics.jsonl");
  REQUIRE(la.size() == lb.size());
  int kd_records = 0;
  for (size_t i = 0; i < la.size(); ++i) {
    if (!la[i].contains("loss_kd")) continue;
    ++kd_records;
    REQUIRE(lb[i].contains("loss_kd"));
    CHECK(lb[i]["loss_kd"].get<double>() == Approx(la[i]["loss_kd"].get<double>()).epsilon(1e-4).margin(1e-7));
    CHECK(lb[i]["loss"].get<double>() == Approx(la[i]["loss"].get<double>()).epsilon(1e-4));
  }
  CHECK(kd_records >= 4);  // 24 steps, a record every 5
  CHECK(b.best_metrics.at("accuracy") == Approx(a.best_metrics.at("accuracy")).margin(1.0 / 40 + 1e-9));

  // 2. cache_file: computed and written by the first run, read by the next (another seed), recomputed when made
  // for other inputs (another batching of the pass) or unreadable; every run ends normally.
  const std::string file = (dir / "cache" / "teacher_outputs.safetensors").string();
  st["distill"]["cache_file"] = file;
  st["trainer"]["epochs"] = 1;
  auto run = [&](const std::string& name) {
    st["output_dir"] = (dir / name).string();
    const auto res = finetune_cli("", write_recipe(dir, name + ".json", st));
    INFO(res.output);
    CHECK(res.exit_code == 0);
    return res.output;
  };
  CHECK_THAT(run("file1"), Contains("teacher outputs for 120 training units computed once") &&
                               Contains("written to '" + file + "'"));
  REQUIRE(fs::exists(file));
  st["seed"] = 6;
  CHECK_THAT(run("file2"), Contains("teacher outputs for 120 training units read from '" + file + "'"));
  st["trainer"]["eval_batch_size"] = 32;
  CHECK_THAT(run("file3"), Contains("was made for another teacher, other training data, batching or precision") &&
                               Contains("computed once"));
  CHECK_THAT(run("file4"), Contains("read from"));
  fs::resize_file(file, 20);
  CHECK_THAT(run("file5"), Contains("teacher cache '" + file + "' cannot be read") && Contains("computed once"));
  CHECK_THAT(run("file6"), Contains("read from"));

  // 3. The hidden-state terms need the teacher's states at every step: a cache file with them is refused.
  st["distill"]["alpha_cos"] = 1.0;
  CHECK_THROWS_WITH(FinetuneRecipe::from_tree(st, "test"), Contains("distill.cache_file") && Contains("alpha_cos"));
  st["distill"].erase("cache_file");
  st["distill"]["cache"] = true;
  CHECK_NOTHROW(FinetuneRecipe::from_tree(st, "test"));  // the default: the teacher runs at every batch then
}
