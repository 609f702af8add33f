// Small file helpers: whole-file reads with clear errors, and atomic writes (temp file + fsync + rename) so an
// interrupted write never leaves a half-written file under the final name.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace distilbert {

/// Read a whole file; throws distilbert::Error naming the path when it cannot.
std::string read_file(const std::string& path);

/// Write through `writer` into `path + ".tmp.<pid>"`, flush, fsync, then rename over `path`.
/// On any failure the temp file is removed, `path` is left as it was, and an Error names the path.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer);
void write_file_atomic(const std::string& path, const std::string& contents);

}  // namespace distilbert
