// Text augmentation for distillation transfer sets (docs/DISTILLATION.md §7): new unlabelled examples made from a
// task's training examples, for a fine-tuned teacher to label. Two of Tang et al.'s (2019) operations:
//   masking:          each whitespace-separated word is replaced by the mask token with probability p_mask;
//   n-gram sampling:  with probability p_ngram a text is cut to n consecutive words of it, n uniform in
//                     1..max_ngram (at most its length).
// Each text of a pair is augmented on its own. Draws come from SplitMix64 (core/splitmix64.h), seeded by the seed
// and the example's index, so a file is the same on every machine and does not depend on the examples before it.
// Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "distilbert/tasks/example.h"

namespace distilbert::tasks {

struct AugmentOptions {
  int copies = 4;                     ///< augmented versions of every example
  double p_mask = 0.1;                ///< per word: replaced by mask_token
  double p_ngram = 0.25;              ///< per text: cut to an n-gram of its words
  int max_ngram = 5;                  ///< n is drawn uniformly from 1..max_ngram
  std::string mask_token = "[MASK]";  ///< the tokenizer's mask token, written as text
  std::uint64_t seed = 1;
};

/// Throws distilbert::Error naming the option, what was expected and what was found.
void check_augment_options(const AugmentOptions& o);

/// One augmented version of `text`, its words joined by single spaces (empty when it has none); `state` is a
/// SplitMix64 state that advances with every draw.
std::string augment_text(const std::string& text, const AugmentOptions& o, std::uint64_t& state);

/// `o.copies` augmented versions of every example, in order (example 0's copies first). Labels and scores are
/// cleared: the teacher labels the new examples.
std::vector<Example> augment_examples(const std::vector<Example>& examples, const AugmentOptions& o);

}  // namespace distilbert::tasks
