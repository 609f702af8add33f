// DistilBERT modules and heads; see distilbert.h. Numerics follow docs/MODELS.md §2.2-2.4.
#include "distilbert/model/distilbert.h"

#include <cmath>

#include <torch/torch.h>

#include "distilbert/core/autocast.h"
#include "distilbert/core/error.h"
#include "distilbert/model/head_losses.h"
#include "distilbert/model/head_products.h"
#include "distilbert/model/layers.h"
#include "distilbert/model/linear.h"

namespace distilbert {

namespace nn = torch::nn;

namespace {
// DistilBERT hard-codes its LayerNorm epsilon (docs/MODELS.md §1.1), whatever the config says.
constexpr double kDistilLayerNormEps = 1e-12;

nn::LayerNorm make_layer_norm(int64_t dim) {
  return nn::LayerNorm(nn::LayerNormOptions({dim}).eps(kDistilLayerNormEps));
}

void check_ids(const torch::Tensor& ids) {
  DISTILBERT_CHECK(ids.defined() && ids.dim() == 2, "DistilBERT: input_ids must be (B, T), got ",
                   ids.defined() ? ids.sizes() : c10::IntArrayRef{});
}
}  // namespace

DistilBertEmbeddingsImpl::DistilBertEmbeddingsImpl(const ModelConfig& c) {
  word_embeddings = register_module(
      "word_embeddings", nn::Embedding(nn::EmbeddingOptions(c.vocab_size, c.hidden_size).padding_idx(c.pad_token_id)));
  position_embeddings =
      register_module("position_embeddings", nn::Embedding(c.max_position_embeddings, c.hidden_size));
  if (c.sinusoidal_pos_embds) {
    torch::NoGradGuard no_grad;
    position_embeddings->weight.copy_(sinusoidal_table(c.max_position_embeddings, c.hidden_size));
    position_embeddings->weight.requires_grad_(false);
  }
  LayerNorm = register_module("LayerNorm", make_layer_norm(c.hidden_size));
  dropout = register_module("dropout", nn::Dropout(c.hidden_dropout));
}

torch::Tensor DistilBertEmbeddingsImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& position_ids) {
  auto pos = position_embeddings_of(position_embeddings, position_ids, input_ids.size(0), input_ids.size(1),
                                    "DistilBERT");                 // (1 or B, T, H)
  const auto& pad = word_embeddings->options.padding_idx();
  auto words = torch::embedding(word_embeddings->weight, input_ids, pad ? *pad : -1, false, sparse_word_grad);
  auto x = words + pos;  // (B, T, H)
  return apply_dropout(dropout, layer_norm(LayerNorm, x));
}

MultiHeadSelfAttentionImpl::MultiHeadSelfAttentionImpl(const ModelConfig& c) : n_heads(c.num_heads) {
  q_lin = register_module("q_lin", nn::Linear(c.hidden_size, c.hidden_size));
  k_lin = register_module("k_lin", nn::Linear(c.hidden_size, c.hidden_size));
  v_lin = register_module("v_lin", nn::Linear(c.hidden_size, c.hidden_size));
  out_lin = register_module("out_lin", nn::Linear(c.hidden_size, c.hidden_size));
  dropout = register_module("dropout", nn::Dropout(c.attention_dropout));
}

torch::Tensor MultiHeadSelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& bias,
                                                  torch::Tensor* weights_out) {
  const int64_t B = x.size(0), T = x.size(1), H = x.size(2), d = H / n_heads;
  auto shape = [&](const torch::Tensor& t) { return t.view({B, T, n_heads, d}).transpose(1, 2); };  // (B, h, T, d)
  // q, k, v in this order: backward sums their gradients into x's in the reverse order, and a training run's
  // rounding (so a short run's outcome) depends on it.
  auto q = shape(linear(q_lin, x));
  auto k = shape(linear(k_lin, x));
  auto v = shape(linear(v_lin, x));
  if (fused_attention_applies(dropout, weights_out))
    return linear(out_lin, fused_attention(q, k, v, bias).transpose(1, 2).reshape({B, T, H}));
  q = q / std::sqrt(static_cast<double>(d));  // scaled before the product, as HF
  auto scores = head_products(q, k.transpose(2, 3));  // (B, h, T, T)
  if (bias.defined()) scores = scores + bias;
  auto w = apply_dropout(dropout, torch::softmax(scores, -1));
  if (weights_out) *weights_out = w;
  auto ctx = head_products(w, v).transpose(1, 2).reshape({B, T, H});  // (B, T, H)
  return linear(out_lin, ctx);
}

