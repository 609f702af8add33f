// cast_frozen_linears (train/precision.h): a frozen teacher whose Linear weights were converted to bf16 once gives,
// under bf16 autocast, exactly the outputs autocast gives with its fp32 weights (autocast casts them to bf16 at
// every forward); embeddings and LayerNorms stay fp32; a trainable model is refused.
#include <catch2/catch.hpp>

#include <torch/torch.h>

#include "distilbert/config/model_config.h"
#include "distilbert/core/error.h"
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
