// The GPU checks of scripts/gpu_check.sh, one JSON line each on stdout (the script collects them):
//   cuda_vs_cpu  <model>: the same weights and inputs on CUDA and on the CPU, fp32 with TF32 off: logits, loss and
//                every parameter's gradient agree to 1e-4 (relative to each tensor's largest value).
//   train_fp16   fp16 autocast with the dynamic loss scaler (train/precision.h), 30 AdamW steps on one batch: every
//                loss finite, the last below 80% of the first, at most 2 skipped steps.
//   train_bf16   the same under bf16 autocast, no scaler.
//   nccl         a one-process ProcessGroupNCCL (c10d, the backend dist/comm.cpp uses): an all-reduce of a CUDA
//                tensor returns it unchanged (builds with DISTILBERT_WITH_NCCL only).
// Exit status: 0 all passed, 1 a check failed, 77 no CUDA device (each check then prints a skip with the reason).
//   build-gpu/bin/gpu_check [--configs DIR]      (DIR: the repository's configs/, for tiny-*.json)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>

#ifdef DISTILBERT_WITH_NCCL
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "distilbert/config/model_config.h"
#include "distilbert/model/pretrained.h"
#include "distilbert/train/precision.h"

using namespace distilbert;
using json = nlohmann::json;

namespace {

bool report(json line) {
  const bool ok = line.value("ok", false);
  std::cout << line.dump() << std::endl;
  return ok;
}

// One padded MLM batch: ids in [5, V), rows of lengths T, T-3, T/2; about 15% of the real tokens labelled.
ModelInputs mlm_batch(int64_t vocab, int64_t B, int64_t T, bool bert) {
  torch::manual_seed(7);
  ModelInputs in;
  in.input_ids = torch::randint(5, vocab, {B, T}, torch::kLong);
  in.attention_mask = torch::ones({B, T}, torch::kLong);
  for (int64_t b = 1; b < B; ++b) {
    const int64_t len = b == 1 ? T - 3 : T / 2;
    in.attention_mask[b].slice(0, len).fill_(0);
    in.input_ids[b].slice(0, len).fill_(0);
  }
  in.labels = torch::where((torch::rand({B, T}) < 0.15) & (in.attention_mask == 1), in.input_ids,
                           torch::full({B, T}, -100, torch::kLong));
  in.labels[0][0] = in.input_ids[0][0];  // at least one label
  if (bert) in.token_type_ids = torch::zeros({B, T}, torch::kLong);
  return in;
}

ModelInputs to_device(const ModelInputs& in, torch::Device d) {
  ModelInputs out = in;
  out.input_ids = in.input_ids.to(d), out.attention_mask = in.attention_mask.to(d), out.labels = in.labels.to(d);
  if (in.token_type_ids.defined()) out.token_type_ids = in.token_type_ids.to(d);
  return out;
}

// max |a - b| / max(max |b|, 1e-6)
double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  const auto ref = b.to(torch::kCPU, torch::kDouble);
  const double scale = std::max(ref.abs().max().item<double>(), 1e-6);
  return (a.to(torch::kCPU, torch::kDouble) - ref).abs().max().item<double>() / scale;
}

ModelConfig no_dropout(ModelConfig c) {
  c.hidden_dropout = 0, c.attention_dropout = 0;
  return c;
}

bool cuda_vs_cpu(const std::string& name, const ModelConfig& config) {
  torch::manual_seed(0);
  ModelPtr cpu = build_model(config, Head::MaskedLM);
  torch::manual_seed(0);
  ModelPtr gpu = build_model(config, Head::MaskedLM);
  gpu->to(torch::kCUDA);
  cpu->train(), gpu->train();
  const ModelInputs in = mlm_batch(config.vocab_size, 3, 64, config.model_type == ModelType::Bert);
  const ModelOutput a = cpu->forward(in);
  const ModelOutput b = gpu->forward(to_device(in, torch::kCUDA));
  a.loss.backward();
  b.loss.backward();
  double worst_grad = 0;
  std::string worst_name;
  auto gp = gpu->named_parameters(true);
  for (const auto& p : cpu->named_parameters(true)) {
    if (!p.value().grad().defined()) continue;
    const double d = rel_diff(gp[p.key()].grad(), p.value().grad());
    if (d > worst_grad) worst_grad = d, worst_name = p.key();
  }
  const double logits = rel_diff(b.logits, a.logits), loss = rel_diff(b.loss, a.loss);
  return report({{"check", "cuda_vs_cpu"}, {"model", name}, {"logits_rel", logits}, {"loss_rel", loss},
                 {"worst_grad_rel", worst_grad}, {"worst_grad", worst_name}, {"tolerance", 1e-4},
                 {"ok", logits <= 1e-4 && loss <= 1e-4 && worst_grad <= 1e-4}});
}

