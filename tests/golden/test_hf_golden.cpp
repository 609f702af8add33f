// Checked against Hugging Face transformers itself (the version pinned in requirements.txt), both ways:
// - models of every DistilBERT class and of our BERT classes, initialised and saved by transformers
//   (tests/py/hf_golden.py, made at test time), load here and give transformers' outputs, hidden states, attentions,
//   losses with labels and the gradient of every parameter after one backward pass (support/golden_check.h);
// - folders we save load in transformers with no missing, unexpected or mismatched keys and give our outputs, in
//   its PyTorch classes and in the TensorFlow and Flax ones (from_pt=True; tests/py/hf_load_check.py).
// Both tied and untied MLM decoders, sinusoidal positions, regression and multi-label heads, and padding masks.
#include <catch2/catch.hpp>

#include <sstream>

#include <nlohmann/json.hpp>

#include "export/export_test_support.h"
#include "support/golden_check.h"
#include "support/python_env.h"
#include "support/scratch_files.h"

using namespace distilbert;
using testing::run_python;

namespace {

std::vector<nlohmann::json> json_lines(const std::string& output) {
  std::vector<nlohmann::json> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] == '{') out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("HF transformers' own models load here with its outputs, attentions, losses and gradients", "[golden][hf]") {
  if (!testing::require_python("torch transformers safetensors", "the HF transformers golden checks")) return;
  const auto dir = testing::scratch_dir("hf_golden");
  const auto r = run_python("hf_golden.py", "'" + dir.string() + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto cases = json_lines(r.output);
  REQUIRE(cases.size() == 22);
  for (const auto& c : cases) {
    INFO("transformers " << c["transformers"].get<std::string>() << " case " << c["case"].get<std::string>() << " ("
                         << c["architecture"].get<std::string>() << ")");
    testing::check_golden_folder((dir / c["case"].get<std::string>()).string());
  }
}

namespace {

/// Our folders of every class we export: written once per process under `dir`, with io.safetensors (the inputs)
/// and our eval-mode outputs by folder.
struct OurFolders {
  std::map<std::string, std::map<std::string, torch::Tensor>> outputs;
  std::string args;  // the folders, quoted, for tests/py/hf_load_check.py
  size_t count = 0;
};

const OurFolders& our_folders() {
  static const OurFolders folders = [] {
    OurFolders f;
    const auto dir = testing::scratch_dir("hf_load");
    struct Case {
      Case(std::string n, ModelType t, Head h, int64_t l = 2, std::string p = "", bool ti = true, bool si = false)
          : name(std::move(n)), type(t), head(h), labels(l), problem_type(std::move(p)), tied(ti), sinusoidal(si) {}
      std::string name;
      ModelType type;
      Head head;
      int64_t labels;
      std::string problem_type;
      bool tied, sinusoidal;
    };
    const std::vector<Case> cases = {
        {"distilbert_base", ModelType::DistilBert, Head::None},
        {"distilbert_mlm", ModelType::DistilBert, Head::MaskedLM},
        {"distilbert_mlm_untied", ModelType::DistilBert, Head::MaskedLM, 2, "", false},
        {"distilbert_sinusoidal", ModelType::DistilBert, Head::MaskedLM, 2, "", true, true},
        {"distilbert_seqcls", ModelType::DistilBert, Head::SequenceClassification, 3},
        {"distilbert_regression", ModelType::DistilBert, Head::SequenceClassification, 1, "regression"},
        {"distilbert_multilabel", ModelType::DistilBert, Head::SequenceClassification, 4, "multi_label_classification"},
        {"distilbert_tokcls", ModelType::DistilBert, Head::TokenClassification, 5},
        {"distilbert_qa", ModelType::DistilBert, Head::QuestionAnswering},
        {"distilbert_mc", ModelType::DistilBert, Head::MultipleChoice},
        {"bert_base", ModelType::Bert, Head::None},
        {"bert_mlm", ModelType::Bert, Head::MaskedLM},
        {"bert_mlm_untied", ModelType::Bert, Head::MaskedLM, 2, "", false},
        {"bert_seqcls", ModelType::Bert, Head::SequenceClassification, 3},
        {"bert_tokcls", ModelType::Bert, Head::TokenClassification, 5},
        {"bert_qa", ModelType::Bert, Head::QuestionAnswering},
        {"bert_mc", ModelType::Bert, Head::MultipleChoice}};
    uint64_t seed = 500;
    for (const auto& cs : cases) {
      ModelConfig c = export_test::small_config(cs.type, 128);
      c.num_labels = cs.labels;
      c.problem_type = cs.problem_type;
      c.tie_word_embeddings = cs.tied;
      c.sinusoidal_pos_embds = cs.sinusoidal;
      auto model = export_test::random_model(c, cs.head, seed += 10);
      const std::string folder = (dir / cs.name).string();
      save_model_folder(*model, folder);
      torch::manual_seed(static_cast<int64_t>(seed));
      const bool mc = cs.head == Head::MultipleChoice;
      const std::vector<int64_t> shape = mc ? std::vector<int64_t>{2, 3, 7} : std::vector<int64_t>{3, 9};
      ModelInputs in;
      in.input_ids = torch::randint(5, 128, shape, torch::kLong);
      in.attention_mask = torch::ones(shape, torch::kLong);
      in.attention_mask.select(-2, 1).narrow(-1, 5, shape.back() - 5).fill_(0);  // padding in row (choice) 1
      in.input_ids.masked_fill_(in.attention_mask.eq(0), 0);
      std::vector<std::pair<std::string, torch::Tensor>> io = {{"input_ids", in.input_ids},
                                                              {"attention_mask", in.attention_mask}};
      if (cs.type == ModelType::Bert) {
        in.token_type_ids = torch::zeros(shape, torch::kLong);
        in.token_type_ids.narrow(-1, 3, 2).fill_(1);
        io.emplace_back("token_type_ids", in.token_type_ids);
      }
      save_safetensors(folder + "/io.safetensors", io);
      in.output_hidden_states = true;
      model->eval();
      torch::NoGradGuard ng;
      ModelOutput out = model->forward(in);
      auto& o = f.outputs[folder];
      if (out.logits.defined()) o["logits"] = out.logits;
      if (out.start_logits.defined()) o["start_logits"] = out.start_logits, o["end_logits"] = out.end_logits;
      if (cs.head == Head::None) o["last_hidden_state"] = out.last_hidden_state;
      for (size_t i = 0; i < out.hidden_states.size(); ++i)
        o["hidden_states." + std::to_string(i)] = out.hidden_states[i];
      f.args += " '" + folder + "'";
      ++f.count;
    }
    return f;
  }();
  return folders;
}

/// Load every folder of our_folders() in `framework` (pt, tf, flax) and compare its outputs with ours: to 1e-5 in
/// PyTorch (the same float32 kernels), to 1e-4 in TensorFlow and JAX (other kernels and summation orders, as the
/// issue asks).
void check_our_folders_in(const std::string& framework, const std::string& modules, double atol) {
  if (!testing::require_python(modules, "loading our folders in transformers' " + framework + " classes")) return;
  const OurFolders& f = our_folders();
  const auto r = run_python("hf_load_check.py", "--framework " + framework + f.args);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto lines = json_lines(r.output);
  REQUIRE(lines.size() == f.count);
  for (const auto& line : lines) {
    const std::string folder = line["folder"];
    // transformers' TF MLM heads always use the input embeddings as the decoder (TFDistilBertLMHead,
    // TFBertLMPredictionHead), whatever tie_word_embeddings says: an untied decoder cannot be expressed there.
    if (framework == "tf" && folder.find("_untied") != std::string::npos) continue;
    INFO(folder << " as " << line["architecture"].get<std::string>() << " (" << framework << " "
                << line["version"].get<std::string>() << ", transformers " << line["transformers"].get<std::string>()
                << ")");
    if (framework == "pt") {
      CHECK(line["missing"].empty());
      CHECK(line["unexpected"].empty());
      CHECK(line["mismatched"].empty());
    }
    const auto hf = load_safetensors(folder + "/hf_" + framework + "_out.safetensors");
    for (const auto& [key, t] : f.outputs.at(folder)) {
      REQUIRE(hf.contains(key));
      CHECK_TENSOR_CLOSE(key, t, hf.at(key), atol, 10 * atol);
    }
  }
}

}  // namespace

TEST_CASE("Folders we save load in HF transformers with no missing or unexpected keys and give our outputs",
          "[golden][hf]") {
  check_our_folders_in("pt", "torch transformers safetensors", 1e-5);
}

TEST_CASE("Folders we save load in transformers' TensorFlow classes (TFDistilBert*, TFBert*) with our outputs",
          "[golden][hf]") {
  check_our_folders_in("tf", "tensorflow tf_keras transformers safetensors", 1e-4);
}

TEST_CASE("Folders we save load in transformers' Flax classes (FlaxDistilBert*, FlaxBert*) with our outputs",
          "[golden][hf]") {
  check_our_folders_in("flax", "jax flax transformers safetensors", 1e-4);
}
