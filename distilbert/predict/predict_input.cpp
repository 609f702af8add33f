// predict's inputs; see predict_input.h.
#include "distilbert/predict/predict_input.h"

#include <algorithm>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/json_error.h"
#include "distilbert/core/json_get.h"
#include "distilbert/core/text.h"

namespace distilbert {

namespace {

using json = nlohmann::json;
using Rows = std::vector<std::vector<int64_t>>;

// A list of integers (one row), or with `multi` a non-empty list of such lists (one per choice).
Rows read_rows(const json& v, const std::string& where, const char* key, bool multi) {
  auto row = [&](const json& r) {
    DISTILBERT_CHECK(r.is_array(), where, ": '", key, "' must be a list of integers, found ", r.type_name());
    std::vector<int64_t> out;
    for (const auto& x : r) {
      DISTILBERT_CHECK(is_int64(x), where, ": '", key, "' must hold 64-bit integers, found ", x.dump());
      out.push_back(x.get<int64_t>());
    }
    return out;
  };
  Rows rows;
  if (multi) {
    DISTILBERT_CHECK(v.is_array() && !v.empty(), where, ": '", key, "' must be a list of choices (lists of integers)");
    for (const auto& r : v) rows.push_back(row(r));
  } else {
    rows.push_back(row(v));
  }
  return rows;
}

// Encode a text (pair) into one example row, truncated longest_first to max_length as HF pipelines do.
PredictExample encode_text(const PredictInputOptions& o, const std::string& text, const std::optional<std::string>& pair,
                           bool bert, const std::string& where) {
  DISTILBERT_CHECK(
      o.tok != nullptr, where,
      ": text input needs a tokenizer: put tokenizer.json or vocab.txt in the model folder, or pass --tokenizer DIR");
  tokenizer::EncodeOptions opts;
  opts.truncation = tokenizer::Truncation::longest_first;
  opts.max_length = o.max_length;
  opts.return_token_type_ids = bert;
  auto e = pair ? o.tok->encode(text, std::string_view(*pair), opts) : o.tok->encode(text, std::nullopt, opts);
  PredictExample ex;
  ex.ids.push_back(e.ids);
  ex.mask.push_back(e.attention_mask);
  if (bert) ex.types.push_back(e.type_ids);
  return ex;
}

PredictExample text_line(const std::string& line, const std::string& where, const ModelConfig& config,
                         const PredictInputOptions& o) {
  DISTILBERT_CHECK(!o.multiple_choice, where, ": multiple-choice inputs must be JSONL with input_ids per choice");
  std::optional<std::string> pair;
  std::string text = line;
  if (o.pairs) {
    const size_t tab = line.find('\t');
    DISTILBERT_CHECK(tab != std::string::npos, where, ": --pairs expects 'text<TAB>text_pair'");
    text = line.substr(0, tab);
    pair = line.substr(tab + 1);
  }
  return encode_text(o, text, pair, config.model_type == ModelType::Bert, where);
}

// Every row of `rows` (when given) has the shape of the example's input_ids.
void check_shape(const Rows& rows, const Rows& ids, const std::string& where, const char* key) {
  if (rows.empty()) return;
  bool same = rows.size() == ids.size();
  for (size_t r = 0; same && r < ids.size(); ++r) same = rows[r].size() == ids[r].size();
  DISTILBERT_CHECK(same, where, ": ", key, " must have the shape of input_ids");
}

// The ids, masks, types and positions of a JSONL example against the model.
void check_against_model(const PredictExample& ex, const std::string& where, const ModelConfig& config) {
  check_shape(ex.mask, ex.ids, where, "attention_mask");
  check_shape(ex.types, ex.ids, where, "token_type_ids");
  check_shape(ex.positions, ex.ids, where, "position_ids");
  for (size_t r = 0; r < ex.ids.size(); ++r) {
    DISTILBERT_CHECK(!ex.ids[r].empty(), where, ": input_ids is empty");
    for (int64_t id : ex.ids[r])
      DISTILBERT_CHECK(id >= 0 && id < config.vocab_size, where, ": token id ", id, " is outside the vocabulary [0, ",
                       config.vocab_size, ")");
    if (ex.positions.empty())
      DISTILBERT_CHECK(static_cast<int64_t>(ex.ids[r].size()) <= config.max_position_embeddings, where, ": ",
                       ex.ids[r].size(), " tokens exceed max_position_embeddings ", config.max_position_embeddings,
                       " (explicit position_ids may number the tokens otherwise)");
    else
      for (int64_t p : ex.positions[r])
        DISTILBERT_CHECK(p >= 0 && p < config.max_position_embeddings, where, ": position ", p, " is outside [0, ",
                         config.max_position_embeddings, ") (max_position_embeddings)");
    if (!ex.mask.empty())
      for (int64_t m : ex.mask[r])
        DISTILBERT_CHECK(m == 0 || m == 1, where, ": attention_mask holds ", m, "; expected 1 (attend) or 0 (padding)");
    if (!ex.types.empty())
      for (int64_t t : ex.types[r])
        DISTILBERT_CHECK(config.model_type == ModelType::Bert && t >= 0 && t < config.type_vocab_size, where,
                         ": token type ", t, " is not valid for this model (",
                         config.model_type == ModelType::Bert ? "type_vocab_size " + std::to_string(config.type_vocab_size)
                                                              : std::string("DistilBERT has no token types"),
                         ")");
  }
}

PredictExample json_line(const std::string& line, const std::string& where, const ModelConfig& config,
                         const PredictInputOptions& o) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e99999
    fail(where, ": not valid JSON (", json_error_text(e), ")");
  }
  DISTILBERT_CHECK(j.is_object() && (j.contains("input_ids") || j.contains("text")), where,
                   ": expected an object with 'input_ids' or 'text'");
  if (!j.contains("input_ids")) {
    DISTILBERT_CHECK(j["text"].is_string(), where, ": 'text' must be a string");
    std::optional<std::string> pair;
    if (j.contains("text_pair")) {
      DISTILBERT_CHECK(j["text_pair"].is_string(), where, ": 'text_pair' must be a string");
      pair = j["text_pair"].get<std::string>();
    }
    DISTILBERT_CHECK(!o.multiple_choice, where, ": multiple-choice inputs need input_ids per choice");
    return encode_text(o, j["text"].get<std::string>(), pair, config.model_type == ModelType::Bert, where);
  }
  PredictExample ex;
  ex.ids = read_rows(j["input_ids"], where, "input_ids", o.multiple_choice);
  if (j.contains("attention_mask")) ex.mask = read_rows(j["attention_mask"], where, "attention_mask", o.multiple_choice);
  if (j.contains("token_type_ids"))
    ex.types = read_rows(j["token_type_ids"], where, "token_type_ids", o.multiple_choice);
  if (j.contains("position_ids")) ex.positions = read_rows(j["position_ids"], where, "position_ids", o.multiple_choice);
  check_against_model(ex, where, config);
  return ex;
}

}  // namespace

