// Recipe parsing and validation; see distill_recipe.h.
#include "distilbert/train/distill_recipe.h"

#include <cmath>

#include "distilbert/config/tree.h"
#include "distilbert/core/error.h"
#include "distilbert/train/optim.h"
#include "distilbert/train/precision.h"
#include "distilbert/train/recipe_keys.h"

namespace distilbert {

DistillRecipe DistillRecipe::load(const std::string& path, const std::vector<std::string>& overrides,
                                  const std::string& mode) {
  auto tree = load_tree(path);
  apply_overrides(tree, overrides, path);
  return from_tree(tree, path, mode);
}

namespace {

// teacher: and student: (distill) or model: (pretrain).
void read_models(TreeReader& top, DistillRecipe& r) {
  if (r.mode == "distill") {
    auto t = top.child("teacher");
    t.get("model", r.teacher);
    t.require(!r.teacher.empty(), "model", "is required: the teacher's model folder (a BertForMaskedLM)");
    t.finish();
  }
  auto s = top.child(r.mode == "distill" ? "student" : "model");
  s.get("model", r.student);
  s.get("config", r.student_config);
  s.get("freeze_position_embeddings", r.freeze_position_embeddings);
  s.require(r.student.empty() != r.student_config.empty(), "model",
            "give exactly one of 'model' (a model folder to start from) and 'config' (a config.json for a random "
            "initialisation)");
  s.finish();
}

void read_mlm(TreeReader m, MlmSettings& mlm) {
  m.get("mask_prob", mlm.mask_prob);
  m.get("word_mask", mlm.word_mask);
  m.get("word_keep", mlm.word_keep);
  m.get("word_rand", mlm.word_rand);
  m.get("smoothing", mlm.smoothing);
  m.require(mlm.mask_prob > 0 && mlm.mask_prob < 1, "mask_prob", "must be in (0, 1)");
  m.require(mlm.word_mask >= 0 && mlm.word_keep >= 0 && mlm.word_rand >= 0 &&
                std::abs(mlm.word_mask + mlm.word_keep + mlm.word_rand - 1.0) < 1e-9,
            "word_mask", "+ word_keep + word_rand must be 1 (each >= 0)");
  m.require(mlm.smoothing >= 0, "smoothing", "must be >= 0");
  m.finish();
}

void read_data(TreeReader d, DataSettings& data) {
  d.get("train", data.train);
  d.require(!data.train.empty(), "train", "is required: a token store prefix made by `distilbert binarize`");
  d.get("valid", data.valid);
  d.get("token_counts", data.token_counts);
  d.get("max_seq_len", data.max_seq_len);
  d.require(data.max_seq_len >= 4, "max_seq_len", "must be >= 4");
  d.get("batch_size", data.batch_size);
  d.require(data.batch_size >= 1, "batch_size", "must be >= 1");
  d.get("batching", data.batching);
  d.require(data.batching == "grouped" || data.batching == "random" || data.batching == "tokens", "batching",
            "must be grouped, random or tokens, found '" + data.batching + "'");
  d.get("max_tokens", data.max_tokens);
  d.require(data.batching != "tokens" || data.max_tokens >= data.max_seq_len, "max_tokens",
            "must be >= max_seq_len when batching is 'tokens'");
  d.get("prefetch", data.prefetch);
  d.require(data.prefetch >= 0, "prefetch", "must be >= 0");
  read_mlm(d.child("mlm"), data.mlm);
  d.finish();
}

// The loss weights, over the mode's defaults: the reference's 5 / 2 / 1 (ce / mlm / cos) when distilling, MLM alone
// when pretraining (no teacher, no soft targets).
void read_loss(TreeReader l, DistillLossWeights& w, const std::string& mode) {
  const bool pretrain = mode == "pretrain";
  w.alpha_ce = pretrain ? 0.0 : 5.0;
  w.alpha_mlm = pretrain ? 1.0 : 2.0;
  w.alpha_cos = pretrain ? 0.0 : 1.0;
  l.get("temperature", w.temperature);
  l.require(w.temperature > 0, "temperature", "must be > 0");
  l.get("alpha_ce", w.alpha_ce);
  l.get("alpha_mlm", w.alpha_mlm);
  l.get("alpha_mse", w.alpha_mse);
  l.get("alpha_cos", w.alpha_cos);
  l.get("restrict_ce_to_mask", w.restrict_ce_to_mask);
  read_layer_terms(l, w);
  for (auto [name, a] : {std::pair<const char*, double>{"alpha_ce", w.alpha_ce}, {"alpha_mlm", w.alpha_mlm},
                         {"alpha_mse", w.alpha_mse}, {"alpha_cos", w.alpha_cos},
                         {"alpha_layer_cos", w.alpha_layer_cos}, {"alpha_layer_mse", w.alpha_layer_mse}})
    l.require(a >= 0, name, "must be >= 0");
  if (pretrain) {
    l.require(w.alpha_ce == 0 && w.alpha_mse == 0 && w.alpha_cos == 0 && w.layer_pairs.empty(), "alpha_ce",
              "and the other teacher terms must be 0 in pretraining (there is no teacher); use alpha_mlm");
    l.require(w.alpha_mlm > 0, "alpha_mlm", "must be > 0 in pretraining");
  } else {
    l.require(w.alpha_ce + w.alpha_mlm + w.alpha_mse + w.alpha_cos + w.alpha_layer_cos + w.alpha_layer_mse > 0,
              "alpha_ce", "and the other alphas are all 0: nothing to train");
  }
  l.finish();
}

void read_trainer(TreeReader t, TrainerSettings& s) {
  t.get("epochs", s.epochs);
  t.get("max_steps", s.max_steps);
  t.require(s.epochs >= 1 || s.max_steps >= 1, "epochs", "or max_steps must be >= 1");
  t.get("grad_accum_steps", s.grad_accum_steps);
  t.require(s.grad_accum_steps >= 1, "grad_accum_steps", "must be >= 1");
  t.get("warmup_prop", s.warmup_prop);
  t.require(s.warmup_prop >= 0 && s.warmup_prop <= 1, "warmup_prop", "must be in [0, 1]");
  t.get("log_every", s.log_every);
  t.require(s.log_every >= 1, "log_every", "must be >= 1");
  t.get("eval_every", s.eval_every);
  t.get("eval_batches", s.eval_batches);
  t.get("save_every", s.save_every);
  t.get("keep_last", s.keep_last);
  t.require(s.keep_last >= 1, "keep_last", "must be >= 1");
  t.get("resume", s.resume);
  t.get("nan_policy", s.nan_policy);
  t.require(s.nan_policy == "skip" || s.nan_policy == "stop", "nan_policy", "must be skip or stop");
  t.get("progress", s.progress);
  t.get("tensorboard", s.tensorboard);
  t.get("profile_steps", s.profile_steps);
  t.require(s.profile_steps >= 0, "profile_steps", "must be >= 0 (0: no profile)");
  t.get("profile_start", s.profile_start);
  t.require(s.profile_start >= 0, "profile_start", "must be >= 0");
  t.finish();
}

}  // namespace

DistillRecipe DistillRecipe::from_tree(const nlohmann::json& tree, const std::string& origin, const std::string& mode) {
  DistillRecipe r;
  r.mode = mode;
  r.origin = origin;
  r.resolved = tree;
  TreeReader top(tree, origin);
  read_run_keys(top, r, origin);
  top.get("tokenizer", r.tokenizer);
  read_models(top, r);
  read_data(top.child("data"), r.data);
  read_loss(top.child("loss"), r.loss, mode);
  {
    auto o = top.child("optimizer");
    read_adamw(o, r.optimizer, r.optimizer.max_grad_norm);
    o.finish();
  }
  read_trainer(top.child("trainer"), r.trainer);
  {
    auto d = top.child("distributed");
    r.distributed.read(d);
  }
  top.finish();
  return r;
}

void read_layer_terms(TreeReader& l, DistillLossWeights& w) {
  l.get("alpha_layer_cos", w.alpha_layer_cos);
  l.get("alpha_layer_mse", w.alpha_layer_mse);
  const auto& pairs = l.raw("layer_pairs");
  if (!pairs.is_null()) {
    l.require(pairs.is_array(), "layer_pairs", "must be a list of [student_layer, teacher_layer] pairs");
    for (const auto& p : pairs) {
      l.require(p.is_array() && p.size() == 2 && p[0].is_number_integer() && p[1].is_number_integer(), "layer_pairs",
                "entries must be [student_layer, teacher_layer], found " + p.dump());
      w.layer_pairs.emplace_back(p[0].get<int64_t>(), p[1].get<int64_t>());
    }
  }
  l.require(w.layer_pairs.empty() == (w.alpha_layer_cos == 0 && w.alpha_layer_mse == 0), "layer_pairs",
            "and alpha_layer_cos/alpha_layer_mse go together: give pairs and a non-zero alpha, or neither");
}

}  // namespace distilbert
