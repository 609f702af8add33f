#include "distilbert/tokenizer/sentencepiece_tokenizer.h"
#include "distilbert/tokenizer/protobuf_wire.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_set>

#include "distilbert/core/error.h"
#include "distilbert/core/safe_path.h"
#include "distilbert/tokenizer/batch_encode.h"
#include "distilbert/tokenizer/bert_tokenizer.h"  // clean_up_tokenization
#include "distilbert/tokenizer/config_json.h"
#include "distilbert/tokenizer/sentencepiece_runtime.h"
#include "distilbert/tokenizer/unicode.h"
#include "distilbert/core/json_error.h"

namespace distilbert::tokenizer {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

namespace {

constexpr const char* kModelFileName = "spiece.model";
constexpr const char* kModelKey = "sentencepiece_model";  // tokenizer_config.json key naming the model file
constexpr std::string_view kSpace = "\xE2\x96\x81";       // U+2581, sentencepiece's whitespace mark

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  DISTILBERT_CHECK(out.good(), "save_pretrained: cannot write ", path.string());
  out << bytes;
  out.close();
  DISTILBERT_CHECK(out.good(), "save_pretrained: error while writing ", path.string());
}

json parse_config(const fs::path& path) {
  const std::string text = read_tokenizer_file(path, "tokenizer config");
  json cfg;
  try {
    cfg = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e99999
    fail(path.string(), ": invalid JSON (", json_error_text(e), ")");
  }
  DISTILBERT_CHECK(cfg.is_object(), path.string(), ": expected a JSON object at the top level, found ",
                   cfg.type_name());
  return cfg;
}

void apply_config(const json& cfg, const std::string& source, SentencePieceConfig& config) {
  if (auto t = special_token_content(cfg, "unk_token", source)) config.unk_token = *t;
  if (auto t = special_token_content(cfg, "sep_token", source)) config.sep_token = *t;
  if (auto t = special_token_content(cfg, "pad_token", source)) config.pad_token = *t;
  if (auto t = special_token_content(cfg, "cls_token", source)) config.cls_token = *t;
  if (auto t = special_token_content(cfg, "mask_token", source)) config.mask_token = *t;
  if (const auto it = cfg.find("model_max_length"); it != cfg.end() && !it->is_null()) {
    DISTILBERT_CHECK(it->is_number() && it->get<double>() >= 0, source,
                     ": key model_max_length must be a non-negative number, found ", it->dump());
    const double d = it->get<double>();
    config.model_max_length = d >= 1.8e19 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(d);
  }
  if (const auto it = cfg.find("clean_up_tokenization_spaces"); it != cfg.end() && !it->is_null()) {
    DISTILBERT_CHECK(it->is_boolean(), source, ": key clean_up_tokenization_spaces must be true or false, found ",
                     it->dump());
    config.clean_up_tokenization_spaces = it->get<bool>();
  }
  if (const auto it = cfg.find("model_input_names"); it != cfg.end() && !it->is_null()) {
    DISTILBERT_CHECK(it->is_array(), source, ": key model_input_names must be a list of strings, found ", it->dump());
    config.returns_token_type_ids = false;
    for (const json& v : *it) {
      DISTILBERT_CHECK(v.is_string(), source, ": key model_input_names must be a list of strings, found ", it->dump());
      if (v.get<std::string>() == "token_type_ids") config.returns_token_type_ids = true;
    }
  }
}

/// ModelProto.trainer_spec (field 2) .model_type (field 3): UNIGRAM=1 (default), BPE=2, WORD=3, CHAR=4.
std::string read_model_type(std::string_view model) {
  std::uint64_t type = 1;
  protobuf_wire::for_each_field(model, [&](const protobuf_wire::Field& spec) {
    if (spec.number != 2 || spec.wire != 2) return;
    protobuf_wire::for_each_field(spec.bytes, [&](const protobuf_wire::Field& f) {
      if (f.number == 3 && f.wire == 0) type = f.value;
    });
  });
  switch (type) {
    case 2: return "bpe";
    case 3: return "word";
    case 4: return "char";
    default: return "unigram";
  }
}

template <typename Fn>
void for_each_encoding(Encoding& e, Fn&& fn) {
  fn(e);
  for (Encoding& o : e.overflowing) for_each_encoding(o, fn);
}

}  // namespace

