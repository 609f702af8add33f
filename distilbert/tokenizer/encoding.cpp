#include "distilbert/tokenizer/encoding.h"

#include <algorithm>

#include "distilbert/core/error.h"

namespace distilbert::tokenizer {

namespace {

template <typename T>
void append_vec(std::vector<T>& dst, const std::vector<T>& src) {
  dst.insert(dst.end(), src.begin(), src.end());
}

// Concatenate the per-token arrays of src onto dst (not the overflowing windows).
void append_tokens(Encoding& dst, const Encoding& src) {
  append_vec(dst.ids, src.ids);
  append_vec(dst.tokens, src.tokens);
  append_vec(dst.type_ids, src.type_ids);
  append_vec(dst.attention_mask, src.attention_mask);
  append_vec(dst.special_tokens_mask, src.special_tokens_mask);
  append_vec(dst.offsets, src.offsets);
  append_vec(dst.word_ids, src.word_ids);
  append_vec(dst.sequence_ids, src.sequence_ids);
}

template <typename T>
std::vector<T> slice_vec(const std::vector<T>& v, std::size_t begin, std::size_t end) {
  if (v.empty()) return {};
  return std::vector<T>(v.begin() + static_cast<std::ptrdiff_t>(begin), v.begin() + static_cast<std::ptrdiff_t>(end));
}

Encoding slice(const Encoding& e, std::size_t begin, std::size_t end) {
  Encoding out;
  out.ids = slice_vec(e.ids, begin, end);
  out.tokens = slice_vec(e.tokens, begin, end);
  out.type_ids = slice_vec(e.type_ids, begin, end);
  out.attention_mask = slice_vec(e.attention_mask, begin, end);
  out.special_tokens_mask = slice_vec(e.special_tokens_mask, begin, end);
  out.offsets = slice_vec(e.offsets, begin, end);
  out.word_ids = slice_vec(e.word_ids, begin, end);
  out.sequence_ids = slice_vec(e.sequence_ids, begin, end);
  return out;
}

Encoding copy_without_overflowing(const Encoding& e) {
  Encoding out;
  append_tokens(out, e);
  return out;
}

}  // namespace

std::pair<std::size_t, std::size_t> truncation_lengths(std::size_t len_a, std::optional<std::size_t> len_b,
                                                        std::size_t budget, Truncation strategy, Flavor flavor) {
  const std::size_t lb = len_b.value_or(0);
  if (strategy == Truncation::none) return {len_a, lb};
  if (budget == 0) return {0, 0};  // Rust: max_length 0 empties every sequence, whatever the strategy
  const std::size_t total = len_a + lb;
  if (!len_b && strategy == Truncation::only_second) {
    fail("truncation only_second: there is no second sequence to truncate (the input is a single text; use "
         "longest_first or only_first)");
  }
  if (total <= budget) return {len_a, lb};
  const std::size_t to_remove = total - budget;

  if (!len_b) {
    // longest_first or only_first on one sequence.
    return {len_a - to_remove, 0};
  }
  if (strategy == Truncation::only_first || strategy == Truncation::only_second) {
    const bool first = strategy == Truncation::only_first;
    const std::size_t target = first ? len_a : lb;
    DISTILBERT_CHECK(target > to_remove, "truncation ", first ? "only_first" : "only_second", ": the ",
                     first ? "first" : "second", " sequence has ", target, " tokens but ", to_remove,
                     " must be removed to fit the budget of ", budget,
                     " tokens (max_length minus special tokens); use longest_first or a larger max_length");
    return first ? std::make_pair(len_a - to_remove, lb) : std::make_pair(len_a, lb - to_remove);
  }
  // longest_first on a pair.
  if (flavor == Flavor::fast) {
    std::size_t n1 = len_a, n2 = lb;
    const bool swap = n1 > n2;
    if (swap) std::swap(n1, n2);
    if (n1 > budget) {
      n2 = n1;
    } else {
      n2 = std::max(n1, budget - n1);
    }
    if (n1 + n2 > budget) {
      n1 = budget / 2;
      n2 = n1 + budget % 2;
    }
    if (swap) std::swap(n1, n2);
    return {std::min(n1, len_a), std::min(n2, lb)};
  }
  // Slow: tokenization_utils_base.truncate_sequences.
  const std::size_t diff = len_a > lb ? len_a - lb : lb - len_a;
  const std::size_t first_remove = std::min(diff, to_remove);
  const std::size_t second_remove = to_remove - first_remove;
  std::size_t remove_a, remove_b;
  if (len_a > lb) {
    remove_a = first_remove + second_remove / 2;
    remove_b = second_remove - second_remove / 2;
  } else {
    remove_a = second_remove / 2;
    remove_b = first_remove + second_remove - second_remove / 2;
  }
  return {len_a - remove_a, lb - remove_b};
}

void truncate_encoding(Encoding& e, std::size_t max_len, std::size_t stride, Side side) {
  const std::size_t len = e.size();
  if (max_len >= len) return;
  if (max_len == 0) {
    Encoding all = std::move(e);
    e = Encoding{};
    e.overflowing.push_back(std::move(all));
    return;
  }
  DISTILBERT_CHECK(stride < max_len, "truncation: stride (", stride,
                   ") must be smaller than the number of tokens kept per window (", max_len,
                   "; max_length minus the special tokens, split between the two texts for pairs)");
  const std::size_t step = max_len - stride;
  std::vector<std::pair<std::size_t, std::size_t>> parts;
  if (side == Side::right) {
    for (std::size_t start = 0; start < len; start += step) {
      const std::size_t stop = std::min(start + max_len, len);
      parts.emplace_back(start, stop);
      if (stop == len) break;
    }
  } else {
    // (0..len).rev().step_by(step): stop = len, len - step, ... ; each window ends at stop.
    for (std::size_t k = 0;; ++k) {
      if (k * step >= len) break;
      const std::size_t stop = len - k * step;
      const std::size_t start = stop > max_len ? stop - max_len : 0;
      parts.emplace_back(start, stop);
      if (start == 0) break;
    }
  }
  Encoding main = slice(e, parts[0].first, parts[0].second);
  for (std::size_t i = 1; i < parts.size(); ++i) main.overflowing.push_back(slice(e, parts[i].first, parts[i].second));
  e = std::move(main);
}

void merge_encodings(Encoding& self, const Encoding& pair) {
  std::vector<Encoding> overflowings;
  overflowings.reserve(self.overflowing.size() * (1 + pair.overflowing.size()) + pair.overflowing.size());
  for (const Encoding& self_o : self.overflowing) {
    Encoding n = copy_without_overflowing(self_o);
    append_tokens(n, pair);
    overflowings.push_back(std::move(n));
    for (const Encoding& other_o : pair.overflowing) {
      Encoding m = copy_without_overflowing(self_o);
      append_tokens(m, other_o);
      overflowings.push_back(std::move(m));
    }
  }
  for (const Encoding& other_o : pair.overflowing) {
    Encoding n = copy_without_overflowing(self);
    append_tokens(n, other_o);
    overflowings.push_back(std::move(n));
  }
  append_tokens(self, pair);
  self.overflowing = std::move(overflowings);
}

std::size_t padded_length(std::size_t length, const EncodeOptions& options) {
  if (options.pad_to_multiple_of && *options.pad_to_multiple_of > 0) {
    const std::size_t m = *options.pad_to_multiple_of;
    if (length % m != 0) length += m - length % m;
  }
  return length;
}

std::optional<std::size_t> padding_target(std::size_t length, const EncodeOptions& options,
                                          std::size_t model_max_length) {
  if (options.padding == Padding::longest) return padded_length(length, options);
  if (options.padding != Padding::max_length) return std::nullopt;
  const std::size_t target = options.max_length.value_or(model_max_length);
  DISTILBERT_CHECK(target < (std::size_t{1} << 40),
                   "padding max_length: no max_length was given and the tokenizer has no "
                   "model_max_length (set EncodeOptions::max_length)");
  return padded_length(target, options);
}

void pad_encoding(Encoding& e, std::size_t target, std::int64_t pad_id, std::int64_t pad_type_id,
                  const std::string& pad_token, Side side) {
  for (Encoding& o : e.overflowing) pad_encoding(o, target, pad_id, pad_type_id, pad_token, side);
  if (e.size() >= target) return;
  const std::size_t n = target - e.size();
  const bool has_types = !e.type_ids.empty() || e.ids.empty();
  auto pad = [&](auto& v, auto value) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    if (side == Side::right) {
      v.insert(v.end(), n, static_cast<T>(value));
    } else {
      v.insert(v.begin(), n, static_cast<T>(value));
    }
  };
  pad(e.ids, pad_id);
  pad(e.tokens, pad_token);
  if (has_types) pad(e.type_ids, pad_type_id);
  pad(e.attention_mask, 0);
  pad(e.special_tokens_mask, 1);
  pad(e.offsets, Offset{});
  pad(e.word_ids, -1);
  pad(e.sequence_ids, -1);
}

void clear_type_ids(Encoding& e) {
  e.type_ids.clear();
  e.type_ids.shrink_to_fit();
  for (Encoding& o : e.overflowing) clear_type_ids(o);
}

void flatten_overflowing(const Encoding& e, std::vector<Encoding>& out, std::vector<std::size_t>* sample_mapping,
                         std::size_t sample) {
  out.push_back(copy_without_overflowing(e));
  if (sample_mapping) sample_mapping->push_back(sample);
  for (const Encoding& o : e.overflowing) {
    out.push_back(copy_without_overflowing(o));
    if (sample_mapping) sample_mapping->push_back(sample);
  }
}

}  // namespace distilbert::tokenizer
