// The main job end to end (scripts/pipeline.sh --quick: every stage from the built-in data to the report), and the
// download scripts' layout handling on local files (file:// through curl, and plain folders): GLUE zips and
// SentEval's raw MRPC files must come out byte-identical to the published GLUE files in ../shared/data, and a
// fake hub folder must arrive complete and load.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/run_command.h"
#include "test_paths.h"
#include "support/scratch_files.h"

using distilbert::testing::run_command;
using json = nlohmann::json;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

fs::path main_job_dir(const std::string& name) { return distilbert::testing::fresh_dir("main_job_tests", name); }
using distilbert::testing::read_file;

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

}  // namespace

TEST_CASE("main job: the quick pipeline runs every stage and writes a sane report", "[integration][main_job]") {
  const fs::path dir = main_job_dir("pipeline");
  const fs::path run = dir / "run";
  const auto r = run_command("cd " + q(kSource) + " && OMP_WAIT_POLICY=passive scripts/pipeline.sh --quick --bin " +
                             q(DISTILBERT_CLI) + " --out " + q(run) + " --threads 2");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const fs::path rep = run / "report";
  for (const char* f : {"README.md", "summary.json", "pretrain_loss.svg", "distill_losses.svg", "learning_rate.svg",
                        "tokens_per_s.svg", "finetune.svg", "accuracy.svg", "speed.svg", "distillation.svg"}) {
    INFO(f);
    REQUIRE(fs::exists(rep / f));
  }
  for (const char* f : {"pretrain_loss.svg", "distill_losses.svg", "learning_rate.svg", "tokens_per_s.svg",
                        "finetune.svg"})
    CHECK_THAT(read_file(rep / f), Contains("<polyline"));
  CHECK_THAT(read_file(rep / "accuracy.svg"), Contains("class=\"bar\""));
  // Teacher, distilled student and control, each fine-tuned with seeds 1 and 2 (--quick).
  const json s0 = json::parse(read_file(rep / "summary.json"));
  for (const char* m : {"teacher", "student", "control"}) {
    INFO(m);
    const json& d = s0["distillation"][m];
    REQUIRE(d["seeds"].size() == 2);
    CHECK(d["seeds"][0]["seed"] == 1);
    CHECK(d["seeds"][1]["seed"] == 2);
    CHECK(d["min"].get<double>() <= d["mean"].get<double>());
    CHECK(d["mean"].get<double>() <= d["max"].get<double>());
  }
  CHECK(s0["distillation"]["ordering_holds"].is_boolean());
  CHECK_THAT(read_file(rep / "README.md"), Contains("## Does distillation help?"));

  const json s = json::parse(read_file(rep / "summary.json"));
  // Parameter counts computed by hand from configs/demo-*.json (hidden 128, FFN 512, 128 positions) with the
  // vocabulary V the run learned and a 2-label head: BERT embeddings 128 V + 16384 + 256 + 256, 4 layers x 198272,
  // pooler 16512, classifier 258; DistilBERT embeddings 128 V + 16384 + 256, 2 layers x 198272, pre_classifier
  // 16512, classifier 258.
  int64_t vocab = 0;
  {
    std::ifstream in(run / "tokenizer" / "vocab.txt");
    for (std::string line; std::getline(in, line);) ++vocab;
  }
  CHECK(vocab > 300);
  CHECK(vocab <= 1024);
  const int64_t teacher_params = 128 * vocab + 16384 + 512 + 4 * 198272 + 16512 + 258;
  const int64_t student_params = 128 * vocab + 16384 + 256 + 2 * 198272 + 16512 + 258;
  CHECK(s["teacher"]["parameters"].get<int64_t>() == teacher_params);
  CHECK(s["student"]["parameters"].get<int64_t>() == student_params);
  CHECK(s["teacher"]["layers"].get<int>() == 4);
  CHECK(s["student"]["layers"].get<int>() == 2);
  for (const char* m : {"teacher", "student"}) {
    INFO(m);
    const double acc = s[m]["accuracy"].get<double>();
    CHECK(acc >= 0.0);
    CHECK(acc <= 1.0);
    CHECK(s[m]["examples_per_s"].get<double>() > 0);
    CHECK(s[m]["train_seconds"].get<double>() > 0);
    CHECK(s[m]["folder_bytes"].get<double>() >= 4.0 * s[m]["parameters"].get<double>());  // fp32 weights at least
  }
  CHECK(s["majority_baseline"].get<double>() == 0.5);  // the demo dev set is balanced
  for (const char* stage :
       {"data", "train_tokenizer", "binarize", "init_teacher", "pretrain", "init_student", "distill", "distill_control",
        "finetune_teacher", "finetune_student", "finetune_control", "finetune_teacher_seed2", "finetune_student_seed2",
        "finetune_control_seed2", "finetune_control_kd", "finetune_control_kd_seed2", "evaluate_teacher",
        "evaluate_student", "speed_teacher", "speed_student", "export"}) {
    INFO(stage);
    CHECK(s["timings"].contains(stage));
  }
  // The students' fine-tuning: the distilled one and control_kd with the teacher's soft targets, the control without.
  const json& d = s["distillation"];
  CHECK_THAT(d["student"]["finetuning"].get<std::string>(), Contains("soft targets of the fine-tuned teacher"));
  CHECK_THAT(d["control_kd"]["finetuning"].get<std::string>(), Contains("soft targets of the fine-tuned teacher"));
  CHECK(d["control"]["finetuning"] == "12 steps, labels only");
  CHECK(fs::exists(run / "export" / "onnx" / "model.onnx"));
  CHECK(fs::exists(run / "export" / "onnx" / "model_quantized.onnx"));
  const json& onnx = s["onnx_check"];
  REQUIRE(onnx.is_object());
  if (onnx.value("ok", false)) {
    CHECK(onnx["examples"].get<int>() == 40);
    // The same fp32 model in ONNX Runtime: the same predictions as LibTorch, probabilities equal to 1e-4.
    CHECK(onnx["agreement_with_libtorch"].get<double>() == 1.0);
    CHECK(onnx["max_abs_prob_diff"].get<double>() < 1e-4);
    CHECK(onnx["quantized"]["agreement_with_libtorch"].get<double>() >= 0.8);
  } else {
    WARN("SKIPPED: ONNX Runtime check did not run: " << onnx.value("skipped", std::string("?")));
  }
  const std::string md = read_file(rep / "README.md");
  CHECK_THAT(md, Contains("| layers | 4 | 2 | 0.50 |"));
  CHECK_THAT(md, Contains("Majority-class baseline on dev: 50.00%"));

  // A second run into the same folder replaces it; a folder that is not a run folder is refused.
  const fs::path other = dir / "not_a_run";
  fs::create_directories(other);
  std::ofstream(other / "keep.txt") << "x";
  const auto refused = run_command("cd " + q(kSource) + " && scripts/pipeline.sh --quick --bin " + q(DISTILBERT_CLI) +
                                   " --out " + q(other));
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.output, Contains("is not a pipeline run folder"));
  CHECK(fs::exists(other / "keep.txt"));
}

