// The fp16 dynamic loss scaler (train/precision.h) step by step against hand-computed values of
// torch.cuda.amp.GradScaler's rules: scale the loss, unscale the gradients, skip and back off on inf/NaN, grow after
// growth_interval clean steps. Runs on CPU tensors: the arithmetic is device-independent.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include <torch/torch.h>

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
