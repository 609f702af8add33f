// Tests that need bf16 matrix products: LibTorch 1.13 with oneDNN capped below AVX-512 (the test command's AVX2 pass,
// DNNL_MAX_CPU_ISA=AVX2) cannot create them at all, which cpu_caps reports as 0 GFLOP/s (core/cpu_caps.h). Such a
// test skips, naming why, rather than failing on oneDNN's "could not create a primitive".
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "distilbert/core/cpu_caps.h"

namespace distilbert::testing {

/// True when bf16 products run here; otherwise WARN "SKIPPED: <what> did not run: ..." and false.
inline bool require_bf16_products(const std::string& what) {
  if (measure_matmul_rates(64, 1).bf16_gflops > 0) return true;
  WARN("SKIPPED: " << what << " did not run: this LibTorch cannot run bf16 matrix products on this CPU ("
                   << cpu_summary() << ")");
  return false;
}

}  // namespace distilbert::testing
