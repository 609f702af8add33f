// Loading and saving BertTokenizer: vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json.
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "distilbert/core/error.h"
#include "distilbert/tokenizer/bert_tokenizer.h"
#include "distilbert/tokenizer/config_json.h"
#include "distilbert/core/json_error.h"

namespace distilbert::tokenizer {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

namespace {

json parse_json(std::string_view text, std::string_view source) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e99999
    fail(source, ": invalid JSON (", json_error_text(e), ")");
  }
}

std::string type_name(const json& j) { return j.type_name(); }

const json* find_key(const json& obj, std::string_view key) {
  const auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

bool get_bool(const json& obj, std::string_view key, bool fallback, std::string_view source, std::string_view path) {
  const json* v = find_key(obj, key);
  if (!v || v->is_null()) return fallback;
  DISTILBERT_CHECK(v->is_boolean(), source, ": key ", path, key, " must be true or false, found ", type_name(*v), " ",
                   v->dump());
  return v->get<bool>();
}

std::string get_string(const json& obj, std::string_view key, const std::string& fallback, std::string_view source,
                       std::string_view path) {
  const json* v = find_key(obj, key);
  if (!v || v->is_null()) return fallback;
  DISTILBERT_CHECK(v->is_string(), source, ": key ", path, key, " must be a string, found ", type_name(*v), " ",
                   v->dump());
  return v->get<std::string>();
}

std::int64_t get_int(const json& v, std::string_view source, std::string_view path) {
  DISTILBERT_CHECK(v.is_number_integer(), source, ": key ", path, " must be an integer, found ", type_name(v), " ",
                   v.dump());
  return v.get<std::int64_t>();
}

std::size_t get_size(const json& obj, std::string_view key, std::size_t fallback, std::string_view source,
                     std::string_view path) {
  const json* v = find_key(obj, key);
  if (!v || v->is_null()) return fallback;
  if (v->is_number_float()) {  // e.g. model_max_length 1e30 ("no limit")
    const double d = v->get<double>();
    DISTILBERT_CHECK(d >= 0 && std::isfinite(d), source, ": key ", path, key, " must be a non-negative number, found ",
                     v->dump());
    return d >= 1.8e19 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(d);
  }
  DISTILBERT_CHECK(v->is_number_unsigned() || (v->is_number_integer() && v->get<std::int64_t>() >= 0), source, ": key ",
                   path, key, " must be a non-negative integer, found ", type_name(*v), " ", v->dump());
  return v->get<std::size_t>();
}

AddedToken parse_added_token(const json& v, std::int64_t id, std::string_view source, std::string_view path) {
  DISTILBERT_CHECK(v.is_object(), source, ": ", path, " must be an object, found ", type_name(v));
  AddedToken a;
  a.id = id;
  a.content = get_string(v, "content", "", source, std::string(path) + ".");
  DISTILBERT_CHECK(!a.content.empty(), source, ": ", path, ".content is missing or empty");
  const std::string p = std::string(path) + ".";
  a.single_word = get_bool(v, "single_word", false, source, p);
  a.lstrip = get_bool(v, "lstrip", false, source, p);
  a.rstrip = get_bool(v, "rstrip", false, source, p);
  a.normalized = get_bool(v, "normalized", false, source, p);
  a.special = get_bool(v, "special", false, source, p);
  return a;
}

std::string strip_fast_suffix(std::string cls) {
  const std::string suffix = "Fast";
  if (cls.size() > suffix.size() && cls.compare(cls.size() - suffix.size(), suffix.size(), suffix) == 0) {
    cls.resize(cls.size() - suffix.size());
  }
  return cls;
}

/// Apply the keys present in a tokenizer_config.json; added_tokens_decoder / additional_special_tokens
/// entries are merged into `added` (by content).
void apply_tokenizer_config(const json& cfg, std::string_view source, TokenizerConfig& config,
                            std::vector<AddedToken>& added, const Vocab& vocab) {
  DISTILBERT_CHECK(cfg.is_object(), source, ": expected a JSON object at the top level, found ", type_name(cfg));
  if (const json* v = find_key(cfg, "do_lower_case"); v && !v->is_null()) {
    config.normalizer.lowercase = get_bool(cfg, "do_lower_case", true, source, "");
  }
  if (const json* v = find_key(cfg, "strip_accents")) {
    if (v->is_null()) {
      config.normalizer.strip_accents.reset();
    } else {
      config.normalizer.strip_accents = get_bool(cfg, "strip_accents", false, source, "");
    }
  }
  if (const json* v = find_key(cfg, "tokenize_chinese_chars"); v && !v->is_null()) {
    config.normalizer.handle_chinese_chars = get_bool(cfg, "tokenize_chinese_chars", true, source, "");
  }
  config.model_max_length = get_size(cfg, "model_max_length", config.model_max_length, source, "");
  config.clean_up_tokenization_spaces =
      get_bool(cfg, "clean_up_tokenization_spaces", config.clean_up_tokenization_spaces, source, "");
  if (const json* v = find_key(cfg, "tokenizer_class"); v && !v->is_null()) {
    const std::string cls = strip_fast_suffix(get_string(cfg, "tokenizer_class", "", source, ""));
    DISTILBERT_CHECK(cls == "BertTokenizer" || cls == "DistilBertTokenizer", source, ": unsupported tokenizer_class '",
                     cls, "' (expected BertTokenizer or DistilBertTokenizer, optionally with the Fast suffix)");
    config.tokenizer_class = cls;
  }
  if (auto t = special_token_content(cfg, "unk_token", source)) config.unk_token = *t;
  if (auto t = special_token_content(cfg, "sep_token", source)) config.sep_token = *t;
  if (auto t = special_token_content(cfg, "pad_token", source)) config.pad_token = *t;
  if (auto t = special_token_content(cfg, "cls_token", source)) config.cls_token = *t;
  if (auto t = special_token_content(cfg, "mask_token", source)) config.mask_token = *t;

  auto upsert = [&](AddedToken a) {
    for (AddedToken& existing : added) {
      if (existing.content == a.content) {
        existing = a;
        return;
      }
    }
    added.push_back(std::move(a));
  };
  if (const json* dec = find_key(cfg, "added_tokens_decoder"); dec && !dec->is_null()) {
    DISTILBERT_CHECK(dec->is_object(), source, ": added_tokens_decoder must be an object {\"id\": {...}}, found ",
                     type_name(*dec));
    for (const auto& [key, value] : dec->items()) {
      std::int64_t id = -1;
      try {
        std::size_t used = 0;
        id = std::stoll(key, &used);
        DISTILBERT_CHECK(used == key.size(), "");
      } catch (...) {
        fail(source, ": added_tokens_decoder key '", key, "' is not an integer token id");
      }
      upsert(parse_added_token(value, id, source, "added_tokens_decoder." + key));
    }
  }
  if (const json* extra = find_key(cfg, "additional_special_tokens"); extra && !extra->is_null()) {
    DISTILBERT_CHECK(extra->is_array(), source, ": additional_special_tokens must be a list, found ",
                     type_name(*extra));
    for (const json& t : *extra) {
      const std::string content = t.is_string() ? t.get<std::string>()
                                  : (t.is_object() && t.contains("content") && t["content"].is_string())
                                      ? t["content"].get<std::string>()
                                      : std::string();
      DISTILBERT_CHECK(!content.empty(), source,
                       ": additional_special_tokens entries must be strings or {\"content\": ...}");
      bool known = false;
      for (const AddedToken& a : added) known = known || a.content == content;
      if (known) continue;
      const auto id = vocab.find(content);
      DISTILBERT_CHECK(id.has_value(), source, ": additional special token '", content,
                       "' is neither in the vocabulary nor in added_tokens_decoder");
      upsert(AddedToken{content, *id});
    }
  }
}

/// The special tokens named in the config that are in the vocabulary, as added tokens (vocab.txt loading).
void add_config_specials(const TokenizerConfig& config, const Vocab& vocab, std::vector<AddedToken>& added) {
  for (const std::string* t : {&config.pad_token, &config.unk_token, &config.cls_token, &config.sep_token,
                               &config.mask_token}) {
    const auto id = vocab.find(*t);
    if (!id) continue;
    bool known = false;
    for (const AddedToken& a : added) known = known || a.content == *t;
    if (!known) added.push_back(AddedToken{*t, *id});
  }
}

struct JsonParts {
  Vocab vocab;
  TokenizerConfig config;
  std::vector<AddedToken> added;
  PostProcessor post;
};

TemplatePiece parse_piece(const json& v, std::string_view source, const std::string& path) {
  DISTILBERT_CHECK(v.is_object() && v.size() == 1, source, ": ", path,
                   " must be {\"SpecialToken\": {...}} or {\"Sequence\": {...}}, found ", v.dump());
  TemplatePiece p;
  if (const json* s = find_key(v, "SpecialToken")) {
    DISTILBERT_CHECK(s->is_object(), source, ": ", path, ".SpecialToken must be an object");
    p.kind = TemplatePiece::Kind::special;
    p.special_id = get_string(*s, "id", "", source, path + ".SpecialToken.");
    DISTILBERT_CHECK(!p.special_id.empty(), source, ": ", path, ".SpecialToken.id is missing");
    p.type_id = s->contains("type_id") ? get_int((*s)["type_id"], source, path + ".SpecialToken.type_id") : 0;
  } else if (const json* q = find_key(v, "Sequence")) {
    DISTILBERT_CHECK(q->is_object(), source, ": ", path, ".Sequence must be an object");
    const std::string id = get_string(*q, "id", "", source, path + ".Sequence.");
    DISTILBERT_CHECK(id == "A" || id == "B", source, ": ", path, ".Sequence.id must be \"A\" or \"B\", found '", id,
                     "'");
    p.kind = id == "A" ? TemplatePiece::Kind::sequence_a : TemplatePiece::Kind::sequence_b;
    p.type_id = q->contains("type_id") ? get_int((*q)["type_id"], source, path + ".Sequence.type_id") : 0;
  } else {
    fail(source, ": ", path, " must be {\"SpecialToken\": {...}} or {\"Sequence\": {...}}, found ", v.dump());
  }
  return p;
}

JsonParts parse_tokenizer_json(const json& root, std::string_view source) {
  DISTILBERT_CHECK(root.is_object(), source, ": expected a JSON object at the top level, found ", type_name(root));
  JsonParts parts;
  TokenizerConfig& config = parts.config;

  // model
  const json* model = find_key(root, "model");
  DISTILBERT_CHECK(model && model->is_object(), source, ": missing object key 'model'");
  const json* mtype = find_key(*model, "type");
  DISTILBERT_CHECK(mtype && mtype->is_string(), source, ": missing key model.type (expected \"WordPiece\")");
  DISTILBERT_CHECK(mtype->get<std::string>() == "WordPiece", source, ": unsupported model type '",
                   mtype->get<std::string>(),
                   "' at key model.type (expected \"WordPiece\"; this loader reads BERT WordPiece tokenizers only)");
  config.unk_token = get_string(*model, "unk_token", "[UNK]", source, "model.");
  config.continuing_subword_prefix = get_string(*model, "continuing_subword_prefix", "##", source, "model.");
  config.max_input_chars_per_word = get_size(*model, "max_input_chars_per_word", 100, source, "model.");
  const json* vocab = find_key(*model, "vocab");
  DISTILBERT_CHECK(vocab && vocab->is_object() && !vocab->empty(), source,
                   ": key model.vocab must be a non-empty object {token: id}");
  std::vector<std::string> tokens(vocab->size());
  std::vector<bool> seen(vocab->size(), false);
  for (const auto& [token, idv] : vocab->items()) {
    const std::int64_t id = get_int(idv, source, "model.vocab['" + token + "']");
    DISTILBERT_CHECK(id >= 0 && static_cast<std::size_t>(id) < tokens.size(), source, ": model.vocab['", token,
                     "'] = ", id, ": ids must be 0..", tokens.size() - 1, " (one per token, no gaps)");
    DISTILBERT_CHECK(!seen[static_cast<std::size_t>(id)], source, ": model.vocab: id ", id, " is used by both '",
                     tokens[static_cast<std::size_t>(id)], "' and '", token, "'");
    seen[static_cast<std::size_t>(id)] = true;
    tokens[static_cast<std::size_t>(id)] = token;
  }
  parts.vocab = Vocab(std::move(tokens), std::string(source) + " model.vocab");
  DISTILBERT_CHECK(parts.vocab.contains(config.unk_token), source, ": model.unk_token '", config.unk_token,
                   "' is not in model.vocab");

  // normalizer
  const json* norm = find_key(root, "normalizer");
  if (!norm || norm->is_null()) {
    config.has_normalizer = false;
  } else {
    DISTILBERT_CHECK(norm->is_object(), source, ": key normalizer must be an object or null");
    const std::string t = get_string(*norm, "type", "", source, "normalizer.");
    DISTILBERT_CHECK(t == "BertNormalizer", source, ": unsupported normalizer type '", t,
                     "' at key normalizer.type (expected \"BertNormalizer\" or null)");
    config.normalizer.clean_text = get_bool(*norm, "clean_text", true, source, "normalizer.");
    config.normalizer.handle_chinese_chars = get_bool(*norm, "handle_chinese_chars", true, source, "normalizer.");
    config.normalizer.lowercase = get_bool(*norm, "lowercase", true, source, "normalizer.");
    const json* sa = find_key(*norm, "strip_accents");
    if (sa && !sa->is_null()) config.normalizer.strip_accents = get_bool(*norm, "strip_accents", false, source, "normalizer.");
  }

  // pre_tokenizer
  const json* pre = find_key(root, "pre_tokenizer");
  DISTILBERT_CHECK(pre && pre->is_object(), source,
                   ": key pre_tokenizer must be {\"type\": \"BertPreTokenizer\"}, found ",
                   pre ? pre->dump() : std::string("nothing"));
  const std::string pre_type = get_string(*pre, "type", "", source, "pre_tokenizer.");
  DISTILBERT_CHECK(pre_type == "BertPreTokenizer", source, ": unsupported pre_tokenizer type '", pre_type,
                   "' at key pre_tokenizer.type (expected \"BertPreTokenizer\")");

  // added_tokens
  if (const json* added = find_key(root, "added_tokens"); added && !added->is_null()) {
    DISTILBERT_CHECK(added->is_array(), source, ": key added_tokens must be a list");
    for (std::size_t i = 0; i < added->size(); ++i) {
      const json& a = (*added)[i];
      const std::string path = "added_tokens[" + std::to_string(i) + "]";
      DISTILBERT_CHECK(a.is_object() && a.contains("id"), source, ": ", path, " must be an object with an 'id'");
      parts.added.push_back(parse_added_token(a, get_int(a["id"], source, path + ".id"), source, path));
    }
  }

  // post_processor
  const json* post = find_key(root, "post_processor");
  if (!post || post->is_null()) {
    parts.post.is_null = true;
    parts.post.single = {{TemplatePiece::Kind::sequence_a, "", 0}};
    parts.post.pair = {{TemplatePiece::Kind::sequence_a, "", 0}, {TemplatePiece::Kind::sequence_b, "", 1}};
  } else {
    DISTILBERT_CHECK(post->is_object(), source, ": key post_processor must be an object or null");
    const std::string t = get_string(*post, "type", "", source, "post_processor.");
    if (t == "TemplateProcessing") {
      for (const char* which : {"single", "pair"}) {
        const json* list = find_key(*post, which);
        DISTILBERT_CHECK(list && list->is_array(), source, ": key post_processor.", which, " must be a list of pieces");
        auto& out = std::string(which) == "single" ? parts.post.single : parts.post.pair;
        for (std::size_t i = 0; i < list->size(); ++i) {
          out.push_back(parse_piece((*list)[i], source, std::string("post_processor.") + which + "[" + std::to_string(i) + "]"));
        }
      }
      const json* specials = find_key(*post, "special_tokens");
      DISTILBERT_CHECK(specials && specials->is_object(), source,
                       ": key post_processor.special_tokens must be an object");
      for (const auto& [key, value] : specials->items()) {
        const std::string path = "post_processor.special_tokens['" + key + "']";
        DISTILBERT_CHECK(value.is_object(), source, ": ", path, " must be an object");
        TemplateSpecialToken st;
        st.id = get_string(value, "id", key, source, path + ".");
        const json* ids = find_key(value, "ids");
        const json* toks = find_key(value, "tokens");
        DISTILBERT_CHECK(ids && ids->is_array() && toks && toks->is_array(), source, ": ", path,
                         " needs lists 'ids' and 'tokens'");
        for (const json& id : *ids) st.ids.push_back(get_int(id, source, path + ".ids"));
        for (const json& tok : *toks) {
          DISTILBERT_CHECK(tok.is_string(), source, ": ", path, ".tokens must hold strings");
          st.tokens.push_back(tok.get<std::string>());
        }
        parts.post.special_tokens.push_back(std::move(st));
      }
    } else if (t == "BertProcessing") {
      const json* sep = find_key(*post, "sep");
      const json* cls = find_key(*post, "cls");
      auto pair_of = [&](const json* v, const char* name) {
        DISTILBERT_CHECK(v && v->is_array() && v->size() == 2 && (*v)[0].is_string(), source, ": key post_processor.",
                         name, " must be [token, id]");
        return std::make_pair((*v)[0].get<std::string>(), get_int((*v)[1], source, std::string("post_processor.") + name));
      };
      const auto [sep_tok, sep_id] = pair_of(sep, "sep");
      const auto [cls_tok, cls_id] = pair_of(cls, "cls");
      parts.post = PostProcessor::bert(cls_tok, cls_id, sep_tok, sep_id);
      config.cls_token = cls_tok;
      config.sep_token = sep_tok;
    } else {
      fail(source, ": unsupported post_processor type '", t,
           "' at key post_processor.type (expected \"TemplateProcessing\", \"BertProcessing\" or null)");
    }
  }

  // decoder
  const json* dec = find_key(root, "decoder");
  if (!dec || dec->is_null()) {
    config.has_decoder = false;
  } else {
    DISTILBERT_CHECK(dec->is_object(), source, ": key decoder must be an object or null");
    const std::string t = get_string(*dec, "type", "", source, "decoder.");
    DISTILBERT_CHECK(t == "WordPiece", source, ": unsupported decoder type '", t,
                     "' at key decoder.type (expected \"WordPiece\" or null)");
    const std::string prefix = get_string(*dec, "prefix", "##", source, "decoder.");
    DISTILBERT_CHECK(prefix == config.continuing_subword_prefix, source, ": decoder.prefix '", prefix,
                     "' differs from model.continuing_subword_prefix '", config.continuing_subword_prefix, "'");
    config.decoder_cleanup = get_bool(*dec, "cleanup", true, source, "decoder.");
  }
  return parts;
}

void write_text_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  DISTILBERT_CHECK(out.good(), "save_pretrained: cannot write ", path.string());
  out << text;
  out.close();
  DISTILBERT_CHECK(out.good(), "save_pretrained: error while writing ", path.string());
}

