// Soft-target KL rows; see kl_rows.h.
//
// Per row, with a = (s - max s) / T and b = (t - max t) / T (both <= 0, so exp cannot overflow):
//   pass 1: the two maxima;
//   pass 2: es = exp(a), et = exp(b), and the double sums Ss = sum es, St = sum et, C = sum et (b - a); es goes to
//           the gradient row and et to `work`;
//   pass 3: grad = es / Ss - et / St.
// Since log p_t - log p_s = (b - a) + log Ss - log St and sum p_t = 1, the row's KL is C / St + log Ss - log St:
// no log per element, and the row constants in double, so the small KL of a student close to its teacher is not
// lost to cancellation (tests/unit/test_kl_rows.cpp).
#include "distilbert/train/kl_rows.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "distilbert/core/error.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define DISTILBERT_KL_ROWS_AVX2 1
#include <immintrin.h>
#endif

namespace distilbert {

namespace {

struct RowSums {
  double es = 0, et = 0, cross = 0;  // Ss, St and C above
  void add(float a, float b, float ea, float eb) { es += ea, et += eb, cross += static_cast<double>(eb * (b - a)); }
  double kl() const { return cross / et + std::log(es) - std::log(et); }
};

// Pass 2 over the elements [j0, V) with std::exp: the portable kernel's, and the AVX2 kernel's tail.
void exp_pass(const float* s, const float* t, float* g, float* et, int64_t j0, int64_t V, float ms, float mt,
              float inv_T, RowSums& sums) {
  for (int64_t j = j0; j < V; ++j) {
    const float a = (s[j] - ms) * inv_T, b = (t[j] - mt) * inv_T;
    g[j] = std::exp(a), et[j] = std::exp(b);
    sums.add(a, b, g[j], et[j]);
  }
}

// Pass 3 over the elements [j0, V).
void normalize_pass(float* g, const float* et, int64_t j0, int64_t V, float rs, float rt) {
  for (int64_t j = j0; j < V; ++j) g[j] = g[j] * rs - et[j] * rt;
}

double row_portable(const float* s, const float* t, float* g, float* et, int64_t V, float inv_T) {
  float ms = -std::numeric_limits<float>::infinity(), mt = ms;
  for (int64_t j = 0; j < V; ++j) ms = std::max(ms, s[j]), mt = std::max(mt, t[j]);
  RowSums sums;
  exp_pass(s, t, g, et, 0, V, ms, mt, inv_T, sums);
  normalize_pass(g, et, 0, V, static_cast<float>(1 / sums.es), static_cast<float>(1 / sums.et));
  return sums.kl();
}

#ifdef DISTILBERT_KL_ROWS_AVX2
#define DISTILBERT_AVX2 __attribute__((target("avx2,fma")))

// exp of 8 floats <= 0: x = n ln2 + r with |r| <= ln2 / 2, e^r by Cephes' expf polynomial (degree 7 with the
// 1 + r, about 1 ulp), times 2^n built in the exponent bits. Below ln(FLT_MIN) = -87.34 the result is 0 (the true
// value is under 1.2e-38). A NaN comes back as a finite value: the row's KL still turns NaN through b - a.
DISTILBERT_AVX2 inline __m256 exp8(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.33f);
  const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  x = _mm256_max_ps(x, lo);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);  // ln 2 in two parts: n ln2_hi is exact
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i scale = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(scale)));
}

// x's 8 floats added into 4 double lanes.
DISTILBERT_AVX2 inline __m256d add_wide(__m256d acc, __m256 x) {
  const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(x)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
  return _mm256_add_pd(acc, _mm256_add_pd(lo, hi));
}

DISTILBERT_AVX2 inline double sum4(__m256d x) {
  alignas(32) double v[4];
  _mm256_store_pd(v, x);
  return (v[0] + v[1]) + (v[2] + v[3]);
}

DISTILBERT_AVX2 inline float max8(__m256 x) {
  alignas(32) float v[8];
  _mm256_store_ps(v, x);
  return *std::max_element(v, v + 8);
}

DISTILBERT_AVX2 double row_avx2(const float* s, const float* t, float* g, float* et, int64_t V, float inv_T) {
  const int64_t V8 = V / 8 * 8;
  __m256 mxs = _mm256_set1_ps(-std::numeric_limits<float>::infinity()), mxt = mxs;
  for (int64_t j = 0; j < V8; j += 8)
    mxs = _mm256_max_ps(mxs, _mm256_loadu_ps(s + j)), mxt = _mm256_max_ps(mxt, _mm256_loadu_ps(t + j));
  float ms = max8(mxs), mt = max8(mxt);
  for (int64_t j = V8; j < V; ++j) ms = std::max(ms, s[j]), mt = std::max(mt, t[j]);

  const __m256 vms = _mm256_set1_ps(ms), vmt = _mm256_set1_ps(mt), vinv = _mm256_set1_ps(inv_T);
  __m256d ss = _mm256_setzero_pd(), st = ss, cross = ss;
  for (int64_t j = 0; j < V8; j += 8) {
    const __m256 a = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(s + j), vms), vinv);
    const __m256 b = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(t + j), vmt), vinv);
    const __m256 ea = exp8(a), eb = exp8(b);
    _mm256_storeu_ps(g + j, ea);
    _mm256_storeu_ps(et + j, eb);
    ss = add_wide(ss, ea), st = add_wide(st, eb), cross = add_wide(cross, _mm256_mul_ps(eb, _mm256_sub_ps(b, a)));
  }
  RowSums sums{sum4(ss), sum4(st), sum4(cross)};
  exp_pass(s, t, g, et, V8, V, ms, mt, inv_T, sums);

  const float rs = static_cast<float>(1 / sums.es), rt = static_cast<float>(1 / sums.et);
  const __m256 vrs = _mm256_set1_ps(rs), vrt = _mm256_set1_ps(rt);
  for (int64_t j = 0; j < V8; j += 8)
    _mm256_storeu_ps(g + j, _mm256_fmsub_ps(_mm256_loadu_ps(g + j), vrs, _mm256_mul_ps(_mm256_loadu_ps(et + j), vrt)));
  normalize_pass(g, et, V8, V, rs, rt);
  return sums.kl();
}
#endif

}  // namespace

bool kl_rows_avx2_available() {
#ifdef DISTILBERT_KL_ROWS_AVX2
  static const bool available = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return available;
#else
  return false;
#endif
}

double kl_rows(const float* s, const float* t, float* grad, float* work, int64_t rows, int64_t V, float inv_T,
               KlRowsKernel kernel) {
  if (kernel == KlRowsKernel::Auto) kernel = kl_rows_avx2_available() ? KlRowsKernel::Avx2 : KlRowsKernel::Portable;
  DISTILBERT_CHECK(kernel != KlRowsKernel::Avx2 || kl_rows_avx2_available(),
                   "kl_rows: the AVX2 kernel was asked for, but this CPU or build lacks AVX2 and FMA");
  double sum = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t at = r * V;
#ifdef DISTILBERT_KL_ROWS_AVX2
    if (kernel == KlRowsKernel::Avx2) {
      sum += row_avx2(s + at, t + at, grad + at, work, V, inv_T);
      continue;
    }
#endif
    sum += row_portable(s + at, t + at, grad + at, work, V, inv_T);
  }
  return sum;
}

}  // namespace distilbert
