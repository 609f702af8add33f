// Collation and dynamic MLM masking (Distiller.prepare_batch_mlm, docs/DISTILLATION.md §2.1, the non-fp16 path).
//
// mask_batch(): attention_mask = arange(T) < lengths; n = ceil(mask_prop * sum(lengths)) positions drawn without
// replacement in proportion to token_probs[id] (specials and pads have weight 0, so they are never drawn);
// each drawn position becomes [MASK] (word_mask), stays (word_keep) or becomes a uniform random id in [0, vocab)
// (word_rand); mlm_labels = the original id at drawn positions, -100 elsewhere.
// Every random number comes from the generator passed in (torch::multinomial / random_ with an explicit
// at::Generator); the loader seeds one per batch from (seed, epoch, batch index, rank), so a batch's mask does not
// depend on what was drawn before it.
// Deviation from the reference (which fails there): when fewer than n positions have a non-zero weight, n is
// lowered to that count.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "distilbert/data/batching.h"
#include "distilbert/data/lm_sequences.h"

namespace distilbert::data {

/// LmSeqsDataset.batch_sequences: token_ids (B, T) int64 padded with pad_id to the longest member, lengths (B) int64.
struct Batch {
  torch::Tensor token_ids;
  torch::Tensor lengths;
};

Batch collate(const LmSequences& seqs, const ItemIndex* items, std::size_t n, std::int64_t pad_id);
Batch collate(const std::vector<std::vector<std::int64_t>>& sequences, std::int64_t pad_id);

/// One batch ready for the distiller.
struct MlmBatch {
  torch::Tensor input_ids;       ///< (B, T) int64, corrupted
  torch::Tensor attention_mask;  ///< (B, T) int64, 1 = real token
  torch::Tensor mlm_labels;      ///< (B, T) int64, original id at MLM targets, -100 elsewhere
  torch::Tensor lengths;         ///< (B) int64
  std::int64_t epoch = 0;        ///< set by the loader
  std::int64_t index = 0;        ///< batch index within the epoch (this rank), set by the loader
};

/// Replacement codes (index into [word_mask, word_keep, word_rand]).
constexpr std::int64_t kChoiceMask = 0, kChoiceKeep = 1, kChoiceRandom = 2;

/// The deterministic part (scripts/distill_reference.py apply_mlm_mask): `replace_choice` and `random_ids` are either
/// (B, T) (read only where pred_mask) or 1-D with one entry per masked position in row-major order.
/// Returns {corrupted ids, mlm_labels}.
std::pair<torch::Tensor, torch::Tensor> apply_mlm_mask(const torch::Tensor& token_ids, const torch::Tensor& pred_mask,
                                                       const torch::Tensor& replace_choice,
                                                       const torch::Tensor& random_ids, std::int64_t mask_id);

struct MlmOptions {
  double mask_prop = 0.15;
  double word_mask = 0.8;
  double word_keep = 0.1;
  double word_rand = 0.1;
};

/// A CPU generator seeded from (seed, epoch, batch index, rank).
at::Generator mlm_generator(std::uint64_t seed, std::int64_t epoch, std::int64_t batch_index, std::int64_t rank = 0);

class MlmMasker {
 public:
  /// token_probs: (V) weights (token_probs() / uniform_token_probs()); specials: pad and mask ids are required.
  MlmMasker(torch::Tensor token_probs, tokenizer::SpecialTokenIds specials, std::int64_t vocab_size,
            MlmOptions options = {});
  MlmBatch mask(const Batch& batch, at::Generator& gen) const;
  std::int64_t vocab_size() const { return vocab_size_; }
  const MlmOptions& options() const { return options_; }
  const tokenizer::SpecialTokenIds& specials() const { return specials_; }

 private:
  torch::Tensor token_probs_;  // float64, CPU
  torch::Tensor pred_probs_;   // [word_mask, word_keep, word_rand]
  tokenizer::SpecialTokenIds specials_;
  std::int64_t vocab_size_;
  MlmOptions options_;
};

}  // namespace distilbert::data
