// nlohmann/json's exception texts start with an identifier ("[json.exception.parse_error.101] parse error at line
// 1, column 17: ..."); a user reads our sentence naming the file and the position, not the library's id.
#pragma once

#include <exception>
#include <string>

namespace distilbert {

/// e.what() without a leading "[json.exception.<kind>.<id>] ".
inline std::string json_error_text(const std::exception& e) {
  std::string text = e.what();
  if (text.rfind("[json.exception.", 0) == 0) {
    const auto end = text.find("] ");
    if (end != std::string::npos) text.erase(0, end + 2);
  }
  return text;
}

}  // namespace distilbert
