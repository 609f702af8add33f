// Loading weights by HF key: strictness, head re-initialisation reports, prefixes, tied keys, old names, .bin files,
// and parameter counts of the real architectures against docs/MODELS.md §2.1.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/model/distilbert.h"
#include "support/tensor_match.h"
#include "test_paths.h"
#include "support/scratch_files.h"

using namespace distilbert;
using Catch::Matchers::Contains;

namespace {
std::string loading_dir(const std::string& name) { return distilbert::testing::fresh_dir("tests", name).string(); }
std::string golden(const std::string& name) { return std::string(DISTILBERT_SOURCE_DIR) + "/tests/data/golden/" + name; }
NamedTensors without(NamedTensors ts, const std::string& key) {
  ts.erase(std::remove_if(ts.begin(), ts.end(), [&](const auto& kv) { return kv.first == key; }), ts.end());
  return ts;
}
LoadOptions quiet() {
  LoadOptions o;
  o.verbose = false;
  return o;
}
}  // namespace

TEST_CASE("parameter counts of the real architectures match docs/MODELS.md", "[unit][loading]") {
  auto distil = ModelConfig::distilbert_base_uncased();
  auto bert = ModelConfig::bert_base_uncased();
  CHECK(count_parameters(*build_model(distil, Head::None)) == 66362880);
  CHECK(count_parameters(*build_model(distil, Head::MaskedLM)) == 66985530);
  CHECK(count_parameters(*build_model(distil, Head::SequenceClassification)) == 66955010);
  CHECK(count_parameters(*build_model(bert, Head::None)) == 109482240);
  CHECK(count_parameters(*build_model(bert, Head::MaskedLM)) == 109514298);
}

TEST_CASE("state-dict keys are HF's, tied weights exist once", "[unit][loading]") {
  auto c = ModelConfig::load(golden("distilbert_mlm") + "/config.json");
  auto m = build_model(c, Head::MaskedLM);
  std::set<std::string> keys;
  for (const auto& [k, t] : state_dict(*m)) keys.insert(k);
  CHECK(keys.count("distilbert.embeddings.word_embeddings.weight"));
  CHECK(keys.count("distilbert.transformer.layer.1.attention.q_lin.weight"));
  CHECK(keys.count("distilbert.transformer.layer.0.ffn.lin2.bias"));
  CHECK(keys.count("vocab_layer_norm.weight"));
  CHECK(keys.count("vocab_projector.bias"));
  CHECK_FALSE(keys.count("vocab_projector.weight"));  // tied: saved as HF saves safetensors
  auto with_alias = state_dict(*m, true);
  bool found = false;
  for (const auto& [k, t] : with_alias)
    if (k == "vocab_projector.weight") {
      found = true;
      CHECK(t.data_ptr() == m->word_embeddings().data_ptr());
    }
  CHECK(found);
}

TEST_CASE("missing, unexpected and misshaped encoder keys are errors that list them", "[unit][loading]") {
  auto c = ModelConfig::load(golden("distilbert_mlm") + "/config.json");
  auto weights = read_weights(golden("distilbert_mlm"));
  {
    auto m = build_model(c, Head::MaskedLM);
    CHECK_THROWS_WITH(load_state_dict(*m, without(weights, "distilbert.transformer.layer.1.ffn.lin1.bias"), "w.st"),
                      Contains("w.st") && Contains("missing keys") &&
                          Contains("distilbert.transformer.layer.1.ffn.lin1.bias"));
  }
  {
    auto m = build_model(c, Head::MaskedLM);
    auto extra = weights;
    extra.emplace_back("distilbert.transformer.layer.7.ffn.lin1.bias", torch::zeros({64}));
    CHECK_THROWS_WITH(load_state_dict(*m, extra, "w.st"),
                      Contains("unexpected keys") && Contains("layer.7.ffn.lin1.bias"));
  }
  {
    auto m = build_model(c, Head::MaskedLM);
    auto bad = without(weights, "distilbert.transformer.layer.0.attention.q_lin.weight");
    bad.emplace_back("distilbert.transformer.layer.0.attention.q_lin.weight", torch::zeros({32, 16}));
    CHECK_THROWS_WITH(load_state_dict(*m, bad, "w.st"),
                      Contains("wrong shapes") && Contains("q_lin.weight: checkpoint [32, 16], model [32, 32]"));
  }
  {
    // With allow_new_head false, a missing head weight is an error too.
    auto m = build_model(c, Head::MaskedLM);
    CHECK_THROWS_WITH(load_state_dict(*m, without(weights, "vocab_transform.weight"), "w.st", false),
                      Contains("vocab_transform.weight"));
  }
}

