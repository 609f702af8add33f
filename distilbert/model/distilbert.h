// DistilBERT (Sanh et al., 2019) as in HF transformers' modeling_distilbert.py: post-LN blocks, no token types,
// no pooler; and its five heads with their losses (docs/MODELS.md §2). Module names are HF's state-dict keys.
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

/// word + position embeddings -> LayerNorm(eps 1e-12) -> dropout. Sinusoidal positions are frozen.
class DistilBertEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit DistilBertEmbeddingsImpl(const ModelConfig& c);
  /// (B, T) -> (B, T, H); position_ids as ModelInputs::position_ids.
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& position_ids = {});

  torch::nn::Embedding word_embeddings{nullptr};      // (V, H), padding_idx = pad_token_id
  // The lookup's gradient as a sparse tensor of the looked-up rows (DistilBertForMaskedLM::sparse_embedding_grad).
  bool sparse_word_grad = false;
  torch::nn::Embedding position_embeddings{nullptr};  // (max_pos, H)
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(DistilBertEmbeddings);

/// Multi-head self-attention; q is scaled by 1/sqrt(head_dim) before q k^T, padded keys get finfo.min.
class MultiHeadSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit MultiHeadSelfAttentionImpl(const ModelConfig& c);
  /// x (B, T, H), bias (B, 1, 1, T) additive or undefined -> (B, T, H); weights (B, heads, T, T) if asked.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias, torch::Tensor* weights_out);

  torch::nn::Linear q_lin{nullptr}, k_lin{nullptr}, v_lin{nullptr}, out_lin{nullptr};
  torch::nn::Dropout dropout{nullptr};
  int64_t n_heads;
};
TORCH_MODULE(MultiHeadSelfAttention);

class FFNImpl : public torch::nn::Module {
 public:
  explicit FFNImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& x);  // lin2(act(lin1(x))) -> dropout

  torch::nn::Linear lin1{nullptr}, lin2{nullptr};
  torch::nn::Dropout dropout{nullptr};
  std::string activation;
};
TORCH_MODULE(FFN);

/// sa = LN(attn(x) + x); out = LN(dropout(ffn(sa)) + sa). No dropout on the attention output (unlike BERT).
class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias, torch::Tensor* weights_out);

  MultiHeadSelfAttention attention{nullptr};
  torch::nn::LayerNorm sa_layer_norm{nullptr};
  FFN ffn{nullptr};
  torch::nn::LayerNorm output_layer_norm{nullptr};
};
TORCH_MODULE(TransformerBlock);

class TransformerImpl : public torch::nn::Module {
 public:
  explicit TransformerImpl(const ModelConfig& c);
  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(Transformer);

/// The encoder shared by DistilBertModel and every head (registered as "distilbert" inside heads).
class DistilBertEncoderImpl : public torch::nn::Module {
 public:
  explicit DistilBertEncoderImpl(const ModelConfig& c);
  /// input_ids (B, T), attention_mask (B, T) or undefined, position_ids as ModelInputs::position_ids.
  EncoderOutput forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask, bool hidden_states,
                        bool attentions, const torch::Tensor& position_ids = {});

  DistilBertEmbeddings embeddings{nullptr};
  Transformer transformer{nullptr};
};
TORCH_MODULE(DistilBertEncoder);

/// Shared plumbing of the DistilBERT top-level classes.
class DistilBertBase : public PretrainedModel {
 public:
  DistilBertBase(const ModelConfig& c, bool as_head);
  std::string base_prefix() const override { return as_head_ ? "distilbert" : ""; }
  torch::Tensor word_embeddings() const override { return distilbert->embeddings->word_embeddings->weight; }

  DistilBertEncoder distilbert{nullptr};

 protected:
  EncoderOutput encode(const ModelInputs& in);
  bool as_head_;
};

class DistilBertModel : public DistilBertBase {
 public:
  explicit DistilBertModel(const ModelConfig& c);
  std::string architecture() const override { return "DistilBertModel"; }
  ModelOutput forward(const ModelInputs& in) override;
};

/// vocab_transform -> gelu -> vocab_layer_norm -> vocab_projector (weight tied to the word embeddings).
class DistilBertForMaskedLM : public DistilBertBase {
 public:
  explicit DistilBertForMaskedLM(const ModelConfig& c);
  std::string architecture() const override { return "DistilBertForMaskedLM"; }
  ModelOutput forward(const ModelInputs& in) override;
  std::map<std::string, std::string> tied_aliases() const override;
  /// hidden (.., H) -> logits (.., V); lets the distiller project only the rows a loss needs.
  torch::Tensor mlm_logits(const torch::Tensor& hidden) override;
  ModelOutput encoder_forward(const ModelInputs& in) override;
  /// For training that projects through the tied weights in every forward: the word embeddings' own gradient as
  /// a sparse tensor, which autograd adds in place into the projection's dense one, instead of a dense (V, H)
  /// zeros-and-index-add and an out-of-place sum (docs/PRECISION.md, "The tied word embeddings' gradient").
  /// Ignored when the weights are untied. Returns whether it is on.
  bool sparse_embedding_grad(bool on);

  torch::nn::Linear vocab_transform{nullptr};
  torch::nn::LayerNorm vocab_layer_norm{nullptr};
  std::shared_ptr<torch::nn::Module> vocab_projector;  // holds "bias" (and "weight" when untied)
  torch::Tensor projector_bias, projector_weight;      // projector_weight undefined when tied
};

/// [CLS] -> pre_classifier -> ReLU -> dropout(seq_classif_dropout) -> classifier; loss by problem_type.
class DistilBertForSequenceClassification : public DistilBertBase {
 public:
  explicit DistilBertForSequenceClassification(const ModelConfig& c);
  std::string architecture() const override { return "DistilBertForSequenceClassification"; }
  ModelOutput forward(const ModelInputs& in) override;

  torch::nn::Linear pre_classifier{nullptr}, classifier{nullptr};
  torch::nn::Dropout dropout{nullptr};
};

/// (B, C, T) inputs folded to (B*C, T); [CLS] -> pre_classifier -> ReLU -> dropout -> classifier(H->1) -> (B, C).
class DistilBertForMultipleChoice : public DistilBertBase {
 public:
  explicit DistilBertForMultipleChoice(const ModelConfig& c);
  std::string architecture() const override { return "DistilBertForMultipleChoice"; }
  ModelOutput forward(const ModelInputs& in) override;

  torch::nn::Linear pre_classifier{nullptr}, classifier{nullptr};
  torch::nn::Dropout dropout{nullptr};
};

/// dropout(config.dropout) -> classifier per token; CE ignoring -100.
class DistilBertForTokenClassification : public DistilBertBase {
 public:
  explicit DistilBertForTokenClassification(const ModelConfig& c);
  std::string architecture() const override { return "DistilBertForTokenClassification"; }
  ModelOutput forward(const ModelInputs& in) override;

  torch::nn::Linear classifier{nullptr};
  torch::nn::Dropout dropout{nullptr};
};

/// dropout(qa_dropout) -> qa_outputs (H -> 2) -> start/end logits; loss = mean of the two CEs, positions clamped.
class DistilBertForQuestionAnswering : public DistilBertBase {
 public:
  explicit DistilBertForQuestionAnswering(const ModelConfig& c);
  std::string architecture() const override { return "DistilBertForQuestionAnswering"; }
  ModelOutput forward(const ModelInputs& in) override;

  torch::nn::Linear qa_outputs{nullptr};
  torch::nn::Dropout dropout{nullptr};
};

}  // namespace distilbert
