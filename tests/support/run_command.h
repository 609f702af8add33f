// Run a shell command from a test and capture its exit code and combined stdout/stderr.
#pragma once

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace distilbert::testing {

struct CommandResult {
  int exit_code;
  std::string output;
};

inline CommandResult run_command(const std::string& command) {
  CommandResult r{-1, ""};
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace distilbert::testing
