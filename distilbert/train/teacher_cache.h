// Task-specific distillation's teacher outputs, computed once instead of once per batch (docs/DISTILLATION.md §7).
// The teacher is frozen and in eval mode (no dropout), so its outputs for a training unit depend on that unit alone:
// a run with several epochs, or several runs on the same data (seeds), need its forward pass over the training set
// only once. The cache holds, per unit, the rows of every output the task's soft loss reads: one logits row for
// sequence classification, regression and multiple choice; one row per real token for question answering (start and
// end logits) and token classification. Padding positions come back as 0, which every soft loss masks out.
//
// With a file (`distill.cache_file`), the outputs are kept on disk as safetensors with a SHA-256 fingerprint of what
// they depend on: the teacher's weights, every unit's input ids, mask and segment ids as batched for the pass, and
// the precision. A file made for anything else, or unreadable, is recomputed and replaced, with a line saying why.
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

#include "distilbert/model/pretrained.h"
#include "distilbert/train/finetune_task.h"

namespace distilbert {

struct TeacherCacheOptions {
  int64_t batch_size = 128;  // units per forward pass (the recipe's eval_batch_size)
  std::string precision = "fp32";
  torch::Device device = torch::kCPU;
  int64_t pad_id = 0;
  std::string file;     // empty: in memory only
  bool write = true;    // false on the ranks that read the file but leave writing it to rank 0
  std::string tag;      // the run's log prefix; empty: quiet
};

class TeacherCache {
 public:
  /// The teacher's outputs for every training unit of `task` (its head `head`), read from `o.file` when it holds
  /// them for exactly these inputs, else computed in batches of `o.batch_size` units in order (and written there).
  TeacherCache(const FinetuneTask& task, Head head, PretrainedModel& teacher, const TeacherCacheOptions& o);

  /// The teacher's outputs for units `idx`, shaped as its forward pass over that batch would return them
  /// (`seq_len`: the batch's padded length, for per-token outputs).
  ModelOutput outputs(const std::vector<size_t>& idx, int64_t seq_len, torch::Device device) const;

  int64_t units() const { return static_cast<int64_t>(offsets_.size()) - 1; }
  bool from_file() const { return from_file_; }
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  void compute(const FinetuneTask& task, PretrainedModel& teacher, const TeacherCacheOptions& o);
  bool read(const std::string& file, const std::string& tag);
  void write(const std::string& file) const;

  bool per_token_ = false;                          // QA and token classification: rows are real tokens
  std::vector<int64_t> offsets_{0};                 // unit i's rows are [offsets_[i], offsets_[i + 1])
  std::vector<std::pair<std::string, torch::Tensor>> fields_;  // "logits" / "start_logits" / "end_logits", fp32
  std::string fingerprint_;
  bool from_file_ = false;
};

}  // namespace distilbert