// ---- construction -----------------------------------------------------------------------------------------

struct SentencePieceTokenizer::Impl {
  std::unique_ptr<spm::Processor> sp;
  std::string bytes;
  std::string source;
  std::string model_type;
  SentencePieceConfig config;
  SpecialTokenIds specials;
  std::unordered_set<std::int64_t> special_set;  // the five specials that exist + control pieces
  int size = 0;

  std::optional<std::int64_t> find(std::string_view piece) const {
    if (piece.empty()) return std::nullopt;
    const int id = sp->piece_to_id(piece);  // unknown pieces give the unk id
    if (id < 0 || id >= size || sp->id_to_piece(id) != piece) return std::nullopt;
    return id;
  }
};

SentencePieceTokenizer::SentencePieceTokenizer(std::string model_bytes, SentencePieceConfig config, std::string source) {
  auto impl = std::make_shared<Impl>();
  impl->bytes = std::move(model_bytes);
  impl->source = std::move(source);
  impl->sp = std::make_unique<spm::Processor>(impl->bytes, impl->source);
  impl->size = impl->sp->size();
  impl->model_type = read_model_type(impl->bytes);

  auto& s = impl->specials;
  if (const auto unk = impl->find(config.unk_token)) {
    s.unk = *unk;
  } else {
    // Every sentencepiece model has an unknown piece; use it when the configured name is not a piece.
    s.unk = impl->sp->unk_id();
    config.unk_token = impl->sp->id_to_piece(impl->sp->unk_id());
  }
  auto require = [&](const std::string& token, const char* key) {
    const auto id = impl->find(token);
    DISTILBERT_CHECK(
        id.has_value(), impl->source, ": the ", key, " '", token, "' is not one of the model's ", impl->size,
        " pieces, and the [CLS] A [SEP] template needs it. Train the model with `distilbert train-tokenizer "
        "--type unigram|bpe` (which adds [PAD] [UNK] [CLS] [SEP] [MASK]), pass the specials to spm_train with "
        "--user_defined_symbols, or name the model's own pieces in tokenizer_config.json (\"",
        key, "\": \"...\")");
    return *id;
  };
  s.cls = require(config.cls_token, "cls_token");
  s.sep = require(config.sep_token, "sep_token");
  if (const auto pad = impl->find(config.pad_token)) {
    s.pad = *pad;
  } else if (impl->sp->pad_id() >= 0 && impl->sp->pad_id() < impl->size) {
    s.pad = impl->sp->pad_id();
    config.pad_token = impl->sp->id_to_piece(impl->sp->pad_id());
  }
  if (const auto mask = impl->find(config.mask_token)) s.mask = *mask;
  for (const std::int64_t id : {s.pad, s.unk, s.cls, s.sep, s.mask}) {
    if (id >= 0) impl->special_set.insert(id);
  }
  for (int id = 0; id < impl->size; ++id) {
    if (impl->sp->is_control(id)) impl->special_set.insert(id);
  }
  impl->config = std::move(config);
  impl_ = std::move(impl);
}

SentencePieceTokenizer SentencePieceTokenizer::from_file(const fs::path& model,
                                                         const std::optional<fs::path>& tokenizer_config_json) {
  DISTILBERT_CHECK(fs::is_regular_file(model), "sentencepiece model ", model.string(), ": not found");
  SentencePieceConfig config;
  if (tokenizer_config_json) apply_config(parse_config(*tokenizer_config_json), tokenizer_config_json->string(), config);
  return SentencePieceTokenizer(read_tokenizer_file(model, "sentencepiece model"), config, model.string());
}

std::optional<fs::path> SentencePieceTokenizer::find_model_file(const fs::path& dir) {
  const fs::path cfg = dir / "tokenizer_config.json";
  if (fs::is_regular_file(cfg)) {
    const json j = parse_config(cfg);
    if (const auto it = j.find(kModelKey); it != j.end() && !it->is_null()) {
      DISTILBERT_CHECK(it->is_string() && !it->get<std::string>().empty(), cfg.string(), ": key ", kModelKey,
                       " must name the model file, found ", it->dump());
      const fs::path p = child_path(dir, it->get<std::string>(), str_cat(cfg.string(), ": key ", kModelKey));
      DISTILBERT_CHECK(fs::is_regular_file(p), cfg.string(), ": ", kModelKey, " names '", it->get<std::string>(),
                       "' but ", p.string(), " does not exist");
      return p;
    }
  }
  if (fs::is_regular_file(dir / kModelFileName)) return dir / kModelFileName;
  return std::nullopt;
}

