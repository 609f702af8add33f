// AdamW groups, schedule and clipping; see optim.h.
#include "distilbert/train/optim.h"

#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "distilbert/config/tree.h"
#include "distilbert/core/error.h"

namespace distilbert {

bool is_no_decay(const std::string& name) {
  return name.find("bias") != std::string::npos || name.find("LayerNorm.weight") != std::string::npos;
}

void read_adamw(TreeReader& o, AdamWSettings& s, double& max_grad_norm) {
  o.get("lr", s.lr);
  o.require(s.lr > 0, "lr", "must be > 0");
  std::vector<double> betas = {s.beta1, s.beta2};
  o.get("betas", betas);
  o.require(betas.size() == 2 && betas[0] >= 0 && betas[0] < 1 && betas[1] >= 0 && betas[1] < 1, "betas",
            "must be [beta1, beta2] in [0, 1)");
  s.beta1 = betas[0];
  s.beta2 = betas[1];
  o.get("eps", s.eps);
  o.require(s.eps > 0, "eps", "must be > 0");
  o.get("weight_decay", s.weight_decay);
  o.require(s.weight_decay >= 0, "weight_decay", "must be >= 0");
  o.get("max_grad_norm", max_grad_norm);
}

std::unique_ptr<torch::optim::AdamW> build_adamw(const torch::nn::Module& model, const AdamWSettings& s) {
  DISTILBERT_CHECK(
      s.lr >= 0 && s.eps > 0 && s.beta1 >= 0 && s.beta1 < 1 && s.beta2 >= 0 && s.beta2 < 1 && s.weight_decay >= 0,
      "AdamW settings out of range: lr ", s.lr, ", betas (", s.beta1, ", ", s.beta2, "), eps ", s.eps,
      ", weight_decay ", s.weight_decay);
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : model.named_parameters(true)) {
    if (!p.value().requires_grad()) continue;
    (is_no_decay(p.key()) ? no_decay : decay).push_back(p.value());
  }
  auto opts = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(s.lr)
                                                            .betas({s.beta1, s.beta2})
                                                            .eps(s.eps)
                                                            .weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, opts(s.weight_decay));
  groups.emplace_back(no_decay, opts(0.0));
  return std::make_unique<torch::optim::AdamW>(groups, *opts(s.weight_decay));
}

namespace {
// LibTorch 1.x keys optimizer state by the TensorImpl address as c10::guts::to_string writes it (an ostream's
// "0x..." form), 2.x by the address itself. 2.x also removed c10::guts::to_string: format the address the same way
// here (the name would be looked up even in the discarded branch).
template <class Map>
typename Map::key_type state_key(const Map&, const torch::Tensor& p) {
  if constexpr (std::is_same_v<typename Map::key_type, std::string>) {
    std::ostringstream os;
    os << p.unsafeGetTensorImpl();
    return os.str();
  } else
    return static_cast<typename Map::key_type>(p.unsafeGetTensorImpl());
}

bool fusable(const torch::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat && t.is_contiguous() &&
         !t.is_sparse();
}

// torch::optim::AdamW::step for one tensor, element by element in the same order of operations:
//   p *= 1 - lr*wd;  m = m*b1 + (1-b1)*g;  v = v*b2 + (1-b2)*g*g;  p += (-lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps).
void fused_update(float* p, const float* g, float* m, float* v, int64_t n, float decay, float b1, float one_minus_b1,
                  float b2, float one_minus_b2, float sqrt_bc2, float eps, float neg_step_size) {
  // The loop reads its operands from locals: captured by reference they would be floats in memory that every store
  // through m, v or p might change, so the compiler reloads them and does not vectorize the loop (under OpenMP,
  // where the body is not inlined into this function; docs/PRECISION.md, "Threads").
  at::parallel_for(0, n, 1 << 15, [=](int64_t begin, int64_t end) {
    float* __restrict__ pl = p;
    float* __restrict__ ml = m;
    float* __restrict__ vl = v;
    const float* __restrict__ gl = g;
    const float decay_l = decay, b1_l = b1, omb1 = one_minus_b1, b2_l = b2, omb2 = one_minus_b2, sbc2 = sqrt_bc2,
                eps_l = eps, step = neg_step_size;
    for (int64_t i = begin; i < end; ++i) {
      const float gi = gl[i];
      const float mi = ml[i] * b1_l + omb1 * gi;
      const float vi = vl[i] * b2_l + omb2 * gi * gi;
      ml[i] = mi;
      vl[i] = vi;
      pl[i] = pl[i] * decay_l + (step * mi) / (std::sqrt(vi) / sbc2 + eps_l);
    }
  });
}
}  // namespace

void adamw_step(torch::optim::AdamW& optimizer) {
  torch::NoGradGuard no_grad;
  auto& state = optimizer.state();
  // Anything the fused pass does not cover (amsgrad, CUDA or non-fp32 tensors, existing state of another kind or
  // shape from a hand-edited checkpoint): LibTorch's step decides, before any update.
  for (auto& group : optimizer.param_groups()) {
    bool fast = !static_cast<const torch::optim::AdamWOptions&>(group.options()).amsgrad();
    for (const auto& p : group.params()) {
      if (!fast) break;
      if (!p.grad().defined()) continue;
      fast = fusable(p) && fusable(p.grad());
      auto it = state.find(state_key(state, p));
      if (!fast || it == state.end()) continue;
      const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
      fast = fusable(s.exp_avg()) && fusable(s.exp_avg_sq()) && s.exp_avg().numel() == p.numel() &&
             s.exp_avg_sq().numel() == p.numel();
    }
    if (!fast) {
      optimizer.step();
      return;
    }
  }
  for (auto& group : optimizer.param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
    const double lr = o.lr();
    const double b1 = std::get<0>(o.betas());
    const double b2 = std::get<1>(o.betas());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto key = state_key(state, p);
      auto it = state.find(key);
      if (it == state.end()) {
        auto s = std::make_unique<torch::optim::AdamWParamState>();
        s->step(0);
        s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        it = state.emplace(key, std::move(s)).first;
      }
      auto& s = static_cast<torch::optim::AdamWParamState&>(*it->second);
      s.step(s.step() + 1);
      const double bc1 = 1.0 - std::pow(b1, static_cast<double>(s.step()));
      const double bc2 = 1.0 - std::pow(b2, static_cast<double>(s.step()));
      const double decay = o.weight_decay() != 0 ? 1.0 - lr * o.weight_decay() : 1.0;
      fused_update(p.data_ptr<float>(), p.grad().data_ptr<float>(), s.exp_avg().data_ptr<float>(),
                   s.exp_avg_sq().data_ptr<float>(), p.numel(), static_cast<float>(decay), static_cast<float>(b1),
                   static_cast<float>(1.0 - b1), static_cast<float>(b2), static_cast<float>(1.0 - b2),
                   static_cast<float>(std::sqrt(bc2)), static_cast<float>(o.eps()), static_cast<float>(-lr / bc1));
    }
  }
}

int64_t warmup_steps(int64_t total_steps, double warmup_prop) {
  return static_cast<int64_t>(std::ceil(static_cast<double>(total_steps) * warmup_prop));
}

double linear_schedule_factor(int64_t step, int64_t warmup, int64_t total) {
  if (step < warmup) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
  return std::max(0.0, static_cast<double>(total - step) / static_cast<double>(std::max<int64_t>(1, total - warmup)));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& g : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
}

double clip_gradients(const std::vector<torch::Tensor>& params, double max_norm) {
  return torch::nn::utils::clip_grad_norm_(params, max_norm);
}

}  // namespace distilbert