FFNImpl::FFNImpl(const ModelConfig& c) : activation(c.activation) {
  lin1 = register_module("lin1", nn::Linear(c.hidden_size, c.intermediate_size));
  lin2 = register_module("lin2", nn::Linear(c.intermediate_size, c.hidden_size));
  dropout = register_module("dropout", nn::Dropout(c.hidden_dropout));
}

torch::Tensor FFNImpl::forward(const torch::Tensor& x) {
  return apply_dropout(dropout, linear(lin2, apply_activation(linear(lin1, x), activation)));
}

TransformerBlockImpl::TransformerBlockImpl(const ModelConfig& c) {
  attention = register_module("attention", MultiHeadSelfAttention(c));
  sa_layer_norm = register_module("sa_layer_norm", make_layer_norm(c.hidden_size));
  ffn = register_module("ffn", FFN(c));
  output_layer_norm = register_module("output_layer_norm", make_layer_norm(c.hidden_size));
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& bias,
                                            torch::Tensor* weights_out) {
  auto sa = layer_norm(sa_layer_norm, attention->forward(x, bias, weights_out) + x);
  return layer_norm(output_layer_norm, ffn->forward(sa) + sa);
}

TransformerImpl::TransformerImpl(const ModelConfig& c) {
  layer = register_module("layer", nn::ModuleList());
  for (int64_t i = 0; i < c.num_layers; ++i) layer->push_back(TransformerBlock(c));
}

DistilBertEncoderImpl::DistilBertEncoderImpl(const ModelConfig& c) {
  embeddings = register_module("embeddings", DistilBertEmbeddings(c));
  transformer = register_module("transformer", Transformer(c));
}

EncoderOutput DistilBertEncoderImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                             bool hidden_states, bool attentions, const torch::Tensor& position_ids) {
  EncoderOutput out;
  auto x = embeddings->forward(input_ids, position_ids);  // (B, T, H)
  torch::Tensor bias;
  if (attention_mask.defined()) bias = attention_bias(attention_mask, x.scalar_type());
  if (hidden_states) out.hidden_states.push_back(x);
  for (const auto& m : *transformer->layer) {
    torch::Tensor w;
    x = m->as<TransformerBlockImpl>()->forward(x, bias, attentions ? &w : nullptr);
    if (hidden_states) out.hidden_states.push_back(x);
    if (attentions) out.attentions.push_back(w);
  }
  out.last_hidden_state = x;
  return out;
}

DistilBertBase::DistilBertBase(const ModelConfig& c, bool as_head) : PretrainedModel(c), as_head_(as_head) {
  DISTILBERT_CHECK(c.model_type == ModelType::DistilBert, "DistilBERT model built from a '", c.model_type_name(),
                   "' config");
  distilbert = DistilBertEncoder(c);
  if (as_head) {
    register_module("distilbert", distilbert);
  } else {
    // The base model's keys have no prefix: register the encoder's children directly.
    register_module("embeddings", distilbert->embeddings);
    register_module("transformer", distilbert->transformer);
  }
}

EncoderOutput DistilBertBase::encode(const ModelInputs& in) {
  check_ids(in.input_ids);
  return distilbert->forward(in.input_ids, in.attention_mask, in.output_hidden_states, in.output_attentions,
                             in.position_ids);
}

