// ModelConfig <-> HF config.json; see model_config.h. Key names and defaults: docs/MODELS.md §1.
#include "distilbert/config/model_config.h"

#include <set>

#include "distilbert/core/error.h"
#include "distilbert/core/fs.h"
#include "distilbert/core/json_error.h"

namespace distilbert {
namespace {

using json = nlohmann::json;

const char* json_type(const json& v) { return v.type_name(); }

// Typed reads: each removes the key from `rest` so what remains is the set of keys we do not interpret.
struct Reader {
  const json& j;
  json& rest;
  const std::string& origin;

  const json* find(std::initializer_list<const char*> names) {
    const json* found = nullptr;
    for (const char* name : names) {
      auto it = j.find(name);
      if (it == j.end()) continue;
      if (!found) found = &*it;
      rest.erase(name);
    }
    return found;
  }
  [[noreturn]] void bad(const char* key, const char* expected, const json& v) {
    fail("config '", origin, "': key '", key, "' must be ", expected, ", found ", json_type(v), " ", v.dump());
  }
  void get_int(std::initializer_list<const char*> names, int64_t& out) {
    if (const json* v = find(names)) {
      if (!v->is_number_integer()) bad(*names.begin(), "an integer", *v);
      out = v->get<int64_t>();
    }
  }
  void get_double(std::initializer_list<const char*> names, double& out) {
    if (const json* v = find(names)) {
      if (!v->is_number()) bad(*names.begin(), "a number", *v);
      out = v->get<double>();
    }
  }
  void get_bool(std::initializer_list<const char*> names, bool& out) {
    if (const json* v = find(names)) {
      if (!v->is_boolean()) bad(*names.begin(), "true or false", *v);
      out = v->get<bool>();
    }
  }
  void get_string(std::initializer_list<const char*> names, std::string& out) {
    if (const json* v = find(names)) {
      if (v->is_null()) return;
      if (!v->is_string()) bad(*names.begin(), "a string", *v);
      out = v->get<std::string>();
    }
  }
};

}  // namespace

std::string ModelConfig::label_name(int64_t id) const {
  auto it = id2label.find(id);
  return it != id2label.end() ? it->second : str_cat("LABEL_", id);
}

void ModelConfig::validate(const std::string& origin) const {
  auto positive = [&](const char* key, int64_t v) {
    DISTILBERT_CHECK(v > 0, "config '", origin, "': ", key, " must be > 0, found ", v);
  };
  const bool d = model_type == ModelType::DistilBert;
  positive("vocab_size", vocab_size);
  positive(d ? "dim" : "hidden_size", hidden_size);
  positive(d ? "n_layers" : "num_hidden_layers", num_layers);
  positive(d ? "n_heads" : "num_attention_heads", num_heads);
  positive(d ? "hidden_dim" : "intermediate_size", intermediate_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("num_labels", num_labels);
  if (!d) positive("type_vocab_size", type_vocab_size);
  DISTILBERT_CHECK(hidden_size % num_heads == 0, "config '", origin, "': ", d ? "dim" : "hidden_size", " (",
                   hidden_size, ") must be divisible by ", d ? "n_heads" : "num_attention_heads", " (", num_heads, ")");
  static const std::set<std::string> acts = {"gelu", "relu", "silu", "swish", "gelu_new", "gelu_pytorch_tanh", "tanh"};
  DISTILBERT_CHECK(acts.count(activation) == 1, "config '", origin, "': ", d ? "activation" : "hidden_act", " '",
                   activation,
                   "' is not supported (expected one of gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish, tanh)");
  auto prob = [&](const char* key, double p) {
    DISTILBERT_CHECK(p >= 0.0 && p < 1.0, "config '", origin, "': ", key, " must be in [0, 1), found ", p);
  };
  prob(d ? "dropout" : "hidden_dropout_prob", hidden_dropout);
  prob(d ? "attention_dropout" : "attention_probs_dropout_prob", attention_dropout);
  if (d) {
    prob("qa_dropout", qa_dropout);
    prob("seq_classif_dropout", seq_classif_dropout);
  } else if (classifier_dropout) {
    prob("classifier_dropout", *classifier_dropout);
  }
  DISTILBERT_CHECK(layer_norm_eps > 0, "config '", origin, "': layer_norm_eps must be > 0, found ", layer_norm_eps);
  DISTILBERT_CHECK(initializer_range >= 0, "config '", origin, "': initializer_range must be >= 0, found ",
                   initializer_range);
  DISTILBERT_CHECK(pad_token_id >= 0 && pad_token_id < vocab_size, "config '", origin, "': pad_token_id ", pad_token_id,
                   " is outside the vocabulary [0, ", vocab_size, ")");
  DISTILBERT_CHECK(position_embedding_type == "absolute", "config '", origin, "': position_embedding_type '",
                   position_embedding_type, "' is not supported (only 'absolute')");
  static const std::set<std::string> problems = {"", "regression", "single_label_classification",
                                                 "multi_label_classification"};
  DISTILBERT_CHECK(problems.count(problem_type) == 1, "config '", origin, "': problem_type '", problem_type,
                   "' is not one of regression, single_label_classification, multi_label_classification");
  for (const auto& [id, name] : id2label)
    DISTILBERT_CHECK(id >= 0 && id < num_labels, "config '", origin, "': id2label has id ", id, " outside [0, ",
                     num_labels, ")");
}

ModelConfig ModelConfig::from_json(const json& j, const std::string& origin) {
  DISTILBERT_CHECK(j.is_object(), "config '", origin, "': expected a JSON object, found ", json_type(j));
  ModelConfig c;
  json rest = j;
  Reader r{j, rest, origin};
  std::string type;
  r.get_string({"model_type"}, type);
  if (type == "bert") {
    c.model_type = ModelType::Bert;
    c = bert_base_uncased();
    c.architectures.clear();
  } else if (type == "distilbert") {
    c = distilbert_base_uncased();
    c.architectures.clear();
  } else {
    fail("config '", origin, "': model_type must be \"bert\" or \"distilbert\", found ",
         type.empty() ? std::string("nothing") : "\"" + type + "\"");
  }
  if (const json* a = r.find({"architectures"})) {
    if (!a->is_null()) {
      if (!a->is_array()) r.bad("architectures", "a list of strings", *a);
      for (const auto& e : *a) {
        if (!e.is_string()) r.bad("architectures", "a list of strings", *a);
        c.architectures.push_back(e.get<std::string>());
      }
    }
  }
  r.get_int({"vocab_size"}, c.vocab_size);
  r.get_int({"max_position_embeddings"}, c.max_position_embeddings);
  r.get_double({"initializer_range"}, c.initializer_range);
  r.get_int({"pad_token_id"}, c.pad_token_id);
  r.get_bool({"tie_word_embeddings"}, c.tie_word_embeddings);
  if (c.model_type == ModelType::DistilBert) {
    r.get_int({"dim", "hidden_size"}, c.hidden_size);
    r.get_int({"n_layers", "num_hidden_layers"}, c.num_layers);
    r.get_int({"n_heads", "num_attention_heads"}, c.num_heads);
    r.get_int({"hidden_dim"}, c.intermediate_size);
    r.get_string({"activation"}, c.activation);
    r.get_double({"dropout"}, c.hidden_dropout);
    r.get_double({"attention_dropout"}, c.attention_dropout);
    r.get_bool({"sinusoidal_pos_embds"}, c.sinusoidal_pos_embds);
    r.get_double({"qa_dropout"}, c.qa_dropout);
    r.get_double({"seq_classif_dropout"}, c.seq_classif_dropout);
    c.type_vocab_size = 0;
  } else {
    r.get_int({"hidden_size"}, c.hidden_size);
    r.get_int({"num_hidden_layers"}, c.num_layers);
    r.get_int({"num_attention_heads"}, c.num_heads);
    r.get_int({"intermediate_size"}, c.intermediate_size);
    r.get_string({"hidden_act"}, c.activation);
    r.get_double({"hidden_dropout_prob"}, c.hidden_dropout);
    r.get_double({"attention_probs_dropout_prob"}, c.attention_dropout);
    r.get_int({"type_vocab_size"}, c.type_vocab_size);
    r.get_double({"layer_norm_eps"}, c.layer_norm_eps);
    r.get_string({"position_embedding_type"}, c.position_embedding_type);
    if (const json* v = r.find({"classifier_dropout"})) {
      if (!v->is_null()) {
        if (!v->is_number()) r.bad("classifier_dropout", "a number or null", *v);
        c.classifier_dropout = v->get<double>();
      }
    }
  }
  r.get_string({"problem_type"}, c.problem_type);
  // Labels: id2label wins; num_labels alone makes LABEL_i names (PretrainedConfig semantics).
  bool have_num_labels = false;
  if (const json* v = r.find({"num_labels"})) {
    if (!v->is_number_integer()) r.bad("num_labels", "an integer", *v);
    c.num_labels = v->get<int64_t>();
    have_num_labels = true;
  }
  if (const json* v = r.find({"id2label"})) {
    if (!v->is_object()) r.bad("id2label", "an object {\"0\": \"NAME\", ...}", *v);
    for (const auto& [k, name] : v->items()) {
      size_t used = 0;
      int64_t id = -1;
      try {
        id = std::stoll(k, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      DISTILBERT_CHECK(used == k.size() && !k.empty(), "config '", origin, "': id2label key '", k,
                       "' is not an integer");
      if (!name.is_string()) r.bad("id2label", "an object of strings", *v);
      c.id2label[id] = name.get<std::string>();
    }
    if (!have_num_labels) c.num_labels = static_cast<int64_t>(c.id2label.size());
  }
  if (const json* v = r.find({"label2id"})) {
    if (!v->is_object()) r.bad("label2id", "an object {\"NAME\": 0, ...}", *v);
    for (const auto& [name, id] : v->items()) {
      if (!id.is_number_integer()) r.bad("label2id", "an object of integers", *v);
      if (c.id2label.count(id.get<int64_t>()) == 0) c.id2label[id.get<int64_t>()] = name;
    }
  }
  // Keys that the DistilBERT config carries for legacy reasons and that have no effect (docs/MODELS.md §1.1).
  c.extra = rest;
  c.validate(origin);
  return c;
}

json ModelConfig::to_json() const {
  json j = extra;
  if (!architectures.empty()) j["architectures"] = architectures;
  j["model_type"] = model_type_name();
  j["vocab_size"] = vocab_size;
  j["max_position_embeddings"] = max_position_embeddings;
  j["initializer_range"] = initializer_range;
  j["pad_token_id"] = pad_token_id;
  if (!tie_word_embeddings) j["tie_word_embeddings"] = false;
  if (model_type == ModelType::DistilBert) {
    j["dim"] = hidden_size;
    j["n_layers"] = num_layers;
    j["n_heads"] = num_heads;
    j["hidden_dim"] = intermediate_size;
    j["activation"] = activation;
    j["dropout"] = hidden_dropout;
    j["attention_dropout"] = attention_dropout;
    j["sinusoidal_pos_embds"] = sinusoidal_pos_embds;
    j["qa_dropout"] = qa_dropout;
    j["seq_classif_dropout"] = seq_classif_dropout;
  } else {
    j["hidden_size"] = hidden_size;
    j["num_hidden_layers"] = num_layers;
    j["num_attention_heads"] = num_heads;
    j["intermediate_size"] = intermediate_size;
    j["hidden_act"] = activation;
    j["hidden_dropout_prob"] = hidden_dropout;
    j["attention_probs_dropout_prob"] = attention_dropout;
    j["type_vocab_size"] = type_vocab_size;
    j["layer_norm_eps"] = layer_norm_eps;
    j["position_embedding_type"] = position_embedding_type;
    j["classifier_dropout"] = classifier_dropout ? json(*classifier_dropout) : json(nullptr);
  }
  if (!problem_type.empty()) j["problem_type"] = problem_type;
  // HF writes id2label/label2id always; we write them whenever they differ from the default 2-label naming.
  if (num_labels != 2 || !id2label.empty()) {
    json i2l = json::object(), l2i = json::object();
    for (int64_t i = 0; i < num_labels; ++i) {
      i2l[std::to_string(i)] = label_name(i);
      l2i[label_name(i)] = i;
    }
    j["id2label"] = i2l;
    j["label2id"] = l2i;
  }
  return j;
}

ModelConfig ModelConfig::load(const std::string& path) {
  const std::string text = read_file(path);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e99999
    fail("config '", path, "' is not valid JSON: ", json_error_text(e));
  }
  return from_json(j, path);
}

void ModelConfig::save(const std::string& path) const { write_file_atomic(path, to_json().dump(2) + "\n"); }

ModelConfig ModelConfig::bert_base_uncased() {
  ModelConfig c;
  c.model_type = ModelType::Bert;
  c.architectures = {"BertForMaskedLM"};
  c.num_layers = 12;
  c.type_vocab_size = 2;
  return c;
}

ModelConfig ModelConfig::distilbert_base_uncased() {
  ModelConfig c;
  c.model_type = ModelType::DistilBert;
  c.architectures = {"DistilBertForMaskedLM"};
  c.type_vocab_size = 0;
  return c;
}

}  // namespace distilbert
