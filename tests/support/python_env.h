// The project's Python environment (.venv from requirements.txt, scripts/venv.sh) as the tests use it: whether it
// can import what a check needs, a visible skip naming what is missing, and running a script of tests/py.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>

#include "support/run_command.h"
#include "test_paths.h"

namespace distilbert::testing {

/// Whether DISTILBERT_PYTHON can import every module of `modules` (space-separated): "" when it can, else why not.
inline const std::string& python_missing(const std::string& modules) {
  static std::map<std::string, std::string> cache;
  auto it = cache.find(modules);
  if (it != cache.end()) return it->second;
  const std::string py = DISTILBERT_PYTHON;
  std::string why;
  if (!std::filesystem::exists(py)) {
    why = py + " does not exist: scripts/venv.sh makes it from requirements.txt (scripts/setup.sh runs it)";
  } else {
    std::string imports;
    for (char c : modules) imports += c == ' ' ? ',' : c;
    auto r = run_command("'" + py + "' -c 'import " + imports + "'");
    if (r.exit_code != 0) why = py + " cannot import " + modules + " (rerun scripts/venv.sh):\n" + r.output;
  }
  return cache.emplace(modules, why).first->second;
}

/// WARN "SKIPPED: <what> did not run: <why>" and return false when `modules` cannot be imported.
inline bool require_python(const std::string& modules, const std::string& what) {
  const std::string& why = python_missing(modules);
  if (!why.empty()) WARN("SKIPPED: " << what << " did not run: " << why);
  return why.empty();
}

/// Run `python tests/py/<script> <args>` (args already quoted) in the project's environment.
inline CommandResult run_python(const std::string& script, const std::string& args) {
  return run_command("'" + std::string(DISTILBERT_PYTHON) + "' '" + std::string(DISTILBERT_SOURCE_DIR) +
                     "/tests/py/" + script + "' " + args);
}

}  // namespace distilbert::testing