TEST_CASE("an MLM checkpoint loaded into a classifier reports new and unused head weights, as HF", "[unit][loading]") {
  LoadOptions o = quiet();
  o.head = Head::SequenceClassification;
  o.num_labels = 3;
  auto loaded = load_model_folder(golden("distilbert_mlm"), o);
  CHECK(loaded.model->architecture() == "DistilBertForSequenceClassification");
  std::set<std::string> fresh(loaded.report.newly_initialized.begin(), loaded.report.newly_initialized.end());
  CHECK(fresh == std::set<std::string>{"classifier.bias", "classifier.weight", "pre_classifier.bias",
                                       "pre_classifier.weight"});
  std::set<std::string> unused(loaded.report.unused.begin(), loaded.report.unused.end());
  CHECK(unused == std::set<std::string>{"vocab_layer_norm.bias", "vocab_layer_norm.weight", "vocab_projector.bias",
                                        "vocab_transform.bias", "vocab_transform.weight"});
  CHECK_THAT(loaded.report.summary(), Contains("newly initialized") && Contains("classifier.weight"));
  // The encoder weights were loaded: hidden states equal the golden MLM model's.
  auto io = load_safetensors(golden("distilbert_mlm") + "/io.safetensors");
  ModelInputs in;
  in.input_ids = io.at("input_ids");
  in.attention_mask = io.at("attention_mask");
  in.output_hidden_states = true;
  loaded.model->eval();
  auto out = loaded.model->forward(in);
  CHECK_TENSOR_CLOSE("hidden_states.2", out.hidden_states[2], io.at("hidden_states.2"));
}

TEST_CASE("a BERT MLM checkpoint (no pooler) loads into a classifier with a fresh pooler, as HF", "[unit][loading]") {
  // bert_mlm holds BertForMaskedLM weights without bert.pooler.*: HF's from_pretrained initialises the pooler and
  // the classifier and reports them; the encoder is loaded.
  auto mlm_weights = read_weights(golden("bert_mlm"));
  for (const auto& [k, t] : mlm_weights) REQUIRE(k.find("pooler") == std::string::npos);
  LoadOptions o = quiet();
  o.head = Head::SequenceClassification;
  o.num_labels = 2;
  auto loaded = load_model_folder(golden("bert_mlm"), o);
  std::set<std::string> fresh(loaded.report.newly_initialized.begin(), loaded.report.newly_initialized.end());
  CHECK(fresh == std::set<std::string>{"bert.pooler.dense.bias", "bert.pooler.dense.weight", "classifier.bias",
                                       "classifier.weight"});
  auto io = load_safetensors(golden("bert_mlm") + "/io.safetensors");
  ModelInputs in;
  in.input_ids = io.at("input_ids");
  in.attention_mask = io.at("attention_mask");
  in.token_type_ids = io.at("token_type_ids");
  in.output_hidden_states = true;
  loaded.model->eval();
  auto out = loaded.model->forward(in);
  CHECK_TENSOR_CLOSE("hidden_states.1", out.hidden_states[1], io.at("hidden_states.1"));
  // Without the new-head allowance (a plain load into the classifier) the pooler is still a missing key.
  auto strict = build_model(loaded.model->config(), Head::SequenceClassification);
  CHECK_THROWS_WITH(load_state_dict(*strict, mlm_weights, "bert_mlm", false), Contains("bert.pooler.dense.weight"));
  // A checkpoint with half a pooler is an error, not a fresh pooler.
  auto half = mlm_weights;
  const int64_t h = loaded.model->config().hidden_size;
  half.emplace_back("bert.pooler.dense.weight", torch::zeros({h, h}));
  auto m2 = build_model(loaded.model->config(), Head::SequenceClassification);
  CHECK_THROWS_WITH(load_state_dict(*m2, half, "half"), Contains("missing keys") && Contains("bert.pooler.dense.bias"));
}

