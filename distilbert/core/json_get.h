// Typed fields of a JSON object read from a file (a checkpoint's trainer_state.json, a predict input line), with
// errors that name the file and the key. nlohmann's own get<int64_t>() is too lenient for files a user can edit:
// it reads true as 1, truncates 2.5 to 2 and converts 1e300 with undefined behaviour (the trainer_state fuzz target,
// tests/fuzz/fuzz_trainer_state.cpp, found the last one).
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "distilbert/core/error.h"

namespace distilbert {

/// Whether v is an integer that fits int64: not a bool, a fraction or a float, and not above 2^63 - 1.
inline bool is_int64(const nlohmann::json& v) {
  return v.is_number_integer() &&
         (!v.is_number_unsigned() ||
          v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
}

/// obj[key], which must exist; `where` names the file (and line) in the error.
inline const nlohmann::json& json_field(const nlohmann::json& obj, const char* key, const std::string& where) {
  DISTILBERT_CHECK(obj.is_object(), where, ": expected a JSON object, found ", obj.type_name());
  const auto it = obj.find(key);
  DISTILBERT_CHECK(it != obj.end(), where, ": no '", key, "'");
  return *it;
}

/// An integer field that fits int64 (no bool, no fraction, no float).
inline std::int64_t json_int(const nlohmann::json& obj, const char* key, const std::string& where) {
  const auto& v = json_field(obj, key, where);
  DISTILBERT_CHECK(v.is_number_integer(), where, ": '", key, "' must be an integer, found ", v.dump());
  DISTILBERT_CHECK(is_int64(v), where, ": '", key, "' is ", v.dump(), ", more than an int64 holds");
  return v.get<std::int64_t>();
}

/// An unsigned 64-bit integer field (a seed).
inline std::uint64_t json_uint(const nlohmann::json& obj, const char* key, const std::string& where) {
  const auto& v = json_field(obj, key, where);
  DISTILBERT_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0), where, ": '", key,
                   "' must be a non-negative integer, found ", v.dump());
  return v.get<std::uint64_t>();
}

/// A number field (integer or float); JSON has no NaN or infinity, so the value is finite.
inline double json_number(const nlohmann::json& obj, const char* key, const std::string& where) {
  const auto& v = json_field(obj, key, where);
  DISTILBERT_CHECK(v.is_number(), where, ": '", key, "' must be a number, found ", v.dump());
  return v.get<double>();
}

inline std::string json_string(const nlohmann::json& obj, const char* key, const std::string& where) {
  const auto& v = json_field(obj, key, where);
  DISTILBERT_CHECK(v.is_string(), where, ": '", key, "' must be a string, found ", v.dump());
  return v.get<std::string>();
}

}  // namespace distilbert
