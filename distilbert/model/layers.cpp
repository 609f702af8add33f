// Shared building blocks; see layers.h.
#include "distilbert/model/layers.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <limits>

#include <torch/torch.h>
#include <torch/version.h>

#include "distilbert/core/error.h"

namespace distilbert {

torch::Tensor apply_activation(const torch::Tensor& x, const std::string& name) {
  if (name == "gelu") return torch::gelu(x);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return torch::gelu(x, "tanh");
  if (name == "relu") return torch::relu(x);
  if (name == "silu" || name == "swish") return torch::silu(x);
  if (name == "tanh") return torch::tanh(x);
  fail("unsupported activation '", name, "'");
}

void init_hf_weights(torch::nn::Module& module, double std) {
  torch::NoGradGuard no_grad;
  // include_self=false: this runs inside constructors, before a shared_ptr to the module exists.
  for (auto& m : module.modules(/*include_self=*/false)) {
    if (auto* lin = m->as<torch::nn::Linear>()) {
      lin->weight.normal_(0.0, std);
      if (lin->bias.defined()) lin->bias.zero_();
    } else if (auto* emb = m->as<torch::nn::Embedding>()) {
      if (!emb->weight.requires_grad()) continue;
      emb->weight.normal_(0.0, std);
      if (emb->options.padding_idx()) emb->weight[*emb->options.padding_idx()].zero_();
    } else if (auto* ln = m->as<torch::nn::LayerNorm>()) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    }
  }
}

namespace {
// torch.finfo(dtype).min of the floating dtypes the models run in.
double finfo_min(torch::ScalarType dtype) {
  return dtype == torch::kFloat64    ? std::numeric_limits<double>::lowest()
         : dtype == torch::kFloat16  ? -65504.0
         : dtype == torch::kBFloat16 ? -3.3895313892515355e38
                                     : static_cast<double>(std::numeric_limits<float>::lowest());
}
}  // namespace

torch::Tensor attention_bias(const torch::Tensor& attention_mask, torch::ScalarType dtype) {
  DISTILBERT_CHECK(attention_mask.dim() == 2, "attention_mask: expected (B, T), got ", attention_mask.sizes());
  const double min = finfo_min(dtype);
  auto padded = attention_mask.eq(0).view({attention_mask.size(0), 1, 1, attention_mask.size(1)});
  return torch::zeros(padded.sizes(), torch::TensorOptions().dtype(dtype).device(attention_mask.device()))
      .masked_fill_(padded, min);
}

namespace {
std::atomic<int> g_fused_attention{-1};  // -1: not decided yet (read DISTILBERT_ATTENTION), 0 off, 1 on
}  // namespace

void set_fused_attention(bool enabled) { g_fused_attention = enabled ? 1 : 0; }

bool fused_attention_applies(const torch::nn::Dropout& dropout, const torch::Tensor* weights_out) {
#if TORCH_VERSION_MAJOR >= 2
  if (g_fused_attention < 0) {
    const char* env = std::getenv("DISTILBERT_ATTENTION");
    g_fused_attention = env && std::string(env) == "explicit" ? 0 : 1;
  }
  return g_fused_attention == 1 && !weights_out && (!dropout->is_training() || dropout->options.p() == 0.0);
#else
  (void)dropout, (void)weights_out;
  return false;
#endif
}

torch::Tensor fused_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& bias) {
#if TORCH_VERSION_MAJOR >= 2
  // SDPA wants a float mask in the query's dtype. The bias holds 0 or the lowest value of its own dtype; clamping
  // to the query dtype's lowest first keeps an fp32 bias finite in bf16 or fp16 (a cast alone would give -inf).
  std::optional<torch::Tensor> mask;
  if (bias.defined()) {
    const auto dt = q.scalar_type();
    mask = bias.scalar_type() == dt ? bias : bias.clamp_min(finfo_min(dt)).to(dt);
  }
  return at::scaled_dot_product_attention(q, k, v, mask);
#else
  (void)q, (void)k, (void)v, (void)bias;
  fail("fused_attention: LibTorch 1.13 has no at::scaled_dot_product_attention");
#endif
}

torch::Tensor layer_norm(torch::nn::LayerNorm& ln, const torch::Tensor& x) {
#if TORCH_VERSION_MAJOR >= 2
  return ln->forward(x);  // the mixed-dtype kernel: statistics in fp32, output in x's dtype
#else
  const auto dtype = ln->weight.scalar_type();
  return ln->forward(x.scalar_type() == dtype ? x : x.to(dtype));
#endif
}

torch::Tensor position_embeddings_of(const torch::nn::Embedding& table, const torch::Tensor& position_ids, int64_t B,
                                     int64_t T, const char* model) {
  const int64_t rows = table->weight.size(0);
  if (!position_ids.defined()) {
    DISTILBERT_CHECK(T <= rows, model, ": sequence length ", T, " exceeds max_position_embeddings ", rows);
    return table->weight.narrow(0, 0, T).unsqueeze(0);
  }
  const auto& p = position_ids;
  DISTILBERT_CHECK(p.dim() == 2 && (p.size(0) == B || p.size(0) == 1) && p.size(1) == T, model,
                   ": position_ids must be (", B, ", ", T, ") or (1, ", T, ") like input_ids, got ", p.sizes());
  DISTILBERT_CHECK(!at::isFloatingType(p.scalar_type()) && p.scalar_type() != torch::kBool, model,
                   ": position_ids must be integers, got ", c10::toString(p.scalar_type()));
  if (p.numel() > 0) {
    const int64_t lo = p.min().item<int64_t>(), hi = p.max().item<int64_t>();
    DISTILBERT_CHECK(lo >= 0 && hi < rows, model, ": position_ids must be in [0, ", rows - 1,
                     "] (max_position_embeddings ", rows, "), found values from ", lo, " to ", hi);
  }
  return torch::embedding(table->weight, p.to(torch::kLong));
}

torch::Tensor sinusoidal_table(int64_t n_positions, int64_t dim) {
  auto out = torch::empty({n_positions, dim}, torch::kFloat64);
  auto a = out.accessor<double, 2>();
  for (int64_t p = 0; p < n_positions; ++p)
    for (int64_t j = 0; j < dim; ++j) {
      const double angle = static_cast<double>(p) / std::pow(10000.0, 2.0 * static_cast<double>(j / 2) / dim);
      a[p][j] = (j % 2 == 0) ? std::sin(angle) : std::cos(angle);
    }
  return out.to(torch::kFloat32);
}

}  // namespace distilbert
