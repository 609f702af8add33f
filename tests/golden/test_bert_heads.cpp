// The BERT teacher heads for task-specific distillation (BertForQuestionAnswering, BertForTokenClassification,
// BertForMultipleChoice) against the Python reference: the golden BertForSequenceClassification case
// (tests/data/golden/bert_seqcls, made by scripts/make_golden.py) gives the reference last hidden states and
// classifier logits for its weights; each new head is loaded from that folder, its fresh layer set from the golden
// classifier's rows, and its outputs checked against values derived from the reference tensors alone
// (hidden @ W^T + b; the pooled classifier logits). Also HF key names, building by architecture name and a
// save / load round trip.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <torch/torch.h>

#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/model/bert.h"
#include "support/tensor_match.h"
#include "test_paths.h"

using namespace distilbert;

namespace {

const std::string kDir = std::string(DISTILBERT_SOURCE_DIR) + "/tests/data/golden/bert_seqcls";

LoadedModel load_as(Head head, int64_t num_labels) {
  LoadOptions lo;
  lo.head = head;
  lo.num_labels = num_labels;
  lo.verbose = false;
  auto m = load_model_folder(kDir, lo);
  m.model->eval();  // dropout is 0 in the golden config anyway
  return m;
}

void set_linear(torch::nn::Linear& lin, const torch::Tensor& w, const torch::Tensor& b) {
  torch::NoGradGuard no_grad;
  lin->weight.copy_(w);
  lin->bias.copy_(b);
}

std::vector<std::string> keys(const PretrainedModel& m) {
  std::vector<std::string> out;
  for (const auto& p : m.named_parameters(true)) out.push_back(p.key());
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& k) { return std::find(v.begin(), v.end(), k) != v.end(); }

}  // namespace

TEST_CASE("BERT heads: question answering and token classification on the reference hidden states",
          "[golden][bert_heads]") {
  const auto io = load_safetensors(kDir + "/io.safetensors");
  const auto cls = read_weights(kDir);
  torch::Tensor W, b;
  for (const auto& [k, t] : cls) {
    if (k == "classifier.weight") W = t;  // (3, H)
    if (k == "classifier.bias") b = t;
  }
  REQUIRE(W.defined());
  const auto hidden = io.at("hidden_states.2");  // (B, T, H): the reference last hidden state
  ModelInputs in;
  in.input_ids = io.at("input_ids");
  in.attention_mask = io.at("attention_mask");
  in.token_type_ids = io.at("token_type_ids");

  SECTION("BertForQuestionAnswering: qa_outputs on every token, no pooler") {
    auto loaded = load_as(Head::QuestionAnswering, 2);
    auto& qa = dynamic_cast<BertForQuestionAnswering&>(*loaded.model);
    CHECK(qa.architecture() == "BertForQuestionAnswering");
    auto fresh = loaded.report.newly_initialized;
    std::sort(fresh.begin(), fresh.end());
    CHECK(fresh == std::vector<std::string>{"qa_outputs.bias", "qa_outputs.weight"});
    CHECK(has(loaded.report.unused, "classifier.weight"));  // the sequence head's weights are reported unused
    const auto k = keys(qa);
    CHECK(has(k, "qa_outputs.weight"));
    CHECK_FALSE(has(k, "bert.pooler.dense.weight"));
    set_linear(qa.qa_outputs, W.narrow(0, 0, 2), b.narrow(0, 0, 2));
    auto start = in;
    start.start_positions = torch::tensor({1, 4, 30});  // 30 > T: clamped to T and ignored
    start.end_positions = torch::tensor({2, 5, 30});
    const auto out = qa.forward(start);
    const auto ref = torch::matmul(hidden, W.narrow(0, 0, 2).t()) + b.narrow(0, 0, 2);  // (B, T, 2)
    CHECK_TENSOR_CLOSE("start_logits", out.start_logits, ref.select(2, 0));
    CHECK_TENSOR_CLOSE("end_logits", out.end_logits, ref.select(2, 1));
    // Loss: the mean of the two CEs over the first two rows (row 3's positions are ignored).
    namespace F = torch::nn::functional;
    const auto s_ce = F::cross_entropy(ref.select(2, 0).narrow(0, 0, 2), torch::tensor({1, 4}));
    const auto e_ce = F::cross_entropy(ref.select(2, 1).narrow(0, 0, 2), torch::tensor({2, 5}));
    CHECK_TENSOR_CLOSE("qa loss", out.loss, (s_ce + e_ce) / 2);
  }

  SECTION("BertForTokenClassification: classifier on every token, CE ignoring -100") {
    auto loaded = load_as(Head::TokenClassification, 3);
    auto& tc = dynamic_cast<BertForTokenClassification&>(*loaded.model);
    CHECK(tc.architecture() == "BertForTokenClassification");
    // The sequence classifier's weights have the same key and shape: they load as they are.
    CHECK(loaded.report.newly_initialized.empty());
    CHECK_FALSE(has(keys(tc), "bert.pooler.dense.weight"));
    auto lab = in;
    lab.labels = torch::full({3, 11}, -100, torch::kLong);
    lab.labels.index_put_({0, 1}, 2);
    lab.labels.index_put_({2, 3}, 0);
    const auto out = tc.forward(lab);
    const auto ref = torch::matmul(hidden, W.t()) + b;  // (B, T, 3)
    CHECK_TENSOR_CLOSE("token logits", out.logits, ref);
    const auto rows = torch::stack({ref.index({0, 1}), ref.index({2, 3})});
    CHECK_TENSOR_CLOSE("token loss", out.loss, torch::nn::functional::cross_entropy(rows, torch::tensor({2, 0})));
  }
}

