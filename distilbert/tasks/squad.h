// Extractive question answering (SQuAD v1.1 / v2.0) as HF transformers' examples/pytorch/question-answering:
//  * read_squad_file: the official JSON layout {"version", "data": [{"title", "paragraphs": [{"context",
//    "qas": [{"id", "question", "answers": [{"text", "answer_start"}], "is_impossible"}]}]}]};
//  * prepare_qa_features: run_qa.py's prepare_train_features / prepare_validation_features: question first,
//    `only_second` truncation of the context into windows of max_seq_len tokens overlapping by doc_stride, the
//    offsets mapping, and the start/end token labels (the [CLS] index when the window does not hold the answer or
//    the question is unanswerable);
//  * postprocess_qa_predictions: utils_qa.py's postprocess_qa_predictions: the n best start and end logits of each
//    window, spans inside the context of at most max_answer_length tokens, the best over the windows of a question,
//    and for v2 the minimum null score ([CLS] start + end) against the best span.
// Scoring the answers is squad_v1_evaluate / squad_v2_evaluate in metrics.h. Torch-free.
// Offsets are BYTES into the UTF-8 context (the JSON's answer_start counts code points, as Python's str, and is
// converted when reading); slicing the context with them gives the same text as run_qa's character offsets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "distilbert/tasks/example.h"
#include "distilbert/tokenizer/tokenizer.h"

namespace distilbert::tasks {

struct QaAnswer {
  std::string text;
  std::size_t start = 0;  ///< byte offset of the answer in the context
};

/// One question about one paragraph.
struct QaExample {
  std::string id, title, question, context;
  std::vector<QaAnswer> answers;  ///< empty for unanswerable (v2 is_impossible) questions
  std::size_t line = 0;           ///< 1-based line of the question's object in the JSON file
};

struct QaReadResult {
  std::vector<QaExample> examples;
  bool version_2 = false;  ///< the file says "version": "v2.0" or has an is_impossible question
  std::size_t skipped = 0;
  std::vector<std::string> messages;
};

/// Read a SQuAD JSON file. A question with no id, an empty question or context, no answer when answerable, or an
/// answer whose answer_start does not point at its text in the context is a malformed row, reported as
/// "file:line: question 'id': ..." and handled by options.policy (the file's structure itself must be valid).
QaReadResult read_squad_file(const std::string& path, const ReadOptions& options = {});

struct QaFeatureOptions {
  std::size_t max_seq_len = 384;
  std::size_t doc_stride = 128;     ///< tokens shared by consecutive windows (run_qa.py --doc_stride)
  std::size_t max_query_len = 64;   ///< longer questions are cut to this many tokens (run_squad.py)
  bool token_type_ids = false;      ///< BERT reads segment ids; DistilBERT does not
};

/// One window of one question: [CLS] question [SEP] context tokens [SEP].
struct QaFeature {
  std::size_t example = 0;  ///< index into the examples
  std::vector<std::int64_t> ids, type_ids;
  std::vector<tokenizer::Offset> offsets;  ///< byte offsets into the context; meaningful where is_context
  std::vector<std::uint8_t> is_context;    ///< 1 for context tokens (run_qa keeps only their offsets)
  std::int64_t start_position = 0, end_position = 0;  ///< training labels ([CLS] = 0 when not in the window)
};

/// Tokenise and window every example (order: example by example, windows in order). Throws distilbert::Error when
/// max_seq_len leaves no more than doc_stride tokens for the context after a max_query_len question.
std::vector<QaFeature> prepare_qa_features(const tokenizer::Tokenizer& tok, const std::vector<QaExample>& examples,
                                           const QaFeatureOptions& options);

struct QaPostprocessOptions {
  std::size_t n_best_size = 20;
  std::size_t max_answer_length = 30;  ///< tokens
  bool version_2_with_negative = false;
  double null_score_diff_threshold = 0.0;  ///< v2: predict "" when null score - best span score exceeds it
};

/// The answer text of every example ("" = no answer, v2). start_logits[f] / end_logits[f] hold at least
/// features[f].ids.size() values (positions past it, padding, are not considered). Candidates tied on score keep
/// the order numpy's argsort(...)[::-1] would give a stable sort (higher token index first).
std::vector<std::string> postprocess_qa_predictions(const std::vector<QaExample>& examples,
                                                    const std::vector<QaFeature>& features,
                                                    const std::vector<std::vector<float>>& start_logits,
                                                    const std::vector<std::vector<float>>& end_logits,
                                                    const QaPostprocessOptions& options);

}  // namespace distilbert::tasks
