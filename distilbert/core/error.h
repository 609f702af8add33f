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

}  // namespace distilbert

/// Throw distilbert::Error with the streamed message unless cond holds. A macro, as TORCH_CHECK and GGML_ASSERT are:
/// the message's arguments are evaluated only when the check fails, so a check in a hot loop costs one branch and a
/// message may call functions that are only valid on failure.
#define DISTILBERT_CHECK(cond, ...)                      \
  do {                                                   \
    if (!(cond)) ::distilbert::fail(__VA_ARGS__);        \
  } while (false)