std::string dump_json(const ordered_json& j, int indent, std::string_view what) {
  try {
    return j.dump(indent);
  } catch (const nlohmann::json::type_error& e) {
    fail("save_pretrained: cannot write ", what, ": ", e.what(), " (a token is not valid UTF-8)");
  }
}

}  // namespace

std::string read_tokenizer_file(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  DISTILBERT_CHECK(in.good(), what, " ", path.string(), ": cannot open it");
  std::ostringstream ss;
  ss << in.rdbuf();
  DISTILBERT_CHECK(!in.bad(), what, " ", path.string(), ": read error");
  return ss.str();
}

std::optional<std::string> special_token_content(const json& cfg, std::string_view key, std::string_view source) {
  const auto it = cfg.find(std::string(key));
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  DISTILBERT_CHECK(it->is_object() && it->contains("content") && (*it)["content"].is_string(), source, ": key ", key,
                   " must be a string or an object with a string \"content\", found ", it->dump());
  return (*it)["content"].get<std::string>();
}

// ---- public loaders --------------------------------------------------------------------------------------

BertTokenizer BertTokenizer::from_tokenizer_json_string(std::string_view text, std::string_view source, Flavor flavor) {
  JsonParts parts = parse_tokenizer_json(parse_json(text, source), source);
  parts.config.flavor = flavor;
  return BertTokenizer(std::move(parts.vocab), std::move(parts.config), std::move(parts.added), std::move(parts.post));
}

