// Multiple choice in the SWAG CSV layout (github.com/rowanz/swagaf data/{train,val,test}.csv), as HF run_swag.py
// reads and encodes it:
//  * read_swag_file: RFC 4180 CSV with a header; columns found by name: sent1 (the context), sent2 (the start of the
//    continuation), ending0 .. ending{C-1} (C = the consecutive ending columns, 4 in SWAG) and label (0 .. C-1; a
//    file without a label column, like SWAG's test.csv, is unlabeled). Other columns (the unnamed index, video-id,
//    fold-ind, startphrase, gold-source) are ignored;
//  * encode_choice_examples: per choice the pair (sent1, sent2 + " " + ending_i), truncated longest_first to
//    max_seq_len, so an example becomes C sequences (the model folds (B, C, T) into (B*C, T)).
// Scoring is accuracy over the argmax choice. Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "distilbert/tasks/example.h"
#include "distilbert/tokenizer/tokenizer.h"

namespace distilbert::tasks {

struct ChoiceExample {
  std::string context;               ///< sent1
  std::string start;                 ///< sent2
  std::vector<std::string> endings;  ///< ending0 .. ending{C-1}
  int label = -1;                    ///< -1 when the file has no label column
  std::size_t line = 0;
};

struct ChoiceReadResult {
  std::vector<ChoiceExample> examples;
  std::size_t num_choices = 0;
  bool has_labels = false;
  std::size_t skipped = 0;
  std::vector<std::string> messages;
};

/// Read a SWAG-layout CSV. Missing sent1 / sent2 / ending0 columns are an Error; a row with the wrong column count,
/// an empty sent1 or ending, or a label that is not an integer in [0, C) is malformed ("file:line: ...").
ChoiceReadResult read_swag_file(const std::string& path, const ReadOptions& options = {});

/// One example: C sequences.
struct ChoiceFeature {
  std::vector<std::vector<std::int64_t>> ids, type_ids;  ///< [choice][token]
  int label = -1;
};

std::vector<ChoiceFeature> encode_choice_examples(const tokenizer::Tokenizer& tok,
                                                  const std::vector<ChoiceExample>& examples, std::size_t max_seq_len,
                                                  bool token_type_ids);

}  // namespace distilbert::tasks
