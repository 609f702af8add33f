// BERT modules and heads; see bert.h. Numerics follow docs/MODELS.md §3.
#include "distilbert/model/bert.h"

#include <cmath>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/model/head_losses.h"
#include "distilbert/model/head_products.h"
#include "distilbert/model/layers.h"
#include "distilbert/model/linear.h"

namespace distilbert {

namespace nn = torch::nn;

namespace {
nn::LayerNorm make_layer_norm(const ModelConfig& c) {
  return nn::LayerNorm(nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}
}  // namespace

BertEmbeddingsImpl::BertEmbeddingsImpl(const ModelConfig& c) {
  word_embeddings = register_module(
      "word_embeddings", nn::Embedding(nn::EmbeddingOptions(c.vocab_size, c.hidden_size).padding_idx(c.pad_token_id)));
  position_embeddings =
      register_module("position_embeddings", nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings = register_module("token_type_embeddings", nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", make_layer_norm(c));
  dropout = register_module("dropout", nn::Dropout(c.hidden_dropout));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                                          const torch::Tensor& position_ids) {
  auto x = word_embeddings->forward(input_ids) +
           position_embeddings_of(position_embeddings, position_ids, input_ids.size(0), input_ids.size(1), "BERT");
  if (token_type_ids.defined())
    x = x + token_type_embeddings->forward(token_type_ids);
  else
    x = x + token_type_embeddings->weight[0];  // token_type_ids default to zeros
  return apply_dropout(dropout, layer_norm(LayerNorm, x));
}

BertSelfAttentionImpl::BertSelfAttentionImpl(const ModelConfig& c) : n_heads(c.num_heads) {
  query = register_module("query", nn::Linear(c.hidden_size, c.hidden_size));
  key = register_module("key", nn::Linear(c.hidden_size, c.hidden_size));
  value = register_module("value", nn::Linear(c.hidden_size, c.hidden_size));
  dropout = register_module("dropout", nn::Dropout(c.attention_dropout));
}

torch::Tensor BertSelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& bias,
                                             torch::Tensor* weights_out) {
  const int64_t B = x.size(0), T = x.size(1), H = x.size(2), d = H / n_heads;
  auto shape = [&](const torch::Tensor& t) { return t.view({B, T, n_heads, d}).transpose(1, 2); };  // (B, h, T, d)
  auto q = shape(linear(query, x)), k = shape(linear(key, x)), v = shape(linear(value, x));
  if (fused_attention_applies(dropout, weights_out))
    return fused_attention(q, k, v, bias).transpose(1, 2).reshape({B, T, H});
  auto scores = head_products(q, k.transpose(2, 3)) / std::sqrt(static_cast<double>(d));  // (B, h, T, T)
  if (bias.defined()) scores = scores + bias;
  auto w = apply_dropout(dropout, torch::softmax(scores, -1));
  if (weights_out) *weights_out = w;
  return head_products(w, v).transpose(1, 2).reshape({B, T, H});
}

BertResidualOutputImpl::BertResidualOutputImpl(int64_t in, int64_t out, const ModelConfig& c) {
  dense = register_module("dense", nn::Linear(in, out));
  LayerNorm = register_module("LayerNorm", make_layer_norm(c));
  dropout = register_module("dropout", nn::Dropout(c.hidden_dropout));
}

torch::Tensor BertResidualOutputImpl::forward(const torch::Tensor& x, const torch::Tensor& residual) {
  return layer_norm(LayerNorm, apply_dropout(dropout, linear(dense, x)) + residual);
}

BertAttentionImpl::BertAttentionImpl(const ModelConfig& c) {
  self = register_module("self", BertSelfAttention(c));
  output = register_module("output", BertResidualOutput(c.hidden_size, c.hidden_size, c));
}

BertIntermediateImpl::BertIntermediateImpl(const ModelConfig& c) : activation(c.activation) {
  dense = register_module("dense", nn::Linear(c.hidden_size, c.intermediate_size));
}

torch::Tensor BertIntermediateImpl::forward(const torch::Tensor& x) {
  return apply_activation(linear(dense, x), activation);
}

BertLayerImpl::BertLayerImpl(const ModelConfig& c) {
  attention = register_module("attention", BertAttention(c));
  intermediate = register_module("intermediate", BertIntermediate(c));
  output = register_module("output", BertResidualOutput(c.intermediate_size, c.hidden_size, c));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& bias, torch::Tensor* weights_out) {
  auto a = attention->output->forward(attention->self->forward(x, bias, weights_out), x);
  return output->forward(intermediate->forward(a), a);
}

BertEncoderImpl::BertEncoderImpl(const ModelConfig& c) {
  layer = register_module("layer", nn::ModuleList());
  for (int64_t i = 0; i < c.num_layers; ++i) layer->push_back(BertLayer(c));
}

BertPoolerImpl::BertPoolerImpl(const ModelConfig& c) {
  dense = register_module("dense", nn::Linear(c.hidden_size, c.hidden_size));
}

torch::Tensor BertPoolerImpl::forward(const torch::Tensor& hidden) {
  return torch::tanh(linear(dense, hidden.select(1, 0)));
}

BertBackboneImpl::BertBackboneImpl(const ModelConfig& c, bool with_pooler) : config(c) {
  embeddings = register_module("embeddings", BertEmbeddings(c));
  encoder = register_module("encoder", BertEncoder(c));
  if (with_pooler) pooler = register_module("pooler", BertPooler(c));
}

ModelOutput BertBackboneImpl::forward(const ModelInputs& in) {
  const auto& ids = in.input_ids;
  DISTILBERT_CHECK(ids.defined() && ids.dim() == 2, "BERT: input_ids must be (B, T), got ",
                   ids.defined() ? ids.sizes() : c10::IntArrayRef{});
  ModelOutput out;
  auto x = embeddings->forward(ids, in.token_type_ids, in.position_ids);  // (B, T, H)
  torch::Tensor bias;
  if (in.attention_mask.defined()) bias = attention_bias(in.attention_mask, x.scalar_type());
  if (in.output_hidden_states) out.hidden_states.push_back(x);
  for (const auto& m : *encoder->layer) {
    torch::Tensor w;
    x = m->as<BertLayerImpl>()->forward(x, bias, in.output_attentions ? &w : nullptr);
    if (in.output_hidden_states) out.hidden_states.push_back(x);
    if (in.output_attentions) out.attentions.push_back(w);
  }
  out.last_hidden_state = x;
  if (pooler) out.pooler_output = pooler->forward(x);
  return out;
}

BertBase::BertBase(const ModelConfig& c, bool as_head, bool with_pooler) : PretrainedModel(c), as_head_(as_head) {
  DISTILBERT_CHECK(c.model_type == ModelType::Bert, "BERT model built from a '", c.model_type_name(), "' config");
  bert = BertBackbone(c, with_pooler);
  if (as_head) {
    register_module("bert", bert);
  } else {
    register_module("embeddings", bert->embeddings);
    register_module("encoder", bert->encoder);
    if (with_pooler) register_module("pooler", bert->pooler);
  }
}

BertModel::BertModel(const ModelConfig& c) : BertBase(c, false, true) { init_hf_weights(*this, c.initializer_range); }

ModelOutput BertModel::forward(const ModelInputs& in) { return bert->forward(in); }

BertLMPredictionHeadImpl::BertLMPredictionHeadImpl(const ModelConfig& c) : activation(c.activation) {
  transform = register_module("transform", std::make_shared<nn::Module>("BertPredictionHeadTransform"));
  transform_dense = transform->register_module("dense", nn::Linear(c.hidden_size, c.hidden_size));
  transform_LayerNorm = transform->register_module("LayerNorm", make_layer_norm(c));
  bias = register_parameter("bias", torch::zeros({c.vocab_size}));
  if (!c.tie_word_embeddings) {
    auto decoder = register_module("decoder", std::make_shared<nn::Module>("Decoder"));
    decoder_weight = decoder->register_parameter("weight", torch::empty({c.vocab_size, c.hidden_size}));
  }
}

BertForMaskedLM::BertForMaskedLM(const ModelConfig& c) : BertBase(c, true, /*with_pooler=*/false) {
  cls = register_module("cls", std::make_shared<nn::Module>("BertOnlyMLMHead"));
  predictions = cls->register_module("predictions", BertLMPredictionHead(c));
  init_hf_weights(*this, c.initializer_range);
  if (predictions->decoder_weight.defined()) {
    torch::NoGradGuard no_grad;
    predictions->decoder_weight.normal_(0.0, c.initializer_range);
  }
}

std::map<std::string, std::string> BertForMaskedLM::tied_aliases() const {
  std::map<std::string, std::string> m = {{"cls.predictions.decoder.bias", "cls.predictions.bias"}};
  if (config_.tie_word_embeddings) m["cls.predictions.decoder.weight"] = "bert.embeddings.word_embeddings.weight";
  return m;
}

torch::Tensor BertForMaskedLM::mlm_logits(const torch::Tensor& hidden) {
  auto h = layer_norm(predictions->transform_LayerNorm,
      apply_activation(linear(predictions->transform_dense, hidden), predictions->activation));
  const auto& w = predictions->decoder_weight.defined() ? predictions->decoder_weight : word_embeddings();
  return linear(h, w, predictions->bias);
}

ModelOutput BertForMaskedLM::forward(const ModelInputs& in) {
  auto out = bert->forward(in);
  out.logits = mlm_logits(out.last_hidden_state);  // (B, T, V)
  if (in.labels.defined()) out.loss = token_classification_loss(out.logits, in.labels);
  return out;
}

BertForSequenceClassification::BertForSequenceClassification(const ModelConfig& c) : BertBase(c, true, true) {
  dropout = register_module("dropout", nn::Dropout(c.classifier_dropout.value_or(c.hidden_dropout)));
  classifier = register_module("classifier", nn::Linear(c.hidden_size, c.num_labels));
  init_hf_weights(*this, c.initializer_range);
}

ModelOutput BertForSequenceClassification::forward(const ModelInputs& in) {
  auto out = bert->forward(in);
  out.logits = linear(classifier, apply_dropout(dropout, out.pooler_output));  // (B, N)
  if (in.labels.defined()) out.loss = sequence_classification_loss(out.logits, in.labels, config_);
  return out;
}

BertForQuestionAnswering::BertForQuestionAnswering(const ModelConfig& c) : BertBase(c, true, /*with_pooler=*/false) {
  DISTILBERT_CHECK(c.num_labels == 2, "BertForQuestionAnswering needs num_labels == 2 (start, end), config has ",
                   c.num_labels);
  qa_outputs = register_module("qa_outputs", nn::Linear(c.hidden_size, 2));
  init_hf_weights(*this, c.initializer_range);
}

ModelOutput BertForQuestionAnswering::forward(const ModelInputs& in) {
  auto out = bert->forward(in);
  auto parts = linear(qa_outputs, out.last_hidden_state).split(1, -1);  // (B, T, 2) -> 2 x (B, T, 1)
  out.start_logits = parts[0].squeeze(-1).contiguous();                   // (B, T)
  out.end_logits = parts[1].squeeze(-1).contiguous();
  if (in.start_positions.defined() && in.end_positions.defined())
    out.loss = question_answering_loss(out.start_logits, out.end_logits, in.start_positions, in.end_positions);
  return out;
}

BertForTokenClassification::BertForTokenClassification(const ModelConfig& c) : BertBase(c, true, false) {
  dropout = register_module("dropout", nn::Dropout(c.classifier_dropout.value_or(c.hidden_dropout)));
  classifier = register_module("classifier", nn::Linear(c.hidden_size, c.num_labels));
  init_hf_weights(*this, c.initializer_range);
}

ModelOutput BertForTokenClassification::forward(const ModelInputs& in) {
  auto out = bert->forward(in);
  out.logits = linear(classifier, apply_dropout(dropout, out.last_hidden_state));  // (B, T, N)
  if (in.labels.defined()) out.loss = token_classification_loss(out.logits, in.labels);
  return out;
}

BertForMultipleChoice::BertForMultipleChoice(const ModelConfig& c) : BertBase(c, true, true) {
  dropout = register_module("dropout", nn::Dropout(c.classifier_dropout.value_or(c.hidden_dropout)));
  classifier = register_module("classifier", nn::Linear(c.hidden_size, 1));
  init_hf_weights(*this, c.initializer_range);
}

ModelOutput BertForMultipleChoice::forward(const ModelInputs& in) {
  DISTILBERT_CHECK(in.input_ids.defined() && in.input_ids.dim() == 3,
                   "BertForMultipleChoice: input_ids must be (B, C, T), got ",
                   in.input_ids.defined() ? in.input_ids.sizes() : c10::IntArrayRef{});
  const int64_t B = in.input_ids.size(0), C = in.input_ids.size(1), T = in.input_ids.size(2);
  ModelInputs flat = in;
  flat.labels = torch::Tensor();
  flat.input_ids = in.input_ids.reshape({B * C, T});
  if (in.attention_mask.defined()) flat.attention_mask = in.attention_mask.reshape({B * C, T});
  if (in.token_type_ids.defined()) flat.token_type_ids = in.token_type_ids.reshape({B * C, T});
  if (in.position_ids.defined()) flat.position_ids = in.position_ids.reshape({-1, T});
  auto out = bert->forward(flat);
  out.logits = linear(classifier, apply_dropout(dropout, out.pooler_output)).view({B, C});  // (B*C, 1) -> (B, C)
  if (in.labels.defined())
    out.loss = torch::nn::functional::cross_entropy(out.logits, in.labels.view({-1}).to(torch::kLong));
  return out;
}

}  // namespace distilbert