SentencePieceTokenizer SentencePieceTokenizer::from_pretrained(const fs::path& dir) {
  DISTILBERT_CHECK(fs::is_directory(dir), "tokenizer folder ", dir.string(), ": not a directory");
  const auto model = find_model_file(dir);
  DISTILBERT_CHECK(model.has_value(), "tokenizer folder ", dir.string(), ": no ", kModelFileName,
                   " (sentencepiece model)");
  std::optional<fs::path> cfg;
  if (fs::is_regular_file(dir / "tokenizer_config.json")) cfg = dir / "tokenizer_config.json";
  return from_file(*model, cfg);
}

void SentencePieceTokenizer::save_pretrained(const fs::path& dir) const {
  std::error_code ec;
  fs::create_directories(dir, ec);
  DISTILBERT_CHECK(!ec && fs::is_directory(dir), "save_pretrained: cannot create folder ", dir.string(),
                   ec ? " (" + ec.message() + ")" : std::string());
  write_file(dir / kModelFileName, impl_->bytes);
  const SentencePieceConfig& c = impl_->config;
  const SpecialTokenIds& s = impl_->specials;
  ordered_json cfg;
  // transformers loads spiece.model + [CLS] A [SEP] (B [SEP]) as an AlbertTokenizer. The model normalises
  // the text itself, so the Python-side lowercasing / accent stripping is turned off.
  cfg["tokenizer_class"] = "AlbertTokenizer";
  cfg[kModelKey] = kModelFileName;
  cfg["sentencepiece_model_type"] = impl_->model_type;
  cfg["do_lower_case"] = false;
  cfg["keep_accents"] = true;
  cfg["remove_space"] = true;
  cfg["model_max_length"] = c.model_max_length;
  cfg["clean_up_tokenization_spaces"] = c.clean_up_tokenization_spaces;
  ordered_json specials_map;
  auto put = [&](const char* key, const std::string& token, std::int64_t id) {
    if (id < 0) return;
    cfg[key] = token;
    specials_map[key] = token;
  };
  put("bos_token", c.cls_token, s.cls);
  put("eos_token", c.sep_token, s.sep);
  put("unk_token", c.unk_token, s.unk);
  put("sep_token", c.sep_token, s.sep);
  put("pad_token", c.pad_token, s.pad);
  put("cls_token", c.cls_token, s.cls);
  put("mask_token", c.mask_token, s.mask);
  if (!c.returns_token_type_ids) cfg["model_input_names"] = ordered_json::array({"input_ids", "attention_mask"});
  write_file(dir / "tokenizer_config.json", cfg.dump(2));
  write_file(dir / "special_tokens_map.json", specials_map.dump(2));
}

// ---- encoding ---------------------------------------------------------------------------------------------

Encoding SentencePieceTokenizer::encode_sequence(std::string_view text, std::int64_t sequence_id) const {
  const Impl& m = *impl_;
  thread_local std::vector<spm::EncodedPiece> pieces;
  m.sp->encode(text, pieces);
  const std::size_t n = pieces.size();
  Encoding e;
  e.ids.reserve(n);
  e.tokens.reserve(n);
  e.offsets.reserve(n);
  e.word_ids.reserve(n);
  std::int64_t word = -1;
  bool prev_special = false;
  for (spm::EncodedPiece& piece : pieces) {
    const std::int64_t id = piece.id;
    const bool special = m.special_set.count(id) != 0 && id != m.specials.unk;
    if (word < 0 || special || prev_special || piece.piece.compare(0, kSpace.size(), kSpace) == 0) ++word;
    prev_special = special;
    e.ids.push_back(id);
    e.tokens.push_back(std::move(piece.piece));
    e.offsets.push_back(Offset{piece.begin, piece.end});
    e.word_ids.push_back(word);
  }
  e.type_ids.assign(n, sequence_id);
  e.attention_mask.assign(n, 1);
  e.special_tokens_mask.assign(n, 0);
  e.sequence_ids.assign(n, sequence_id);
  return e;
}

