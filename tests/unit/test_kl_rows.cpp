// The soft-target KL row kernel (train/kl_rows.h), each of its kernels, against the same math in double by LibTorch's
// log_softmax: the KL sum and every gradient element, within bounds derived from fp32 arithmetic. Row lengths that
// leave a tail after the 8-wide loop, logits spread far enough for exp to underflow, a student close to its
// teacher, and NaN logits.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "distilbert/train/kl_rows.h"

using namespace distilbert;

namespace {

struct Ref {
  double kl;              // sum over rows
  torch::Tensor grad;     // p_s - p_t, double
  torch::Tensor p_sum;    // p_s + p_t, double
  double mean_abs_ratio;  // sum over rows of sum_j p_t |log p_t - log p_s|
};

// The kernels' arguments a = (x - max x) / T are two fp32 roundings, the same on every CPU: the reference takes them
// as they are and does the rest (softmax, log, KL) in double.
Ref reference(const torch::Tensor& s, const torch::Tensor& t, float inv_T) {
  auto args = [&](const torch::Tensor& x) { return ((x - std::get<0>(x.max(1, true))) * inv_T).to(torch::kDouble); };
  const auto ls = torch::log_softmax(args(s), 1), lt = torch::log_softmax(args(t), 1);
  const auto ps = ls.exp(), pt = lt.exp();
  return {(pt * (lt - ls)).sum().item<double>(), ps - pt, ps + pt, (pt * (lt - ls).abs()).sum().item<double>()};
}

struct Got {
  double kl;
  torch::Tensor grad;
};

Got run(const torch::Tensor& s, const torch::Tensor& t, float inv_T, KlRowsKernel kernel) {
  const int64_t rows = s.size(0), V = s.size(1);
  auto grad = torch::full({rows, V}, std::numeric_limits<float>::quiet_NaN());
  std::vector<float> work(static_cast<size_t>(V));
  const double kl =
      kl_rows(s.data_ptr<float>(), t.data_ptr<float>(), grad.data_ptr<float>(), work.data(), rows, V, inv_T, kernel);
  return {kl, grad};
}

// The kernels to check here: the portable one always, the AVX2 one where the CPU has it (a visible skip elsewhere).
std::vector<KlRowsKernel> kernels() {
  std::vector<KlRowsKernel> k{KlRowsKernel::Portable};
  if (kl_rows_avx2_available())
    k.push_back(KlRowsKernel::Avx2);
  else
    WARN("SKIPPED: the AVX2 KL kernel (this CPU lacks AVX2 or FMA); the portable kernel is checked");
  return k;
}

const char* name(KlRowsKernel k) { return k == KlRowsKernel::Avx2 ? "avx2" : "portable"; }

// Relative error of one fp32 probability from those arguments: exp at most 2 ulps (2^-23 each), then 1 / S, the
// product and the difference one rounding (2^-24) each.
constexpr double kProbRel = 3.5 / (1 << 23);

void check_against_reference(const torch::Tensor& s, const torch::Tensor& t, float inv_T) {
  const Ref ref = reference(s, t, inv_T);
  const double rel = kProbRel;
  for (const auto kernel : kernels()) {
    INFO("kernel " << name(kernel) << ", V " << s.size(1) << ", 1/T " << inv_T);
    const Got got = run(s, t, inv_T, kernel);
    // Each p_j off by at most rel p_j: the KL moves by at most rel (2 + sum p_t |log p_t - log p_s|) per row.
    const double kl_bound = rel * (2.0 * static_cast<double>(s.size(0)) + ref.mean_abs_ratio);
    CAPTURE(got.kl, ref.kl, kl_bound);
    CHECK(std::abs(got.kl - ref.kl) <= kl_bound);
    // Below exp(-87.33) (about 1.2e-38) a probability is flushed to 0.
    const auto err = (got.grad.to(torch::kDouble) - ref.grad).abs() - (rel * ref.p_sum + 1.2e-38);
    CAPTURE(err.max().item<double>());
    CHECK(err.max().item<double>() <= 0.0);
  }
}

}  // namespace

TEST_CASE("KL rows: both kernels match the double-precision KL and gradient, with and without a vector tail",
          "[unit][loss]") {
  torch::manual_seed(11);
  for (int64_t V : {1, 7, 1000, 1003, 30522}) {
    for (float inv_T : {1.0f, 0.5f}) {
      const auto s = torch::randn({3, V}) * 3, t = torch::randn({3, V}) * 3;
      check_against_reference(s, t, inv_T);
    }
  }
}

TEST_CASE("KL rows: logits spread far enough for exp to underflow keep the KL of the logits", "[unit][loss]") {
  torch::manual_seed(12);
  // A student whose logits span 250 (most of its probabilities underflow fp32) and a teacher peaked on one token.
  auto s = torch::rand({2, 2003}) * 250 - 200;
  auto t = torch::randn({2, 2003});
  t.select(1, 17).fill_(40);
  check_against_reference(s, t, 1.0f);
  check_against_reference(t, s, 1.0f);
}

TEST_CASE("KL rows: a student close to its teacher keeps its small KL", "[unit][loss]") {
  torch::manual_seed(13);
  const auto t = torch::randn({4, 30522}) * 3;
  const auto s = t + 0.01 * torch::randn({4, 30522});
  const Ref ref = reference(s, t, 0.5f);
  REQUIRE(ref.kl < 1e-3);  // a small difference of log-probabilities of size ~10
  check_against_reference(s, t, 0.5f);
  for (const auto kernel : kernels()) {
    INFO("kernel " << name(kernel));
    CHECK(run(s, t, 0.5f, kernel).kl == Approx(ref.kl).epsilon(1e-4));
  }
}

TEST_CASE("KL rows: a NaN logit of either model makes the KL NaN", "[unit][loss]") {
  torch::manual_seed(14);
  for (int which : {0, 1}) {
    for (int64_t col : {0, 1001}) {  // inside the 8-wide loop and in its tail
      auto s = torch::randn({2, 1003}), t = torch::randn({2, 1003});
      (which == 0 ? s : t)[1][col] = std::numeric_limits<float>::quiet_NaN();
      for (const auto kernel : kernels()) {
        INFO("kernel " << name(kernel) << ", NaN in the " << (which == 0 ? "student" : "teacher") << " at " << col);
        CHECK(std::isnan(run(s, t, 1.0f, kernel).kl));
      }
    }
  }
}
