// cast_frozen_linears (train/precision.h): a frozen teacher whose Linear weights were converted to bf16 once gives,
// under bf16 autocast, exactly the outputs autocast gives with its fp32 weights (autocast casts them to bf16 at
// every forward); embeddings and LayerNorms stay fp32; a trainable model is refused.
// Also layer_norm (model/layers.h) of a bf16 activation, whose output dtype differs between LibTorch 1.13 and 2.x.
#include <catch2/catch.hpp>

#include <torch/torch.h>
#include <torch/version.h>

#include "distilbert/config/model_config.h"
#include "distilbert/core/error.h"
#include "distilbert/model/layers.h"
#include "distilbert/model/pretrained.h"
#include "distilbert/train/precision.h"
#include "support/bf16_products.h"
#include "test_paths.h"

using namespace distilbert;

TEST_CASE("cast_frozen_linears: same bf16-autocast outputs, fewer casts", "[unit][precision]") {
  if (!testing::require_bf16_products("cast_frozen_linears' bf16 comparison")) return;
  auto config = ModelConfig::load(std::string(DISTILBERT_SOURCE_DIR) + "/configs/tiny-bert.json");
  config.vocab_size = 500;
  torch::manual_seed(7);
  auto model = build_model(config);
  model->eval();
  ModelInputs in;
  in.input_ids = torch::randint(1, 500, {3, 16});
  in.attention_mask = torch::ones({3, 16}, torch::kLong);
  in.attention_mask.index_put_({2, torch::indexing::Slice(10)}, 0);
  in.output_hidden_states = true;
  auto run = [&] {
    torch::NoGradGuard no_grad;
    AutocastScope autocast("bf16", torch::kCPU);
    auto out = model->encoder_forward(in);
    return std::make_pair(out.last_hidden_state.to(torch::kFloat),
                          model->mlm_logits(out.last_hidden_state.reshape({-1, 64})).to(torch::kFloat));
  };
  const auto before = run();

  CHECK_THROWS_AS(cast_frozen_linears(*model, "bf16"), Error);  // parameters still require grad
  for (auto& p : model->parameters()) p.requires_grad_(false);
  CHECK(cast_frozen_linears(*model, "fp32") == 0);
  // 4 layers x 6 Linear (q, k, v, attention output, intermediate, output) + the MLM transform: weight and bias each.
  CHECK(cast_frozen_linears(*model, "bf16") == 2 * (4 * 6 + 1));
  CHECK(cast_frozen_linears(*model, "bf16") == 0);  // already converted
  for (const auto& kv : model->named_parameters()) {
    INFO(kv.key());
    const bool linear = kv.key().find("LayerNorm") == std::string::npos &&
                        kv.key().find("embeddings") == std::string::npos && kv.key() != "cls.predictions.bias";
    CHECK(kv.value().scalar_type() == (linear ? torch::kBFloat16 : torch::kFloat));
  }
  const auto after = run();
  CHECK(torch::equal(before.first, after.first));
  CHECK(torch::equal(before.second, after.second));
}

TEST_CASE("layer_norm of a bf16 activation with fp32 weights: fp32 statistics, the output dtype by LibTorch version",
          "[unit][precision]") {
  torch::manual_seed(4);
  torch::nn::LayerNorm ln(torch::nn::LayerNormOptions({64}).eps(1e-12));
  {
    torch::NoGradGuard no_grad;
    ln->weight.uniform_(0.5, 1.5);
    ln->bias.uniform_(-0.5, 0.5);
  }
  const auto x = (torch::randn({3, 5, 64}) * 3 + 1).to(torch::kBFloat16);
  // The formula in double on the bf16 values.
  const auto xd = x.to(torch::kDouble);
  const auto mean = xd.mean(-1, true), var = (xd - mean).pow(2).mean(-1, true);
  const auto ref = (xd - mean) / (var + 1e-12).sqrt() * ln->weight.to(torch::kDouble) + ln->bias.to(torch::kDouble);
  const auto y = layer_norm(ln, x);
  const double err = (y.to(torch::kDouble) - ref).abs().max().item<double>();
  const double bound = ref.abs().max().item<double>();
#if TORCH_VERSION_MAJOR >= 2
  CHECK(y.scalar_type() == torch::kBFloat16);  // the mixed-dtype kernel, as HF under torch.autocast
  CHECK(err <= bound * 0x1p-8);                // one rounding to bf16 (8 significant bits): half an ulp is 2^-9
#else
  CHECK(y.scalar_type() == torch::kFloat);  // 1.13: cast to the weights' dtype first
  CHECK(err <= bound * 1e-5);
#endif
}
