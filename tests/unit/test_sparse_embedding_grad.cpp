// DistilBertForMaskedLM::sparse_embedding_grad (model/distilbert.h): with the lookup's gradient sparse (and the
// projection's backward written out), the tied word embeddings get the same gradient as with the dense lookup and
// linear (dense: the projection's gradient plus the looked-up rows), every other parameter too; where no projection
// follows, optimizer_step makes the sparse gradient dense and steps as the dense one would. The reference is the same
// model with the dense lookup and linear, LibTorch's own backward.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "distilbert/config/model_config.h"
#include "distilbert/model/distilbert.h"
#include "distilbert/train/precision.h"
#include "distilbert/train/train_core.h"
#include "test_paths.h"

using namespace distilbert;

namespace {

ModelConfig tiny(bool tied) {
  auto c = ModelConfig::load(std::string(DISTILBERT_SOURCE_DIR) + "/tests/data/golden/distilbert_mlm/config.json");
  c.tie_word_embeddings = tied;
  return c;
}

// Two models with the same weights; the second with the sparse lookup gradient.
struct Pair {
  std::shared_ptr<DistilBertForMaskedLM> dense, sparse;
};

Pair make_pair_of_models() {
  torch::manual_seed(21);
  Pair p{std::make_shared<DistilBertForMaskedLM>(tiny(true)), std::make_shared<DistilBertForMaskedLM>(tiny(true))};
  torch::NoGradGuard no_grad;
  const auto from = p.dense->named_parameters(), to = p.sparse->named_parameters();
  for (const auto& kv : from) to[kv.key()].copy_(kv.value());
  REQUIRE(p.sparse->sparse_embedding_grad(true));
  return p;
}

// Token ids with repeats and padding (id 0), the padding masked out.
ModelInputs inputs() {
  ModelInputs in;
  in.input_ids = torch::tensor({5, 7, 5, 9, 0, 0, 7, 7, 120, 3, 5, 0}, torch::kLong).view({2, 6});
  in.attention_mask = in.input_ids.ne(0).to(torch::kLong);
  return in;
}

const torch::Tensor& words(DistilBertForMaskedLM& m) { return m.distilbert->embeddings->word_embeddings->weight; }

}  // namespace

TEST_CASE("sparse embedding grad: the tied weights get the dense lookup's gradient when the projection follows",
          "[unit][model]") {
  auto [dense, sparse] = make_pair_of_models();
  const auto in = inputs();
  const auto weights = torch::randn({12, 128});  // fixed upstream weights of every logit
  for (auto* m : {dense.get(), sparse.get()}) {
    const auto h = m->encoder_forward(in).last_hidden_state.reshape({12, -1});
    (m->mlm_logits(h) * weights).sum().backward();
  }
  const auto& g = words(*sparse).grad();
  REQUIRE(g.defined());
  CHECK_FALSE(g.is_sparse());
  // A row sums at most 4 terms (the projection's and 3 lookups of token 5 or 7), in another order than the dense
  // lookup's: each of the 3 additions off by at most half an ulp of a partial sum under 4x the largest element.
  const auto ref = words(*dense).grad();
  const double scale = ref.abs().max().item<double>();
  CHECK((g - ref).abs().max().item<double>() <= 3 * 4 * std::ldexp(scale, -24));
  CHECK(torch::equal(g[0], ref[0]));  // the padding row: the projection's gradient alone in both
  // Every other gradient (the bias, the encoder) from the same products as linear's backward.
  const auto dense_params = dense->named_parameters();
  for (const auto& kv : sparse->named_parameters()) {
    INFO(kv.key());
    const auto& a = kv.value().grad();
    const auto& b = dense_params[kv.key()].grad();
    REQUIRE(a.defined() == b.defined());
    if (a.defined()) CHECK(torch::allclose(a, b, 1e-5, 1e-6 * b.abs().max().item<double>()));
  }
}

TEST_CASE("sparse embedding grad: without the projection, optimizer_step makes the gradient dense and steps alike",
          "[unit][model][optim]") {
  auto [dense, sparse] = make_pair_of_models();
  const auto in = inputs();
  const auto weights = torch::randn({2, 6, 32});
  for (auto* m : {dense.get(), sparse.get()}) (m->encoder_forward(in).last_hidden_state * weights).sum().backward();
  REQUIRE(words(*sparse).grad().is_sparse());
  for (auto* m : {dense.get(), sparse.get()}) {
    torch::optim::AdamW opt(m->parameters(), torch::optim::AdamWOptions(0.1));
    LossScaler scaler(false, 1.0, 2.0, 0.5, 2000);
    std::vector<torch::Tensor> params = m->parameters();
    optimizer_step(opt, params, scaler, 0.1, 1.0, 0, 0, 10);
  }
  // AdamW's first step moves a weight by lr * g / (|g| + eps): the rows the lookup touched by about 0.1, the others
  // not at all; equal in both models to the rounding of the same gradient summed in another order.
  CHECK((words(*sparse) - words(*dense)).abs().max().item<double>() <= 1e-6);
  CHECK((words(*sparse)[4] - words(*dense)[4]).abs().max().item<double>() == 0.0);  // id 4 is not looked up
}

TEST_CASE("sparse embedding grad: refused for untied weights, whose lookup gradient would be the whole gradient",
          "[unit][model]") {
  DistilBertForMaskedLM m(tiny(false));
  CHECK_FALSE(m.sparse_embedding_grad(true));
  CHECK_FALSE(m.distilbert->embeddings->sparse_word_grad);
}
