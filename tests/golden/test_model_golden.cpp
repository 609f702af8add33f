// Golden tests: every model and head against the Python reference (scripts/reference_model.py, written from
// docs/MODELS.md; files made by scripts/make_golden.py). Forward outputs, every hidden state and attention map, the
// loss, and the gradient of every parameter, compared by HF key name.
#include <catch2/catch.hpp>

#include <filesystem>

#include <torch/torch.h>

#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "support/golden_check.h"
#include "support/tensor_match.h"
#include "test_paths.h"

using namespace distilbert;

namespace {

std::string golden_dir(const std::string& name) { return std::string(DISTILBERT_SOURCE_DIR) + "/tests/data/golden/" + name; }

void check_case(const std::string& name) {
  INFO("golden case " << name);
  testing::check_golden_folder(golden_dir(name));
}

}  // namespace

TEST_CASE("golden: BertForMaskedLM", "[golden]") { check_case("bert_mlm"); }
TEST_CASE("golden: BertForSequenceClassification", "[golden]") { check_case("bert_seqcls"); }
TEST_CASE("golden: DistilBertForMaskedLM", "[golden]") { check_case("distilbert_mlm"); }
TEST_CASE("golden: DistilBertForSequenceClassification single-label", "[golden]") {
  check_case("distilbert_seqcls_single");
}
TEST_CASE("golden: DistilBertForSequenceClassification regression", "[golden]") {
  check_case("distilbert_seqcls_regression");
}
TEST_CASE("golden: DistilBertForSequenceClassification multi-label", "[golden]") {
  check_case("distilbert_seqcls_multilabel");
}
TEST_CASE("golden: DistilBertForTokenClassification", "[golden]") { check_case("distilbert_tokcls"); }
TEST_CASE("golden: DistilBertForQuestionAnswering (positions clamped)", "[golden]") { check_case("distilbert_qa"); }
TEST_CASE("golden: DistilBertForMultipleChoice", "[golden]") { check_case("distilbert_mc"); }
TEST_CASE("golden: DistilBERT with sinusoidal position embeddings", "[golden]") {
  check_case("distilbert_sinusoidal");
}

TEST_CASE("sinusoidal table matches the reference formula and stays frozen", "[golden]") {
  const auto io = load_safetensors(golden_dir("distilbert_sinusoidal") + "/io.safetensors");
  auto config = ModelConfig::load(golden_dir("distilbert_sinusoidal") + "/config.json");
  torch::manual_seed(0);
  auto model = build_model(config);  // fresh model: the table is written at construction and survives init
  torch::Tensor table;
  for (const auto& p : model->named_parameters(true))
    if (p.key() == "distilbert.embeddings.position_embeddings.weight") table = p.value();
  REQUIRE(table.defined());
  CHECK_FALSE(table.requires_grad());
  CHECK_TENSOR_CLOSE("sinusoidal_table", table, io.at("sinusoidal_table"), 1e-7, 0.0);
  // Hand values from docs/MODELS.md §2.4.
  CHECK(table[1][0].item<double>() == Approx(0.841471).epsilon(1e-6));
  CHECK(table[1][1].item<double>() == Approx(0.540302).epsilon(1e-6));
}