bool is_jsonl_path(const std::string& path) { return ends_with(path, ".jsonl") || ends_with(path, ".json"); }

std::vector<PredictExample> read_predict_inputs(std::istream& in, const std::string& name, bool jsonl,
                                                const ModelConfig& config, const PredictInputOptions& options) {
  std::vector<PredictExample> out;
  std::string line;
  for (size_t lineno = 1; std::getline(in, line); ++lineno) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = str_cat(name, ":", lineno);
    PredictExample ex = jsonl ? json_line(line, where, config, options) : text_line(line, where, config, options);
    if (options.multiple_choice && !out.empty())
      DISTILBERT_CHECK(ex.ids.size() == out.front().ids.size(), where, ": ", ex.ids.size(),
                       " choices, earlier lines have ", out.front().ids.size());
    out.push_back(std::move(ex));
  }
  DISTILBERT_CHECK(!out.empty(), "input '", name, "' holds no examples");
  return out;
}

std::vector<PredictExample> read_predict_inputs(const std::string& path, const ModelConfig& config,
                                                const PredictInputOptions& options) {
  std::ifstream in(path);
  DISTILBERT_CHECK(in.good(), "cannot open input '", path, "'");
  return read_predict_inputs(in, path, is_jsonl_path(path), config, options);
}

ModelInputs collate_predict_inputs(const std::vector<PredictExample>& batch, size_t begin, size_t end,
                                   bool multiple_choice, int64_t pad_id, bool with_types) {
  DISTILBERT_CHECK(begin < end && end <= batch.size(), "collate_predict_inputs: examples [", begin, ", ", end,
                   ") of ", batch.size());
  size_t T = 0;
  const size_t C = batch[begin].ids.size();
  for (size_t i = begin; i < end; ++i)
    for (const auto& r : batch[i].ids) T = std::max(T, r.size());
  const int64_t B = static_cast<int64_t>(end - begin);
  auto ids = torch::full({B, static_cast<int64_t>(C), static_cast<int64_t>(T)}, pad_id, torch::kLong);
  auto mask = torch::zeros_like(ids);
  auto types = torch::zeros_like(ids);
  auto positions = torch::zeros_like(ids);
  auto ids_a = ids.accessor<int64_t, 3>(), mask_a = mask.accessor<int64_t, 3>();
  auto types_a = types.accessor<int64_t, 3>(), positions_a = positions.accessor<int64_t, 3>();
  bool explicit_positions = false;
  for (size_t i = begin; i < end; ++i) {
    const PredictExample& ex = batch[i];
    DISTILBERT_CHECK(ex.ids.size() == C, "collate_predict_inputs: example ", i, " has ", ex.ids.size(),
                     " rows, the batch ", C);
    const auto b = static_cast<int64_t>(i - begin);
    for (size_t c = 0; c < C; ++c)
      for (size_t t = 0; t < ex.ids[c].size(); ++t) {
        const auto ci = static_cast<int64_t>(c), ti = static_cast<int64_t>(t);
        ids_a[b][ci][ti] = ex.ids[c][t];
        mask_a[b][ci][ti] = ex.mask.empty() ? 1 : ex.mask[c][t];
        if (!ex.types.empty()) types_a[b][ci][ti] = ex.types[c][t];
        positions_a[b][ci][ti] = ex.positions.empty() ? ti : ex.positions[c][t];
      }
    explicit_positions = explicit_positions || !ex.positions.empty();
  }
  ModelInputs in;
  if (!multiple_choice) {
    ids = ids.squeeze(1), mask = mask.squeeze(1), types = types.squeeze(1), positions = positions.squeeze(1);
  }
  in.input_ids = ids;
  in.attention_mask = mask;
  if (with_types) in.token_type_ids = types;
  if (explicit_positions) in.position_ids = positions;
  return in;
}

}  // namespace distilbert