Encoding SentencePieceTokenizer::encode_one(std::string_view text, std::optional<std::string_view> pair,
                                            const EncodeOptions& options, bool pad) const {
  const Impl& m = *impl_;
  Encoding a = encode_sequence(text, 0);
  std::optional<Encoding> b;
  if (pair) b = encode_sequence(*pair, 1);
  const bool is_pair = b.has_value();

  if (options.truncation != Truncation::none) {
    const std::size_t max_len = options.max_length.value_or(m.config.model_max_length);
    const std::size_t n_added = options.add_special_tokens ? num_special_tokens_to_add(is_pair) : 0;
    DISTILBERT_CHECK(max_len >= n_added, "truncation: max_length ", max_len, " is smaller than the ", n_added,
                     " special tokens the template adds", is_pair ? " to a pair" : "");
    const auto [na, nb] = truncation_lengths(a.size(), is_pair ? std::optional<std::size_t>(b->size()) : std::nullopt,
                                             max_len - n_added, options.truncation,
                                             options.truncation_rule.value_or(Flavor::fast));
    truncate_encoding(a, na, options.stride, options.truncation_side);
    if (b) truncate_encoding(*b, nb, options.stride, options.truncation_side);
  }

  // Template [CLS]:0 $A:0 [SEP]:0 ($B:1 [SEP]:1), assembled with Hugging Face's merge rules so that
  // overflowing windows combine the same way as in BertTokenizer.
  auto special = [&](std::int64_t id, const std::string& token, std::int64_t type_id) {
    Encoding sp;
    sp.ids = {id};
    sp.tokens = {token};
    sp.type_ids = {type_id};
    sp.attention_mask = {1};
    sp.special_tokens_mask = {1};
    sp.offsets = {Offset{}};
    sp.word_ids = {-1};
    sp.sequence_ids = {-1};
    return sp;
  };
  Encoding out;
  const bool add = options.add_special_tokens;
  if (add) merge_encodings(out, special(m.specials.cls, m.config.cls_token, 0));
  merge_encodings(out, a);
  if (add) merge_encodings(out, special(m.specials.sep, m.config.sep_token, 0));
  if (b) {
    for_each_encoding(*b, [](Encoding& e) { std::fill(e.type_ids.begin(), e.type_ids.end(), 1); });
    merge_encodings(out, *b);
    if (add) merge_encodings(out, special(m.specials.sep, m.config.sep_token, 1));
  }
  if (!options.return_overflowing_tokens) out.overflowing.clear();

  if (options.offsets == OffsetUnit::chars) {
    const auto map_a = unicode::byte_to_char_index(text);
    std::vector<std::uint32_t> map_b;
    if (pair) map_b = unicode::byte_to_char_index(*pair);
    for_each_encoding(out, [&](Encoding& e) {
      for (std::size_t i = 0; i < e.size(); ++i) {
        const std::int64_t seq = e.sequence_ids[i];
        const std::vector<std::uint32_t>* map = seq == 0 ? &map_a : seq == 1 ? &map_b : nullptr;
        if (!map) continue;
        e.offsets[i].begin = (*map)[e.offsets[i].begin];
        e.offsets[i].end = (*map)[e.offsets[i].end];
      }
    });
  }
  if (pad) {
    if (const auto target = padding_target(out.size(), options, m.config.model_max_length))
      pad_one(out, *target, options);
  }
  if (!options.return_token_type_ids.value_or(m.config.returns_token_type_ids)) clear_type_ids(out);
  return out;
}

void SentencePieceTokenizer::pad_one(Encoding& e, std::size_t target, const EncodeOptions& options) const {
  const Impl& m = *impl_;
  DISTILBERT_CHECK(m.specials.pad >= 0, "padding: ", m.source, " has no pad piece '", m.config.pad_token,
                   "' (name the model's pad piece in tokenizer_config.json's pad_token, or train the model with "
                   "`distilbert train-tokenizer`, which adds [PAD])");
  pad_encoding(e, target, m.specials.pad, 0, m.config.pad_token, options.padding_side);
}

