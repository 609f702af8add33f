// The inputs of `distilbert predict` (cli/cmd_predict.cpp): one example per line of a file, checked against the
// model before anything runs, then right-padded into batches.
//   JSONL (.jsonl / .json): {"input_ids": [...]} with optional "attention_mask", "token_type_ids" and
//   "position_ids" of the same shape (multiple choice: a list of such rows per key, one per choice), or
//   {"text": ..., "text_pair": ...}; plain text: one text per line ("A<TAB>B" with pairs).
// Every id, type and position is checked against the model's config (vocab_size, type_vocab_size,
// max_position_embeddings); a bad line is refused naming the file, the line and the value.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "distilbert/config/model_config.h"
#include "distilbert/model/outputs.h"
#include "distilbert/tokenizer/tokenizer.h"

namespace distilbert {

struct PredictExample {
  std::vector<std::vector<int64_t>> ids;  // one row, or one per choice (multiple choice)
  std::vector<std::vector<int64_t>> mask;
  std::vector<std::vector<int64_t>> types;
  std::vector<std::vector<int64_t>> positions;  // empty: 0..T-1
};

struct PredictInputOptions {
  bool multiple_choice = false;
  bool pairs = false;                           // plain text lines are "text<TAB>text_pair"
  const tokenizer::Tokenizer* tok = nullptr;    // needed by text inputs only
  size_t max_length = 512;                      // text is truncated longest_first to this, as HF pipelines do
};

/// Whether `path` is read as JSONL (its name ends in .jsonl or .json) rather than as plain text.
bool is_jsonl_path(const std::string& path);

/// The examples of `in`, named `name` in errors; at least one.
std::vector<PredictExample> read_predict_inputs(std::istream& in, const std::string& name, bool jsonl,
                                                const ModelConfig& config, const PredictInputOptions& options);
std::vector<PredictExample> read_predict_inputs(const std::string& path, const ModelConfig& config,
                                                const PredictInputOptions& options);

/// Examples [begin, end) right-padded with pad_id into (B, T) tensors, or (B, C, T) for multiple choice.
/// position_ids are set when an example of the batch has them: the others get 0..len-1, and padding gets 0.
ModelInputs collate_predict_inputs(const std::vector<PredictExample>& examples, size_t begin, size_t end,
                                   bool multiple_choice, int64_t pad_id, bool with_types);

}  // namespace distilbert
