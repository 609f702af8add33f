// Shared types for the task data readers (GLUE TSVs and users' CSV/TSV/JSONL files): one Example per row,
// the policy for malformed rows, and the result of a read (examples, label names, skipped rows with reasons).
// Torch-free: the readers only produce strings and label ids; tokenization happens elsewhere.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace distilbert::tasks {

/// One row of a sentence(-pair) classification or regression data set.
struct Example {
  std::string text_a;                 ///< first (or only) text
  std::optional<std::string> text_b;  ///< second text of a pair task; nullopt for single-sentence tasks
  int label = -1;                     ///< class id; -1 when the file has no label (GLUE test splits) or regression
  float score = std::numeric_limits<float>::quiet_NaN();  ///< regression target (STS-B); NaN when absent
  std::string guid;                   ///< the file's own index/id column, or the 0-based row ordinal if it has none
  std::size_t line = 0;               ///< 1-based line of the file where the row starts (for messages)
};

/// What a reader does with a malformed row (wrong column count, unknown label, empty text, bad number).
enum class BadRowPolicy {
  Fail,  ///< throw distilbert::Error naming file:line, the column and expected vs found
  Skip,  ///< drop the row, count it and keep its message
};

/// Options shared by all readers.
struct ReadOptions {
  BadRowPolicy policy = BadRowPolicy::Fail;
  std::size_t max_messages = 100;  ///< at most this many skip messages are kept (all skips are counted)
};

/// The rows of one file plus what was dropped.
struct ReadResult {
  std::vector<Example> examples;
  std::vector<std::string> label_names;  ///< id -> name (empty for regression)
  bool is_regression = false;
  bool has_labels = false;               ///< false for unlabeled files (GLUE test splits)
  std::size_t skipped = 0;               ///< malformed rows dropped under BadRowPolicy::Skip
  std::vector<std::string> messages;     ///< "file:line: ..." for the first max_messages skipped rows
};

}  // namespace distilbert::tasks
