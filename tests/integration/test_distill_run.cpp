// The distiller end to end on tiny models (the golden 2-layer, 32-wide teacher and student with a 128-token
// character vocabulary) and real text: a run that logs and saves, exact resume from a checkpoint, fallback past a
// corrupt checkpoint, MLM pretraining that learns, bf16 autocast, and the shipped recipes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "distilbert/config/tree.h"
#include "distilbert/core/cpu_caps.h"
#include "distilbert/core/error.h"
#include "distilbert/data/token_store.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/train/checkpoint.h"
#include "distilbert/train/distiller.h"
#include "distilbert/train/optim.h"
#include "support/char_vocab.h"
#include "support/tensorboard_check.h"
#include "test_paths.h"

using namespace distilbert;
using json = nlohmann::json;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

using testing::write_char_vocab;

// A workspace with teacher, student (copies of the golden folders plus the char tokenizer) and a token store.
struct Workspace {
  fs::path dir;
  std::string teacher, student, data;
  bool ok = false;
};

Workspace make_workspace(const std::string& name, size_t lines = 400) {
  Workspace w;
  const fs::path text = fs::path(DISTILBERT_SHARED_DATA) / "text/wikitext-2/valid.txt";
  if (!fs::exists(text)) return w;
  w.dir = fs::temp_directory_path() / "distilbert_distill_tests" / name;
  fs::remove_all(w.dir);
  fs::create_directories(w.dir);
  write_char_vocab(w.dir / "vocab.txt");
  auto tok = tokenizer::load_tokenizer(w.dir / "vocab.txt");
  for (const auto& [role, golden] : {std::pair<std::string, std::string>{"teacher", "bert_mlm"}, {"student", "distilbert_mlm"}}) {
    fs::create_directories(w.dir / role);
    for (const char* f : {"config.json", "model.safetensors"})
      fs::copy_file(fs::path(kSource) / "tests/data/golden" / golden / f, w.dir / role / f);
    tok->save_pretrained(w.dir / role);
  }
  // The first `lines` lines of WikiText-2 validation.
  {
    std::ifstream in(text);
    std::ofstream out(w.dir / "text.txt");
    std::string line;
    for (size_t i = 0; i < lines && std::getline(in, line); ++i) out << line << "\n";
  }
  data::BinarizeOptions bo;
  bo.inputs = {(w.dir / "text.txt").string()};
  bo.output_prefix = (w.dir / "corpus").string();
  bo.progress = false;
  bo.threads = 1;
  data::binarize(*tok, bo);
  w.teacher = (w.dir / "teacher").string();
  w.student = (w.dir / "student").string();
  w.data = (w.dir / "corpus").string();
  w.ok = true;
  return w;
}

json base_recipe(const Workspace& w, const std::string& out) {
  json r = json::parse(R"({
    "seed": 3, "threads": 1, "device": "cpu", "precision": "fp32",
    "data": {"max_seq_len": 64, "batch_size": 6, "batching": "grouped", "prefetch": 2},
    "loss": {"temperature": 2.0, "alpha_ce": 5.0, "alpha_mlm": 2.0, "alpha_cos": 1.0},
    "optimizer": {"lr": 1e-3},
    "trainer": {"max_steps": 8, "grad_accum_steps": 2, "warmup_prop": 0.25, "log_every": 1, "save_every": 4,
                "keep_last": 5, "resume": "auto", "progress": false}
  })");
  r.merge_patch(json{{"output_dir", out}, {"teacher", {{"model", w.teacher}}}, {"student", {{"model", w.student}}},
                     {"data", {{"train", w.data}}}});
  return r;
}

