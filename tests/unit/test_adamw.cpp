// The fused AdamW step (train/optim.h) against a hand-computed update and against LibTorch's own
// torch::optim::AdamW::step on the same parameters, gradients and learning-rate changes, both weight-decay groups;
// its state is LibTorch's (a saved optimizer continues under either step).
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include <torch/torch.h>

#include "distilbert/train/optim.h"

using namespace distilbert;

namespace {
// Two Linear layers and a LayerNorm: "weight"s decay, "bias" and "LayerNorm.weight" do not. 300 x 256 is larger than
// the kernel's 32k-element grain, so the threaded path runs.
struct Net : torch::nn::Module {
  Net() {
    register_module("dense", torch::nn::Linear(256, 300));
    register_module("out", torch::nn::Linear(300, 7));
    register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({7})));
  }
};

void copy_params(torch::nn::Module& to, const torch::nn::Module& from) {
  torch::NoGradGuard no_grad;
  auto dst = to.parameters();
  auto src = from.parameters();
  for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
}

void set_grads(torch::nn::Module& a, torch::nn::Module& b, int seed) {
  torch::manual_seed(seed);
  auto pa = a.parameters();
  auto pb = b.parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    auto g = torch::randn_like(pa[i]) * (i % 3 == 0 ? 1e-3 : 1.0);  // small and ordinary magnitudes
    pa[i].mutable_grad() = g.clone();
    pb[i].mutable_grad() = g.clone();
  }
}

void check_same(const torch::nn::Module& a, const torch::nn::Module& b) {
  auto pa = a.named_parameters();
  auto pb = b.parameters();
  size_t i = 0;
  for (const auto& kv : pa) {
    INFO(kv.key());
    const double diff = (kv.value() - pb[i++]).abs().max().item<double>();
    CHECK(diff <= 1e-6);
  }
}
}  // namespace

TEST_CASE("fused AdamW: one step by hand", "[unit][optim]") {
  auto p = torch::tensor({1.0f, -2.0f}, torch::requires_grad());
  torch::optim::AdamW opt({p}, torch::optim::AdamWOptions(0.1).betas({0.9, 0.98}).eps(1e-6).weight_decay(0.01));
  p.mutable_grad() = torch::tensor({0.5f, 0.0f});
  adamw_step(opt);
  // p = 1 * (1 - 0.1 * 0.01) = 0.999; m = 0.1 * 0.5 = 0.05; v = 0.02 * 0.25 = 0.005; bias corrections 0.1 and 0.02:
  // step = (0.1 / 0.1) * 0.05 / (sqrt(0.005) / sqrt(0.02) + 1e-6) = 0.05 / 0.500001.
  CHECK(p[0].item<double>() == Approx(0.999 - 0.05 / 0.500001).margin(1e-7));
  CHECK(p[1].item<double>() == Approx(-2.0 * 0.999).margin(1e-7));  // zero gradient: decay only
  auto& s = static_cast<torch::optim::AdamWParamState&>(*opt.state().begin()->second);
  CHECK(s.step() == 1);
  CHECK(s.exp_avg()[0].item<double>() == Approx(0.05).margin(1e-9));
  CHECK(s.exp_avg_sq()[0].item<double>() == Approx(0.005).margin(1e-9));
}

TEST_CASE("fused AdamW equals LibTorch's AdamW over steps, groups and learning-rate changes", "[unit][optim]") {
  torch::manual_seed(3);
  Net fused, ref;
  copy_params(ref, fused);
  AdamWSettings s;
  s.lr = 1e-2;
  s.weight_decay = 0.1;
  auto a = build_adamw(fused, s);
  auto b = build_adamw(ref, s);
  for (int step = 0; step < 6; ++step) {
    INFO("step " << step);
    set_learning_rate(*a, s.lr * (step + 1) / 6.0);
    set_learning_rate(*b, s.lr * (step + 1) / 6.0);
    set_grads(fused, ref, 100 + step);
    if (step == 2) fused.parameters()[1].mutable_grad() = torch::Tensor();  // a parameter without a gradient
    if (step == 2) ref.parameters()[1].mutable_grad() = torch::Tensor();
    adamw_step(*a);
    b->step();
    check_same(fused, ref);
  }

  SECTION("its state is LibTorch's: saved, loaded and continued by LibTorch's step") {
    std::stringstream buf;
    torch::serialize::OutputArchive out;
    a->save(out);
    out.save_to(buf);
    Net again;
    copy_params(again, fused);
    auto c = build_adamw(again, s);
    torch::serialize::InputArchive in;
    in.load_from(buf);
    c->load(in);
    set_grads(again, ref, 200);
    set_grads(fused, ref, 200);
    c->step();
    adamw_step(*a);
    b->step();
    check_same(again, ref);
    check_same(fused, ref);
  }
}

TEST_CASE("fused AdamW: double parameters take LibTorch's step", "[unit][optim]") {
  auto p = torch::tensor({1.0, 2.0}, torch::dtype(torch::kFloat64).requires_grad(true));
  auto q = p.detach().clone().requires_grad_(true);
  torch::optim::AdamW a({p}, torch::optim::AdamWOptions(0.1));
  torch::optim::AdamW b({q}, torch::optim::AdamWOptions(0.1));
  p.mutable_grad() = torch::tensor({0.3, -0.7}, torch::kFloat64);
  q.mutable_grad() = torch::tensor({0.3, -0.7}, torch::kFloat64);
  adamw_step(a);
  b.step();
  CHECK(torch::equal(p, q));
}
