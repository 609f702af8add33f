// The fp16 dynamic loss scaler (train/precision.h) step by step against hand-computed values of
// torch.cuda.amp.GradScaler's rules: scale the loss, unscale the gradients, skip and back off on inf/NaN, grow after
// growth_interval clean steps. Runs on CPU tensors: the arithmetic is device-independent.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include <torch/torch.h>
#include <torch/version.h>

#include "distilbert/train/precision.h"

using namespace distilbert;

TEST_CASE("Loss scaler: scale, unscale, skip on inf/NaN, back off, grow", "[unit][precision]") {
  LossScaler s(true, /*init_scale=*/8.0, /*growth=*/2.0, /*backoff=*/0.5, /*growth_interval=*/3);
  auto w = torch::zeros({2}, torch::requires_grad());
  auto v = torch::zeros({1}, torch::requires_grad());  // never gets a gradient: ignored
  CHECK(s.scale(torch::tensor(1.5)).item<double>() == 12.0);

  // Gradients of the scaled loss 8 * (w . [1, -2]) are [8, -16]; unscaled, [1, -2].
  s.scale((w * torch::tensor({1.0f, -2.0f})).sum()).backward();
  REQUIRE(s.unscale({w, v}));
  CHECK(w.grad()[0].item<float>() == 1.0f);
  CHECK(w.grad()[1].item<float>() == -2.0f);
  s.update(false);
  s.update(false);
  CHECK(s.current_scale() == 8.0);  // 2 clean steps: not yet
  s.update(false);
  CHECK(s.current_scale() == 16.0);  // the 3rd doubles it and restarts the count
  CHECK(s.growth_tracker() == 0);

  // An overflowed gradient: unscale says so, the step is skipped, the scale halves, the clean count restarts.
  s.update(false);
  CHECK(s.growth_tracker() == 1);
  w.mutable_grad().fill_(1.0);
  w.mutable_grad()[1] = std::numeric_limits<float>::infinity();
  CHECK_FALSE(s.unscale({w}));
  s.update(true);
  CHECK(s.current_scale() == 8.0);
  CHECK(s.growth_tracker() == 0);
  CHECK(s.skipped_steps() == 1);
  w.mutable_grad()[1] = std::numeric_limits<float>::quiet_NaN();
  CHECK_FALSE(s.unscale({w}));
  s.update(true);
  CHECK(s.current_scale() == 4.0);
  CHECK(s.skipped_steps() == 2);

  // Checkpoint state round trip.
  LossScaler r(true, 65536.0, 2.0, 0.5, 3);
  r.restore(s.current_scale(), s.growth_tracker(), s.skipped_steps());
  r.update(false);
  r.update(false);
  r.update(false);
  CHECK(r.current_scale() == 8.0);
  CHECK(r.skipped_steps() == 2);
}

TEST_CASE("Loss scaler disabled (fp32, bf16): the loss and gradients pass through untouched", "[unit][precision]") {
  LossScaler s(false);
  CHECK(s.scale(torch::tensor(1.5)).item<double>() == 1.5);
  auto w = torch::zeros({1}, torch::requires_grad());
  (w * 3.0).sum().backward();
  w.mutable_grad()[0] = std::numeric_limits<float>::infinity();
  CHECK(s.unscale({w}));  // nothing checked, nothing divided
  CHECK(std::isinf(w.grad()[0].item<float>()));
  s.update(true);
  CHECK(s.skipped_steps() == 0);
  CHECK(s.current_scale() == 65536.0);
}

TEST_CASE("Loss scaler: the fused unscale (LibTorch 2.x CPU) gives the per-tensor loop's gradients and verdicts",
          "[unit][precision]") {
  if (!fused_unscale_available(torch::kCPU)) {
    WARN("SKIPPED: this LibTorch (" TORCH_VERSION ") has no CPU kernel for "
         "at::_amp_foreach_non_finite_check_and_unscale_ (LibTorch 1.13 has it for CUDA only); unscale uses the loop");
    return;
  }
  torch::manual_seed(3);
  // fp32 and bf16 gradients (two fused groups), 1,000 values each in several tensors.
  auto make = [] {
    return std::vector<torch::Tensor>{torch::randn({10, 50}) * 1e4, torch::randn({500}) * 1e4,
                                      (torch::randn({20, 25}) * 1e4).to(torch::kBFloat16), torch::randn({7})};
  };
  const auto base = make();
  auto copy = [&] {
    std::vector<torch::Tensor> v;
    for (const auto& t : base) v.push_back(t.clone());
    return v;
  };
  for (const double bad : {0.0, std::numeric_limits<double>::infinity(), std::nan("")}) {
    INFO("poisoned value " << bad);
    auto loop = copy(), fused = copy();
    if (bad != 0.0) {
      loop[2][3][4] = bad;
      fused[2][3][4] = bad;
    }
    const bool ok_loop = unscale_gradients(loop, 1.0 / 65536.0, /*fused=*/false);
    const bool ok_fused = unscale_gradients(fused, 1.0 / 65536.0, /*fused=*/true);
    CHECK(ok_loop == (bad == 0.0));
    CHECK(ok_fused == ok_loop);
    for (size_t i = 0; i < base.size(); ++i) {
      // Both multiply each value by the same float 2^-16: exact, so the results are equal bit for bit.
      CHECK(torch::equal(loop[i].nan_to_num(0, 0, 0), fused[i].nan_to_num(0, 0, 0)));
      CHECK(torch::allclose(loop[i].to(torch::kDouble).nan_to_num(0, 0, 0),
                            base[i].to(torch::kDouble).nan_to_num(0, 0, 0) / 65536.0, 0, 0) == (bad == 0.0 || i != 2));
    }
  }
}
