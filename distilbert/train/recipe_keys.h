// The run-level keys every recipe kind reads (distill_recipe.cpp, finetune_recipe.cpp): where the run writes, its
// seed, device, threads and precision.
#pragma once

#include <cstdint>
#include <string>

#include "distilbert/config/tree.h"
#include "distilbert/train/distill_loss.h"
#include "distilbert/train/precision.h"

namespace distilbert {

/// output_dir, seed (>= 0), device, threads and precision (fp32 | bf16 | fp16, then resolved for the device and the
/// CPU: precision.h, which records its choice in r.resolved). `Recipe` has those fields and `resolved`.
template <typename Recipe>
void read_run_keys(TreeReader& top, Recipe& r, const std::string& origin) {
  top.get("output_dir", r.output_dir);
  int64_t seed = static_cast<int64_t>(r.seed);
  top.get("seed", seed);
  top.require(seed >= 0, "seed", "must be >= 0");
  r.seed = static_cast<uint64_t>(seed);
  top.get("device", r.device);
  top.get("threads", r.threads);
  top.get("precision", r.precision);
  top.require(r.precision == "fp32" || r.precision == "bf16" || r.precision == "fp16", "precision",
              "must be fp32, bf16 or fp16, found '" + r.precision + "'");
  r.precision = resolve_precision(r.precision, r.device, origin, r.resolved);
}

/// The intermediate-layer terms, read alike by `distill` (loss:) and fine-tuning (distill:): alpha_layer_cos,
/// alpha_layer_mse and layer_pairs ([student hidden_states index, teacher index] lists), which go together.
/// Defined in distill_recipe.cpp.
void read_layer_terms(TreeReader& l, DistillLossWeights& w);

}  // namespace distilbert
