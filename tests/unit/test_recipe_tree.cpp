// Recipe trees: YAML typing, overrides with type checks, strict unknown-key errors, validation messages.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "distilbert/config/tree.h"
#include "distilbert/core/error.h"
#include "distilbert/train/distill_recipe.h"

using namespace distilbert;
using Catch::Matchers::Contains;
using json = nlohmann::json;

namespace {
std::string write_temp(const std::string& name, const std::string& text) {
  auto dir = std::filesystem::temp_directory_path() / "distilbert_tests";
  std::filesystem::create_directories(dir);
  auto p = (dir / name).string();
  std::ofstream(p) << text;
  return p;
}
const char* kRecipe = R"(# test recipe
output_dir: runs/x
seed: 7
teacher: {model: t}
student:
  model: s
data:
  train: corpus
  batch_size: 8
  mlm: {smoothing: 0.7}
loss:
  temperature: 2.0
  alpha_ce: 5
  alpha_mlm: 2.0
  alpha_cos: 1.0
optimizer: {lr: 5.0e-4, betas: [0.9, 0.98]}
trainer:
  grad_accum_steps: 50
  resume: auto
)";
}  // namespace

TEST_CASE("YAML scalars are typed as YAML 1.2 core", "[unit][recipe]") {
  CHECK(parse_scalar("3") == json(3));
  CHECK(parse_scalar("1e-4").get<double>() == Approx(1e-4));
  CHECK(parse_scalar("5.0e-4").get<double>() == Approx(5e-4));
  CHECK(parse_scalar("true") == json(true));
  CHECK(parse_scalar("null").is_null());
  CHECK(parse_scalar("cpu") == json("cpu"));
  CHECK(parse_scalar("'3'") == json("3"));
  CHECK(parse_scalar("[1, 2]") == json({1, 2}));
  auto tree = load_tree(write_temp("typed.yaml", "a: 1\nb: 1.5\nc: '1'\nd: yes_string\ne: [0, 2]\n"));
  CHECK(tree["a"].is_number_integer());
  CHECK(tree["b"].is_number_float());
  CHECK(tree["c"].is_string());
  CHECK(tree["e"] == json({0, 2}));
}

TEST_CASE("recipes parse into typed structs with reference defaults", "[unit][recipe]") {
  auto r = DistillRecipe::load(write_temp("r.yaml", kRecipe), {"trainer.grad_accum_steps=4", "loss.temperature=3"},
                               "distill");
  CHECK(r.seed == 7);
  CHECK(r.teacher == "t");
  CHECK(r.data.batch_size == 8);
  CHECK(r.loss.alpha_ce == 5.0);
  CHECK(r.loss.temperature == 3.0);
  CHECK(r.trainer.grad_accum_steps == 4);
  CHECK(r.optimizer.beta2 == 0.98);
  CHECK(r.optimizer.eps == 1e-6);          // reference default
  CHECK(r.optimizer.max_grad_norm == 5.0);  // reference default
  CHECK(r.data.max_seq_len == 512);
  CHECK(r.resolved["trainer"]["grad_accum_steps"] == 4);
}

TEST_CASE("recipe errors name the file, the dotted key and the valid keys", "[unit][recipe]") {
  const auto path = write_temp("bad.yaml", kRecipe);
  CHECK_THROWS_WITH(DistillRecipe::load(path, {"loss.alpha_kl=1"}, "distill"),
                    Contains("unknown key 'loss.alpha_kl'") && Contains("alpha_ce"));
  CHECK_THROWS_WITH(DistillRecipe::load(path, {"seed=1.5"}, "distill"), Contains("'seed' is an integer"));
  CHECK_THROWS_WITH(DistillRecipe::load(path, {"data.batch_size=big"}, "distill"),
                    Contains("data.batch_size") && Contains("integer") && Contains("string"));
  CHECK_THROWS_WITH(DistillRecipe::load(path, {"data.batch_size=1.5"}, "distill"), Contains("data.batch_size"));
  CHECK_THROWS_WITH(DistillRecipe::load(path, {"loss.temperature=-1"}, "distill"),
                    Contains(path) && Contains("loss.temperature") && Contains("> 0"));
  CHECK_THROWS_WITH(DistillRecipe::load(write_temp("unk.yaml", std::string(kRecipe) + "trainer2: {}\n"), {}, "distill"),
                    Contains("unknown key 'trainer2'") && Contains("optimizer"));
  CHECK_THROWS_WITH(
      DistillRecipe::load(write_temp("unk2.yaml", std::string(kRecipe) + "extra_top: 1\n"), {}, "distill"),
      Contains("extra_top"));
  CHECK_THROWS_WITH(DistillRecipe::load(write_temp("bad_yaml.yaml", "a: [1, 2\n"), {}, "distill"),
                    Contains("not valid YAML") && Contains("line"));
  CHECK_THROWS_WITH(DistillRecipe::load(path, {"data.mlm.word_keep=0.5"}, "distill"), Contains("must be 1"));
  CHECK_THROWS_WITH(DistillRecipe::load(path, {}, "pretrain"), Contains("model"));
}

TEST_CASE("recipe trees refuse what recipe.json could not hold: invalid UTF-8, non-finite numbers", "[unit][recipe]") {
  const auto dir = std::filesystem::temp_directory_path() / "distilbert_recipe_values";
  std::filesystem::create_directories(dir);
  auto write = [&](const char* name, const std::string& text) {
    std::ofstream((dir / name).string(), std::ios::binary) << text;
    return (dir / name).string();
  };
  CHECK_THROWS_WITH(load_tree(write("latin1.yaml", "trainer:\n  resume: caf\xe9\n")),
                    Contains("key 'trainer.resume'") && Contains("not valid UTF-8"));
  CHECK_THROWS_WITH(load_tree(write("huge.yaml", "optimizer:\n  lr: 1e999\n")),
                    Contains("key 'optimizer.lr'") && Contains("finite"));
  CHECK_THROWS_WITH(load_tree(write("inf.yaml", "optimizer:\n  max_grad_norm: .inf\n")), Contains("finite"));
  CHECK_THROWS_WITH(load_tree(write("huge.json", "{\"seed\": 1e99999}")), Contains("not valid JSON"));
  json tree = json::object();
  CHECK_THROWS_WITH(apply_overrides(tree, {"trainer.resume=caf\xe9"}, "x"), Contains("not valid UTF-8"));
  CHECK(load_tree(write("ok.yaml", "trainer:\n  resume: café\n"))["trainer"]["resume"] == "café");
}
