// Student initialisation against scripts/distill_reference.py's init_student_from_teacher
// (docs/DISTILLATION.md §4), and the shape checks that refuse a student wider or narrower than its teacher.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/train/student_init.h"
#include "support/tensor_match.h"
#include "test_paths.h"

using namespace distilbert;
using Catch::Matchers::Contains;

namespace {
std::string data(const std::string& p) { return std::string(DISTILBERT_SOURCE_DIR) + "/tests/data/" + p; }
}  // namespace

TEST_CASE("init-student copies the reference's tensors for any layer list", "[unit][student_init]") {
  const auto io = load_safetensors(data("golden_distill/case_init_student.safetensors"));
  const auto meta = nlohmann::json::parse(std::ifstream(data("golden_distill/case_init_student.json")));
  const auto teacher = read_weights(data("golden/bert_mlm"));
  const auto tc = ModelConfig::load(data("golden/bert_mlm/config.json"));
  for (const std::string prefix : {"two_layer", "one_layer"}) {
    INFO(prefix);
    const auto& s = meta["students"][prefix];
    const auto sc = ModelConfig::from_json(s["student_config"], prefix);
    const auto init = init_student_from_teacher(teacher, tc, sc, s["layers"].get<std::vector<int64_t>>(),
                                                s["vocab_transform"].get<bool>());
    std::set<std::string> produced;
    for (const auto& [k, t] : init.weights) {
      produced.insert(k);
      REQUIRE(io.contains(prefix + "." + k));
      CHECK_TENSOR_CLOSE(k, t, io.at(prefix + "." + k), 0.0, 0.0);
    }
    // The reference also writes the tied vocab_projector.weight; ours is the word embedding tensor itself.
    for (const auto& [k, t] : io.tensors)
      if (k.rfind(prefix + ".", 0) == 0 && k != prefix + ".vocab_projector.weight")
        CHECK(produced.count(k.substr(prefix.size() + 1)) == 1);
    CHECK(std::set<std::string>(init.not_copied.begin(), init.not_copied.end()) ==
          s["omitted_keys"].get<std::set<std::string>>());
    // Loads into a student model as a strict state dict (only the omitted head weights stay fresh).
    auto student = build_model(sc, Head::MaskedLM);
    auto report = load_state_dict(*student, init.weights, "init", true);
    CHECK(report.newly_initialized.size() == init.not_copied.size());
  }
}

TEST_CASE("init-student refuses students that do not fit the teacher", "[unit][student_init]") {
  const auto teacher = read_weights(data("golden/bert_mlm"));
  const auto tc = ModelConfig::load(data("golden/bert_mlm/config.json"));
  auto sc = ModelConfig::load(data("golden/distilbert_mlm/config.json"));
  CHECK_THROWS_WITH(init_student_from_teacher(teacher, tc, sc, {0, 5}, false),
                    Contains("teacher layer 5 does not exist"));
  CHECK_THROWS_WITH(init_student_from_teacher(teacher, tc, sc, {0}, false), Contains("n_layers = 2"));
  auto wide = sc;
  wide.hidden_size = 64;
  CHECK_THROWS_WITH(init_student_from_teacher(teacher, tc, wide, {0, 1}, false),
                    Contains("hidden size") && Contains("64") && Contains("32"));
  CHECK_THROWS_WITH(init_student_from_teacher(teacher, sc, sc, {0, 1}, false), Contains("must be a BERT"));
}
