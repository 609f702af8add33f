// distilbert::Error: the one exception type for user-facing failures (bad files, keys, shapes, options).
// Messages name the object (file, key, tensor), give what was expected against what was found, and a hint
// where one helps. Library code throws; only cli/main.cpp turns an Error into an exit code.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace distilbert {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
inline void append_all(std::ostringstream&) {}
template <typename T, typename... Rest>
void append_all(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append_all(os, rest...);
}
}  // namespace detail

/// Concatenate any streamable values into one string.
template <typename... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  detail::append_all(os, args...);
  return os.str();
}

/// Throw distilbert::Error with the streamed message.
template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(str_cat(args...));
}

/// Throw distilbert::Error unless cond holds.
template <typename... Args>
void check(bool cond, const Args&... args) {
  if (!cond) fail(args...);
}

}  // namespace distilbert
