// ONNX graphs of BERT/DistilBERT and their heads; see onnx_export.h. Each block mirrors the LibTorch forward in
// model/{distilbert,bert}.cpp operation by operation, so the numbers agree to float32 rounding.
#include "distilbert/export/onnx_export.h"

#include <cctype>
#include <cmath>
#include <limits>
#include <map>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/export/onnx_graph.h"
#include "distilbert/io/model_folder.h"

namespace distilbert::onnx_export {

namespace {

constexpr const char* kProducer = "distilbert-cpp";

using TP = onnx::TensorProto;

std::string scope_of(const std::string& key_prefix) {
  std::string s = "/" + key_prefix;
  // "distilbert.transformer.layer.0.attention" -> "/distilbert/transformer/layer.0/attention"
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.' && !(i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))))
      out += '/';
    else
      out += s[i];
  }
  return out;
}

std::string dotted_name(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

class Exporter {
 public:
  Exporter(const PretrainedModel& model, const OnnxExportOptions& options, onnx::GraphProto& graph)
      : model_(model), c_(model.config()), opts_(options), b_(graph),
        T_(options.fp16 ? TP::FLOAT16 : TP::FLOAT) {
    for (auto& [k, t] : state_dict(model)) weights_[k] = t.detach().to(torch::kCPU);
    for (const auto& [alias, target] : model.tied_aliases()) aliases_[alias] = target;
    head_ = head_of_architecture(model.architecture(), c_.model_type);
  }

  void build() {
    const bool bert = c_.model_type == ModelType::Bert;
    const bool mc = head_ == Head::MultipleChoice;
    std::vector<Dim> in_dims = mc ? std::vector<Dim>{std::string("batch_size"), std::string("num_choices"),
                                                     std::string("sequence_length")}
                                  : std::vector<Dim>{std::string("batch_size"), std::string("sequence_length")};
    b_.input("input_ids", TP::INT64, in_dims);
    b_.input("attention_mask", TP::INT64, in_dims);
    if (bert) b_.input("token_type_ids", TP::INT64, in_dims);

    std::string ids = "input_ids", mask = "attention_mask", types = bert ? "token_type_ids" : "";
    if (mc) {  // (B, C, T) -> (B*C, T)
      b_.set_scope("/flatten_choices");
      auto flat_shape = b_.node("Concat", {b_.const_i64({-1}), dim_slice("input_ids", 2)}, {attr_int("axis", 0)});
      ids = b_.node("Reshape", {ids, flat_shape});
      mask = b_.node("Reshape", {mask, flat_shape});
      if (bert) types = b_.node("Reshape", {types, flat_shape});
    }
    const std::string prefix = model_.base_prefix();
    std::string x = bert ? bert_encoder(ids, types, mask, prefix) : distil_encoder(ids, mask, prefix);
    const std::vector<Dim> BT = {std::string("batch_size"), std::string("sequence_length")};

    switch (head_) {
      case Head::None:
        finish(x, "last_hidden_state", {BT[0], BT[1], c_.hidden_size});
        break;
      case Head::MaskedLM: {
        std::string logits = bert ? bert_mlm_head(x) : distil_mlm_head(x);
        finish(logits, "logits", {BT[0], BT[1], c_.vocab_size});
        break;
      }
      case Head::SequenceClassification: {
        finish(bert ? bert_cls_head(x) : distil_cls_head(x), "logits", {BT[0], c_.num_labels});
        break;
      }
      case Head::MultipleChoice: {
        auto flat = bert ? bert_cls_head(x) : distil_cls_head(x);  // (B*C, 1)
        b_.set_scope("/unflatten_choices");
        auto shape = b_.node("Concat", {b_.const_i64({-1}), dim_slice("input_ids", 1)}, {attr_int("axis", 0)});
        finish(b_.node("Reshape", {flat, shape}), "logits", {BT[0], std::string("num_choices")});
        break;
      }
      case Head::TokenClassification:
        b_.set_scope("/classifier");
        finish(linear(x, "classifier"), "logits", {BT[0], BT[1], c_.num_labels});
        break;
      case Head::QuestionAnswering: {
        b_.set_scope("/qa_outputs");
        auto logits = linear(x, "qa_outputs");  // (B, T, 2)
        b_.set_scope("/split");
        finish(b_.node("Gather", {logits, b_.const_i64({0}, true)}, {attr_int("axis", 2)}), "start_logits", BT);
        finish(b_.node("Gather", {logits, b_.const_i64({1}, true)}, {attr_int("axis", 2)}), "end_logits", BT);
        break;
      }
    }
  }

 private:
  // ---- weights ----------------------------------------------------------------------------------------------
  const torch::Tensor& tensor(const std::string& key) {
    std::string k = key;
    if (!weights_.count(k) && aliases_.count(k)) k = aliases_[k];
    auto it = weights_.find(k);
    DISTILBERT_CHECK(it != weights_.end(), "ONNX export of ", model_.architecture(), ": the model has no tensor '", key,
                     "'");
    return it->second;
  }

  std::string add_tensor(const std::string& name, torch::Tensor t, const std::string& doc = "") {
    t = t.contiguous();
    if (t.is_floating_point()) t = t.to(opts_.fp16 ? torch::kHalf : torch::kFloat).contiguous();
    const int32_t et = t.scalar_type() == torch::kHalf ? TP::FLOAT16 : t.scalar_type() == torch::kFloat ? TP::FLOAT : -1;
    DISTILBERT_CHECK(et != -1, "ONNX export: tensor '", name, "' has unsupported dtype ", t.scalar_type());
    std::vector<int64_t> dims(t.sizes().begin(), t.sizes().end());
    return b_.initializer(name, et, dims, t.data_ptr(), static_cast<size_t>(t.numel() * t.element_size()), doc);
  }

  /// The HF tensor `key` as an initializer of the same name.
  std::string weight(const std::string& key) {
    std::string k = weights_.count(key) ? key : (aliases_.count(key) ? aliases_[key] : key);
    if (b_.has_initializer(k)) return k;
    return add_tensor(k, tensor(k));
  }

  /// W^T (in, out) of a Linear weight `key` (out, in), named "<key>.T"; MatMul(x, W^T) is torch.onnx's Linear.
  std::string weight_t(const std::string& key) {
    const std::string name = key + ".T";
    if (b_.has_initializer(name)) return name;
    return add_tensor(name, tensor(key).t(), "transpose of the HF tensor " + key);
  }

  // ---- blocks -----------------------------------------------------------------------------------------------
  /// x @ W^T + b for the Linear with HF prefix `p` (p.weight, p.bias).
  std::string linear(const std::string& x, const std::string& p) {
    auto y = b_.node("MatMul", {x, weight_t(p + ".weight")});
    return b_.node("Add", {y, weight(p + ".bias")});
  }

  std::string scalar(float v) { return b_.const_scalar(v, T_); }

  std::string layer_norm(const std::string& x, const std::string& p, double eps) {
    const std::string gamma = weight(p + ".weight"), beta = weight(p + ".bias");
    if (opts_.opset >= 17)
      return b_.node("LayerNormalization", {x, gamma, beta},
                     {attr_int("axis", -1), attr_float("epsilon", static_cast<float>(eps))});
    // Decomposed, statistics in float32 (LayerNormalization's stash_type=1 for fp16).
    std::string xf = x;
    if (opts_.fp16) xf = b_.node("Cast", {x}, {attr_int("to", TP::FLOAT)});
    auto mean = b_.node("ReduceMean", {xf}, {attr_ints("axes", {-1}), attr_int("keepdims", 1)});
    auto d = b_.node("Sub", {xf, mean});
    auto var = b_.node("ReduceMean", {b_.node("Mul", {d, d})}, {attr_ints("axes", {-1}), attr_int("keepdims", 1)});
    auto den = b_.node("Sqrt", {b_.node("Add", {var, b_.const_scalar(static_cast<float>(eps), TP::FLOAT)})});
    auto y = b_.node("Div", {d, den});
    if (opts_.fp16) y = b_.node("Cast", {y}, {attr_int("to", TP::FLOAT16)});
    return b_.node("Add", {b_.node("Mul", {y, gamma}), beta});
  }

  std::string activation(const std::string& x, const std::string& name) {
    if (name == "gelu") {  // torch: x * 0.5 * (1 + erf(x * M_SQRT1_2))
      auto e = b_.node("Erf", {b_.node("Mul", {x, scalar(static_cast<float>(M_SQRT1_2))})});
      return b_.node("Mul", {b_.node("Mul", {x, scalar(0.5f)}), b_.node("Add", {e, scalar(1.0f)})});
    }
    if (name == "gelu_new" || name == "gelu_pytorch_tanh") {  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      auto x3 = b_.node("Mul", {b_.node("Mul", {x, x}), x});
      auto inner = b_.node("Add", {x, b_.node("Mul", {x3, scalar(0.044715f)})});
      auto t = b_.node("Tanh", {b_.node("Mul", {inner, scalar(static_cast<float>(std::sqrt(2.0 / M_PI)))})});
      return b_.node("Mul", {b_.node("Mul", {x, scalar(0.5f)}), b_.node("Add", {t, scalar(1.0f)})});
    }
    if (name == "relu") return b_.node("Relu", {x});
    if (name == "silu" || name == "swish") return b_.node("Mul", {x, b_.node("Sigmoid", {x})});
    if (name == "tanh") return b_.node("Tanh", {x});
    fail("ONNX export: unsupported activation '", name, "' (supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, tanh)");
  }

  /// Shape(t)[i:i+1] as a 1-D int64 tensor.
  std::string dim_slice(const std::string& t, int64_t i) {
    auto shape = b_.node("Shape", {t});
    return b_.node("Slice", {shape, b_.const_i64({i}), b_.const_i64({i + 1}), b_.const_i64({0})});
  }

  /// (B, T) int64 mask -> (B, 1, 1, T) additive bias: lowest value of the compute dtype where mask == 0, else 0.
  std::string mask_bias(const std::string& mask) {
    b_.set_scope("/attention_bias");
    const float lowest = opts_.fp16 ? -65504.0f : std::numeric_limits<float>::lowest();
    auto padded = b_.node("Equal", {mask, b_.const_i64({0}, true)});
    auto bias = b_.node("Where", {padded, scalar(lowest), scalar(0.0f)});
    return b_.node("Unsqueeze", {bias, b_.const_i64({1, 2})});
  }

  /// word (+ token type) + positions[:T] -> LayerNorm. `types` empty for DistilBERT.
  std::string embeddings(const std::string& ids, const std::string& types, const std::string& p, double eps) {
    b_.set_scope(scope_of(p));
    auto x = b_.node("Gather", {weight(p + ".word_embeddings.weight"), ids}, {attr_int("axis", 0)});  // (B, T, H)
    auto pos = b_.node("Slice", {weight(p + ".position_embeddings.weight"), b_.const_i64({0}), dim_slice(ids, 1),
                                 b_.const_i64({0})});  // (T, H)
    x = b_.node("Add", {x, pos});
    if (!types.empty())
      x = b_.node("Add", {x, b_.node("Gather", {weight(p + ".token_type_embeddings.weight"), types},
                                      {attr_int("axis", 0)})});
    b_.set_scope(scope_of(p + ".LayerNorm"));
    return layer_norm(x, p + ".LayerNorm", eps);
  }

  /// Multi-head attention core: q, k, v (B, T, H) -> context (B, T, H). DistilBERT scales q first, BERT the scores.
  std::string attention_core(std::string q, std::string k, std::string v, const std::string& bias, bool scale_q) {
    const int64_t nh = c_.num_heads, d = c_.head_dim();
    auto split = b_.const_i64({0, 0, nh, d});
    q = b_.node("Transpose", {b_.node("Reshape", {q, split})}, {attr_ints("perm", {0, 2, 1, 3})});  // (B, h, T, d)
    k = b_.node("Transpose", {b_.node("Reshape", {k, split})}, {attr_ints("perm", {0, 2, 3, 1})});  // (B, h, d, T)
    v = b_.node("Transpose", {b_.node("Reshape", {v, split})}, {attr_ints("perm", {0, 2, 1, 3})});  // (B, h, T, d)
    auto sqrt_d = scalar(static_cast<float>(std::sqrt(static_cast<double>(d))));
    if (scale_q) q = b_.node("Div", {q, sqrt_d});
    auto scores = b_.node("MatMul", {q, k});  // (B, h, T, T)
    if (!scale_q) scores = b_.node("Div", {scores, sqrt_d});
    scores = b_.node("Add", {scores, bias});
    auto w = b_.node("Softmax", {scores}, {attr_int("axis", -1)});
    auto ctx = b_.node("Transpose", {b_.node("MatMul", {w, v})}, {attr_ints("perm", {0, 2, 1, 3})});  // (B, T, h, d)
    return b_.node("Reshape", {ctx, b_.const_i64({0, 0, c_.hidden_size})});
  }

  std::string distil_encoder(const std::string& ids, const std::string& mask, const std::string& prefix) {
    const double eps = 1e-12;  // DistilBERT hard-codes it (docs/MODELS.md §1.1)
    const std::string bias = mask_bias(mask);
    std::string x = embeddings(ids, "", dotted_name(prefix, "embeddings"), eps);
    for (int64_t i = 0; i < c_.num_layers; ++i) {
      const std::string L = dotted_name(prefix, "transformer.layer." + std::to_string(i));
      const std::string A = L + ".attention";
      b_.set_scope(scope_of(A));
      auto ctx = attention_core(linear(x, A + ".q_lin"), linear(x, A + ".k_lin"), linear(x, A + ".v_lin"), bias,
                                /*scale_q=*/true);
      auto sa = b_.node("Add", {linear(ctx, A + ".out_lin"), x});
      b_.set_scope(scope_of(L + ".sa_layer_norm"));
      sa = layer_norm(sa, L + ".sa_layer_norm", eps);
      b_.set_scope(scope_of(L + ".ffn"));
      auto f = linear(activation(linear(sa, L + ".ffn.lin1"), c_.activation), L + ".ffn.lin2");
      f = b_.node("Add", {f, sa});
      b_.set_scope(scope_of(L + ".output_layer_norm"));
      x = layer_norm(f, L + ".output_layer_norm", eps);
    }
    return x;
  }

  std::string bert_encoder(const std::string& ids, const std::string& types, const std::string& mask,
                           const std::string& prefix) {
    DISTILBERT_CHECK(c_.position_embedding_type == "absolute", "ONNX export: BERT position_embedding_type '",
                     c_.position_embedding_type, "' is not supported (only absolute)");
    const double eps = c_.layer_norm_eps;
    const std::string bias = mask_bias(mask);
    std::string x = embeddings(ids, types, dotted_name(prefix, "embeddings"), eps);
    for (int64_t i = 0; i < c_.num_layers; ++i) {
      const std::string L = dotted_name(prefix, "encoder.layer." + std::to_string(i));
      const std::string S = L + ".attention.self";
      b_.set_scope(scope_of(S));
      auto ctx = attention_core(linear(x, S + ".query"), linear(x, S + ".key"), linear(x, S + ".value"), bias,
                                /*scale_q=*/false);
      const std::string AO = L + ".attention.output";
      b_.set_scope(scope_of(AO));
      auto a = layer_norm(b_.node("Add", {linear(ctx, AO + ".dense"), x}), AO + ".LayerNorm", eps);
      b_.set_scope(scope_of(L + ".intermediate"));
      auto h = activation(linear(a, L + ".intermediate.dense"), c_.activation);
      b_.set_scope(scope_of(L + ".output"));
      x = layer_norm(b_.node("Add", {linear(h, L + ".output.dense"), a}), L + ".output.LayerNorm", eps);
    }
    return x;
  }

  /// [CLS] -> pre_classifier -> ReLU -> classifier (DistilBERT seq-cls and multiple choice).
  /// BERT's pooled classifier: [CLS] -> pooler dense -> tanh -> (dropout) -> classifier (sequence classification
  /// and, on the flattened choices, multiple choice).
  std::string bert_cls_head(const std::string& x) {
    b_.set_scope("/bert/pooler");
    auto cls = b_.node("Gather", {x, b_.const_i64({0}, true)}, {attr_int("axis", 1)});  // (B, H)
    auto pooled = b_.node("Tanh", {linear(cls, "bert.pooler.dense")});
    b_.set_scope("/classifier");
    return linear(pooled, "classifier");
  }

  std::string distil_cls_head(const std::string& x) {
    b_.set_scope("/pre_classifier");
    auto cls = b_.node("Gather", {x, b_.const_i64({0}, true)}, {attr_int("axis", 1)});  // (B, H)
    auto h = b_.node("Relu", {linear(cls, "pre_classifier")});
    b_.set_scope("/classifier");
    return linear(h, "classifier");
  }

  /// h (.., H) @ E^T + bias, E (V, H) being the tied word embeddings (Transpose node: one copy in the file) or the
  /// untied decoder weight.
  std::string tied_projection(const std::string& h, const std::string& weight_key, const std::string& bias_key) {
    std::string wt;
    if (!weights_.count(weight_key) && aliases_.count(weight_key))
      wt = b_.node("Transpose", {weight(aliases_[weight_key])}, {attr_ints("perm", {1, 0})});
    else
      wt = weight_t(weight_key);
    return b_.node("Add", {b_.node("MatMul", {h, wt}), weight(bias_key)});
  }

  std::string distil_mlm_head(const std::string& x) {
    b_.set_scope("/vocab_transform");
    auto h = activation(linear(x, "vocab_transform"), c_.activation);
    b_.set_scope("/vocab_layer_norm");
    h = layer_norm(h, "vocab_layer_norm", 1e-12);
    b_.set_scope("/vocab_projector");
    return tied_projection(h, "vocab_projector.weight", "vocab_projector.bias");
  }

  std::string bert_mlm_head(const std::string& x) {
    b_.set_scope("/cls/predictions/transform");
    auto h = activation(linear(x, "cls.predictions.transform.dense"), c_.activation);
    h = layer_norm(h, "cls.predictions.transform.LayerNorm", c_.layer_norm_eps);
    b_.set_scope("/cls/predictions/decoder");
    return tied_projection(h, "cls.predictions.decoder.weight", "cls.predictions.bias");
  }

  /// Name the value `x` as graph output `name` (float32: a Cast from fp16, else an Identity).
  void finish(const std::string& x, const std::string& name, const std::vector<Dim>& dims) {
    b_.set_scope("/output");
    if (opts_.fp16)
      b_.node_to("Cast", {x}, name, {attr_int("to", TP::FLOAT)});
    else
      b_.node_to("Identity", {x}, name);
    b_.output(name, TP::FLOAT, dims);
  }

  const PretrainedModel& model_;
  const ModelConfig& c_;
  OnnxExportOptions opts_;
  GraphBuilder b_;
  int32_t T_;
  Head head_ = Head::None;
  std::map<std::string, torch::Tensor> weights_;
  std::map<std::string, std::string> aliases_;
};

}  // namespace

onnx::ModelProto build_onnx_model(const PretrainedModel& model, const OnnxExportOptions& options) {
  DISTILBERT_CHECK(options.opset >= kMinOpset && options.opset <= kMaxOpset, "ONNX export: opset ", options.opset,
                   " is not supported (supported: ", kMinOpset, "-", kMaxOpset,
                   "; LayerNormalization needs 17, below it is ", "decomposed)");
  onnx::ModelProto m;
  m.set_ir_version(onnx::IR_VERSION);  // 8 for libonnx 1.12
  m.set_producer_name(kProducer);
  m.set_producer_version("0.1.0");
  m.set_model_version(1);
  m.set_doc_string(model.architecture() + " exported by distilbert-cpp (C++/LibTorch) with the ONNX library");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(options.opset);
  auto add_meta = [&](const std::string& k, const std::string& v) {
    auto* p = m.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  };
  add_meta("architecture", model.architecture());
  add_meta("model_type", model.config().model_type_name());
  add_meta("dtype", options.fp16 ? "float16" : "float32");
  auto* g = m.mutable_graph();
  g->set_name("main_graph");
  Exporter ex(model, options, *g);
  ex.build();
  return m;
}

std::vector<std::string> onnx_input_names(const PretrainedModel& model) {
  if (model.config().model_type == ModelType::Bert) return {"input_ids", "attention_mask", "token_type_ids"};
  return {"input_ids", "attention_mask"};
}

std::vector<std::string> onnx_output_names(const PretrainedModel& model) {
  switch (head_of_architecture(model.architecture(), model.config().model_type)) {
    case Head::None: return {"last_hidden_state"};
    case Head::QuestionAnswering: return {"start_logits", "end_logits"};
    default: return {"logits"};
  }
}

}  // namespace distilbert::onnx_export