TEST_CASE("base checkpoints load into heads and head checkpoints into base models", "[unit][loading]") {
  auto c = ModelConfig::load(golden("distilbert_mlm") + "/config.json");
  auto head_weights = read_weights(golden("distilbert_mlm"));
  // Head checkpoint -> DistilBertModel: prefix stripped, head weights unused.
  auto base = build_model(c, Head::None);
  auto r = load_state_dict(*base, head_weights, "mlm");
  CHECK(r.unused.size() == 5);
  const std::string dir = loading_dir("base_model");
  save_model_folder(*base, dir);
  auto saved = read_weights(dir);
  for (const auto& [k, t] : saved) CHECK(k.rfind("distilbert.", 0) == std::string::npos);
  // Base checkpoint (no prefix) -> MLM head: prefix added, MLM head freshly initialised.
  auto mlm = build_model(c, Head::MaskedLM);
  auto r2 = load_state_dict(*mlm, saved, dir);
  CHECK(r2.newly_initialized.size() == 5);
  CHECK(r2.unused.empty());
}

TEST_CASE("old pytorch_model.bin with gamma/beta names, tied copies and a pooler loads", "[unit][loading]") {
  // Made by scripts/make_bin_fixture.py from the bert_mlm golden weights: torch.save zip and legacy formats.
  const std::string folder = GENERATE(std::string("bert_mlm_bin"), std::string("bert_mlm_bin_legacy"));
  INFO(folder);
  auto loaded = load_model_folder(golden(folder), quiet());
  CHECK(loaded.report.unused.empty());
  CHECK(loaded.report.newly_initialized.empty());
  CHECK_THAT(loaded.report.summary(), Contains("gamma/beta"));
  auto io = load_safetensors(golden("bert_mlm") + "/io.safetensors");
  ModelInputs in;
  in.input_ids = io.at("input_ids");
  in.attention_mask = io.at("attention_mask");
  in.token_type_ids = io.at("token_type_ids");
  loaded.model->eval();
  CHECK_TENSOR_CLOSE("logits", loaded.model->forward(in).logits, io.at("logits"));
}

TEST_CASE("save_model_folder writes what HF expects and reloads identically", "[unit][loading]") {
  auto loaded = load_model_folder(golden("bert_mlm"), quiet());
  const std::string dir = loading_dir("bert_save");
  save_model_folder(*loaded.model, dir);
  auto f = load_safetensors(dir + "/model.safetensors");
  CHECK(f.metadata.at("format") == "pt");  // transformers refuses files without it
  CHECK_FALSE(f.contains("cls.predictions.decoder.weight"));
  CHECK(f.contains("cls.predictions.bias"));
  auto cfg = nlohmann::json::parse(std::ifstream(dir + "/config.json"));
  CHECK(cfg["architectures"][0] == "BertForMaskedLM");
  CHECK(cfg["model_type"] == "bert");
  auto again = load_model_folder(dir, quiet());
  auto a = state_dict(*loaded.model), b = state_dict(*again.model);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i].second, b[i].second));
  // Half-precision export.
  SaveOptions half;
  half.dtype = torch::kBFloat16;
  save_model_folder(*loaded.model, dir, half);
  CHECK(load_safetensors(dir + "/model.safetensors").at("cls.predictions.bias").scalar_type() == torch::kBFloat16);
  CHECK_NOTHROW(load_model_folder(dir, quiet()));
}

TEST_CASE("folder errors name the folder and what is missing", "[unit][loading]") {
  CHECK_THROWS_WITH(load_model_folder("/nonexistent/model", quiet()), Contains("/nonexistent/model"));
  const std::string dir = loading_dir("no_weights");
  std::filesystem::copy_file(golden("bert_mlm") + "/config.json", dir + "/config.json");
  CHECK_THROWS_WITH(load_model_folder(dir, quiet()), Contains(dir) && Contains("model.safetensors"));
  // An architecture we do not build: named, with the supported ones listed.
  CHECK_THROWS_WITH(head_of_architecture("BertForPreTraining", ModelType::Bert),
                    Contains("BertForPreTraining") && Contains("BertForQuestionAnswering"));
}
