// Files and folders for tests: a per-process scratch folder (removed when the test binary exits) with a one-call
// writer into it, a fresh folder per test case (kept after the run for inspection), and whole-file read/write.
// One definition here rather than a copy per test file, so the test files can also be compiled together (unity).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace distilbert::testing {

namespace detail {
/// Removes the registered folders when the process exits.
struct ScratchRegistry {
  std::mutex mutex;
  std::vector<std::filesystem::path> dirs;
  ~ScratchRegistry() {
    for (const auto& d : dirs) {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
  }
};
inline ScratchRegistry& scratch_registry() {
  static ScratchRegistry r;
  return r;
}
}  // namespace detail

/// <temp>/distilbert_test_<tag>_<pid>, created on first use and removed when the process exits.
inline std::filesystem::path scratch_dir(const std::string& tag) {
  auto d = std::filesystem::temp_directory_path() / ("distilbert_test_" + tag + "_" + std::to_string(::getpid()));
  if (!std::filesystem::exists(d)) {
    std::filesystem::create_directories(d);
    auto& r = detail::scratch_registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.dirs.push_back(d);
  }
  return d;
}

/// Write `bytes` to `path` as given (binary).
inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

/// The whole file as bytes; empty when it cannot be read.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Write `text` (bytes as given) to scratch_dir(tag)/name; returns the path.
inline std::string write_scratch(const std::string& tag, const std::string& name, const std::string& text) {
  const auto path = (scratch_dir(tag) / name).string();
  write_file(path, text);
  return path;
}

/// <temp>/distilbert_<group>/<name>, emptied and created: one folder per test case, kept for inspection.
inline std::filesystem::path fresh_dir(const std::string& group, const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("distilbert_" + group) / name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace distilbert::testing