BertTokenizer BertTokenizer::from_tokenizer_json(const fs::path& tokenizer_json,
                                                 const std::optional<fs::path>& tokenizer_config_json, Flavor flavor) {
  const std::string source = tokenizer_json.string();
  DISTILBERT_CHECK(fs::is_regular_file(tokenizer_json), "tokenizer file ", source, ": not found");
  JsonParts parts =
      parse_tokenizer_json(parse_json(read_tokenizer_file(tokenizer_json, "tokenizer file"), source), source);
  parts.config.flavor = flavor;
  if (tokenizer_config_json) {
    const std::string cfg_source = tokenizer_config_json->string();
    const json cfg = parse_json(read_tokenizer_file(*tokenizer_config_json, "tokenizer config"), cfg_source);
    apply_tokenizer_config(cfg, cfg_source, parts.config, parts.added, parts.vocab);
  }
  return BertTokenizer(std::move(parts.vocab), std::move(parts.config), std::move(parts.added), std::move(parts.post));
}

BertTokenizer BertTokenizer::from_vocab_file(const fs::path& vocab_txt, const std::optional<fs::path>& tokenizer_config_json,
                                             Flavor flavor) {
  Vocab vocab = Vocab::from_file(vocab_txt);
  TokenizerConfig config;
  config.flavor = flavor;
  std::vector<AddedToken> added;
  if (tokenizer_config_json) {
    const std::string cfg_source = tokenizer_config_json->string();
    const json cfg = parse_json(read_tokenizer_file(*tokenizer_config_json, "tokenizer config"), cfg_source);
    apply_tokenizer_config(cfg, cfg_source, config, added, vocab);
  }
  for (const std::string* t : {&config.unk_token, &config.cls_token, &config.sep_token}) {
    DISTILBERT_CHECK(vocab.contains(*t), "vocab file ", vocab_txt.string(), ": the special token '", *t,
                     "' is missing (add a line with it, or name the right token in tokenizer_config.json)");
  }
  add_config_specials(config, vocab, added);
  return BertTokenizer(std::move(vocab), std::move(config), std::move(added), std::nullopt);
}