std::vector<json> read_metrics(const fs::path& run) {
  std::vector<json> out;
  std::ifstream in(run / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("distill: a tiny run logs every term, saves checkpoints and a final HF folder", "[integration][distill_run]") {
  auto w = make_workspace("basic");
  if (!w.ok) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  const auto out = w.dir / "run";
  auto recipe = DistillRecipe::from_tree(base_recipe(w, out.string()), "test", "distill");
  auto s = run_distillation(recipe, false);
  CHECK(s.steps == 8);
  CHECK(s.micro_steps == 16);
  CHECK_FALSE(s.interrupted);
  const auto m = read_metrics(out);
  REQUIRE(m.size() == 8);
  for (const auto& r : m) {
    for (const char* k : {"loss", "loss_ce", "loss_mlm", "loss_cos", "lr", "grad_norm", "tokens_per_s"}) {
      INFO(k);
      REQUIRE(r.contains(k));
      CHECK(std::isfinite(r[k].get<double>()));
    }
    // total = 5 ce + 2 mlm + 1 cos, averaged over the same micro-batches.
    CHECK(r["loss"].get<double>() ==
          Approx(5 * r["loss_ce"].get<double>() + 2 * r["loss_mlm"].get<double>() + r["loss_cos"].get<double>())
              .epsilon(1e-6));
  }
  CHECK(m[0]["lr"].get<double>() == 0.0);  // warm-up: step 0 uses lr 0 (2 warm-up steps of 8)
  CHECK(m[1]["lr"].get<double>() == Approx(5e-4));
  CHECK(m[2]["lr"].get<double>() == Approx(1e-3));
  auto cps = list_checkpoints(out.string());
  REQUIRE(cps.size() == 2);  // step 4 and the final step 8
  CHECK(fs::path(cps.back()).filename() == "step-00000008");
  CHECK(fs::exists(out / "recipe.json"));
  CHECK_FALSE(fs::is_empty(out / "tensorboard"));
  testing::check_tensorboard_matches_metrics(out, m);
  LoadOptions lo;
  lo.verbose = false;
  auto final_model = load_model_folder((out / "final").string(), lo);
  CHECK(final_model.model->architecture() == "DistilBertForMaskedLM");
  CHECK(tokenizer::has_tokenizer(out / "final"));
  // The student moved; the teacher folder is untouched.
  auto before = read_weights(w.student), after = read_weights((out / "final").string());
  CHECK_FALSE(torch::equal(before[0].second, after[0].second));
  // A second launch of the same finished run does nothing more and keeps the output.
  auto again = run_distillation(recipe, false);
  CHECK(again.steps == 8);
  CHECK(read_metrics(out).size() == 8);
}

TEST_CASE("distill: a teacher without an MLM head distils its hidden states alone, and soft targets from it are refused",
          "[integration][distill_run]") {
  auto w = make_workspace("headless");
  if (!w.ok) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  // The golden BERT as a base model (a sentence encoder has no MLM head either), with the tokenizer beside it.
  LoadOptions lo;
  lo.verbose = false;
  lo.head = Head::None;
  const auto encoder = (w.dir / "encoder").string();
  save_model_folder(*load_model_folder(w.teacher, lo).model, encoder);
  tokenizer::load_tokenizer(w.dir / "vocab.txt")->save_pretrained(encoder);
  json tree = base_recipe(w, (w.dir / "run").string());
  tree["teacher"]["model"] = encoder;
  // Soft targets need the teacher's vocabulary projection: refused before any step, naming the teacher and the key.
  CHECK_THROWS_WITH(run_distillation(DistillRecipe::from_tree(tree, "test", "distill"), false),
                    Contains(encoder) && Contains("BertModel without an MLM head") && Contains("alpha_ce"));
  tree["loss"] = {{"alpha_ce", 0.0}, {"alpha_mlm", 0.0}, {"alpha_cos", 1.0}};
  tree["trainer"]["max_steps"] = 30;
  tree["optimizer"]["lr"] = 3e-3;
  tree["trainer"]["grad_accum_steps"] = 1;
  tree["trainer"]["save_every"] = 0;
  const auto s = run_distillation(DistillRecipe::from_tree(tree, "test", "distill"), false);
  CHECK(s.steps == 30);
  const auto m = read_metrics(w.dir / "run");
  REQUIRE(m.size() == 30);
  for (const auto& r : m) {
    CHECK_FALSE(r.contains("loss_ce"));
    CHECK_FALSE(r.contains("loss_mlm"));
    CHECK(r["loss"].get<double>() == Approx(r["loss_cos"].get<double>()));
  }
  // The student's last hidden states moved towards the teacher's, measured here on text the run saw, in eval mode:
  // mean over real tokens of 1 - cos, before and after.
  auto tok = tokenizer::load_tokenizer(w.dir / "vocab.txt");
  const auto ids = tok->encode("The game 's opening theme was composed by Hitoshi Sakimoto .").ids;
  ModelInputs in;
  in.input_ids = torch::tensor(ids).unsqueeze(0);
  in.attention_mask = torch::ones_like(in.input_ids);
  auto last = [&](const std::string& dir) {
    auto model = load_model_folder(dir, lo).model;
    model->eval();
    torch::NoGradGuard no_grad;
    return model->forward(in).last_hidden_state.squeeze(0);
  };
  const auto t = last(encoder);
  const double before = (1 - torch::cosine_similarity(last(w.student), t, 1)).mean().item<double>();
  const double after = (1 - torch::cosine_similarity(last((w.dir / "run" / "final").string()), t, 1)).mean().item<double>();
  INFO("1 - cos before " << before << ", after " << after);
  CHECK(after < 0.5 * before);
}

TEST_CASE("distill: trainer.profile_steps writes a Chrome trace and an operator table of those steps",
          "[integration][distill_run][profile]") {
  auto w = make_workspace("profile", 100);
  if (!w.ok) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  const auto out = w.dir / "run";
  auto r = base_recipe(w, out.string());
  r["trainer"]["max_steps"] = 4;
  r["trainer"]["save_every"] = 0;
  r["trainer"]["profile_steps"] = 2;
  run_distillation(DistillRecipe::from_tree(r, "test", "distill"), false);
  REQUIRE(fs::exists(out / "profile.json"));
  std::ifstream txt(out / "profile.txt");
  const std::string table((std::istreambuf_iterator<char>(txt)), std::istreambuf_iterator<char>());
  INFO(table);
  CHECK(table.rfind("optimizer steps 1 to 2", 0) == 0);  // profile_start 1 skips the warm-up step
  CHECK_THAT(table, Contains("aten::"));
  const auto trace = json::parse(std::ifstream(out / "profile.json"));
  REQUIRE(trace.is_array());
  bool saw_backward = false;
  for (const auto& e : trace)
    if (e.value("name", "").find("Backward") != std::string::npos) saw_backward = true;
  CHECK(saw_backward);
  r["trainer"]["profile_steps"] = -1;
  CHECK_THROWS_WITH(DistillRecipe::from_tree(r, "test", "distill"), Contains("profile_steps"));
}

TEST_CASE("distill: resuming from a checkpoint reproduces the uninterrupted losses exactly", "[integration][distill_run]") {
  auto w = make_workspace("resume");
  if (!w.ok) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  const auto full = w.dir / "full";
  run_distillation(DistillRecipe::from_tree(base_recipe(w, full.string()), "test", "distill"), false);
  const auto reference = read_metrics(full);
  REQUIRE(reference.size() == 8);

  // The same run cut at step 4: copy the folder as it was after the step-4 checkpoint, then resume.
  const auto cut = w.dir / "cut";
  fs::create_directories(cut / "checkpoints");
  fs::copy(full / "checkpoints" / "step-00000004", cut / "checkpoints" / "step-00000004", fs::copy_options::recursive);
  fs::copy_file(full / "recipe.json", cut / "recipe.json");
  {
    std::ofstream m(cut / "metrics.jsonl");
    for (size_t i = 0; i < 4; ++i) m << reference[i].dump() << "\n";
  }
  auto s = run_distillation(DistillRecipe::from_tree(base_recipe(w, cut.string()), "test", "distill"), false);
  CHECK(s.steps == 8);
  const auto resumed = read_metrics(cut);
  REQUIRE(resumed.size() == 8);
  for (size_t i = 4; i < 8; ++i) {
    INFO("step " << i + 1);
    for (const char* k : {"loss", "loss_ce", "loss_mlm", "loss_cos", "grad_norm", "lr"})
      CHECK(resumed[i][k].get<double>() == reference[i][k].get<double>());  // bitwise: same ops, same order, 1 thread
  }
  auto a = read_weights((full / "final").string()), b = read_weights((cut / "final").string());
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i].second, b[i].second));
}

