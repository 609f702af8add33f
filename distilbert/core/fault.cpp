// Fault injection; see fault.h.
#include "distilbert/core/fault.h"

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <unistd.h>

#include "distilbert/core/error.h"

namespace distilbert::fault {

namespace {

struct Rule {
  std::string action;
  long when = 1;
};

struct State {
  bool enabled = false;
  std::mutex mu;
  std::multimap<std::string, Rule> rules;
  std::map<std::string, long> visits;
};

State& state() {
  static State* s = [] {
    auto* st = new State();
    const char* spec = std::getenv("DISTILBERT_FAULT");
    if (!spec || !*spec) return st;
    std::string all(spec), item;
    auto add = [&](const std::string& it) {
      if (it.empty()) return;
      const auto colon = it.find(':');
      DISTILBERT_CHECK(colon != std::string::npos, "DISTILBERT_FAULT: '", it, "' is not site:action[@N]");
      Rule r;
      std::string site = it.substr(0, colon), rest = it.substr(colon + 1);
      const auto at = rest.find('@');
      if (at != std::string::npos) {
        r.when = std::strtol(rest.c_str() + at + 1, nullptr, 10);
        rest = rest.substr(0, at);
      }
      DISTILBERT_CHECK(rest == "kill" || rest == "term" || rest == "abort" || rest == "nan",
                       "DISTILBERT_FAULT: unknown action '", rest, "' in '", it, "' (kill, term, abort, nan)");
      DISTILBERT_CHECK(r.when >= 1, "DISTILBERT_FAULT: '@N' must be a positive count in '", it, "'");
      r.action = rest;
      st->rules.emplace(site, r);
    };
    for (char c : all) {
      if (c == ',') {
        add(item);
        item.clear();
      } else {
        item += c;
      }
    }
    add(item);
    st->enabled = !st->rules.empty();
    return st;
  }();
  return *s;
}

}  // namespace

bool point(const char* site) {
  State& s = state();
  if (!s.enabled) return false;
  std::string action;
  long visit = 0;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    visit = ++s.visits[site];
    const auto range = s.rules.equal_range(site);
    for (auto it = range.first; it != range.second; ++it)
      if (it->second.when == visit) action = it->second.action;
  }
  if (action.empty()) return false;
  std::cerr << "[fault] " << site << " visit " << visit << ": " << action << std::endl;
  if (action == "kill") ::kill(::getpid(), SIGKILL);
  if (action == "term") ::kill(::getpid(), SIGTERM);
  if (action == "abort") std::abort();
  return action == "nan";
}

}  // namespace distilbert::fault