TEST_CASE("main job: download_glue.sh lays out GLUE zips and raw MRPC exactly as published", "[integration][main_job]") {
  const fs::path glue = fs::path(kShared) / "glue";
  if (!fs::exists(glue / "MRPC" / "train.tsv") || !fs::exists(glue / "SST-2" / "train.tsv") ||
      !fs::exists(glue / "RTE" / "train.tsv")) {
    WARN("SKIPPED: real GLUE files missing under " << glue.string());
    return;
  }
  if (run_command("command -v curl && command -v /usr/bin/python3").exit_code != 0) {
    WARN("SKIPPED: curl or /usr/bin/python3 missing");
    return;
  }
  const fs::path dir = main_job_dir("glue");
  const fs::path home = dir / "home", out = dir / "out";
  fs::create_directories(home / "stage");
  // The public home's files, rebuilt from the published task files: <TASK>.zip holding <TASK>/*.tsv, and SentEval's
  // raw MRPC files (train + dev rows in one file with a Quality column, GLUE's dev ids, the test rows).
  for (const std::string t : {"SST-2", "RTE"}) {
    fs::create_directories(home / "stage" / t);
    for (const char* f : {"train.tsv", "dev.tsv", "test.tsv"}) fs::copy_file(glue / t / f, home / "stage" / t / f);
    REQUIRE(run_command("cd " + q(home / "stage") + " && /usr/bin/python3 -m zipfile -c ../" + t + ".zip " + t + "/")
                .exit_code == 0);
  }
  const std::string mrpc = (glue / "MRPC").string();
  REQUIRE(run_command("cd " + q(home) + " && { head -n 1 '" + mrpc + "/train.tsv'; tail -n +2 '" + mrpc +
                      "/train.tsv'; tail -n +2 '" + mrpc + "/dev.tsv'; } > msr_paraphrase_train.txt && tail -n +2 '" +
                      mrpc + "/dev.tsv' | cut -f2,3 > mrpc_dev_ids.tsv && { head -n 1 '" + mrpc +
                      "/train.tsv'; tail -n +2 '" + mrpc +
                      "/test.tsv' | awk -F'\\t' -v OFS='\\t' '{print 1, $2, $3, $4, $5}'; } > msr_paraphrase_test.txt")
              .exit_code == 0);

  const auto r = run_command("cd " + q(kSource) + " && scripts/download_glue.sh --source file://" + home.string() +
                             " --tasks SST-2,MRPC,RTE --output " + q(out));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("[download_glue] MRPC -> dev 408 test 1725 train 3668 rows"));
  for (const std::string t : {"SST-2", "MRPC", "RTE"})
    for (const char* f : {"train.tsv", "dev.tsv", "test.tsv"}) {
      INFO(t << "/" << f);
      CHECK(read_file(out / t / f) == read_file(glue / t / f));
    }
  // A plain folder as the source works the same way.
  const auto r2 = run_command("cd " + q(kSource) + " && scripts/download_glue.sh --source " + q(home) +
                              " --tasks RTE --output " + q(dir / "out2"));
  CHECK(r2.exit_code == 0);
  CHECK(read_file(dir / "out2" / "RTE" / "dev.tsv") == read_file(glue / "RTE" / "dev.tsv"));
  // A task the source lacks names what was fetched; an unknown task name lists the valid ones; a wrong layout is
  // named with the expected header.
  const auto missing = run_command("cd " + q(kSource) + " && scripts/download_glue.sh --source file://" + home.string() +
                                   " --tasks CoLA --output " + q(dir / "out3"));
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.output, Contains("cannot fetch 'file://" + home.string() + "/CoLA.zip'"));
  const auto unknown = run_command("cd " + q(kSource) + " && scripts/download_glue.sh --tasks SST2 --output " +
                                   q(dir / "out3"));
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.output, Contains("unknown GLUE task 'SST2'"));
  fs::remove_all(home / "stage" / "RTE");
  fs::create_directories(home / "stage" / "RTE");
  std::ofstream(home / "stage" / "RTE" / "train.tsv") << "sentence\tlabel\nx\t1\n";
  std::ofstream(home / "stage" / "RTE" / "dev.tsv") << "sentence\tlabel\nx\t1\n";
  fs::remove(home / "RTE.zip");
  REQUIRE(run_command("cd " + q(home / "stage") + " && /usr/bin/python3 -m zipfile -c ../RTE.zip RTE/").exit_code == 0);
  const auto wrong = run_command("cd " + q(kSource) + " && scripts/download_glue.sh --source " + q(home) +
                                 " --tasks RTE --output " + q(dir / "out4"));
  CHECK(wrong.exit_code != 0);
  CHECK_THAT(wrong.output, Contains("header expected to start with 'index|sentence1|sentence2|label'"));
  CHECK_FALSE(fs::exists(dir / "out4" / "RTE"));  // nothing half-written under the final name
}