TEST_CASE("distill: a corrupt newest checkpoint is skipped with a warning, the previous one is used",
          "[integration][distill_run]") {
  auto w = make_workspace("corrupt");
  if (!w.ok) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  const auto out = w.dir / "run";
  auto tree = base_recipe(w, out.string());
  tree["trainer"]["max_steps"] = 8;
  run_distillation(DistillRecipe::from_tree(tree, "test", "distill"), false);
  // Damage the newest checkpoint (step 8): truncate its weights.
  const auto newest = fs::path(list_checkpoints(out.string()).back());
  fs::resize_file(newest / "model.safetensors", 100);
  auto model = load_model_folder(w.student, LoadOptions{}).model;
  auto opt = build_adamw(*model, AdamWSettings{});
  std::string used;
  auto state = resume_from("auto", out.string(), *model, *opt, &used);
  REQUIRE(state.has_value());
  CHECK(fs::path(used).filename() == "step-00000004");
  CHECK((*state)["step"] == 4);
  // An explicit checkpoint that is corrupt is an error naming it.
  CHECK_THROWS_WITH(resume_from(newest.string(), out.string(), *model, *opt), Contains(newest.string()));
}

TEST_CASE("pretrain: MLM alone lowers the loss, bf16 autocast runs with fp32 master weights",
          "[integration][distill_run]") {
  auto w = make_workspace("pretrain");
  if (!w.ok) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  auto tree = json::parse(R"({"seed": 1, "threads": 1,
      "data": {"max_seq_len": 64, "batch_size": 8, "mlm": {"smoothing": 0.0}},
      "loss": {"alpha_mlm": 1.0}, "optimizer": {"lr": 3e-3, "max_grad_norm": 1.0},
      "trainer": {"max_steps": 40, "grad_accum_steps": 1, "warmup_prop": 0.05, "log_every": 1, "save_every": 0,
                  "progress": false, "tensorboard": false}})");
  tree["model"] = {{"model", w.student}};
  tree["data"]["train"] = w.data;
  tree["output_dir"] = (w.dir / "fp32").string();
  run_distillation(DistillRecipe::from_tree(tree, "test", "pretrain"), false);
  const auto m = read_metrics(w.dir / "fp32");
  REQUIRE(m.size() == 40);
  double first = 0, last = 0;
  for (size_t i = 0; i < 5; ++i) first += m[i]["loss_mlm"].get<double>() / 5;
  for (size_t i = 35; i < 40; ++i) last += m[i]["loss_mlm"].get<double>() / 5;
  INFO("mean MLM loss, first 5 steps " << first << ", last 5 steps " << last);
  CHECK(last < first - 0.5);

  if (!cpu_bf16_is_fast()) {  // resolve_precision runs bf16 as fp32 here (test_precision_resolve.cpp)
    WARN("SKIPPED: bf16 part: this CPU has no fast bf16 matrix products (" << cpu_summary() << ")");
    return;
  }
  tree["precision"] = "bf16";
  tree["trainer"]["max_steps"] = 4;
  tree["output_dir"] = (w.dir / "bf16").string();
  run_distillation(DistillRecipe::from_tree(tree, "test", "pretrain"), false);
  const auto b = read_metrics(w.dir / "bf16");
  REQUIRE(b.size() == 4);
  // Same data and masks: the first bf16 loss is within bf16 rounding of the fp32 one.
  CHECK(b[0]["loss_mlm"].get<double>() == Approx(m[0]["loss_mlm"].get<double>()).epsilon(0.02));
  auto saved = read_weights((w.dir / "bf16" / "final").string());
  CHECK(saved[0].second.scalar_type() == torch::kFloat32);  // master weights stay fp32
}

