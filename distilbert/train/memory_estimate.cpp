// Up-front memory estimate; see memory_estimate.h.
#include "distilbert/train/memory_estimate.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "distilbert/core/error.h"
#include "distilbert/train/distill_recipe.h"
#include "distilbert/train/finetune_recipe.h"

namespace distilbert {

namespace {

constexpr double kFloat = 4.0;  // fp32 bytes; bf16 autocast keeps fp32 master weights and fp32 losses

}  // namespace

double parameter_count(const ModelConfig& c) {
  const double H = c.hidden_size, I = c.intermediate_size;
  const double embeddings = (static_cast<double>(c.vocab_size) + c.max_position_embeddings + c.type_vocab_size) * H;
  const double layer = 4 * H * H + 2 * H * I + 9 * H + I;
  const double mlm_head = H * H + 3 * H + c.vocab_size;
  return embeddings + c.num_layers * layer + mlm_head;
}

namespace {

uint64_t meminfo_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  const long pages = ::sysconf(_SC_AVPHYS_PAGES), size = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(size) : 0;
}

uint64_t cgroup_limit() {
  std::ifstream max("/sys/fs/cgroup/memory.max"), cur("/sys/fs/cgroup/memory.current");
  std::string m;
  uint64_t used = 0;
  if (!(max >> m) || m == "max") return 0;
  cur >> used;
  const uint64_t limit = std::strtoull(m.c_str(), nullptr, 10);
  return limit > used ? limit - used : 1;
}

}  // namespace