Encoding SentencePieceTokenizer::encode(std::string_view text, std::optional<std::string_view> pair,
                                        const EncodeOptions& options) const {
  return encode_one(text, pair, options, true);
}

std::vector<Encoding> SentencePieceTokenizer::encode_batch(const std::vector<TextInput>& inputs,
                                                           const EncodeOptions& options, ThreadPool* pool) const {
  return batch_encode(
      inputs.size(), options, pool ? *pool : ThreadPool::shared(),
      [&](std::size_t i, const EncodeOptions& o, bool pad_each) {
        return encode_one(inputs[i].text, inputs[i].pair, o, pad_each);
      },
      [&](Encoding& e, std::size_t target) { pad_one(e, target, options); }, impl_->config.returns_token_type_ids);
}

std::vector<Encoding> SentencePieceTokenizer::encode_batch(const std::vector<TextInput>& inputs,
                                                           const EncodeOptions& options, std::size_t num_threads) const {
  ThreadPool pool(num_threads);
  return encode_batch(inputs, options, &pool);
}

std::vector<std::string> SentencePieceTokenizer::tokenize(std::string_view text) const {
  return encode_sequence(text, 0).tokens;
}

// ---- decoding ---------------------------------------------------------------------------------------------

std::string SentencePieceTokenizer::decode(const std::vector<std::int64_t>& ids, bool skip_special_tokens,
                                           std::optional<bool> clean_up_tokenization_spaces) const {
  const Impl& m = *impl_;
  // transformers AlbertTokenizer.convert_tokens_to_string: specials are written as they are, each run of
  // ordinary pieces is detokenised by sentencepiece.
  std::string out;
  std::vector<int> run;
  bool prev_special = false;
  auto flush = [&] {
    if (run.empty()) return;
    out += m.sp->decode(run);
    run.clear();
  };
  for (const std::int64_t id : ids) {
    if (id < 0 || id >= m.size) continue;
    if (m.special_set.count(id)) {
      if (skip_special_tokens) continue;
      if (!prev_special) out.push_back(' ');
      flush();
      out += m.sp->id_to_piece(static_cast<int>(id));
      prev_special = true;
    } else {
      run.push_back(static_cast<int>(id));
      prev_special = false;
    }
  }
  flush();
  // Python's str.strip() of the ASCII whitespace the joining added.
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::size_t b = 0, e = out.size();
  while (b < e && is_space(out[b])) ++b;
  while (e > b && is_space(out[e - 1])) --e;
  out = out.substr(b, e - b);
  if (clean_up_tokenization_spaces.value_or(m.config.clean_up_tokenization_spaces)) {
    out = clean_up_tokenization(std::move(out));
  }
  return out;
}

// ---- vocabulary -------------------------------------------------------------------------------------------

std::optional<std::int64_t> SentencePieceTokenizer::token_to_id(std::string_view token) const {
  return impl_->find(token);
}

std::optional<std::string> SentencePieceTokenizer::id_to_token(std::int64_t id) const {
  if (id < 0 || id >= impl_->size) return std::nullopt;
  return impl_->sp->id_to_piece(static_cast<int>(id));
}

std::size_t SentencePieceTokenizer::vocab_size() const { return static_cast<std::size_t>(impl_->size); }

SpecialTokenIds SentencePieceTokenizer::special_ids() const { return impl_->specials; }

std::string SentencePieceTokenizer::fingerprint() const {
  const Impl& m = *impl_;
  const SpecialTokenIds& s = m.specials;
  std::string data = m.bytes;
  data += str_cat("|sentencepiece|pad=", m.config.pad_token, ":", s.pad, "|unk=", m.config.unk_token, ":", s.unk,
                  "|cls=", m.config.cls_token, ":", s.cls, "|sep=", m.config.sep_token, ":", s.sep,
                  "|mask=", m.config.mask_token, ":", s.mask);
  return fnv1a_hex(data);
}

const SentencePieceConfig& SentencePieceTokenizer::config() const { return impl_->config; }
const std::string& SentencePieceTokenizer::model_bytes() const { return impl_->bytes; }
std::string SentencePieceTokenizer::model_type() const { return impl_->model_type; }

}  // namespace distilbert::tokenizer
