// Recipe trees: YAML or JSON files read into one JSON tree, `a.b=value` overrides applied with type checks, and a
// strict reader that turns a tree into typed structs and rejects unknown keys (listing the valid ones), wrong
// types and out-of-range values, always naming the file and the dotted key (torchtune/nanoGPT style).
#pragma once

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace distilbert {

/// Read a .yaml/.yml or .json file into a JSON tree (YAML scalars typed as YAML 1.2 core: int, float, bool, null,
/// string). Errors name the file and line.
nlohmann::json load_tree(const std::string& path);

/// Parse one scalar the way a YAML file would type it ("3" -> 3, "1e-4" -> 0.0001, "true", "null", "[1, 2]").
nlohmann::json parse_scalar(const std::string& text);

/// Apply "a.b.c=value" overrides. A key the file sets must keep its type (an int for a float is accepted); a key it
/// does not set is added, and the strict TreeReader then rejects it unless the recipe struct has that field.
void apply_overrides(nlohmann::json& tree, const std::vector<std::string>& overrides, const std::string& origin);

/// Strict typed access to one object of a tree. Every field a struct knows is read through get(); finish()
/// then rejects keys nobody asked for.
class TreeReader {
 public:
  TreeReader(const nlohmann::json& node, std::string origin, std::string path = "");
  ~TreeReader() = default;

  bool has(const std::string& key) const;
  void get(const std::string& key, std::string& out);
  void get(const std::string& key, double& out);
  void get(const std::string& key, int64_t& out);
  void get(const std::string& key, int& out);
  void get(const std::string& key, bool& out);
  void get(const std::string& key, std::vector<int64_t>& out);
  void get(const std::string& key, std::vector<std::string>& out);
  void get(const std::string& key, std::vector<double>& out);
  /// A nested object (an empty object when absent).
  TreeReader child(const std::string& key);
  /// The raw node (marks the key known); null when absent.
  const nlohmann::json& raw(const std::string& key);
  /// Throw unless `cond`, with "recipe 'origin': key 'path.key' ..." around the message.
  void require(bool cond, const std::string& key, const std::string& message) const;
  /// Reject keys that no get()/child()/raw() asked for.
  void finish() const;

  std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const std::string& origin() const { return origin_; }

 private:
  const nlohmann::json* find(const std::string& key);
  [[noreturn]] void bad_type(const std::string& key, const char* expected, const nlohmann::json& found) const;

  const nlohmann::json& node_;
  std::string origin_, path_;
  std::set<std::string> known_;
};

}  // namespace distilbert
