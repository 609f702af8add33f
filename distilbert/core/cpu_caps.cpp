// CPU flags and measured matrix-product rates; see cpu_caps.h.
#include "distilbert/core/cpu_caps.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>

#include <torch/torch.h>

namespace distilbert {

bool CpuInfo::has(const std::string& flag) const {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

const CpuInfo& cpu_info() {
  static const CpuInfo info = [] {
    CpuInfo c;
    std::ifstream in("/proc/cpuinfo");
    std::string line, all_flags;
    while (std::getline(in, line) && (c.vendor.empty() || c.model.empty() || all_flags.empty())) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      const std::string key = line.substr(0, line.find_first_of(" \t"));
      const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
      if (key == "vendor_id") c.vendor = value;
      if (key == "model" && line.rfind("model name", 0) == 0) c.model = value;
      if (key == "flags") all_flags = " " + value + " ";
    }
    for (const char* f : {"avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_bf16"})
      if (all_flags.find(std::string(" ") + f + " ") != std::string::npos) c.flags.emplace_back(f);
    if (c.model.empty()) c.model = "unknown CPU";
    return c;
  }();
  return info;
}

double best_seconds(const std::function<void()>& product, int repeats, double min_seconds) {
  using Clock = std::chrono::steady_clock;
  product();  // warm-up: first-touch pages, oneDNN's kernel generation
  double best = 1e30;
  const auto start = Clock::now();
  for (int i = 0; i < repeats || std::chrono::duration<double>(Clock::now() - start).count() < min_seconds; ++i) {
    const auto t0 = Clock::now();
    product();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

namespace {
double best_mm_seconds(const torch::Tensor& a, const torch::Tensor& b, int repeats, double min_seconds) {
  torch::NoGradGuard ng;
  auto out = torch::empty({a.size(0), b.size(1)}, a.options());  // best_seconds' first call warms up
  return best_seconds([&] { torch::mm_out(out, a, b); }, repeats, min_seconds);
}
}  // namespace

MatmulRates measure_matmul_rates(int64_t n, int repeats, double min_seconds) {
  MatmulRates r;
  r.n = n;
  r.threads = torch::get_num_threads();
  torch::manual_seed(0);
  const auto a = torch::randn({n, n}), b = torch::randn({n, n});
  const double flop = 2.0 * static_cast<double>(n * n * n);
  r.fp32_gflops = flop / best_mm_seconds(a, b, repeats, min_seconds) / 1e9;
  try {
    r.bf16_gflops =
        flop / best_mm_seconds(a.to(torch::kBFloat16), b.to(torch::kBFloat16), repeats, min_seconds) / 1e9;
  } catch (const std::exception&) {
    // LibTorch 1.13 sends bf16 products to oneDNN when the CPU reports AVX-512; with DNNL_MAX_CPU_ISA below that
    // oneDNN has no bf16 kernel and the product throws ("could not create a primitive descriptor iterator").
    r.bf16_gflops = 0;
  }
  return r;
}

const MatmulRates& cpu_bf16_probe() {
  static const MatmulRates rates = [] {
    MatmulRates r = measure_matmul_rates(256);
    // A verdict of "slow" is measured twice more, 50 ms each, keeping each precision's best rate: 10 ms of products
    // can fall inside another process's burst on a busy machine (two tests at once under ctest -j 2 gave bf16 below
    // half of fp32 on a CPU where it runs 1.9x as fast). Where bf16 is really slow (25x) it stays slow.
    for (int again = 0; again < 2 && r.bf16_gflops > 0 && r.bf16_gflops < 0.5 * r.fp32_gflops; ++again) {
      const MatmulRates more = measure_matmul_rates(256, 3, 0.05);
      r.fp32_gflops = std::max(r.fp32_gflops, more.fp32_gflops);
      r.bf16_gflops = std::max(r.bf16_gflops, more.bf16_gflops);
    }
    return r;
  }();
  return rates;
}

bool cpu_bf16_is_fast() { return cpu_bf16_probe().bf16_gflops >= 0.5 * cpu_bf16_probe().fp32_gflops; }

std::string cpu_summary() {
  const CpuInfo& c = cpu_info();
  std::ostringstream os;
  os << c.model << " (";
  for (size_t i = 0; i < c.flags.size(); ++i) os << (i ? " " : "") << c.flags[i];
  os << (c.flags.empty() ? "no AVX2" : "") << ")";
  return os.str();
}

}  // namespace distilbert
