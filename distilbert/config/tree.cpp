// Recipe trees; see tree.h.
#include "distilbert/config/tree.h"

#include <cmath>
#include <limits>
#include <regex>

#include <yaml-cpp/yaml.h>

#include "distilbert/core/error.h"
#include "distilbert/core/text.h"
#include "distilbert/core/fs.h"
#include "distilbert/core/json_error.h"

namespace distilbert {

using json = nlohmann::json;

namespace {

// YAML 1.2 core schema for plain scalars.
json type_scalar(const std::string& s, bool quoted) {
  if (quoted) return s;
  static const std::regex int_re("^[-+]?[0-9]+$");
  static const std::regex float_re("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (std::regex_match(s, int_re)) {
    try {
      return std::stoll(s);
    } catch (const std::out_of_range&) {
      return s;
    }
  }
  if (std::regex_match(s, float_re)) {
    try {
      return std::stod(s);
    } catch (const std::out_of_range&) {  // 1e999: YAML reads it as infinity (refused by check_values)
      return s[0] == '-' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    }
  }
  if (s == ".inf" || s == "+.inf") return std::numeric_limits<double>::infinity();
  if (s == "-.inf") return -std::numeric_limits<double>::infinity();
  return s;
}

json to_json(const YAML::Node& n, const std::string& origin) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return type_scalar(n.Scalar(), n.Tag() == "!");
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& e : n) a.push_back(to_json(e, origin));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) {
        const std::string key = kv.first.as<std::string>();
        DISTILBERT_CHECK(!o.contains(key), "recipe '", origin, "': key '", key, "' appears twice (line ",
                         kv.first.Mark().line + 1, ")");
        o[key] = to_json(kv.second, origin);
      }
      return o;
    }
  }
  return nullptr;
}


// Every key and string is UTF-8 and every number finite, so the tree can be saved as recipe.json and read back
// (found by fuzzing: a YAML recipe with a Latin-1 byte made the resolved-recipe dump throw a raw JSON error).
void check_values(const json& v, const std::string& origin, const std::string& path) {
  const std::string where = path.empty() ? std::string("the top level") : "key '" + path + "'";
  if (v.is_string()) {
    const size_t bad = invalid_utf8_at(v.get_ref<const std::string&>());
    DISTILBERT_CHECK(bad == std::string::npos, "recipe '", origin, "': ", where,
                     ": the value is not valid UTF-8 (byte ", bad, "); save the file as UTF-8");
  } else if (v.is_number_float()) {
    DISTILBERT_CHECK(std::isfinite(v.get<double>()), "recipe '", origin, "': ", where,
                     ": expected a finite number, found ", v.get<double>());
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) check_values(v[i], origin, path + "[" + std::to_string(i) + "]");
  } else if (v.is_object()) {
    for (const auto& [k, child] : v.items()) {
      const size_t bad = invalid_utf8_at(k);
      DISTILBERT_CHECK(bad == std::string::npos, "recipe '", origin, "': a key under ", where,
                       " is not valid UTF-8 (byte ", bad, "); save the file as UTF-8");
      check_values(child, origin, path.empty() ? k : path + "." + k);
    }
  }
}

const char* type_of(const json& v) {
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_boolean()) return "true/false";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "a mapping";
  return "null";
}

}  // namespace

json load_tree(const std::string& path) {
  const std::string text = read_file(path);
  const bool is_json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  json tree;
  if (is_json) {
    try {
      tree = json::parse(text);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e99999
      fail("recipe '", path, "' is not valid JSON: ", json_error_text(e));
    }
  } else {
    try {
      tree = to_json(YAML::Load(text), path);
    } catch (const YAML::Exception& e) {
      fail("recipe '", path, "' is not valid YAML (line ", e.mark.line + 1, ", column ", e.mark.column + 1,
           "): ", e.msg);
    }
  }
  if (tree.is_null()) tree = json::object();
  DISTILBERT_CHECK(tree.is_object(), "recipe '", path, "': the top level must be a mapping of keys, found ",
                   type_of(tree));
  check_values(tree, path, "");
  return tree;
}

json parse_scalar(const std::string& text) {
  if (!text.empty() && (text.front() == '[' || text.front() == '{')) {
    try {
      return to_json(YAML::Load(text), "override");
    } catch (const YAML::Exception& e) {
      fail("override value '", text, "' is not valid YAML: ", e.msg);
    }
  }
  if (text.size() >= 2 && ((text.front() == '"' && text.back() == '"') || (text.front() == '\'' && text.back() == '\'')))
    return text.substr(1, text.size() - 2);
  return type_scalar(text, false);
}

