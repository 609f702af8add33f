// File helpers; see fs.h.
#include "distilbert/core/fs.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "distilbert/core/error.h"

namespace distilbert {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open '", path, "': ", std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail("error reading '", path, "'");
  return ss.str();
}

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer) {
  const std::string tmp = str_cat(path, ".tmp.", ::getpid());
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) fail("cannot create '", tmp, "': ", std::strerror(errno));
      writer(out);
      out.flush();
      if (!out) fail("error writing '", tmp, "' (disk full?): ", std::strerror(errno));
    }
    int fd = ::open(tmp.c_str(), O_RDONLY);
    if (fd >= 0) {
      const int rc = ::fsync(fd);
      const int err = errno;
      ::close(fd);
      if (rc != 0) fail("cannot sync '", tmp, "': ", std::strerror(err));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      fail("cannot rename '", tmp, "' to '", path, "': ", std::strerror(errno));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  write_file_atomic(path, [&](std::ostream& out) { out.write(contents.data(), static_cast<std::streamsize>(contents.size())); });
}

}  // namespace distilbert
