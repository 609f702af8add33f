// Encoding (the result of encoding one text or text pair) and the truncation / padding / merging rules of
// Hugging Face tokenizers (tokenizers/src/tokenizer/encoding.rs, utils/truncation.rs, utils/padding.rs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "distilbert/tokenizer/unicode.h"

namespace distilbert::tokenizer {

/// Half-open range [begin, end) into the original input text of the token's sequence (A or B).
/// Bytes by default; code points with OffsetUnit::chars. Special and padding tokens have (0, 0).
struct Offset {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool operator==(const Offset& o) const { return begin == o.begin && end == o.end; }
  bool operator!=(const Offset& o) const { return !(*this == o); }
};

/// One encoded sequence (or pair), with all per-token arrays the same length.
struct Encoding {
  std::vector<std::int64_t> ids;
  std::vector<std::string> tokens;
  std::vector<std::int64_t> type_ids;             ///< token_type_ids; EMPTY when not requested
  std::vector<std::int64_t> attention_mask;       ///< 1 real token, 0 padding
  std::vector<std::int64_t> special_tokens_mask;  ///< 1 for template specials ([CLS]/[SEP]) and padding
  std::vector<Offset> offsets;
  std::vector<std::int64_t> word_ids;      ///< word index within its sequence; -1 for specials/padding
  std::vector<std::int64_t> sequence_ids;  ///< 0 (first text), 1 (second text), -1 specials/padding
  /// With EncodeOptions::return_overflowing_tokens: the further windows produced by truncation with
  /// stride, in Hugging Face's order (they are also padded). Never nested.
  std::vector<Encoding> overflowing;

  std::size_t size() const { return ids.size(); }
  bool empty() const { return ids.empty(); }
};

enum class Truncation { none, longest_first, only_first, only_second };
enum class Padding { none, longest, max_length };
enum class Side { right, left };
enum class OffsetUnit { bytes, chars };

/// Target lengths (len_a', len_b') for truncating two sequences of lengths len_a, len_b to `budget`
/// tokens in total (the budget already excludes special tokens). Fast (Rust truncation.rs): shorter gets
/// floor, longer ceil; on a tie the FIRST gets floor, e.g. (4,4) budget 7 -> (3,4). Slow (Python
/// truncate_sequences): on a tie the SECOND loses the extra token, (4,4) budget 7 -> (4,3).
/// Single sequences: pass len_b = std::nullopt. Throws distilbert::Error where Hugging Face errors
/// (only_second without a second sequence; only_first/only_second when that sequence is too short).
std::pair<std::size_t, std::size_t> truncation_lengths(std::size_t len_a, std::optional<std::size_t> len_b,
                                                        std::size_t budget, Truncation strategy, Flavor flavor);

/// Encoding::truncate from encoding.rs: keep the first (Side::right) or last (Side::left) `max_len`
/// tokens; the rest become overflowing windows of max_len tokens that overlap by `stride`.
/// Throws distilbert::Error if stride >= max_len > 0.
void truncate_encoding(Encoding& e, std::size_t max_len, std::size_t stride, Side side);

/// Encoding::merge_with (growing_offsets = false): append `pair` to `self`, combining overflowing windows
/// the way Hugging Face does (self overflows x (pair, pair overflows), then self x pair overflows).
void merge_encodings(Encoding& self, const Encoding& pair);

/// Pad `e` (and its overflowing windows) to `target` tokens.
void pad_encoding(Encoding& e, std::size_t target, std::int64_t pad_id, std::int64_t pad_type_id,
                  const std::string& pad_token, Side side);

/// Empty the type ids of `e` and of its overflowing windows (type ids not asked for).
void clear_type_ids(Encoding& e);

/// [e, e.overflowing...] flattened (overflowing cleared in the copies), as transformers returns them with
/// return_overflowing_tokens=True. `sample_mapping`, if given, receives `sample` once per window.
void flatten_overflowing(const Encoding& e, std::vector<Encoding>& out, std::vector<std::size_t>* sample_mapping = nullptr,
                         std::size_t sample = 0);

/// Options of encode()/encode_batch(): transformers' __call__ arguments.
struct EncodeOptions {
  bool add_special_tokens = true;
  Truncation truncation = Truncation::none;
  /// For truncation and Padding::max_length; nullopt = config().model_max_length.
  std::optional<std::size_t> max_length;
  std::size_t stride = 0;
  bool return_overflowing_tokens = false;
  Side truncation_side = Side::right;
  /// longest_first tie rule; nullopt = the tokenizer's flavour (fast: Rust rule, slow: Python rule).
  std::optional<Flavor> truncation_rule;
  Padding padding = Padding::none;  ///< longest = longest in the batch (a single encode() pads to itself)
  std::optional<std::size_t> pad_to_multiple_of;
  Side padding_side = Side::right;
  /// nullopt = config().returns_token_type_ids() (false for DistilBertTokenizer).
  std::optional<bool> return_token_type_ids;
  OffsetUnit offsets = OffsetUnit::bytes;
};

/// `length` rounded up to a multiple of options.pad_to_multiple_of (when set and > 0).
std::size_t padded_length(std::size_t length, const EncodeOptions& options);

/// The length one encoding of `length` tokens is padded to under options.padding: max_length pads to
/// options.max_length or else the tokenizer's `model_max_length` (an error when neither is set), longest to its own
/// length; both rounded up by padded_length. nullopt when options.padding is none.
std::optional<std::size_t> padding_target(std::size_t length, const EncodeOptions& options,
                                          std::size_t model_max_length);

/// One batch item: a text or a text pair. The views must stay valid during encode_batch().
struct TextInput {
  std::string_view text;
  std::optional<std::string_view> pair;
};

}  // namespace distilbert::tokenizer