BertTokenizer BertTokenizer::from_pretrained(const fs::path& dir, Flavor flavor) {
  DISTILBERT_CHECK(fs::is_directory(dir), "tokenizer folder ", dir.string(),
                   ": not a directory (expected a folder with tokenizer.json or vocab.txt)");
  std::optional<fs::path> cfg;
  if (fs::is_regular_file(dir / "tokenizer_config.json")) cfg = dir / "tokenizer_config.json";
  if (fs::is_regular_file(dir / "tokenizer.json")) return from_tokenizer_json(dir / "tokenizer.json", cfg, flavor);
  if (fs::is_regular_file(dir / "vocab.txt")) return from_vocab_file(dir / "vocab.txt", cfg, flavor);
  fail("tokenizer folder ", dir.string(), ": found neither tokenizer.json nor vocab.txt");
}

// ---- saving ----------------------------------------------------------------------------------------------

std::string BertTokenizer::to_tokenizer_json(bool pretty) const {
  ordered_json root;
  root["version"] = "1.0";
  root["truncation"] = nullptr;
  root["padding"] = nullptr;
  ordered_json added = ordered_json::array();
  for (const AddedToken& a : added_) {
    ordered_json t;
    t["id"] = a.id;
    t["content"] = a.content;
    t["single_word"] = a.single_word;
    t["lstrip"] = a.lstrip;
    t["rstrip"] = a.rstrip;
    t["normalized"] = a.normalized;
    t["special"] = a.special;
    added.push_back(std::move(t));
  }
  root["added_tokens"] = std::move(added);
  if (config_.has_normalizer) {
    ordered_json n;
    n["type"] = "BertNormalizer";
    n["clean_text"] = config_.normalizer.clean_text;
    n["handle_chinese_chars"] = config_.normalizer.handle_chinese_chars;
    n["strip_accents"] = config_.normalizer.strip_accents ? ordered_json(*config_.normalizer.strip_accents) : ordered_json();
    n["lowercase"] = config_.normalizer.lowercase;
    root["normalizer"] = std::move(n);
  } else {
    root["normalizer"] = nullptr;
  }
  root["pre_tokenizer"] = ordered_json{{"type", "BertPreTokenizer"}};
  if (post_.is_null) {
    root["post_processor"] = nullptr;
  } else {
    ordered_json p;
    p["type"] = "TemplateProcessing";
    auto pieces = [](const std::vector<TemplatePiece>& v) {
      ordered_json list = ordered_json::array();
      for (const TemplatePiece& piece : v) {
        ordered_json inner;
        if (piece.kind == TemplatePiece::Kind::special) {
          inner["id"] = piece.special_id;
          inner["type_id"] = piece.type_id;
          list.push_back(ordered_json{{"SpecialToken", std::move(inner)}});
        } else {
          inner["id"] = piece.kind == TemplatePiece::Kind::sequence_a ? "A" : "B";
          inner["type_id"] = piece.type_id;
          list.push_back(ordered_json{{"Sequence", std::move(inner)}});
        }
      }
      return list;
    };
    p["single"] = pieces(post_.single);
    p["pair"] = pieces(post_.pair);
    ordered_json specials = ordered_json::object();
    for (const TemplateSpecialToken& st : post_.special_tokens) {
      ordered_json s;
      s["id"] = st.id;
      s["ids"] = st.ids;
      s["tokens"] = st.tokens;
      specials[st.id] = std::move(s);
    }
    p["special_tokens"] = std::move(specials);
    root["post_processor"] = std::move(p);
  }
  if (config_.has_decoder) {
    ordered_json d;
    d["type"] = "WordPiece";
    d["prefix"] = config_.continuing_subword_prefix;
    d["cleanup"] = config_.decoder_cleanup;
    root["decoder"] = std::move(d);
  } else {
    root["decoder"] = nullptr;
  }
  ordered_json m;
  m["type"] = "WordPiece";
  m["unk_token"] = config_.unk_token;
  m["continuing_subword_prefix"] = config_.continuing_subword_prefix;
  m["max_input_chars_per_word"] = config_.max_input_chars_per_word;
  // The vocabulary is written by hand: ordered_json objects insert in O(n), which is quadratic for 30k keys.
  const std::string marker = "@@distilbert-vocab@@";
  m["vocab"] = marker;
  root["model"] = std::move(m);
  std::string text = dump_json(root, pretty ? 2 : -1, "tokenizer.json");
  std::string vocab = "{";
  const auto& tokens = model_.vocab().tokens();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i) vocab += ",";
    if (pretty) vocab += "\n      ";
    vocab += dump_json(ordered_json(tokens[i]), -1, "tokenizer.json (vocabulary token " + std::to_string(i) + ")");
    vocab += pretty ? ": " : ":";
    vocab += std::to_string(i);
  }
  vocab += pretty ? "\n    }" : "}";
  const std::string quoted = "\"" + marker + "\"";
  const std::size_t at = text.rfind(quoted);
  DISTILBERT_CHECK(at != std::string::npos, "to_tokenizer_json: internal error (vocab marker not found)");
  text.replace(at, quoted.size(), vocab);
  return text;
}

