// Stand-in for a LibTorch header that Debian's libtorch-dev 1.13 does not ship but c10d/reducer.hpp includes.
// reducer.hpp needs only two names from it: DistAutogradContext::GradCallback (checked by a static_assert to be
// std::function<bool(at::Tensor&)>) and ContextPtr (a std::shared_ptr held in Reducer::RpcContext), so the Reducer's
// layout is the library's. We never create a distributed-autograd context. Only on the include path when the real
// header is missing (distilbert/CMakeLists.txt).
#pragma once

#include <functional>
#include <memory>

#include <ATen/core/Tensor.h>

namespace torch {
namespace distributed {
namespace autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch
