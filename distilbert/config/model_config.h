// ModelConfig: the architecture of a BERT or DistilBERT model, read from and written to HF's config.json.
// Field names below are neutral (hidden_size, num_layers, ...); to_json/from_json speak each model type's own HF
// keys (DistilBERT: dim, n_layers, n_heads, hidden_dim, ...; BERT: hidden_size, num_hidden_layers, ...), accept the
// HF attribute_map aliases, and keep unknown keys so a config round-trips unchanged. Defaults are HF's
// (docs/MODELS.md §1).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace distilbert {

enum class ModelType { Bert, DistilBert };

struct ModelConfig {
  ModelType model_type = ModelType::DistilBert;
  std::vector<std::string> architectures;

  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;        // DistilBERT: dim
  int64_t num_layers = 6;           // DistilBERT: n_layers, BERT: num_hidden_layers
  int64_t num_heads = 12;           // DistilBERT: n_heads, BERT: num_attention_heads
  int64_t intermediate_size = 3072; // DistilBERT: hidden_dim
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;      // BERT only (DistilBERT has no token types)
  std::string activation = "gelu";  // DistilBERT: activation, BERT: hidden_act
  double hidden_dropout = 0.1;      // DistilBERT: dropout, BERT: hidden_dropout_prob
  double attention_dropout = 0.1;   // DistilBERT: attention_dropout, BERT: attention_probs_dropout_prob
  double layer_norm_eps = 1e-12;    // DistilBERT hard-codes 1e-12
  double initializer_range = 0.02;
  int64_t pad_token_id = 0;
  bool tie_word_embeddings = true;

  // DistilBERT only.
  bool sinusoidal_pos_embds = false;
  double qa_dropout = 0.1;
  double seq_classif_dropout = 0.2;
  // BERT only.
  std::optional<double> classifier_dropout;  // null: hidden_dropout_prob
  std::string position_embedding_type = "absolute";

  // Heads.
  int64_t num_labels = 2;
  std::map<int64_t, std::string> id2label;  // empty: LABEL_{i}
  std::string problem_type;                 // "", regression, single_label_classification, multi_label_classification

  // Keys we do not interpret (transformers_version, output_past, finetuning_task, ...), kept for round trips.
  nlohmann::json extra = nlohmann::json::object();

  int64_t head_dim() const { return hidden_size / num_heads; }
  std::string label_name(int64_t id) const;
  std::string model_type_name() const { return model_type == ModelType::Bert ? "bert" : "distilbert"; }

  /// Throws distilbert::Error naming `origin` and the key when a value is out of range.
  void validate(const std::string& origin) const;

  nlohmann::json to_json() const;
  /// `origin` names the file (or other source) in error messages.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& origin);
  static ModelConfig load(const std::string& path);
  void save(const std::string& path) const;

  // Presets (HF hub configs and tiny test configs).
  static ModelConfig bert_base_uncased();
  static ModelConfig distilbert_base_uncased();
};

}  // namespace distilbert