TEST_CASE("distill: refuses to write into a folder that is not its own", "[integration][distill_run]") {
  auto w = make_workspace("refuse", 50);
  if (!w.ok) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  const auto out = w.dir / "occupied";
  fs::create_directories(out);
  std::ofstream(out / "notes.txt") << "keep me";
  CHECK_THROWS_WITH(run_distillation(DistillRecipe::from_tree(base_recipe(w, out.string()), "test", "distill"), false),
                    Contains("--overwrite"));
  CHECK(fs::exists(out / "notes.txt"));
}

TEST_CASE("every shipped recipe parses and validates", "[integration][recipe]") {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(kSource) / "recipes")) {
    if (e.path().extension() != ".yaml" && e.path().extension() != ".json") continue;
    const std::string family = e.path().parent_path().filename().string();
    if (family != "distill" && family != "pretrain") continue;
    INFO(e.path().string());
    CHECK_NOTHROW(DistillRecipe::load(e.path().string(), {}, family));
    ++n;
  }
  CHECK(n >= 3);
}

TEST_CASE("distill/pretrain: held-out evaluation on data.valid with fixed masks", "[integration][distill_run]") {
  auto w = make_workspace("heldout");
  if (!w.ok) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  auto evals_of = [](const fs::path& run) {
    std::vector<json> out;
    for (const auto& r : read_metrics(run))
      if (r["split"] == "eval") out.push_back(r);
    return out;
  };
  // Pretraining: the student's held-out MLM loss falls as it trains.
  auto tree = json::parse(R"({"seed": 1, "threads": 1,
      "data": {"max_seq_len": 64, "batch_size": 8, "mlm": {"smoothing": 0.0}},
      "loss": {"alpha_mlm": 1.0}, "optimizer": {"lr": 3e-3, "max_grad_norm": 1.0},
      "trainer": {"max_steps": 40, "grad_accum_steps": 1, "warmup_prop": 0.05, "log_every": 10, "save_every": 0,
                  "eval_every": 20, "eval_batches": 4, "progress": false, "tensorboard": false}})");
  tree["model"] = {{"model", w.student}};
  tree["data"]["train"] = w.data;
  tree["data"]["valid"] = w.data;
  tree["output_dir"] = (w.dir / "pretrain").string();
  auto s = run_distillation(DistillRecipe::from_tree(tree, "test", "pretrain"), false);
  auto e = evals_of(w.dir / "pretrain");
  REQUIRE(e.size() == 2);  // steps 20 and 40 (the end of the run is not evaluated twice)
  CHECK(e[0]["step"] == 20);
  CHECK(e[1]["step"] == 40);
  for (const auto& r : e) {
    CHECK(r["perplexity"].get<double>() == Approx(std::exp(r["mlm_loss"].get<double>())));
    CHECK(r["accuracy"].get<double>() >= 0.0);
    CHECK(r["accuracy"].get<double>() <= 1.0);
    CHECK_FALSE(r.contains("teacher_agreement"));
  }
  CHECK(e[0]["targets"] == e[1]["targets"]);  // the same masked tokens each time
  CHECK(e[0]["targets"].get<double>() > 50);
  CHECK(e[1]["mlm_loss"].get<double>() < e[0]["mlm_loss"].get<double>());
  CHECK(s.eval["mlm_loss"] == e[1]["mlm_loss"]);

  // Distillation: teacher metrics too; the frozen teacher scores the fixed targets identically every time.
  auto d = base_recipe(w, (w.dir / "distill").string());
  d["data"]["valid"] = w.data;
  d["trainer"]["eval_every"] = 4;
  d["trainer"]["eval_batches"] = 3;
  run_distillation(DistillRecipe::from_tree(d, "test", "distill"), false);
  e = evals_of(w.dir / "distill");
  REQUIRE(e.size() == 2);
  CHECK(e[0]["teacher_mlm_loss"].get<double>() == e[1]["teacher_mlm_loss"].get<double>());
  for (const auto& r : e) {
    CHECK(r["teacher_agreement"].get<double>() >= 0.0);
    CHECK(r["teacher_agreement"].get<double>() <= 1.0);
    CHECK(r["teacher_kl"].get<double>() >= 0.0);
  }
}
