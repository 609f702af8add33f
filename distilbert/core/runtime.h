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

/// Set LibTorch's intra-op threads; n <= 0 means available_cpus(). Returns the count in effect.
int set_threads(int n);

}  // namespace distilbert