void apply_overrides(json& tree, const std::vector<std::string>& overrides, const std::string& origin) {
  for (const auto& o : overrides) {
    const size_t eq = o.find('=');
    DISTILBERT_CHECK(eq != std::string::npos && eq > 0, "override '", o, "' must look like key.path=value");
    const std::string key = o.substr(0, eq);
    json value = parse_scalar(o.substr(eq + 1));
    check_values(json{{key, value}}, "override '" + std::string(o, 0, std::min<size_t>(o.size(), 80)) + "'", "");
    json* node = &tree;
    size_t start = 0;
    std::string walked;
    bool created = false;
    while (true) {
      const size_t dot = key.find('.', start);
      const std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      DISTILBERT_CHECK(!part.empty(), "override '", o, "': empty key component");
      if (node->is_null()) *node = json::object();
      DISTILBERT_CHECK(node->is_object(), "override '", o, "': '", walked, "' is ", type_of(*node), ", not a mapping");
      // A key the file does not set is added; the typed reader then rejects it if the recipe has no such field.
      if (!node->contains(part)) created = true;
      walked = walked.empty() ? part : walked + "." + part;
      node = &(*node)[part];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    const bool same = created || (node->is_null() || value.is_null()) || (node->type() == value.type()) ||
                      (node->is_number() && value.is_number() && !(node->is_number_integer() && value.is_number_float()));
    DISTILBERT_CHECK(same, "override '", o, "': '", key, "' is ", type_of(*node), " in recipe '", origin,
                     "', the override gives ", type_of(value));
    if (node->is_number_float() && value.is_number_integer()) value = value.get<double>();
    *node = value;
  }
}

TreeReader::TreeReader(const json& node, std::string origin, std::string path)
    : node_(node), origin_(std::move(origin)), path_(std::move(path)) {
  DISTILBERT_CHECK(node_.is_object() || node_.is_null(), "recipe '", origin_, "': '", path_,
                   "' must be a mapping, found ", type_of(node_));
}

bool TreeReader::has(const std::string& key) const { return node_.is_object() && node_.contains(key); }

const json* TreeReader::find(const std::string& key) {
  known_.insert(key);
  if (!node_.is_object()) return nullptr;
  auto it = node_.find(key);
  return it == node_.end() || it->is_null() ? nullptr : &*it;
}

void TreeReader::bad_type(const std::string& key, const char* expected, const json& found) const {
  fail("recipe '", origin_, "': key '", key_path(key), "' must be ", expected, ", found ", type_of(found), " (",
       found.dump(), ")");
}

void TreeReader::get(const std::string& key, std::string& out) {
  if (const json* v = find(key)) {
    if (!v->is_string()) bad_type(key, "a string", *v);
    out = v->get<std::string>();
  }
}

void TreeReader::get(const std::string& key, double& out) {
  if (const json* v = find(key)) {
    if (!v->is_number()) bad_type(key, "a number", *v);
    out = v->get<double>();
  }
}

void TreeReader::get(const std::string& key, int64_t& out) {
  if (const json* v = find(key)) {
    if (!v->is_number_integer()) bad_type(key, "an integer", *v);
    out = v->get<int64_t>();
  }
}

void TreeReader::get(const std::string& key, int& out) {
  int64_t v = out;
  get(key, v);
  require(v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max(), key, "is out of range");
  out = static_cast<int>(v);
}

void TreeReader::get(const std::string& key, bool& out) {
  if (const json* v = find(key)) {
    if (!v->is_boolean()) bad_type(key, "true or false", *v);
    out = v->get<bool>();
  }
}

void TreeReader::get(const std::string& key, std::vector<int64_t>& out) {
  if (const json* v = find(key)) {
    if (!v->is_array()) bad_type(key, "a list of integers", *v);
    out.clear();
    for (const auto& e : *v) {
      if (!e.is_number_integer()) bad_type(key, "a list of integers", *v);
      out.push_back(e.get<int64_t>());
    }
  }
}

void TreeReader::get(const std::string& key, std::vector<double>& out) {
  if (const json* v = find(key)) {
    if (!v->is_array()) bad_type(key, "a list of numbers", *v);
    out.clear();
    for (const auto& e : *v) {
      if (!e.is_number()) bad_type(key, "a list of numbers", *v);
      out.push_back(e.get<double>());
    }
  }
}

void TreeReader::get(const std::string& key, std::vector<std::string>& out) {
  if (const json* v = find(key)) {
    if (v->is_string()) {
      out = {v->get<std::string>()};
      return;
    }
    if (!v->is_array()) bad_type(key, "a list of strings", *v);
    out.clear();
    for (const auto& e : *v) {
      if (!e.is_string()) bad_type(key, "a list of strings", *v);
      out.push_back(e.get<std::string>());
    }
  }
}

TreeReader TreeReader::child(const std::string& key) {
  static const json empty = json::object();
  const json* v = find(key);
  if (v && !v->is_object()) bad_type(key, "a mapping", *v);
  return TreeReader(v ? *v : empty, origin_, key_path(key));
}

const json& TreeReader::raw(const std::string& key) {
  static const json null_value;
  const json* v = find(key);
  return v ? *v : null_value;
}

void TreeReader::require(bool cond, const std::string& key, const std::string& message) const {
  if (cond) return;
  fail("recipe '", origin_, "': key '", key_path(key), "' ", message);
}

void TreeReader::finish() const {
  if (!node_.is_object()) return;
  for (const auto& [k, v] : node_.items()) {
    if (known_.count(k)) continue;
    std::string valid;
    for (const auto& name : known_) valid += (valid.empty() ? "" : ", ") + name;
    fail("recipe '", origin_, "': unknown key '", key_path(k), "' (valid keys", path_.empty() ? "" : " in '" + path_ + "'",
         ": ", valid, ")");
  }
}

}  // namespace distilbert
