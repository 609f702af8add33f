// Up-front memory check for training runs (issue 10): an absurd data.batch_size or data.max_seq_len is refused
// before anything is allocated, with the memory one micro-batch would need, instead of an out-of-memory kill
// minutes later. The estimate is deliberately rough (within a small factor of LibTorch's real peak on CPU): weights,
// gradients and AdamW state, the activations the student keeps for backward (hidden states, FFN intermediates,
// attention scores), the teacher's hidden states, and the vocabulary logits of the projected rows.
#pragma once

#include <cstdint>
#include <string>

#include "distilbert/config/model_config.h"

namespace distilbert {

struct MemoryEstimate {
  double weights = 0;      ///< parameters, gradients, optimiser state (student), parameters (teacher), bytes
  double activations = 0;  ///< encoder activations kept for backward (+ the teacher's hidden states)
  double logits = 0;       ///< vocabulary logits and their softmax / gradient copies
  double total() const { return weights + activations + logits; }
};

/// One training micro-batch of `batch` sequences of `seq_len` tokens; `teacher` may be null; `logit_rows` is how
/// many rows get vocabulary logits (all tokens for distillation, masked ones for MLM, `batch` for a sequence head).
MemoryEstimate estimate_training_memory(const ModelConfig& student, const ModelConfig* teacher, int64_t batch,
                                        int64_t seq_len, int64_t logit_rows, int64_t logit_width);

/// Parameters of a BERT/DistilBERT with `config`'s sizes and an MLM head (within a few percent of the real count).
double parameter_count(const ModelConfig& config);

/// Before a model is built from a config (init, init-student): an Error naming the config's sizes when its weights
/// would not fit in the available memory (instead of LibTorch's allocator message or an out-of-memory kill).
void check_model_memory(const ModelConfig& config, const std::string& origin);

/// Memory this process can still use: MemAvailable from /proc/meminfo, capped by RLIMIT_AS / RLIMIT_DATA and a
/// cgroup (v2 memory.max) limit when set; 0 when unknown.
uint64_t available_memory_bytes();

/// Throw distilbert::Error when `estimate` exceeds the available memory: the message names the recipe and `keys`
/// (e.g. "data.batch_size=5000, data.max_seq_len=512"), the estimate with its parts and the memory available.
/// DISTILBERT_SKIP_MEMORY_CHECK=1 disables it (for machines where swap or overcommit make it too strict).
void check_training_memory(const MemoryEstimate& estimate, const std::string& origin, const std::string& keys);

struct DistillRecipe;
struct FinetuneRecipe;
/// The check for a distill / pretrain run (data.batch_size or data.max_tokens, data.max_seq_len capped at `max_len`).
void check_distill_memory(const DistillRecipe& r, const ModelConfig& student, const ModelConfig* teacher, int64_t max_len);
/// The check for a fine-tuning run (trainer.batch_size, trainer.eval_batch_size, task.max_seq_len).
void check_finetune_memory(const FinetuneRecipe& r, const ModelConfig& model);

/// "3.2 GiB", "512 MiB".
std::string format_bytes(double bytes);

}  // namespace distilbert
