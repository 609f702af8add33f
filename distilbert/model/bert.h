// BERT (the teacher) as in HF transformers' modeling_bert.py: word + position + token-type embeddings, post-LN
// encoder with dropout after both attention and FFN projections, optional tanh pooler, the MLM head with a decoder
// tied to the word embeddings and a separate bias, and the sequence-classification, question-answering,
// token-classification and multiple-choice heads (docs/MODELS.md §1.2, §3; teachers for task-specific distillation).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "distilbert/model/pretrained.h"

namespace distilbert {

class BertEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit BertEmbeddingsImpl(const ModelConfig& c);
  /// input_ids (B, T), token_type_ids (B, T) or undefined (zeros) -> (B, T, H)
  /// position_ids as ModelInputs::position_ids.
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                        const torch::Tensor& position_ids = {});

  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertEmbeddings);

/// attention.self: query/key/value projections and scaled dot-product attention with an additive mask.
class BertSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit BertSelfAttentionImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias, torch::Tensor* weights_out);

  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
  torch::nn::Dropout dropout{nullptr};
  int64_t n_heads;
};
TORCH_MODULE(BertSelfAttention);

/// dense -> dropout -> LayerNorm(x + residual); used for attention.output and output.
class BertResidualOutputImpl : public torch::nn::Module {
 public:
  BertResidualOutputImpl(int64_t in, int64_t out, const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual);

  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertResidualOutput);

class BertAttentionImpl : public torch::nn::Module {
 public:
  explicit BertAttentionImpl(const ModelConfig& c);
  BertSelfAttention self{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertAttention);

class BertIntermediateImpl : public torch::nn::Module {
 public:
  explicit BertIntermediateImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& x);  // act(dense(x))
  torch::nn::Linear dense{nullptr};
  std::string activation;
};
TORCH_MODULE(BertIntermediate);

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias, torch::Tensor* weights_out);
  BertAttention attention{nullptr};
  BertIntermediate intermediate{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertLayer);

class BertEncoderImpl : public torch::nn::Module {
 public:
  explicit BertEncoderImpl(const ModelConfig& c);
  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(BertEncoder);

class BertPoolerImpl : public torch::nn::Module {
 public:
  explicit BertPoolerImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& hidden);  // tanh(dense(hidden[:, 0]))  (B, H)
  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertPooler);

/// embeddings + encoder (+ pooler); registered as "bert" inside heads.
class BertBackboneImpl : public torch::nn::Module {
 public:
  BertBackboneImpl(const ModelConfig& c, bool with_pooler);
  ModelOutput forward(const ModelInputs& in);

  BertEmbeddings embeddings{nullptr};
  BertEncoder encoder{nullptr};
  BertPooler pooler{nullptr};
  ModelConfig config;
};
TORCH_MODULE(BertBackbone);

class BertBase : public PretrainedModel {
 public:
  BertBase(const ModelConfig& c, bool as_head, bool with_pooler);
  std::string base_prefix() const override { return as_head_ ? "bert" : ""; }
  torch::Tensor word_embeddings() const override { return bert->embeddings->word_embeddings->weight; }
  BertBackbone bert{nullptr};

 protected:
  bool as_head_;
};

/// BertModel with pooler (HF add_pooling_layer=True).
class BertModel : public BertBase {
 public:
  explicit BertModel(const ModelConfig& c);
  std::string architecture() const override { return "BertModel"; }
  ModelOutput forward(const ModelInputs& in) override;
};

/// cls.predictions: transform (dense -> act -> LayerNorm) -> decoder (tied to word embeddings) + bias.
class BertLMPredictionHeadImpl : public torch::nn::Module {
 public:
  explicit BertLMPredictionHeadImpl(const ModelConfig& c);
  std::shared_ptr<torch::nn::Module> transform;
  torch::nn::Linear transform_dense{nullptr};
  torch::nn::LayerNorm transform_LayerNorm{nullptr};
  torch::Tensor bias;     // (V)
  torch::Tensor decoder_weight;  // (V, H) only when untied
  std::string activation;
};
TORCH_MODULE(BertLMPredictionHead);

class BertForMaskedLM : public BertBase {
 public:
  explicit BertForMaskedLM(const ModelConfig& c);
  std::string architecture() const override { return "BertForMaskedLM"; }
  ModelOutput forward(const ModelInputs& in) override;
  std::map<std::string, std::string> tied_aliases() const override;
  std::vector<std::string> ignorable_prefixes() const override { return {"bert.pooler.", "cls.seq_relationship."}; }
  /// hidden (.., H) -> logits (.., V)
  torch::Tensor mlm_logits(const torch::Tensor& hidden) override;
  ModelOutput encoder_forward(const ModelInputs& in) override { return bert->forward(in); }

  std::shared_ptr<torch::nn::Module> cls;
  BertLMPredictionHead predictions{nullptr};
};

/// pooler -> dropout(classifier_dropout or hidden_dropout_prob) -> classifier; loss by problem_type.
class BertForSequenceClassification : public BertBase {
 public:
  explicit BertForSequenceClassification(const ModelConfig& c);
  std::string architecture() const override { return "BertForSequenceClassification"; }
  ModelOutput forward(const ModelInputs& in) override;
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear classifier{nullptr};
};

/// No pooler (HF add_pooling_layer=False): qa_outputs (H -> 2) on every token -> start/end logits (B, T); loss =
/// mean of the two CEs with positions clamped, as DistilBertForQuestionAnswering. No dropout before qa_outputs.
class BertForQuestionAnswering : public BertBase {
 public:
  explicit BertForQuestionAnswering(const ModelConfig& c);
  std::string architecture() const override { return "BertForQuestionAnswering"; }
  ModelOutput forward(const ModelInputs& in) override;
  std::vector<std::string> ignorable_prefixes() const override { return {"bert.pooler."}; }
  torch::nn::Linear qa_outputs{nullptr};
};

/// No pooler: dropout(classifier_dropout or hidden_dropout_prob) -> classifier (H -> N) per token; CE ignoring -100.
class BertForTokenClassification : public BertBase {
 public:
  explicit BertForTokenClassification(const ModelConfig& c);
  std::string architecture() const override { return "BertForTokenClassification"; }
  ModelOutput forward(const ModelInputs& in) override;
  std::vector<std::string> ignorable_prefixes() const override { return {"bert.pooler."}; }
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear classifier{nullptr};
};

/// (B, C, T) inputs folded to (B*C, T); pooler -> dropout(classifier_dropout or hidden_dropout_prob) -> classifier
/// (H -> 1) -> (B, C); CE over the choices.
class BertForMultipleChoice : public BertBase {
 public:
  explicit BertForMultipleChoice(const ModelConfig& c);
  std::string architecture() const override { return "BertForMultipleChoice"; }
  ModelOutput forward(const ModelInputs& in) override;
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear classifier{nullptr};
};

}  // namespace distilbert
