// Device and thread settings shared by every command: `--device cpu|cuda|cuda:N` and `--threads N`.
#pragma once

#include <string>

#include <torch/types.h>

namespace distilbert {

/// Parse "cpu", "cuda" or "cuda:N". Asking for CUDA where this LibTorch has none, or for a GPU index that does not
/// exist, is a distilbert::Error saying so.
torch::Device parse_device(const std::string& spec);

/// CPUs this process may run on (sched_getaffinity), at least 1.
int available_cpus();

/// The thread count the user chose through OMP_NUM_THREADS (as LibTorch and torchrun read it: the first number of
/// the list), or 0 when it is not set. A value that is not a positive whole number is an Error naming the variable.
int omp_num_threads();

/// Set LibTorch's intra-op threads; n <= 0 means OMP_NUM_THREADS where set, else available_cpus(). Returns the count
/// in effect.
int set_threads(int n);

/// The threads that at::parallel_for reaches in this project's code, at LibTorch's current thread count: one loop
/// of that many one-item chunks, counting the distinct threads that ran them. 1 where the code was compiled without
/// OpenMP (ATen's loop template then runs serially; CMakeLists.txt, DISTILBERT_OPENMP).
int parallel_loop_threads();

/// The OpenBLAS this process's products reach, asked of the library itself: `config` is openblas_get_config()
/// ("OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64") and `threading` "OpenMP", "pthreads" or
/// "sequential". Both empty where LibTorch uses another BLAS (the x86-64 torch wheels carry MKL).
struct OpenBlasInfo {
  std::string config, threading;
};
const OpenBlasInfo& openblas_info();

/// For training processes: keep freed memory in the C heap instead of returning it to the kernel. A training step
/// allocates and frees the same large tensors every time (logits, activations, gradients); glibc serves blocks
/// above its mmap threshold (32 MiB at most) with fresh pages that the kernel zero-fills on first touch, every
/// step: about a quarter of a base-size bf16 distillation step on this CPU. Sets M_MMAP_MAX to 0 and a large
/// M_TRIM_THRESHOLD, so peak memory stays the same and is reused. Does nothing outside glibc or where the user chose
/// (MALLOC_MMAP_MAX_, MALLOC_TRIM_THRESHOLD_ or MALLOC_MMAP_THRESHOLD_ set, or DISTILBERT_MALLOC=system); returns
/// whether it applied the setting.
bool keep_freed_memory();

}  // namespace distilbert
