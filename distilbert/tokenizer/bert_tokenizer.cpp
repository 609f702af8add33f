#include "distilbert/tokenizer/bert_tokenizer.h"

#include <algorithm>
#include <cstring>

#include "distilbert/core/error.h"
#include "distilbert/tokenizer/batch_encode.h"

namespace distilbert::tokenizer {

using unicode::DecodedChar;

// ---- PostProcessor ---------------------------------------------------------------------------------------

PostProcessor PostProcessor::bert(const std::string& cls, std::int64_t cls_id, const std::string& sep,
                                  std::int64_t sep_id) {
  using K = TemplatePiece::Kind;
  PostProcessor p;
  p.single = {{K::special, cls, 0}, {K::sequence_a, "", 0}, {K::special, sep, 0}};
  p.pair = {{K::special, cls, 0}, {K::sequence_a, "", 0}, {K::special, sep, 0}, {K::sequence_b, "", 1}, {K::special, sep, 1}};
  p.special_tokens = {{cls, {cls_id}, {cls}}, {sep, {sep_id}, {sep}}};
  if (cls == sep) p.special_tokens.pop_back();
  return p;
}

const TemplateSpecialToken* PostProcessor::find(std::string_view id) const {
  for (const auto& t : special_tokens) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

std::size_t PostProcessor::num_added(bool pair_template) const {
  std::size_t n = 0;
  for (const TemplatePiece& p : pair_template ? pair : single) {
    if (p.kind != TemplatePiece::Kind::special) continue;
    if (const TemplateSpecialToken* t = find(p.special_id)) n += t->ids.size();
  }
  return n;
}

// ---- construction ----------------------------------------------------------------------------------------

BertTokenizer::BertTokenizer(Vocab vocab, TokenizerConfig config, std::optional<std::vector<AddedToken>> added_tokens,
                             std::optional<PostProcessor> post_processor)
    : config_(std::move(config)),
      model_(std::move(vocab),
             WordPieceOptions{config_.unk_token, config_.continuing_subword_prefix, config_.max_input_chars_per_word}),
      normalizer_(config_.normalizer, config_.flavor) {
  unk_id_ = model_.unk_id();
  const Vocab& v = model_.vocab();
  if (added_tokens) {
    added_ = std::move(*added_tokens);
  } else {
    for (const std::string* t : {&config_.pad_token, &config_.unk_token, &config_.cls_token, &config_.sep_token,
                                 &config_.mask_token}) {
      const auto id = v.find(*t);
      if (!id) continue;
      const bool dup = std::any_of(added_.begin(), added_.end(), [&](const AddedToken& a) { return a.content == *t; });
      if (!dup) added_.push_back(AddedToken{*t, *id});
    }
  }
  std::sort(added_.begin(), added_.end(), [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  for (std::size_t i = 0; i < added_.size(); ++i) {
    const AddedToken& a = added_[i];
    DISTILBERT_CHECK(!a.content.empty(), "added token with id ", a.id, ": its content is empty");
    DISTILBERT_CHECK(a.id >= 0, "added token '", a.content, "': id ", a.id, " is negative");
    if (static_cast<std::size_t>(a.id) < v.size()) {
      DISTILBERT_CHECK(v.token(a.id) == a.content, "added token '", a.content, "' has id ", a.id,
                       " but that id is the vocabulary token '", v.token(a.id), "'");
    } else if (const auto vid = v.find(a.content)) {
      fail("added token '", a.content, "' has id ", a.id, " but the vocabulary has it at id ", *vid);
    }
    DISTILBERT_CHECK(added_by_content_.emplace(a.content, i).second, "added token '", a.content, "' is listed twice");
    const auto [it, inserted] = added_by_id_.emplace(a.id, i);
    if (!inserted) fail("added tokens '", added_[it->second].content, "' and '", a.content, "' share id ", a.id);
  }

  if (post_processor) {
    post_ = std::move(*post_processor);
  } else {
    const auto cls = token_to_id(config_.cls_token);
    const auto sep = token_to_id(config_.sep_token);
    DISTILBERT_CHECK(cls.has_value(), "tokenizer: cls_token '", config_.cls_token,
                     "' is not in the vocabulary (needed by the [CLS] A [SEP] template)");
    DISTILBERT_CHECK(sep.has_value(), "tokenizer: sep_token '", config_.sep_token,
                     "' is not in the vocabulary (needed by the [CLS] A [SEP] template)");
    post_ = PostProcessor::bert(config_.cls_token, *cls, config_.sep_token, *sep);
  }
  for (const auto* tmpl : {&post_.single, &post_.pair}) {
    for (const TemplatePiece& p : *tmpl) {
      if (p.kind != TemplatePiece::Kind::special) continue;
      const TemplateSpecialToken* t = post_.find(p.special_id);
      DISTILBERT_CHECK(t != nullptr, "post_processor: the template uses special token '", p.special_id,
                       "' which is missing from post_processor.special_tokens");
      DISTILBERT_CHECK(t->ids.size() == t->tokens.size() && !t->ids.empty(), "post_processor.special_tokens['", t->id,
                       "']: 'ids' and 'tokens' must be non-empty and of the same length (found ", t->ids.size(),
                       " and ", t->tokens.size(), ")");
    }
  }
  build_matchers();
}

void BertTokenizer::build_matchers() {
  raw_matcher_ = Matcher{};
  normalized_matcher_ = Matcher{};
  added_text_.clear();
  for (std::size_t i = 0; i < added_.size(); ++i) {
    const AddedToken& a = added_[i];
    NormalizedText chars, scratch;
    unicode::decode_utf8(a.content, chars);
    Matcher* m = &raw_matcher_;
    if (a.normalized) {
      m = &normalized_matcher_;
      if (config_.has_normalizer) normalizer_.normalize(chars, scratch);
    }
    std::u32string pattern;
    std::string text;
    for (const DecodedChar& c : chars) {
      pattern.push_back(c.cp);
      unicode::append_utf8(c.cp, text);
    }
    added_text_.push_back(a.normalized ? text : a.content);
    if (chars.empty()) continue;
    m->patterns.push_back(std::move(pattern));
    m->token_index.push_back(i);
  }
  for (Matcher* m : {&raw_matcher_, &normalized_matcher_}) {
    for (const auto& p : m->patterns) m->first_chars.push_back(p[0]);
    std::sort(m->first_chars.begin(), m->first_chars.end());
    m->first_chars.erase(std::unique(m->first_chars.begin(), m->first_chars.end()), m->first_chars.end());
    m->ascii_first[0] = m->ascii_first[1] = 0;
    for (const char32_t c : m->first_chars) {
      if (c < 128) m->ascii_first[c >> 6] |= std::uint64_t{1} << (c & 63);
    }
    m->single_ascii_first = m->first_chars.size() == 1 && m->first_chars[0] < 128 ? static_cast<int>(m->first_chars[0]) : -1;
  }
}

// ---- encoding --------------------------------------------------------------------------------------------

struct BertTokenizer::Scratch {
  NormalizedText original;
  NormalizedText work;
  NormalizedText tmp;
  std::vector<std::pair<std::pair<std::uint32_t, std::uint32_t>, std::int64_t>> raw_splits;
  std::vector<std::pair<std::pair<std::uint32_t, std::uint32_t>, std::int64_t>> norm_splits;
  std::vector<WordSpan> words;
  std::vector<WordPiecePiece> pieces;
  std::string wordpiece;
};

void BertTokenizer::find_added(const NormalizedText& text, std::uint32_t begin, std::uint32_t end,
                               const Matcher& matcher,
                               std::vector<std::pair<std::pair<std::uint32_t, std::uint32_t>, std::int64_t>>& splits) const {
  splits.clear();
  if (matcher.empty() || begin == end) {
    splits.push_back({{begin, end}, -1});
    return;
  }
  std::uint32_t start_offset = begin;
  std::uint32_t pos = begin;
  while (pos < end) {
    const char32_t c = text[pos].cp;
    if (!matcher.may_start(c)) {
      ++pos;
      continue;
    }
    std::size_t best = matcher.patterns.size();
    std::size_t best_len = 0;
    for (std::size_t k = 0; k < matcher.patterns.size(); ++k) {
      const std::u32string& p = matcher.patterns[k];
      if (p.size() <= best_len || p.size() > end - pos || p[0] != c) continue;
      bool equal = true;
      for (std::size_t q = 1; q < p.size(); ++q) {
        if (text[pos + q].cp != p[q]) {
          equal = false;
          break;
        }
      }
      if (equal) {
        best = k;
        best_len = p.size();
      }
    }
    if (best == matcher.patterns.size()) {
      ++pos;
      continue;
    }
    std::uint32_t mstart = pos;
    std::uint32_t mstop = pos + static_cast<std::uint32_t>(best_len);
    pos = mstop;  // the search resumes after the raw match, as Aho-Corasick's find_iter does
    const std::size_t index = matcher.token_index[best];
    const AddedToken& tok = added_[index];
    if (tok.single_word) {
      const bool start_space = mstart == begin || !unicode::is_word_char(text[mstart - 1].cp);
      const bool stop_space = mstop == end || !unicode::is_word_char(text[mstop].cp);
      if (!start_space || !stop_space) continue;
    }
    if (tok.lstrip) {
      std::uint32_t s = mstart;
      while (s > begin && unicode::is_whitespace_fast(text[s - 1].cp)) --s;
      mstart = std::max(s, start_offset);
    }
    if (tok.rstrip) {
      while (mstop < end && unicode::is_whitespace_fast(text[mstop].cp)) ++mstop;
    }
    if (mstart < start_offset) continue;  // would overlap the previous (rstripped) match
    if (start_offset < mstart) splits.push_back({{start_offset, mstart}, -1});
    splits.push_back({{mstart, mstop}, static_cast<std::int64_t>(index)});
    start_offset = mstop;
  }
  if (start_offset != end) splits.push_back({{start_offset, end}, -1});
}

void BertTokenizer::encode_sequence(std::string_view text, std::int64_t sequence_id, Scratch& s, Encoding& e) const {
  s.original.clear();
  unicode::decode_utf8(text, s.original);
  const auto n = static_cast<std::uint32_t>(s.original.size());
  e.ids.reserve(n / 3 + 4);
  e.tokens.reserve(n / 3 + 4);
  e.offsets.reserve(n / 3 + 4);
  e.word_ids.reserve(n / 3 + 4);
  std::int64_t word = 0;
  auto emit = [&](std::int64_t id, std::string token, Offset offset, std::int64_t word_id) {
    e.ids.push_back(id);
    e.tokens.push_back(std::move(token));
    e.offsets.push_back(offset);
    e.word_ids.push_back(word_id);
  };
  const Vocab& vocab = model_.vocab();
  const std::string& prefix = model_.options().continuing_subword_prefix;

  // Added tokens all starting with one ASCII char ("[CLS]", "[SEP]", ...): when that byte is nowhere in the
  // text (an ASCII byte always decodes to itself), there is no match and no need to scan the chars.
  if (raw_matcher_.single_ascii_first >= 0 &&
      (text.empty() || std::memchr(text.data(), raw_matcher_.single_ascii_first, text.size()) == nullptr)) {
    s.raw_splits.clear();
    s.raw_splits.push_back({{0, n}, -1});
  } else {
    find_added(s.original, 0, n, raw_matcher_, s.raw_splits);
  }
  for (const auto& [range, added_index] : s.raw_splits) {
    const auto [b, en] = range;
    if (b == en) continue;
    if (added_index >= 0) {
      const AddedToken& tok = added_[static_cast<std::size_t>(added_index)];
      const std::size_t ob = s.original[b].begin, oe = s.original[en - 1].end;
      emit(tok.id, std::string(text.substr(ob, oe - ob)), {ob, oe}, word++);
      continue;
    }
    if (s.raw_splits.size() == 1) {
      s.work.swap(s.original);  // the whole text is one split (no added token): no copy; original is unused now
    } else {
      s.work.assign(s.original.begin() + b, s.original.begin() + en);
    }
    if (config_.has_normalizer) normalizer_.normalize(s.work, s.tmp);
    if (s.work.empty()) continue;
    const auto wn = static_cast<std::uint32_t>(s.work.size());
    find_added(s.work, 0, wn, normalized_matcher_, s.norm_splits);
    for (const auto& [sub, sub_index] : s.norm_splits) {
      const auto [sb, se] = sub;
      if (sb == se) continue;
      if (sub_index >= 0) {
        const AddedToken& tok = added_[static_cast<std::size_t>(sub_index)];
        std::string content;
        for (std::uint32_t i = sb; i < se; ++i) unicode::append_utf8(s.work[i].cp, content);
        emit(tok.id, std::move(content), {s.work[sb].begin, s.work[se - 1].end}, word++);
        continue;
      }
      s.words.clear();
      bert_pre_tokenize(s.work, sb, se, config_.flavor, s.words);
      for (const WordSpan& w : s.words) {
        s.pieces.clear();
        model_.tokenize_word(s.work, w, s.pieces, s.wordpiece);
        for (const WordPiecePiece& p : s.pieces) {
          // The token text is the matched bytes (after the prefix for a continuation piece): no read of
          // the vocabulary's strings.
          e.ids.push_back(p.id);
          if (p.byte_end == 0) {
            e.tokens.push_back(vocab.token(p.id));
          } else if (p.begin == w.begin) {
            e.tokens.emplace_back(s.wordpiece.data() + p.byte_begin, p.byte_end - p.byte_begin);
          } else {
            std::string& t = e.tokens.emplace_back();
            t.reserve(prefix.size() + (p.byte_end - p.byte_begin));
            t.append(prefix).append(s.wordpiece.data() + p.byte_begin, p.byte_end - p.byte_begin);
          }
          e.offsets.push_back({s.work[p.begin].begin, s.work[p.end - 1].end});
          e.word_ids.push_back(word);
        }
        ++word;
      }
    }
  }
  const std::size_t count = e.ids.size();
  e.type_ids.assign(count, sequence_id);
  e.attention_mask.assign(count, 1);
  e.special_tokens_mask.assign(count, 0);
  e.sequence_ids.assign(count, sequence_id);
}

namespace {

void set_type_ids(Encoding& e, std::int64_t type_id) {
  std::fill(e.type_ids.begin(), e.type_ids.end(), type_id);
  for (Encoding& o : e.overflowing) set_type_ids(o, type_id);
}

void clear_encoding(Encoding& e) {
  e.ids.clear();
  e.tokens.clear();
  e.type_ids.clear();
  e.attention_mask.clear();
  e.special_tokens_mask.clear();
  e.offsets.clear();
  e.word_ids.clear();
  e.sequence_ids.clear();
  e.overflowing.clear();
}

void to_char_offsets(Encoding& e, const std::vector<std::uint32_t>& map_a, const std::vector<std::uint32_t>* map_b) {
  for (std::size_t i = 0; i < e.size(); ++i) {
    const std::int64_t seq = e.sequence_ids[i];
    const std::vector<std::uint32_t>* map = seq == 0 ? &map_a : seq == 1 ? map_b : nullptr;
    if (!map) continue;
    Offset& o = e.offsets[i];
    o.begin = (*map)[o.begin];
    o.end = (*map)[o.end];
  }
  for (Encoding& o : e.overflowing) to_char_offsets(o, map_a, map_b);
}

}  // namespace

Encoding BertTokenizer::encode_one(std::string_view text, std::optional<std::string_view> pair,
                                   const EncodeOptions& options, bool pad) const {
  // Per-thread work buffers: the per-sequence encodings keep their capacity from one call to the next.
  thread_local Scratch scratch;
  thread_local Encoding a_buf, b_buf;
  Encoding& a = a_buf;
  clear_encoding(a);
  encode_sequence(text, 0, scratch, a);
  Encoding* b = nullptr;
  if (pair) {
    clear_encoding(b_buf);
    encode_sequence(*pair, 1, scratch, b_buf);
    b = &b_buf;
  }
  const bool is_pair = b != nullptr;

  if (options.truncation != Truncation::none) {
    const std::size_t max_len = options.max_length.value_or(config_.model_max_length);
    const std::size_t n_added = options.add_special_tokens ? post_.num_added(is_pair) : 0;
    DISTILBERT_CHECK(max_len >= n_added, "truncation: max_length ", max_len, " is smaller than the ", n_added,
                     " special tokens the template adds", is_pair ? " to a pair" : "");
    const auto [na, nb] = truncation_lengths(a.size(), is_pair ? std::optional<std::size_t>(b->size()) : std::nullopt,
                                             max_len - n_added, options.truncation,
                                             options.truncation_rule.value_or(config_.flavor));
    truncate_encoding(a, na, options.stride, options.truncation_side);
    if (b) truncate_encoding(*b, nb, options.stride, options.truncation_side);
  }

  Encoding out;
  const auto& tmpl = is_pair ? post_.pair : post_.single;
  const bool has_overflow = !a.overflowing.empty() || (b && !b->overflowing.empty());
  if (!has_overflow) {
    // No overflowing windows: build the result in one pass, without temporary encodings.
    std::size_t total = 0;
    for (const TemplatePiece& piece : tmpl) {
      if (piece.kind == TemplatePiece::Kind::special) {
        if (options.add_special_tokens) total += post_.find(piece.special_id)->ids.size();
      } else {
        const Encoding* seq = piece.kind == TemplatePiece::Kind::sequence_a ? &a : b;
        if (seq) total += seq->size();
      }
    }
    out.ids.reserve(total);
    out.tokens.reserve(total);
    out.type_ids.reserve(total);
    out.attention_mask.reserve(total);
    out.special_tokens_mask.reserve(total);
    out.offsets.reserve(total);
    out.word_ids.reserve(total);
    out.sequence_ids.reserve(total);
    for (const TemplatePiece& piece : tmpl) {
      if (piece.kind == TemplatePiece::Kind::special) {
        if (!options.add_special_tokens) continue;
        const TemplateSpecialToken* t = post_.find(piece.special_id);
        const std::size_t len = t->ids.size();
        out.ids.insert(out.ids.end(), t->ids.begin(), t->ids.end());
        out.tokens.insert(out.tokens.end(), t->tokens.begin(), t->tokens.end());
        out.type_ids.insert(out.type_ids.end(), len, piece.type_id);
        out.attention_mask.insert(out.attention_mask.end(), len, 1);
        out.special_tokens_mask.insert(out.special_tokens_mask.end(), len, 1);
        out.offsets.insert(out.offsets.end(), len, Offset{});
        out.word_ids.insert(out.word_ids.end(), len, -1);
        out.sequence_ids.insert(out.sequence_ids.end(), len, -1);
      } else {
        Encoding* seq = piece.kind == TemplatePiece::Kind::sequence_a ? &a : b;
        if (!seq) continue;
        const std::size_t len = seq->size();
        out.ids.insert(out.ids.end(), seq->ids.begin(), seq->ids.end());
        out.tokens.insert(out.tokens.end(), std::make_move_iterator(seq->tokens.begin()),
                          std::make_move_iterator(seq->tokens.end()));
        out.type_ids.insert(out.type_ids.end(), len, piece.type_id);
        out.attention_mask.insert(out.attention_mask.end(), seq->attention_mask.begin(), seq->attention_mask.end());
        out.special_tokens_mask.insert(out.special_tokens_mask.end(), seq->special_tokens_mask.begin(),
                                       seq->special_tokens_mask.end());
        out.offsets.insert(out.offsets.end(), seq->offsets.begin(), seq->offsets.end());
        out.word_ids.insert(out.word_ids.end(), seq->word_ids.begin(), seq->word_ids.end());
        out.sequence_ids.insert(out.sequence_ids.end(), seq->sequence_ids.begin(), seq->sequence_ids.end());
      }
    }
  }
  // With overflowing windows: Hugging Face's Encoding::merge, piece by piece.
  for (std::size_t k = 0; has_overflow && k < tmpl.size(); ++k) {
    const TemplatePiece& piece = tmpl[k];
    if (piece.kind == TemplatePiece::Kind::special) {
      if (!options.add_special_tokens) continue;
      const TemplateSpecialToken* t = post_.find(piece.special_id);
      Encoding sp;
      const std::size_t len = t->ids.size();
      sp.ids = t->ids;
      sp.tokens = t->tokens;
      sp.type_ids.assign(len, piece.type_id);
      sp.attention_mask.assign(len, 1);
      sp.special_tokens_mask.assign(len, 1);
      sp.offsets.assign(len, Offset{});
      sp.word_ids.assign(len, -1);
      sp.sequence_ids.assign(len, -1);
      merge_encodings(out, sp);
    } else {
      Encoding* seq = piece.kind == TemplatePiece::Kind::sequence_a ? &a : b;
      if (!seq) continue;
      set_type_ids(*seq, piece.type_id);
      merge_encodings(out, *seq);
    }
  }
  if (!options.return_overflowing_tokens) out.overflowing.clear();

  if (options.offsets == OffsetUnit::chars) {
    const auto map_a = unicode::byte_to_char_index(text);
    std::vector<std::uint32_t> map_b;
    if (pair) map_b = unicode::byte_to_char_index(*pair);
    to_char_offsets(out, map_a, pair ? &map_b : nullptr);
  }
  if (pad) {
    if (const auto target = padding_target(out.size(), options, config_.model_max_length))
      pad_one(out, *target, options);
  }
  if (!options.return_token_type_ids.value_or(config_.returns_token_type_ids())) clear_type_ids(out);
  return out;
}

void BertTokenizer::pad_one(Encoding& e, std::size_t target, const EncodeOptions& options) const {
  const auto pad = pad_id();
  DISTILBERT_CHECK(pad.has_value(), "padding: the pad token '", config_.pad_token, "' is not in the vocabulary");
  pad_encoding(e, target, *pad, 0, config_.pad_token, options.padding_side);
}

Encoding BertTokenizer::encode(std::string_view text, std::optional<std::string_view> pair,
                               const EncodeOptions& options) const {
  return encode_one(text, pair, options, true);
}

std::vector<Encoding> BertTokenizer::encode_batch(const std::vector<TextInput>& inputs, const EncodeOptions& options,
                                                  ThreadPool* pool) const {
  return batch_encode(
      inputs.size(), options, pool ? *pool : ThreadPool::shared(),
      [&](std::size_t i, const EncodeOptions& o, bool pad_each) {
        return encode_one(inputs[i].text, inputs[i].pair, o, pad_each);
      },
      [&](Encoding& e, std::size_t target) { pad_one(e, target, options); }, config_.returns_token_type_ids());
}

std::vector<Encoding> BertTokenizer::encode_batch(const std::vector<std::string>& texts, const EncodeOptions& options,
                                                  ThreadPool* pool) const {
  std::vector<TextInput> inputs;
  inputs.reserve(texts.size());
  for (const std::string& t : texts) inputs.push_back({t, std::nullopt});
  return encode_batch(inputs, options, pool);
}

std::vector<Encoding> BertTokenizer::encode_batch(const std::vector<TextInput>& inputs, const EncodeOptions& options,
                                                  std::size_t num_threads) const {
  ThreadPool pool(num_threads);
  return encode_batch(inputs, options, &pool);
}

std::vector<std::string> BertTokenizer::tokenize(std::string_view text) const {
  EncodeOptions options;
  options.add_special_tokens = false;
  return encode(text, std::nullopt, options).tokens;
}

// ---- decoding --------------------------------------------------------------------------------------------

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (s.size() < from.size()) return;
  std::size_t pos = s.find(from);
  if (pos == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  std::size_t last = 0;
  while (pos != std::string::npos) {
    out.append(s, last, pos - last);
    out.append(to);
    last = pos + from.size();
    pos = s.find(from, last);
  }
  out.append(s, last, std::string::npos);
  s.swap(out);
}

// tokenizers/src/decoders/wordpiece.rs cleanup(), applied to each decoded token.
void rust_cleanup(std::string& s) {
  replace_all(s, " .", ".");
  replace_all(s, " ?", "?");
  replace_all(s, " !", "!");
  replace_all(s, " ,", ",");
  replace_all(s, " ' ", "'");
  replace_all(s, " n't", "n't");
  replace_all(s, " 'm", "'m");
  replace_all(s, " do not", " don't");
  replace_all(s, " 's", "'s");
  replace_all(s, " 've", "'ve");
  replace_all(s, " 're", "'re");
}

std::string strip_ascii_space(const std::string& s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  std::size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace

std::string clean_up_tokenization(std::string text) {
  replace_all(text, " .", ".");
  replace_all(text, " ?", "?");
  replace_all(text, " !", "!");
  replace_all(text, " ,", ",");
  replace_all(text, " ' ", "'");
  replace_all(text, " n't", "n't");
  replace_all(text, " 'm", "'m");
  replace_all(text, " 's", "'s");
  replace_all(text, " 've", "'ve");
  replace_all(text, " 're", "'re");
  return text;
}

std::string BertTokenizer::decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens,
                                  std::optional<bool> clean_up_tokenization_spaces) const {
  const Vocab& vocab = model_.vocab();
  std::vector<std::pair<const std::string*, bool>> tokens;  // token, is an added token
  tokens.reserve(ids.size());
  for (const std::int64_t id : ids) {
    const auto it = added_by_id_.find(id);
    if (it != added_by_id_.end()) {
      const AddedToken& a = added_[it->second];
      if (skip_special_tokens && a.special) continue;
      tokens.emplace_back(&added_text_[it->second], true);
    } else if (id >= 0 && static_cast<std::size_t>(id) < vocab.size()) {
      tokens.emplace_back(&vocab.token(id), false);
    }
  }
  const bool cleanup = clean_up_tokenization_spaces.value_or(config_.clean_up_tokenization_spaces);
  const std::string& prefix = config_.continuing_subword_prefix;
  std::string out;
  if (config_.flavor == Flavor::fast) {
    if (!config_.has_decoder) {
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (i) out.push_back(' ');
        out += *tokens[i].first;
      }
    } else {
      std::string piece;
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        const std::string& t = *tokens[i].first;
        if (i == 0) {
          piece = t;
        } else if (!prefix.empty() && t.compare(0, prefix.size(), prefix) == 0) {
          piece.assign(t, prefix.size(), std::string::npos);
        } else {
          piece = " ";
          piece += t;
        }
        if (config_.decoder_cleanup) rust_cleanup(piece);
        out += piece;
      }
    }
  } else {
    // transformers PreTrainedTokenizer._decode + BertTokenizer.convert_tokens_to_string.
    std::vector<std::string> sub_texts;
    std::vector<const std::string*> current;
    auto flush = [&] {
      if (current.empty()) return;
      std::string joined;
      for (std::size_t i = 0; i < current.size(); ++i) {
        if (i) joined.push_back(' ');
        joined += *current[i];
      }
      replace_all(joined, " " + prefix, "");
      joined = strip_ascii_space(joined);
      if (!joined.empty()) sub_texts.push_back(std::move(joined));
      current.clear();
    };
    for (const auto& [t, is_added] : tokens) {
      if (is_added) {
        flush();
        sub_texts.push_back(*t);
      } else {
        current.push_back(t);
      }
    }
    flush();
    for (std::size_t i = 0; i < sub_texts.size(); ++i) {
      if (i) out.push_back(' ');
      out += sub_texts[i];
    }
  }
  if (cleanup) out = clean_up_tokenization(std::move(out));
  return out;
}

std::vector<std::string> BertTokenizer::decode_batch(const std::vector<std::vector<std::int64_t>>& batch,
                                                     bool skip_special_tokens,
                                                     std::optional<bool> clean_up_tokenization_spaces) const {
  std::vector<std::string> out;
  out.reserve(batch.size());
  for (const auto& ids : batch) out.push_back(decode(ids, skip_special_tokens, clean_up_tokenization_spaces));
  return out;
}

// ---- vocabulary ------------------------------------------------------------------------------------------

std::optional<std::int64_t> BertTokenizer::token_to_id(std::string_view token) const {
  if (!added_by_content_.empty()) {
    const auto it = added_by_content_.find(std::string(token));
    if (it != added_by_content_.end()) return added_[it->second].id;
  }
  if (const auto id = model_.vocab().find(token)) return *id;
  return std::nullopt;
}

std::optional<std::string> BertTokenizer::id_to_token(std::int64_t id) const {
  const auto it = added_by_id_.find(id);
  if (it != added_by_id_.end()) return added_text_[it->second];
  if (id >= 0 && static_cast<std::size_t>(id) < model_.vocab().size()) return model_.vocab().token(id);
  return std::nullopt;
}

std::size_t BertTokenizer::vocab_size() const {
  std::size_t n = model_.vocab().size();
  for (const AddedToken& a : added_) {
    if (static_cast<std::size_t>(a.id) >= model_.vocab().size()) ++n;
  }
  return n;
}

}  // namespace distilbert::tokenizer
