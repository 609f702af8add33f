// AdamW groups, schedule and clipping; see optim.h.
#include "distilbert/train/optim.h"

#include <cmath>

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
  check(s.lr >= 0 && s.eps > 0 && s.beta1 >= 0 && s.beta1 < 1 && s.beta2 >= 0 && s.beta2 < 1 && s.weight_decay >= 0,
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