TEST_CASE("BERT heads: multiple choice through the pooler on the reference logits", "[golden][bert_heads]") {
  const auto io = load_safetensors(kDir + "/io.safetensors");
  const auto cls = read_weights(kDir);
  torch::Tensor W, b;
  for (const auto& [k, t] : cls) {
    if (k == "classifier.weight") W = t;
    if (k == "classifier.bias") b = t;
  }
  // The golden 3-way classifier does not fit (H -> 1; loading it would be a shape error, as in HF): load the rest.
  auto config = ModelConfig::load(kDir + "/config.json");
  config.architectures = {"BertForMultipleChoice"};
  auto model = build_model(config);
  NamedTensors encoder;
  for (const auto& [k, t] : cls)
    if (k.rfind("classifier.", 0) != 0) encoder.emplace_back(k, t);
  const auto report = load_state_dict(*model, encoder, kDir);
  CHECK(report.newly_initialized.size() == 2);  // classifier.weight, classifier.bias
  auto& mc = dynamic_cast<BertForMultipleChoice&>(*model);
  mc.eval();
  CHECK(mc.architecture() == "BertForMultipleChoice");
  CHECK(has(keys(mc), "bert.pooler.dense.weight"));
  const auto ref = io.at("logits");             // (B, 3) = classifier(pooler(...))
  // Two choices per example: the same sequence twice, choice c scored with the golden classifier's row k.
  for (int64_t k = 0; k < 3; ++k) {
    INFO("classifier row " << k);
    set_linear(mc.classifier, W.narrow(0, k, 1), b.narrow(0, k, 1));
    ModelInputs in;
    in.input_ids = torch::stack({io.at("input_ids"), io.at("input_ids")}, 1);  // (B, 2, T)
    in.attention_mask = torch::stack({io.at("attention_mask"), io.at("attention_mask")}, 1);
    in.token_type_ids = torch::stack({io.at("token_type_ids"), io.at("token_type_ids")}, 1);
    in.labels = torch::tensor({0, 1, 1});
    const auto out = mc.forward(in);
    REQUIRE(out.logits.sizes() == torch::IntArrayRef{3, 2});
    const auto col = ref.select(1, k);
    CHECK_TENSOR_CLOSE("choice 0", out.logits.select(1, 0), col);
    CHECK_TENSOR_CLOSE("choice 1", out.logits.select(1, 1), col);
    // Equal logits: CE = log 2 for every example.
    CHECK(out.loss.item<double>() == Approx(std::log(2.0)).epsilon(1e-5));
  }
}

TEST_CASE("BERT heads: built by architecture name, saved and reloaded under HF keys", "[unit][bert_heads]") {
  auto config = ModelConfig::load(kDir + "/config.json");
  for (const auto& [arch, head] : std::vector<std::pair<std::string, Head>>{
           {"BertForQuestionAnswering", Head::QuestionAnswering},
           {"BertForTokenClassification", Head::TokenClassification},
           {"BertForMultipleChoice", Head::MultipleChoice}}) {
    INFO(arch);
    CHECK(head_of_architecture(arch, ModelType::Bert) == head);
    CHECK(architecture_name(ModelType::Bert, head) == arch);
    auto c = config;
    c.architectures = {arch};
    c.num_labels = 2;
    c.id2label.clear();  // the golden config names 3 labels
    torch::manual_seed(1);
    auto m = build_model(c);
    CHECK(m->architecture() == arch);
    const auto dir = (std::filesystem::temp_directory_path() / ("distilbert_bert_heads_" + arch)).string();
    std::filesystem::remove_all(dir);
    save_model_folder(*m, dir);
    LoadOptions lo;
    lo.allow_new_head = false;
    lo.verbose = false;
    auto back = load_model_folder(dir, lo);
    CHECK(back.model->architecture() == arch);
    CHECK(back.report.unused.empty());
    const auto a = state_dict(*m), z = state_dict(*back.model);
    REQUIRE(a.size() == z.size());
    for (size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].first == z[i].first);
      CHECK(torch::equal(a[i].second, z[i].second));
    }
    std::filesystem::remove_all(dir);
  }
}
