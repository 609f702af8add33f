// Recipe parsing and validation; see finetune_recipe.h.
#include "distilbert/train/finetune_recipe.h"

#include "distilbert/config/tree.h"
#include "distilbert/tasks/glue.h"
#include "distilbert/train/optim.h"
#include "distilbert/train/precision.h"
#include "distilbert/train/recipe_keys.h"

namespace distilbert {

FinetuneRecipe FinetuneRecipe::load(const std::string& path, const std::vector<std::string>& overrides) {
  auto tree = load_tree(path);
  apply_overrides(tree, overrides, path);
  return from_tree(tree, path);
}

FinetuneRecipe FinetuneRecipe::from_tree(const nlohmann::json& tree, const std::string& origin) {
  FinetuneRecipe r;
  r.origin = origin;
  r.resolved = tree;
  TreeReader top(tree, origin);
  read_run_keys(top, r, origin);
  top.get("model", r.model);
  top.require(!r.model.empty(), "model", "is required: a model folder (config.json + weights)");
  top.get("tokenizer", r.tokenizer);
  {
    auto t = top.child("task");
    t.get("name", r.task);
    t.get("data_dir", r.data_dir);
    t.get("train_file", r.train_file);
    t.get("dev_file", r.dev_file);
    t.get("text_column", r.text_column);
    t.get("text_pair_column", r.text_pair_column);
    t.get("label_column", r.label_column);
    t.get("label_names", r.label_names);
    t.get("regression", r.regression);
    t.get("bad_rows", r.bad_rows);
    t.require(r.bad_rows == "fail" || r.bad_rows == "skip", "bad_rows", "must be fail or skip");
    t.get("max_seq_len", r.max_seq_len);
    t.require(r.max_seq_len >= 8, "max_seq_len", "must be >= 8");
    t.get("limit_train", r.limit_train);
    t.get("limit_eval", r.limit_eval);
    t.get("doc_stride", r.doc_stride);
    t.get("max_query_len", r.max_query_len);
    t.get("max_answer_len", r.max_answer_len);
    t.require(r.max_answer_len >= 1, "max_answer_len", "must be >= 1");
    t.get("n_best_size", r.n_best_size);
    t.require(r.n_best_size >= 1, "n_best_size", "must be >= 1");
    t.get("null_score_diff_threshold", r.null_score_diff_threshold);
    if (r.task == "custom") {
      t.require(!r.train_file.empty() && !r.dev_file.empty(), "train_file", "and dev_file are required for task custom");
    } else if (is_heads_task(r.task)) {
      t.require(!r.data_dir.empty() || (!r.train_file.empty() && !r.dev_file.empty()), "data_dir",
                "or train_file and dev_file are required for task " + r.task);
      t.require(r.task != "ner" || (!r.train_file.empty() && !r.dev_file.empty()), "train_file",
                "and dev_file are required for task ner (CoNLL-format files)");
      if (r.task == "squad" || r.task == "squad_v2") {
        t.require(r.doc_stride >= 1 && r.max_query_len >= 1, "doc_stride", "and max_query_len must be >= 1");
        t.require(r.max_seq_len > r.max_query_len + 3 + r.doc_stride, "max_seq_len",
                  "must exceed max_query_len + 3 special tokens + doc_stride, or no window moves through the context");
      }
    } else {
      tasks::parse_glue_task(r.task);  // throws for unknown names
      t.require(!r.data_dir.empty(), "data_dir", "is required: the GLUE task folder (e.g. data/glue/SST-2)");
    }
    t.finish();
  }
  {
    auto o = top.child("optimizer");
    read_adamw(o, r.optimizer, r.optimizer.max_grad_norm);
    o.get("warmup_prop", r.warmup_prop);
    o.require(r.warmup_prop >= 0 && r.warmup_prop <= 1, "warmup_prop", "must be in [0, 1]");
    o.finish();
  }
  {
    auto t = top.child("trainer");
    t.get("epochs", r.epochs);
    t.get("max_steps", r.max_steps);
    t.require(r.epochs >= 1 || r.max_steps >= 1, "epochs", "or max_steps must be >= 1");
    t.get("batch_size", r.batch_size);
    t.require(r.batch_size >= 1, "batch_size", "must be >= 1");
    t.get("eval_batch_size", r.eval_batch_size);
    t.require(r.eval_batch_size >= 1, "eval_batch_size", "must be >= 1");
    t.get("eval_every", r.eval_every);
    t.get("early_stopping_patience", r.early_stopping_patience);
    t.get("log_every", r.log_every);
    t.require(r.log_every >= 1, "log_every", "must be >= 1");
    t.get("grad_accum_steps", r.grad_accum_steps);
    t.require(r.grad_accum_steps >= 1, "grad_accum_steps", "must be >= 1");
    t.get("save_every", r.save_every);
    t.require(r.save_every >= 0, "save_every", "must be >= 0 (0: checkpoints only on SIGTERM)");
    t.get("keep_last", r.keep_last);
    t.require(r.keep_last >= 1, "keep_last", "must be >= 1");
    t.get("resume", r.resume);
    t.get("nan_policy", r.nan_policy);
    t.require(r.nan_policy == "skip" || r.nan_policy == "stop", "nan_policy", "must be skip or stop");
    t.get("tensorboard", r.tensorboard);
    t.get("progress", r.progress);
    t.finish();
  }
  {
    auto k = top.child("distill");
    k.get("teacher", r.kd_teacher);
    k.get("temperature", r.kd_temperature);
    k.require(r.kd_temperature > 0, "temperature", "must be > 0");
    k.get("alpha_ce", r.kd_alpha_ce);
    k.require(r.kd_alpha_ce >= 0, "alpha_ce", "must be >= 0");
    k.get("alpha_task", r.kd_alpha_task);
    k.require(r.kd_alpha_task >= 0, "alpha_task", "must be >= 0");
    k.get("alpha_cos", r.kd_hidden.alpha_cos);
    k.require(r.kd_hidden.alpha_cos >= 0, "alpha_cos", "must be >= 0");
    read_layer_terms(k, r.kd_hidden);
    k.require(r.kd_teacher.empty() || r.kd_alpha_ce + r.kd_alpha_task + r.kd_hidden.alpha_cos > 0 ||
                  !r.kd_hidden.layer_pairs.empty(),
              "alpha_ce", "alpha_task, alpha_cos and the layer terms are all 0: nothing to train");
    k.get("cache", r.kd_cache);
    k.get("cache_file", r.kd_cache_file);
    k.require(r.kd_cache_file.empty() || r.kd_cache, "cache_file", "needs cache: true");
    k.require(r.kd_cache_file.empty() || !r.kd_hidden_terms(), "cache_file",
              "cannot be used with alpha_cos or layer_pairs: the hidden-state terms need the teacher's states at "
              "every step, which are not cached");
    k.finish();
  }
  {
    auto dd = top.child("distributed");
    r.distributed.read(dd);
  }
  top.finish();
  return r;
}

bool is_heads_task(const std::string& name) {
  return name == "squad" || name == "squad_v2" || name == "conll2003" || name == "ner" || name == "swag";
}

}  // namespace distilbert
