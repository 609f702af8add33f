// Tensor comparison for golden tests: reports the name, shapes, max abs difference and the first index that is
// out of tolerance (llm.c's check_tensor, as a helper for Catch2).
#pragma once

#include <string>

#include <torch/types.h>

namespace distilbert::testing {

struct MatchResult {
  bool ok;
  std::string message;
};

/// |actual - expected| <= atol + rtol * |expected| everywhere, with equal shapes.
MatchResult tensors_close(const std::string& name, const torch::Tensor& actual, const torch::Tensor& expected,
                          double atol = 1e-5, double rtol = 1e-4);

}  // namespace distilbert::testing

/// CHECK that two tensors match; prints the report on failure.
#define CHECK_TENSOR_CLOSE(name, actual, expected, ...)                                             \
  do {                                                                                               \
    auto _r = ::distilbert::testing::tensors_close(name, actual, expected, ##__VA_ARGS__);           \
    INFO(_r.message);                                                                                \
    CHECK(_r.ok);                                                                                    \
  } while (0)
