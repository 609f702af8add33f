// A per-process scratch folder under the system temp directory for tests that write small input files, and a
// one-call writer into it. `tag` keeps test binaries apart (distilbert_test_<tag>_<pid>).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace distilbert::testing {

inline std::filesystem::path scratch_dir(const std::string& tag) {
  auto d = std::filesystem::temp_directory_path() / ("distilbert_test_" + tag + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

/// Write `text` (bytes as given) to scratch_dir(tag)/name; returns the path.
inline std::string write_scratch(const std::string& tag, const std::string& name, const std::string& text) {
  const auto path = (scratch_dir(tag) / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace distilbert::testing
