// Optimisation pieces of the reference distiller (docs/DISTILLATION.md §2.3): AdamW with betas (0.9, 0.98) and eps
// 1e-6 over two parameter groups (no weight decay for names containing "bias" or "LayerNorm.weight": a substring
// match, so DistilBERT's sa_layer_norm/output_layer_norm weights DO decay, as in the original), the linear
// warm-up/decay schedule, and gradient-norm clipping.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/optim/adamw.h>

namespace distilbert {
class TreeReader;
}

namespace distilbert {

struct AdamWSettings {
  double lr = 5e-4;
  double beta1 = 0.9;
  double beta2 = 0.98;
  double eps = 1e-6;
  double weight_decay = 0.0;
};

/// A recipe's optimizer block: AdamW's settings and gradient-norm clipping (the reference distiller's defaults;
/// fine-tuning sets HF Trainer's, finetune_recipe.h).
struct OptimizerSettings : AdamWSettings {
  double max_grad_norm = 5.0;  // <= 0: no clipping
};

/// True for parameters exempt from weight decay: names containing "bias" or "LayerNorm.weight".
bool is_no_decay(const std::string& name);

/// AdamW over the trainable (requires_grad) parameters of `model`: group 0 decays, group 1 does not.
/// A recipe's AdamW keys (lr, betas, eps, weight_decay, max_grad_norm) read into `s` / `max_grad_norm` (their
/// current values are the defaults) with the range checks, naming the key. Shared by every recipe kind; does not
/// call finish() (a recipe may keep more keys in the same block).
void read_adamw(TreeReader& o, AdamWSettings& s, double& max_grad_norm);

std::unique_ptr<torch::optim::AdamW> build_adamw(const torch::nn::Module& model, const AdamWSettings& settings);

/// One AdamW step with torch::optim::AdamW's arithmetic and state (the optimizer keeps exp_avg, exp_avg_sq and step,
/// so its save/load and checkpoints are unchanged), fused on CPU: one pass over each parameter that reads the
/// parameter, gradient and both moments once and writes them once, split over the intra-op threads. LibTorch's step
/// makes six passes and allocates two parameter-sized temporaries per tensor: about 0.5 s of a base-size distillation
/// step on 2 threads. Anything else (CUDA or non-fp32 parameters, amsgrad) takes LibTorch's own step.
void adamw_step(torch::optim::AdamW& optimizer);

/// ceil(total * warmup_prop), as the reference (computed in double precision).
int64_t warmup_steps(int64_t total_steps, double warmup_prop);

/// lr multiplier at optimizer step `step` (0-based): step/warmup while warming up, then linear decay to 0 at
/// total (transformers' get_linear_schedule_with_warmup).
double linear_schedule_factor(int64_t step, int64_t warmup, int64_t total);

/// Set the learning rate of every group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

/// Total L2 norm of the gradients of `params`; when above max_norm, gradients are scaled by
/// max_norm / (norm + 1e-6) (torch.nn.utils.clip_grad_norm_). Returns the norm before clipping.
double clip_gradients(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace distilbert