TEST_CASE("main job: download_model.sh fetches a hub folder (file:// endpoint) that loads", "[integration][main_job]") {
  const fs::path vocab = fs::path(kShared) / "bert-base-uncased";
  if (!fs::exists(vocab / "vocab.txt")) {
    WARN("SKIPPED: " << vocab.string() << "/vocab.txt missing");
    return;
  }
  if (run_command("command -v curl").exit_code != 0) {
    WARN("SKIPPED: curl missing");
    return;
  }
  const fs::path dir = main_job_dir("model");
  // A hub with <name>/resolve/main/<file>: a tiny BERT with the real vocabulary.
  const fs::path files = dir / "hub" / "bert-base-uncased" / "resolve" / "main";
  REQUIRE(run_command(q(DISTILBERT_CLI) + " init --config " + q(fs::path(kSource) / "configs/tiny-bert.json") +
                      " --head mlm --tokenizer " + q(vocab) + " --output " + q(files))
              .exit_code == 0);
  const fs::path out = dir / "checkpoints" / "bert-base-uncased";
  auto download = [&](const std::string& extra) {
    return run_command("cd " + q(kSource) + " && HF_ENDPOINT=file://" + (dir / "hub").string() + " BIN=" +
                       q(DISTILBERT_CLI) + " scripts/download_model.sh bert-base-uncased --output " + q(out) + extra);
  };
  auto r = download("");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("BertForMaskedLM"));  // `distilbert info` loaded it
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(files)) {
    INFO(e.path().filename().string());
    CHECK(read_file(out / e.path().filename()) == read_file(e.path()));
    ++n;
  }
  CHECK(n >= 3);
  CHECK_FALSE(fs::exists(out.string() + ".partial"));

  // Sharded weights: model.safetensors.index.json and its shard.
  fs::rename(files / "model.safetensors", files / "model-00001-of-00001.safetensors");
  std::ofstream(files / "model.safetensors.index.json")
      << R"({"metadata": {}, "weight_map": {"bert.embeddings.word_embeddings.weight": "model-00001-of-00001.safetensors"}})";
  r = download("");
  CHECK(r.exit_code == 0);
  CHECK(fs::exists(out / "model-00001-of-00001.safetensors"));
  CHECK_FALSE(fs::exists(out / "model.safetensors"));

  // No weights at all: an error naming the files expected; the earlier download stays as it was.
  fs::remove(files / "model-00001-of-00001.safetensors");
  fs::remove(files / "model.safetensors.index.json");
  r = download("");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Contains("no weights: expected model.safetensors, model.safetensors.index.json or pytorch_model.bin"));
  CHECK(fs::exists(out / "model-00001-of-00001.safetensors"));
  // An unknown model: config.json is missing.
  const auto none = run_command("cd " + q(kSource) + " && HF_ENDPOINT=file://" + (dir / "hub").string() +
                                " scripts/download_model.sh no-such-model --output " + q(dir / "x"));
  CHECK(none.exit_code != 0);
  CHECK_THAT(none.output, Contains("no-such-model/resolve/main/config.json: not found"));
}