bool train_steps(const std::string& precision, const ModelConfig& config) {
  torch::manual_seed(0);
  ModelPtr model = build_model(no_dropout(config), Head::MaskedLM);
  model->to(torch::kCUDA);
  model->train();
  std::vector<torch::Tensor> params;
  for (auto& p : model->parameters())
    if (p.requires_grad()) params.push_back(p);
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(1e-3).weight_decay(0.0));
  LossScaler scaler(precision == "fp16");
  const ModelInputs in = to_device(mlm_batch(config.vocab_size, 8, 64, config.model_type == ModelType::Bert),
                                   torch::kCUDA);
  double first = 0, last = 0;
  bool finite = true;
  const auto t0 = std::chrono::steady_clock::now();
  for (int step = 0; step < 30; ++step) {
    opt.zero_grad();
    torch::Tensor loss;
    {
      AutocastScope autocast(precision, torch::kCUDA);
      loss = model->forward(in).loss;
    }
    const double v = loss.item<double>();
    finite = finite && std::isfinite(v);
    if (step == 0) first = v;
    last = v;
    scaler.scale(loss).backward();
    const bool ok = scaler.unscale(params);
    if (ok) opt.step();
    scaler.update(!ok);
  }
  torch::cuda::synchronize();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report({{"check", "train_" + precision}, {"first_loss", first}, {"last_loss", last},
                 {"skipped_steps", scaler.skipped_steps()}, {"loss_scale", scaler.current_scale()},
                 {"seconds", seconds},
                 {"ok", finite && last < 0.8 * first && scaler.skipped_steps() <= 2}});
}

bool nccl_all_reduce() {
#ifdef DISTILBERT_WITH_NCCL
  const auto path = std::filesystem::temp_directory_path() / ("distilbert_nccl_store_" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  auto store = c10::make_intrusive<c10d::FileStore>(path.string(), 1);
  auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, 0, 1, c10d::ProcessGroupNCCL::Options::create());
  std::vector<torch::Tensor> tensors = {torch::arange(1, 5, torch::TensorOptions(torch::kFloat).device(torch::kCUDA))};
  group->allreduce(tensors)->wait();
  const auto expected = torch::arange(1, 5, torch::kFloat);
  const bool ok = torch::equal(tensors[0].cpu(), expected);
  std::filesystem::remove(path);
  return report({{"check", "nccl"}, {"result", tensors[0].cpu().sum().item<double>()}, {"ok", ok}});
#else
  return report({{"check", "nccl"}, {"skipped", "this build has no DISTILBERT_WITH_NCCL (nccl.h was not found)"},
                 {"ok", false}});
#endif
}

}  // namespace

int main(int argc, char** argv) {
  std::string configs = "configs";
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--configs") configs = argv[i + 1];
  if (!torch::cuda::is_available()) {
    for (const char* c : {"cuda_vs_cpu", "train_fp16", "train_bf16", "nccl"})
      report({{"check", c}, {"skipped", "no CUDA device (torch::cuda::is_available() is false)"}});
    return 77;
  }
  at::globalContext().setFloat32MatmulPrecision("highest");  // no TF32: fp32 products as on the CPU
  at::globalContext().setAllowTF32CuDNN(false);
  const ModelConfig distil = no_dropout(ModelConfig::load(configs + "/tiny-distilbert.json"));
  const ModelConfig bert = no_dropout(ModelConfig::load(configs + "/tiny-bert.json"));
  bool ok = true;
  try {
    ok &= cuda_vs_cpu("distilbert (configs/tiny-distilbert.json)", distil);
    ok &= cuda_vs_cpu("bert (configs/tiny-bert.json)", bert);
    ok &= train_steps("fp16", distil);
    ok &= train_steps("bf16", distil);
    ok &= nccl_all_reduce();
  } catch (const std::exception& e) {
    report({{"check", "gpu_check"}, {"error", e.what()}, {"ok", false}});
    return 1;
  }
  return ok ? 0 : 1;
}
