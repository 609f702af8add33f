// train_core's optimizer_step (train/train_core.h): the learning rate of the schedule, one AdamW step, and the
// gradients released afterwards, so that the next backward's gradient is its own and micro-batches between two
// steps still add up. Expected values are worked by hand from AdamW's rules.
#include <catch2/catch.hpp>

#include <cmath>

#include <torch/torch.h>

#include "distilbert/train/precision.h"
#include "distilbert/train/train_core.h"

using namespace distilbert;

TEST_CASE("optimizer_step: scheduled lr, one AdamW step, gradients released for the next backward",
          "[unit][optim]") {
  auto w = torch::tensor({1.0f, -2.0f}, torch::requires_grad());
  torch::optim::AdamW opt({w}, torch::optim::AdamWOptions(0.1).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.0));
  LossScaler scaler(false, 1.0, 2.0, 0.5, 2000);
  const auto c = torch::tensor({3.0f, -0.5f});

  (w * c).sum().backward();
  // Step 5 of 10 with 0 warm-up steps: lr = 0.1 * (10 - 5) / 10 = 0.05. AdamW's first step moves each weight by
  // lr * m_hat / (sqrt(v_hat) + eps) = lr * g / (|g| + eps), so by 0.05 against the gradient's sign.
  const auto o = optimizer_step(opt, {w}, scaler, 0.1, 0.0, 5, 0, 10);
  CHECK(o.lr == Approx(0.05).epsilon(1e-12));
  CHECK(o.applied);
  CHECK(o.grad_norm == -1.0);
  CHECK(w[0].item<float>() == Approx(0.95).epsilon(1e-6));
  CHECK(w[1].item<float>() == Approx(-1.95).epsilon(1e-6));
  CHECK_FALSE(w.grad().defined());  // released, not zeroed

  // The next backward's gradient is exactly its own ...
  (w * torch::tensor({2.0f, 4.0f})).sum().backward();
  REQUIRE(w.grad().defined());
  CHECK(torch::equal(w.grad(), torch::tensor({2.0f, 4.0f})));
  // ... and a second micro-batch before the step adds to it (gradient accumulation).
  (w * torch::tensor({0.5f, -1.0f})).sum().backward();
  CHECK(torch::equal(w.grad(), torch::tensor({2.5f, 3.0f})));

  // Clipping reports the norm before clipping: |(2.5, 3)| = sqrt(15.25).
  const auto o2 = optimizer_step(opt, {w}, scaler, 0.1, 1.0, 6, 0, 10);
  CHECK(o2.grad_norm == Approx(std::sqrt(15.25)).epsilon(1e-6));
  CHECK_FALSE(w.grad().defined());
}
