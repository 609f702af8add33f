// The soft-target KL of the distillation loss and its gradient over rows of fp32 logits, one row at a time: the
// row's two softmaxes, its KL and its gradient in three passes over the row while it sits in the L2 cache, with
// one exp per logit. The fused loss (train/distill_loss.cpp) hands it blocks of rows; see kl_rows.cpp for the
// arithmetic and docs/PRECISION.md ("The soft-target KL kernel") for why and what it saves.
#pragma once

#include <cstdint>

namespace distilbert {

/// Which code computes the rows. Auto: the AVX2 + FMA kernel where the CPU has both, the portable one elsewhere.
enum class KlRowsKernel { Auto, Portable, Avx2 };

/// Whether this CPU and this build can run KlRowsKernel::Avx2.
bool kl_rows_avx2_available();

/// For each of `rows` contiguous rows of V fp32 logits `s` (student) and `t` (teacher), with p = softmax(x * inv_T)
/// along the row: writes grad = p_s - p_t (rows x V) and returns the sum over the rows of
/// KL(p_t || p_s) = sum_j p_t,j (log p_t,j - log p_s,j), accumulated in double. `work` is scratch for V floats.
/// A NaN among a row's logits makes the returned sum NaN.
double kl_rows(const float* s, const float* t, float* grad, float* work, int64_t rows, int64_t V, float inv_T,
               KlRowsKernel kernel = KlRowsKernel::Auto);

}  // namespace distilbert
