// Token classification (named-entity recognition) data in the CoNLL-2003 layout, as HF datasets' conll2003.py reads
// it and HF run_ner.py labels it:
//  * read_conll_file: one token per line, space- (or tab-) separated columns `word POS chunk NER`, a blank line
//    between sentences, `-DOCSTART-` lines (and the blank line after them) skipped. The word is the first column
//    and the tag the last; every token line must have the same number of columns (4 for CoNLL-2003);
//  * encode_token_examples: the words of a sentence tokenised as one text (run_ner.py's is_split_into_words), the
//    tag id on the FIRST sub-word of each word and -100 (ignored) on the other sub-words and on specials
//    (label_all_tokens = False). Words cut off by max_seq_len keep no token.
// Scoring is seqeval() in metrics.h on the word-level tags. Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "distilbert/tasks/example.h"
#include "distilbert/tokenizer/tokenizer.h"

namespace distilbert::tasks {

/// One sentence: its words and their tag ids.
struct TokenExample {
  std::vector<std::string> words;
  std::vector<int> tags;
  std::size_t line = 0;  ///< 1-based line of the sentence's first token
};

struct TokenReadResult {
  std::vector<TokenExample> sentences;
  std::vector<std::string> label_names;  ///< tag id -> name
  std::size_t skipped = 0;               ///< malformed sentences dropped under BadRowPolicy::Skip
  std::vector<std::string> messages;
};

/// The CoNLL-2003 NER tags in HF datasets' order: O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC, B-MISC, I-MISC.
const std::vector<std::string>& conll2003_ner_labels();

struct ConllReadOptions {
  /// Tag names (id = position); a tag outside them is malformed. nullopt: the sorted set of the file's tags (run_ner
  /// get_label_list).
  std::optional<std::vector<std::string>> label_names;
  /// Required number of columns per token line; 0 = whatever the first token line has (at least 2).
  std::size_t columns = 0;
  ReadOptions read;
};

/// Read a CoNLL-format file. A token line with the wrong number of columns or an unknown tag is malformed: the
/// message is "file:line: ..." and, under BadRowPolicy::Skip, its whole sentence is dropped (one skip).
TokenReadResult read_conll_file(const std::string& path, const ConllReadOptions& options = {});

/// One encoded sentence.
struct TokenFeature {
  std::vector<std::int64_t> ids, type_ids;
  std::vector<std::int64_t> labels;       ///< per token: the word's tag id on its first sub-word, else -100
  std::vector<std::int64_t> word_tokens;  ///< per word: the index of its first sub-word, -1 when it has none
};

/// Tokenise sentences (truncated to max_seq_len tokens with [CLS] ... [SEP]) and align their tags to sub-words.
std::vector<TokenFeature> encode_token_examples(const tokenizer::Tokenizer& tok,
                                                const std::vector<TokenExample>& sentences, std::size_t max_seq_len,
                                                bool token_type_ids);

/// The predicted tag of every word of `feature`'s sentence: the tag predicted on its first sub-word
/// (token_predictions[t] = argmax tag id of token t), "O" for a word with no token (truncated away).
std::vector<std::string> word_predictions(const TokenFeature& feature, const std::vector<std::int64_t>& token_predictions,
                                          const std::vector<std::string>& label_names);

}  // namespace distilbert::tasks
