// PretrainedModel: what every top-level model (a base encoder or an encoder with a head) offers to the loader,
// the CLI and the trainers. Parameter names are exactly HF's state-dict keys. Tied weights (the MLM decoder
// sharing the word embeddings) exist once, under the embedding's key; `tied_aliases()` names the HF keys that
// refer to them so that checkpoints with or without those keys load, and exports can write them as HF does.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "distilbert/config/model_config.h"
#include "distilbert/model/outputs.h"

namespace distilbert {

class PretrainedModel : public torch::nn::Module {
 public:
  explicit PretrainedModel(ModelConfig config) : config_(std::move(config)) {}
  ~PretrainedModel() override = default;

  /// HF class name, e.g. "DistilBertForSequenceClassification".
  virtual std::string architecture() const = 0;
  /// Runs the model; computes `loss` when the head's labels are given.
  virtual ModelOutput forward(const ModelInputs& inputs) = 0;
  /// "distilbert" / "bert" for head models (their encoder's key prefix), "" for base models.
  virtual std::string base_prefix() const = 0;
  /// HF key -> the canonical key of the tensor it is tied to (e.g. vocab_projector.weight -> word embeddings).
  virtual std::map<std::string, std::string> tied_aliases() const { return {}; }
  /// Checkpoint keys (prefixes) this model ignores when present, as HF does (e.g. the pooler for BertForMaskedLM).
  virtual std::vector<std::string> ignorable_prefixes() const { return {}; }
  /// The word embedding matrix (V, H).
  virtual torch::Tensor word_embeddings() const = 0;
  /// MLM models: the encoder alone (last_hidden_state, hidden_states when asked; no vocabulary projection) ...
  virtual ModelOutput encoder_forward(const ModelInputs& inputs);
  /// ... and the MLM head on any rows of hidden states: (.., H) -> (.., V). Lets trainers project only the rows a
  /// loss needs. Other models throw.
  virtual torch::Tensor mlm_logits(const torch::Tensor& hidden);

  const ModelConfig& config() const { return config_; }
  ModelConfig& mutable_config() { return config_; }

 protected:
  ModelConfig config_;
};

using ModelPtr = std::shared_ptr<PretrainedModel>;

/// Heads a user can ask for by a short name (CLI) or by HF architecture name.
enum class Head { None, MaskedLM, SequenceClassification, TokenClassification, QuestionAnswering, MultipleChoice };

/// "mlm", "seq-cls", "token-cls", "qa", "multiple-choice", "none" (also the HF-ish long names).
Head parse_head(const std::string& name);
std::string head_name(Head head);
/// HF architecture name for a model type and head, e.g. (Bert, QuestionAnswering) -> "BertForQuestionAnswering".
std::string architecture_name(ModelType type, Head head);
/// The head an HF architecture name stands for; throws for unknown names, listing the known ones.
Head head_of_architecture(const std::string& architecture, ModelType type);

/// Build a randomly initialised model (HF init, seeded by the caller through torch::manual_seed).
ModelPtr build_model(const ModelConfig& config, Head head);
/// Build from config.architectures[0] (base model when absent).
ModelPtr build_model(const ModelConfig& config);

/// Unique trainable + frozen parameter count (tied weights counted once).
int64_t count_parameters(const torch::nn::Module& module);

}  // namespace distilbert
