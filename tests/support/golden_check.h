// Checking a golden folder (config.json + weights + io.safetensors: inputs, labels, outputs, hidden states,
// attentions, loss and grad.<key> of every trainable parameter) against our model: forward in train mode with
// dropout 0, then backward, everything compared by HF key name. Shared by the Python-reference goldens
// (tests/data/golden, test_model_golden.cpp) and the goldens HF transformers makes at test time (test_hf_golden.cpp),
// whose *_bf16 folders also hold HF's outputs under bf16 autocast (check_bf16_autocast).
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include <torch/torch.h>

#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/train/precision.h"
#include "support/bf16_products.h"
#include "support/tensor_match.h"

namespace distilbert::testing {

/// The loss of a folder without labels (a base model): what tests/py/hf_golden.py backpropagates.
inline torch::Tensor unlabelled_loss(const ModelOutput& out) { return out.last_hidden_state.pow(2).sum() * 1e-2; }

/// The *_bf16 goldens (tests/py/hf_golden.py): HF's forward under torch.autocast(cpu, bfloat16) beside its fp32 one.
/// Ours under AutocastScope("bf16") must be as close to the fp32 outputs as HF's bf16 outputs are (within a factor
/// of 2: both round the same products' inputs to bf16, 8 significant bits, but may order sums differently), and
/// farther than fp32 rounding could explain (1e-4), which shows it computed in bf16.
inline void check_bf16_autocast(PretrainedModel& model, ModelInputs in, const SafetensorsFile& io) {
  if (!require_bf16_products("the bf16 autocast comparison")) return;
  ModelOutput low;
  {
    torch::NoGradGuard no_grad;
    AutocastScope autocast("bf16", torch::kCPU);
    in.output_attentions = false;
    low = model.forward(in);
  }
  std::vector<std::pair<std::string, torch::Tensor>> outputs = {{"logits", low.logits}};
  for (size_t i = 0; i < low.hidden_states.size(); ++i)
    outputs.emplace_back("hidden_states." + std::to_string(i), low.hidden_states[i]);
  for (const auto& [key, ours] : outputs) {
    INFO("bf16 autocast: " << key);
    REQUIRE(io.contains("bf16." + key));
    const torch::Tensor fp32 = io.at(key);
    const double hf_error = (io.at("bf16." + key) - fp32).abs().max().item<double>();
    const double our_error = (ours.to(torch::kFloat32) - fp32).abs().max().item<double>();
    INFO("max |bf16 - fp32|: HF " << hf_error << ", ours " << our_error);
    CHECK(our_error <= 2 * hf_error + 1e-6);
    if (key != "hidden_states.0") CHECK(our_error > 1e-4);  // the embeddings' sum and LayerNorm stay fp32
  }
}

inline void check_golden_folder(const std::string& dir) {
  LoadOptions lo;
  lo.allow_new_head = false;  // the golden folders hold every weight
  lo.verbose = false;
  LoadedModel loaded = load_model_folder(dir, lo);
  CHECK(loaded.report.newly_initialized.empty());
  CHECK(loaded.report.unused.empty());
  auto& model = *loaded.model;
  model.train();  // dropout is 0 in the golden configs; train mode exercises the training path
  const auto io = load_safetensors(dir + "/io.safetensors");

  ModelInputs in;
  in.input_ids = io.at("input_ids");
  in.attention_mask = io.at("attention_mask");
  if (io.contains("token_type_ids")) in.token_type_ids = io.at("token_type_ids");
  if (io.contains("position_ids")) in.position_ids = io.at("position_ids");
  if (io.contains("labels")) in.labels = io.at("labels");
  if (io.contains("start_positions")) in.start_positions = io.at("start_positions");
  if (io.contains("end_positions")) in.end_positions = io.at("end_positions");
  in.output_hidden_states = true;
  in.output_attentions = true;
  ModelOutput out = model.forward(in);

  const std::pair<const char*, const torch::Tensor*> outputs[] = {{"logits", &out.logits},
                                                                   {"start_logits", &out.start_logits},
                                                                   {"end_logits", &out.end_logits},
                                                                   {"last_hidden_state", &out.last_hidden_state}};
  for (const auto& [key, got] : outputs)
    if (io.contains(key)) CHECK_TENSOR_CLOSE(key, *got, io.at(key));
  size_t n_hidden = 0, n_att = 0;
  while (io.contains("hidden_states." + std::to_string(n_hidden))) ++n_hidden;
  while (io.contains("attentions." + std::to_string(n_att))) ++n_att;
  REQUIRE(n_hidden == out.hidden_states.size());
  REQUIRE(n_att == out.attentions.size());
  for (size_t i = 0; i < n_hidden; ++i) {
    const std::string key = "hidden_states." + std::to_string(i);
    CHECK_TENSOR_CLOSE(key, out.hidden_states[i], io.at(key));
  }
  for (size_t i = 0; i < n_att; ++i) {
    const std::string key = "attentions." + std::to_string(i);
    CHECK_TENSOR_CLOSE(key, out.attentions[i], io.at(key));
  }
  const bool labelled = in.labels.defined() || in.start_positions.defined();
  REQUIRE(out.loss.defined() == labelled);
  const torch::Tensor loss = labelled ? out.loss : unlabelled_loss(out);
  CHECK_TENSOR_CLOSE("loss", loss, io.at("loss"));

  loss.backward();
  size_t compared = 0;
  for (const auto& p : model.named_parameters(true)) {
    const std::string key = "grad." + p.key();
    if (!p.value().requires_grad()) {
      CHECK_FALSE(io.contains(key));  // frozen (sinusoidal) tables get no gradient in the reference either
      continue;
    }
    INFO("parameter " << p.key());
    REQUIRE(io.contains(key));
    // Some gradients are exactly zero mathematically (key biases) and float32 noise in the reference: atol matters.
    // A parameter the loss does not reach has no gradient here and a zero one in the file.
    const torch::Tensor grad = p.value().grad().defined() ? p.value().grad() : torch::zeros_like(p.value());
    CHECK_TENSOR_CLOSE(key, grad, io.at(key), 1e-5, 1e-3);
    ++compared;
  }
  size_t expected_grads = 0;
  for (const auto& [k, t] : io.tensors) expected_grads += k.rfind("grad.", 0) == 0;
  CHECK(compared == expected_grads);
  if (io.contains("bf16.logits")) check_bf16_autocast(model, in, io);
}

}  // namespace distilbert::testing