void BertTokenizer::save_pretrained(const fs::path& dir) const {
  std::error_code ec;
  fs::create_directories(dir, ec);
  DISTILBERT_CHECK(!ec && fs::is_directory(dir), "save_pretrained: cannot create folder ", dir.string(),
                   ec ? " (" + ec.message() + ")" : std::string());

  std::string vocab_txt;
  for (const std::string& t : model_.vocab().tokens()) {
    DISTILBERT_CHECK(t.find('\n') == std::string::npos, "save_pretrained: vocabulary token '", t,
                     "' contains a newline and cannot be written to vocab.txt");
    vocab_txt += t;
    vocab_txt += '\n';
  }
  write_text_file(dir / "vocab.txt", vocab_txt);
  write_text_file(dir / "tokenizer.json", to_tokenizer_json(true));

  ordered_json cfg;
  cfg["tokenizer_class"] = config_.tokenizer_class;
  cfg["do_lower_case"] = config_.normalizer.lowercase;
  cfg["strip_accents"] = config_.normalizer.strip_accents ? ordered_json(*config_.normalizer.strip_accents) : ordered_json();
  cfg["tokenize_chinese_chars"] = config_.normalizer.handle_chinese_chars;
  cfg["model_max_length"] = config_.model_max_length;
  cfg["clean_up_tokenization_spaces"] = config_.clean_up_tokenization_spaces;
  ordered_json specials_map;
  auto put_special = [&](const char* key, const std::string& token) {
    if (!token_to_id(token)) return;
    cfg[key] = token;
    specials_map[key] = token;
  };
  put_special("unk_token", config_.unk_token);
  put_special("sep_token", config_.sep_token);
  put_special("pad_token", config_.pad_token);
  put_special("cls_token", config_.cls_token);
  put_special("mask_token", config_.mask_token);
  if (!config_.returns_token_type_ids()) cfg["model_input_names"] = ordered_json::array({"input_ids", "attention_mask"});
  ordered_json decoder = ordered_json::object();
  for (const AddedToken& a : added_) {
    ordered_json t;
    t["content"] = a.content;
    t["lstrip"] = a.lstrip;
    t["normalized"] = a.normalized;
    t["rstrip"] = a.rstrip;
    t["single_word"] = a.single_word;
    t["special"] = a.special;
    decoder[std::to_string(a.id)] = std::move(t);
  }
  cfg["added_tokens_decoder"] = std::move(decoder);
  write_text_file(dir / "tokenizer_config.json", dump_json(cfg, 2, "tokenizer_config.json"));
  write_text_file(dir / "special_tokens_map.json", dump_json(specials_map, 2, "special_tokens_map.json"));
}

}  // namespace distilbert::tokenizer
