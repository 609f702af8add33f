// Device parsing and thread settings; see runtime.h.
#include "distilbert/core/runtime.h"

#include <dlfcn.h>
#include <sched.h>

#include <cstdlib>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <mutex>
#include <set>
#include <thread>

#include <torch/cuda.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "distilbert/core/error.h"

namespace distilbert {

torch::Device parse_device(const std::string& spec) {
  if (spec == "cpu") return torch::Device(torch::kCPU);
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (spec.size() > 4) {
      const std::string num = spec.substr(5);
      DISTILBERT_CHECK(!num.empty() && num.find_first_not_of("0123456789") == std::string::npos, "device '", spec,
                       "': expected cuda:N with N a GPU index");
      index = std::stoi(num);
    }
    DISTILBERT_CHECK(
        torch::cuda::is_available(), "device '", spec,
        "' requested, but this LibTorch build has no CUDA support or no GPU is visible; use --device cpu, or build "
        "against a CUDA LibTorch (-DCMAKE_PREFIX_PATH=/path/to/libtorch)");
    const int count = static_cast<int>(torch::cuda::device_count());
    DISTILBERT_CHECK(index < count, "device '", spec, "': GPU index ", index, " does not exist (", count, " visible)");
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  fail("device '", spec, "' is not one of cpu, cuda, cuda:N");
}

int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return 1;
}

int omp_num_threads() {
  const char* v = std::getenv("OMP_NUM_THREADS");
  if (!v || !*v) return 0;
  const std::string all(v);
  const std::string first = all.substr(0, all.find(','));  // OpenMP's nesting list: "4,2" is 4 at the outer level
  const bool digits = !first.empty() && first.size() <= 6 && first.find_first_not_of("0123456789") == std::string::npos;
  DISTILBERT_CHECK(digits && std::stoi(first) > 0, "OMP_NUM_THREADS='", all,
                   "': expected a positive whole number of threads (or unset it to use every available CPU)");
  return std::stoi(first);
}

int set_threads(int n) {
  if (n <= 0) n = omp_num_threads();
  if (n <= 0) n = available_cpus();
  torch::set_num_threads(n);
  return torch::get_num_threads();
}

int parallel_loop_threads() {
  const int64_t n = torch::get_num_threads();
  std::mutex mutex;
  std::set<std::thread::id> seen;
  at::parallel_for(0, n, 1, [&](int64_t, int64_t) {
    std::lock_guard<std::mutex> lock(mutex);
    seen.insert(std::this_thread::get_id());
  });
  return static_cast<int>(seen.size());
}

const OpenBlasInfo& openblas_info() {
  static const OpenBlasInfo info = [] {
    OpenBlasInfo i;
    using Config = char* (*)();
    using Parallel = int (*)();
    const auto config = reinterpret_cast<Config>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
    const auto parallel = reinterpret_cast<Parallel>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
    if (!config || !parallel) return i;
    i.config = config();
    const int p = parallel();  // OpenBLAS's USE_OPENMP / USE_THREAD: 0 sequential, 1 pthreads, 2 OpenMP
    i.threading = p == 2 ? "OpenMP" : p == 1 ? "pthreads" : "sequential";
    return i;
  }();
  return info;
}

bool keep_freed_memory() {
#if defined(__GLIBC__)
  for (const char* v : {"MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"})
    if (std::getenv(v)) return false;
  const char* choice = std::getenv("DISTILBERT_MALLOC");
  if (choice && std::strcmp(choice, "system") == 0) return false;
  static const bool applied = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  return applied;
#else
  return false;
#endif
}

}  // namespace distilbert
