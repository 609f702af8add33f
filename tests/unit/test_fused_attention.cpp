// Attention through at::scaled_dot_product_attention (LibTorch 2.x, model/layers.h) against the explicit product it
// replaces in eval mode: the same outputs and gradients with a padding mask, for BERT and DistilBERT, in fp32 and
// under bf16 autocast. Where it must not apply (attention weights asked for, attention dropout in training) the
// explicit product runs. On LibTorch 1.13 there is no SDPA: a visible skip.
#include <catch2/catch.hpp>

#include <torch/torch.h>
#include <torch/version.h>

#include "distilbert/io/model_folder.h"
#include "distilbert/model/layers.h"
#include "distilbert/train/precision.h"
#include "support/bf16_products.h"
#include "test_paths.h"

using namespace distilbert;

#if TORCH_VERSION_MAJOR >= 2  // the helpers of the 2.x-only test below
namespace {

struct Pass {
  torch::Tensor hidden, grad;
};

// Eval mode: dropout is off, so the fused path applies (unless disabled) and the gradients flow all the same.
Pass run(PretrainedModel& model, const ModelInputs& in, bool fused, const char* precision) {
  set_fused_attention(fused);
  model.eval();
  model.zero_grad();
  AutocastScope autocast(precision, torch::kCPU);
  auto out = model.forward(in);
  out.last_hidden_state.to(torch::kFloat).pow(2).sum().backward();
  Pass p{out.last_hidden_state.to(torch::kFloat).detach(), torch::Tensor()};
  for (auto& kv : model.named_parameters())
    if (kv.key().find("layer.0.") != std::string::npos && kv.key().find("q") != std::string::npos &&
        kv.key().find("weight") != std::string::npos)
      p.grad = kv.value().grad().clone();
  return p;
}

ModelInputs padded_batch(int64_t vocab) {
  torch::manual_seed(11);
  ModelInputs in;
  in.input_ids = torch::randint(5, vocab, {3, 12});
  in.attention_mask = torch::ones({3, 12}, torch::kLong);
  in.attention_mask.narrow(1, 7, 5)[1].zero_();  // row 1: 7 real tokens
  in.attention_mask.narrow(1, 3, 9)[2].zero_();  // row 2: 3 real tokens
  in.input_ids.masked_fill_(in.attention_mask.eq(0), 0);
  return in;
}

}  // namespace
#endif

TEST_CASE("attention: at::scaled_dot_product_attention gives the explicit product's outputs and gradients",
          "[unit][precision]") {
#if TORCH_VERSION_MAJOR < 2
  WARN("SKIPPED: LibTorch " TORCH_VERSION " has no at::scaled_dot_product_attention; attention is the explicit product");
#else
  LoadOptions lo;
  lo.verbose = false;
  lo.head = Head::None;
  for (const char* name : {"bert_mlm", "distilbert_mlm"}) {
    auto model = load_model_folder((std::filesystem::path(kSource) / "tests/data/golden" / name).string(), lo).model;
    const auto in = padded_batch(model->config().vocab_size);
    const auto keep = in.attention_mask.reshape({-1}).nonzero().squeeze(1);
    auto real = [&](const torch::Tensor& h) { return h.reshape({-1, h.size(-1)}).index_select(0, keep); };
    for (const char* precision : {"fp32", "bf16"}) {
      if (std::string(precision) == "bf16" && !testing::require_bf16_products("bf16 autocast attention")) continue;
      INFO(name << ", " << precision);
      const auto a = run(*model, in, false, precision), b = run(*model, in, true, precision);
      set_fused_attention(true);
      REQUIRE(a.grad.defined());
      // fp32: the two orders of the same sums differ by rounding only (values of order 1, 32-wide heads).
      // bf16: each side rounds its products to bf16 (8 significant bits), so the bound is a few bf16 ulps.
      const double tol = std::string(precision) == "fp32" ? 1e-5 : 0.05;
      CHECK((real(a.hidden) - real(b.hidden)).abs().max().item<double>() <= tol);
      CHECK((a.grad - b.grad).abs().max().item<double>() <= tol * std::max(1.0, a.grad.abs().max().item<double>()));
    }
  }
  // Where fused attention must not apply: weights asked for, or attention dropout while training.
  torch::nn::Dropout drop(0.1);
  torch::Tensor w;
  drop->eval();
  CHECK(fused_attention_applies(drop, nullptr));
  CHECK_FALSE(fused_attention_applies(drop, &w));
  drop->train();
  CHECK_FALSE(fused_attention_applies(drop, nullptr));
  torch::nn::Dropout none(0.0);
  CHECK(fused_attention_applies(none, nullptr));
  set_fused_attention(false);
  CHECK_FALSE(fused_attention_applies(none, nullptr));
  set_fused_attention(true);
#endif
}
