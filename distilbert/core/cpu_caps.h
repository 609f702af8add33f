// What this CPU and this LibTorch do fast: the instruction-set flags that matter for matrix products, and the
// measured rate of fp32 and bf16 matrix products. Mixed precision on a CPU is only worth it where bf16 products
// have a fast kernel (oneDNN's AVX512-BF16 or AMX paths): elsewhere LibTorch 1.13 falls back to a naive
// single-threaded loop, some 20-30x slower than fp32 (docs/PRECISION.md).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace distilbert {

/// The CPU's vendor ("GenuineIntel", "AuthenticAMD", ...) and model name (/proc/cpuinfo), and which of avx2, fma,
/// avx512f, avx512_vnni, avx512_bf16, amx_bf16, amx_tile and avx_vnni it reports.
struct CpuInfo {
  std::string vendor;
  std::string model;
  std::vector<std::string> flags;
  bool has(const std::string& flag) const;
};
const CpuInfo& cpu_info();

/// Measured GFLOP/s of an n x n x n matrix product in fp32 and in bf16 (best of `repeats`, and of at least
/// `min_seconds` of products, after one warm-up) on the current intra-op threads; what LibTorch actually dispatches
/// to, including ATEN_CPU_CAPABILITY and DNNL_MAX_CPU_ISA limits. bf16 is 0 where LibTorch cannot run the product
/// at all.
struct MatmulRates {
  int64_t n = 0;
  int threads = 0;
  double fp32_gflops = 0, bf16_gflops = 0;
};
MatmulRates measure_matmul_rates(int64_t n, int repeats = 3, double min_seconds = 0.01);

/// Seconds of the fastest of at least `repeats` calls of `product` after one warm-up call, timing for at least
/// `min_seconds` in all, so that one scheduler preemption (a product of 256^3 lasts about 0.2 ms) cannot decide it.
double best_seconds(const std::function<void()>& product, int repeats, double min_seconds);

/// The rates behind cpu_bf16_is_fast(): measured once per process with n = 256 (about 20 ms; a "slow" verdict is
/// measured twice more, 50 ms each, keeping the best rates, so that a burst of another process cannot decide it).
const MatmulRates& cpu_bf16_probe();

/// Whether bf16 matrix products run at least half as fast as fp32 ones here (cpu_bf16_probe()). Where they do not,
/// bf16 autocast would make training slower, not faster.
bool cpu_bf16_is_fast();

/// One line for logs and benchmarks: "AMD EPYC ... (avx2 fma avx512f avx512_bf16 ...)".
std::string cpu_summary();

}  // namespace distilbert