namespace {
ModelOutput from_encoder(EncoderOutput&& enc) {
  ModelOutput out;
  out.last_hidden_state = enc.last_hidden_state;
  out.hidden_states = std::move(enc.hidden_states);
  out.attentions = std::move(enc.attentions);
  return out;
}
}  // namespace

DistilBertModel::DistilBertModel(const ModelConfig& c) : DistilBertBase(c, /*as_head=*/false) {
  init_hf_weights(*this, c.initializer_range);
}

ModelOutput DistilBertModel::forward(const ModelInputs& in) { return from_encoder(encode(in)); }

DistilBertForMaskedLM::DistilBertForMaskedLM(const ModelConfig& c) : DistilBertBase(c, true) {
  vocab_transform = register_module("vocab_transform", nn::Linear(c.hidden_size, c.hidden_size));
  vocab_layer_norm = register_module("vocab_layer_norm", make_layer_norm(c.hidden_size));
  vocab_projector = register_module("vocab_projector", std::make_shared<nn::Module>("VocabProjector"));
  if (!c.tie_word_embeddings)
    projector_weight = vocab_projector->register_parameter("weight", torch::empty({c.vocab_size, c.hidden_size}));
  projector_bias = vocab_projector->register_parameter("bias", torch::zeros({c.vocab_size}));
  init_hf_weights(*this, c.initializer_range);
  if (projector_weight.defined()) {
    torch::NoGradGuard no_grad;
    projector_weight.normal_(0.0, c.initializer_range);
  }
}

std::map<std::string, std::string> DistilBertForMaskedLM::tied_aliases() const {
  if (!config_.tie_word_embeddings) return {};
  return {{"vocab_projector.weight", "distilbert.embeddings.word_embeddings.weight"}};
}

bool DistilBertForMaskedLM::sparse_embedding_grad(bool on) {
  distilbert->embeddings->sparse_word_grad = on && !projector_weight.defined();
  return distilbert->embeddings->sparse_word_grad;
}

torch::Tensor DistilBertForMaskedLM::mlm_logits(const torch::Tensor& hidden) {
  // HF applies get_activation(config.activation) here ("gelu" for every released checkpoint).
  auto h = layer_norm(vocab_layer_norm, apply_activation(linear(vocab_transform, hidden), config_.activation));
  const auto& w = projector_weight.defined() ? projector_weight : word_embeddings();
  // Only the sparse lookup gradient needs the explicit backward, and only in fp32: under autocast the products
  // run in bf16/fp16, which linear's own backward handles.
  if (!distilbert->embeddings->sparse_word_grad || !torch::GradMode::is_enabled() ||
      autocast_enabled(h.device().type()))
    return linear(h, w, projector_bias);
  const auto rows = h.reshape({-1, h.size(-1)});
  auto out_shape = h.sizes().vec();
  out_shape.back() = w.size(0);
  return linear_rows(rows, w, projector_bias).view(out_shape);
}

ModelOutput DistilBertForMaskedLM::encoder_forward(const ModelInputs& in) { return from_encoder(encode(in)); }

ModelOutput DistilBertForMaskedLM::forward(const ModelInputs& in) {
  auto out = from_encoder(encode(in));
  out.logits = mlm_logits(out.last_hidden_state);  // (B, T, V)
  if (in.labels.defined()) out.loss = token_classification_loss(out.logits, in.labels);
  return out;
}

DistilBertForSequenceClassification::DistilBertForSequenceClassification(const ModelConfig& c)
    : DistilBertBase(c, true) {
  pre_classifier = register_module("pre_classifier", nn::Linear(c.hidden_size, c.hidden_size));
  classifier = register_module("classifier", nn::Linear(c.hidden_size, c.num_labels));
  dropout = register_module("dropout", nn::Dropout(c.seq_classif_dropout));
  init_hf_weights(*this, c.initializer_range);
}

