// Tensor comparison for golden tests; see tensor_match.h.
#include "support/tensor_match.h"

#include <sstream>

#include <torch/torch.h>

namespace distilbert::testing {

MatchResult tensors_close(const std::string& name, const torch::Tensor& actual, const torch::Tensor& expected,
                          double atol, double rtol) {
  std::ostringstream os;
  if (!actual.defined() || !expected.defined()) {
    os << name << ": " << (actual.defined() ? "expected" : "actual") << " tensor is undefined";
    return {false, os.str()};
  }
  if (actual.sizes() != expected.sizes()) {
    os << name << ": shape " << actual.sizes() << ", expected " << expected.sizes();
    return {false, os.str()};
  }
  auto a = actual.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  auto e = expected.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  auto diff = (a - e).abs();
  auto bad = diff > (atol + rtol * e.abs());
  bad = bad | (a.isnan() != e.isnan());
  const double max_diff = diff.numel() ? diff.max().item<double>() : 0.0;
  os << name << ": shape " << actual.sizes() << ", max abs diff " << max_diff;
  const int64_t n_bad = bad.sum().item<int64_t>();
  if (n_bad == 0) return {true, os.str()};
  const int64_t first = bad.flatten().nonzero()[0][0].item<int64_t>();
  os << "; " << n_bad << " elements out of tolerance (atol " << atol << ", rtol " << rtol << "), first at flat index "
     << first << ": actual " << a.flatten()[first].item<double>() << ", expected " << e.flatten()[first].item<double>();
  return {false, os.str()};
}

}  // namespace distilbert::testing