std::string format_bytes(double bytes) {
  char buf[32];
  if (bytes >= 1024.0 * 1024 * 1024)
    std::snprintf(buf, sizeof(buf), "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  else
    std::snprintf(buf, sizeof(buf), "%.0f MiB", bytes / (1024.0 * 1024));
  return buf;
}

MemoryEstimate estimate_training_memory(const ModelConfig& s, const ModelConfig* t, int64_t batch, int64_t seq_len,
                                        int64_t logit_rows, int64_t logit_width) {
  MemoryEstimate e;
  const double tokens = static_cast<double>(batch) * static_cast<double>(seq_len);
  // Student: weights + gradients + two AdamW moments; teacher: weights only.
  e.weights = parameter_count(s) * kFloat * 4 + (t ? parameter_count(*t) * kFloat : 0.0);
  // Per student layer, kept for backward: about ten hidden-size tensors (Q, K, V, context, projections, residuals,
  // layer norms, dropout masks), two FFN intermediates (linear output, GELU), and three heads x S x S attention
  // tensors (scores, softmax, dropout).
  const double per_layer = tokens * (10.0 * s.hidden_size + 2.0 * s.intermediate_size) * kFloat +
                           3.0 * batch * static_cast<double>(s.num_heads) * seq_len * seq_len * kFloat;
  e.activations = s.num_layers * per_layer + tokens * s.hidden_size * kFloat * 2;  // + embeddings
  if (t) {
    // No grad: one layer's working set at a time, plus every hidden state when the cosine terms need them.
    e.activations += tokens * (4.0 * t->hidden_size + t->intermediate_size) * kFloat +
                     batch * static_cast<double>(t->num_heads) * seq_len * seq_len * kFloat +
                     (t->num_layers + 1) * tokens * t->hidden_size * kFloat;
  }
  // Logits: student logits, their gradient and log-softmax, teacher logits and softmax.
  e.logits = static_cast<double>(logit_rows) * static_cast<double>(logit_width) * kFloat * (t ? 5.0 : 3.0);
  return e;
}

uint64_t available_memory_bytes() {
  uint64_t avail = meminfo_available();
  for (int res : {RLIMIT_AS, RLIMIT_DATA}) {
    struct rlimit rl {};
    if (::getrlimit(res, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
      const uint64_t lim = static_cast<uint64_t>(rl.rlim_cur);
      avail = avail ? std::min(avail, lim) : lim;
    }
  }
  if (const uint64_t cg = cgroup_limit()) avail = avail ? std::min(avail, cg) : cg;
  return avail;
}

void check_training_memory(const MemoryEstimate& e, const std::string& origin, const std::string& keys) {
  const char* skip = std::getenv("DISTILBERT_SKIP_MEMORY_CHECK");
  if (skip && std::string(skip) == "1") return;
  const uint64_t avail = available_memory_bytes();
  if (avail == 0 || e.total() <= static_cast<double>(avail)) return;
  fail("recipe '", origin, "': ", keys, " needs about ", format_bytes(e.total()), " for one training micro-batch (",
       "weights and optimiser ", format_bytes(e.weights), ", activations ", format_bytes(e.activations),
       ", vocabulary logits ", format_bytes(e.logits), ") but only ", format_bytes(static_cast<double>(avail)),
       " is available (MemAvailable, rlimits, cgroup); lower the batch size or the sequence length (with "
       "gradient accumulation to keep the effective batch); DISTILBERT_SKIP_MEMORY_CHECK=1 skips this check");
}

void check_model_memory(const ModelConfig& c, const std::string& origin) {
  const char* skip = std::getenv("DISTILBERT_SKIP_MEMORY_CHECK");
  if (skip && std::string(skip) == "1") return;
  const double bytes = parameter_count(c) * kFloat * 2;  // the weights, and their copy while they are saved
  const uint64_t avail = available_memory_bytes();
  if (avail == 0 || bytes <= static_cast<double>(avail)) return;
  fail("config '", origin, "': hidden_size ", c.hidden_size, ", num_layers ", c.num_layers, ", intermediate_size ",
       c.intermediate_size, ", vocab_size ", c.vocab_size, " make about ", parameter_count(c) / 1e6,
       " million parameters, ", format_bytes(bytes), " to build and save, but only ",
       format_bytes(static_cast<double>(avail)), " is available; DISTILBERT_SKIP_MEMORY_CHECK=1 skips this check");
}

void check_distill_memory(const DistillRecipe& r, const ModelConfig& student, const ModelConfig* teacher,
                          int64_t max_len) {
  const bool by_tokens = r.data.batching == "tokens" && r.data.max_tokens > 0;
  const int64_t batch = by_tokens ? std::max<int64_t>(1, r.data.max_tokens / std::max<int64_t>(1, max_len))
                                  : r.data.batch_size;
  const int64_t tokens = batch * max_len;
  // Distillation projects every real token unless restrict_ce_to_mask; pretraining only the MLM targets.
  const bool all_rows = teacher && !r.loss.restrict_ce_to_mask;
  const int64_t rows = all_rows ? tokens : static_cast<int64_t>(tokens * r.data.mlm.mask_prob) + batch;
  const std::string keys = (by_tokens ? str_cat("data.max_tokens=", r.data.max_tokens)
                                      : str_cat("data.batch_size=", r.data.batch_size)) +
                           str_cat(", data.max_seq_len=", max_len);
  check_training_memory(estimate_training_memory(student, teacher, batch, max_len, rows, student.vocab_size), r.origin,
                        keys);
}

void check_finetune_memory(const FinetuneRecipe& r, const ModelConfig& model) {
  const int64_t len = std::min<int64_t>(r.max_seq_len, model.max_position_embeddings);
  // Multiple choice runs every example as one sequence per choice (SWAG: 4 endings).
  const int64_t per_example = r.task == "swag" ? 4 : 1;
  const int64_t train_seqs = r.batch_size * per_example, eval_seqs = r.eval_batch_size * per_example;
  check_training_memory(estimate_training_memory(model, nullptr, train_seqs, len, train_seqs, model.num_labels),
                        r.origin, str_cat("trainer.batch_size=", r.batch_size, ", task.max_seq_len=", len));
  // Evaluation runs without gradients: a third of a training step's activations is a generous bound.
  auto eval = estimate_training_memory(model, nullptr, eval_seqs, len, eval_seqs, model.num_labels);
  eval.activations /= 3;
  check_training_memory(eval, r.origin, str_cat("trainer.eval_batch_size=", r.eval_batch_size, ", task.max_seq_len=", len));
}

}  // namespace distilbert