ModelOutput DistilBertForSequenceClassification::forward(const ModelInputs& in) {
  auto out = from_encoder(encode(in));
  auto pooled = out.last_hidden_state.select(1, 0);  // (B, H): the [CLS] position
  pooled = apply_dropout(dropout, torch::relu(linear(pre_classifier, pooled)));
  out.logits = linear(classifier, pooled);  // (B, N)
  if (in.labels.defined()) out.loss = sequence_classification_loss(out.logits, in.labels, config_);
  return out;
}

DistilBertForMultipleChoice::DistilBertForMultipleChoice(const ModelConfig& c) : DistilBertBase(c, true) {
  pre_classifier = register_module("pre_classifier", nn::Linear(c.hidden_size, c.hidden_size));
  classifier = register_module("classifier", nn::Linear(c.hidden_size, 1));
  dropout = register_module("dropout", nn::Dropout(c.seq_classif_dropout));
  init_hf_weights(*this, c.initializer_range);
}

ModelOutput DistilBertForMultipleChoice::forward(const ModelInputs& in) {
  DISTILBERT_CHECK(in.input_ids.defined() && in.input_ids.dim() == 3,
                   "DistilBertForMultipleChoice: input_ids must be (B, C, T), got ",
                   in.input_ids.defined() ? in.input_ids.sizes() : c10::IntArrayRef{});
  const int64_t B = in.input_ids.size(0), C = in.input_ids.size(1), T = in.input_ids.size(2);
  ModelInputs flat = in;
  flat.input_ids = in.input_ids.reshape({B * C, T});
  if (in.attention_mask.defined()) flat.attention_mask = in.attention_mask.reshape({B * C, T});
  if (in.position_ids.defined()) flat.position_ids = in.position_ids.reshape({-1, T});
  auto out = from_encoder(encode(flat));
  auto pooled = out.last_hidden_state.select(1, 0);  // (B*C, H)
  pooled = apply_dropout(dropout, torch::relu(linear(pre_classifier, pooled)));
  out.logits = linear(classifier, pooled).view({B, C});  // (B, C)
  if (in.labels.defined())
    out.loss = torch::nn::functional::cross_entropy(out.logits, in.labels.view({-1}).to(torch::kLong));
  return out;
}

DistilBertForTokenClassification::DistilBertForTokenClassification(const ModelConfig& c) : DistilBertBase(c, true) {
  dropout = register_module("dropout", nn::Dropout(c.hidden_dropout));
  classifier = register_module("classifier", nn::Linear(c.hidden_size, c.num_labels));
  init_hf_weights(*this, c.initializer_range);
}

ModelOutput DistilBertForTokenClassification::forward(const ModelInputs& in) {
  auto out = from_encoder(encode(in));
  out.logits = linear(classifier, apply_dropout(dropout, out.last_hidden_state));  // (B, T, N)
  if (in.labels.defined()) out.loss = token_classification_loss(out.logits, in.labels);
  return out;
}

DistilBertForQuestionAnswering::DistilBertForQuestionAnswering(const ModelConfig& c) : DistilBertBase(c, true) {
  DISTILBERT_CHECK(c.num_labels == 2, "DistilBertForQuestionAnswering needs num_labels == 2 (start, end), config has ",
                   c.num_labels);
  qa_outputs = register_module("qa_outputs", nn::Linear(c.hidden_size, 2));
  dropout = register_module("dropout", nn::Dropout(c.qa_dropout));
  init_hf_weights(*this, c.initializer_range);
}

ModelOutput DistilBertForQuestionAnswering::forward(const ModelInputs& in) {
  auto out = from_encoder(encode(in));
  auto logits = linear(qa_outputs, apply_dropout(dropout, out.last_hidden_state));  // (B, T, 2)
  auto parts = logits.split(1, -1);
  out.start_logits = parts[0].squeeze(-1).contiguous();  // (B, T)
  out.end_logits = parts[1].squeeze(-1).contiguous();
  if (in.start_positions.defined() && in.end_positions.defined())
    out.loss = question_answering_loss(out.start_logits, out.end_logits, in.start_positions, in.end_positions);
  return out;
}

}  // namespace distilbert
