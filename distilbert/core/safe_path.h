// Paths derived from file contents or recipe values (a shard name in an index, a model file named by
// tokenizer_config.json, a generated output name) must stay inside the folder they are relative to: no absolute
// path, no `..` component, nothing empty. Header-only so the torch-free libraries use it too.
#pragma once

#include <filesystem>
#include <string>

#include "distilbert/core/error.h"

namespace distilbert {

/// `dir / name` after checking that `name` is a relative path without `..` components (it may have
/// subfolders: "onnx/model.onnx"). Throws distilbert::Error naming `what` (e.g. "index 'x.json': shard name")
/// and the offending value otherwise.
inline std::filesystem::path child_path(const std::filesystem::path& dir, const std::string& name, const std::string& what) {
  const std::filesystem::path p(name);
  DISTILBERT_CHECK(!name.empty(), what, ": expected a file name inside '", dir.string(), "', found an empty string");
  DISTILBERT_CHECK(name.find('\0') == std::string::npos, what, ": file name contains a NUL byte");
  DISTILBERT_CHECK(!p.is_absolute() && !p.has_root_name() && !p.has_root_directory(), what, ": '", name,
                   "' is an absolute path; expected a name inside '", dir.string(), "'");
  for (const auto& part : p)
    DISTILBERT_CHECK(part != "..", what, ": '", name, "' leaves the folder '", dir.string(), "' through '..'");
  return dir / p;
}

}  // namespace distilbert
