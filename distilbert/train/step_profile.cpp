// Step profiles; see step_profile.h.
#include "distilbert/train/step_profile.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>
#if __has_include(<torch/csrc/autograd/profiler_legacy.h>)
#include <torch/csrc/autograd/profiler_legacy.h>
#define DISTILBERT_HAVE_RECORD_PROFILE 1
#endif

#include "distilbert/core/error.h"

namespace distilbert {

std::string summarize_trace(const std::string& trace_path, int top) {
  std::ifstream in(trace_path);
  DISTILBERT_CHECK(in.good(), "profile trace '", trace_path, "' cannot be read");
  nlohmann::json events;
  try {
    events = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    fail("profile trace '", trace_path, "' is not valid JSON: ", e.what());
  }
  DISTILBERT_CHECK(events.is_array(), "profile trace '", trace_path, "': expected a JSON array of events");
  struct Ev {
    double ts, dur;
    std::string name;
  };
  std::map<std::string, std::vector<Ev>> by_thread;
  for (const auto& e : events) {
    if (!e.is_object() || e.value("ph", "") != "X" || !e.contains("ts") || !e.contains("dur")) continue;
    by_thread[e.contains("tid") ? e["tid"].dump() : "0"].push_back(
        {e["ts"].get<double>(), e["dur"].get<double>(), e.value("name", "?")});
  }
  struct Stat {
    double self = 0;
    int64_t calls = 0;
  };
  std::map<std::string, Stat> stats;
  double total = 0;
  for (auto& [tid, evs] : by_thread) {
    // Parents first: earlier start, and at the same start the longer one.
    std::sort(evs.begin(), evs.end(),
              [](const Ev& a, const Ev& b) { return a.ts != b.ts ? a.ts < b.ts : a.dur > b.dur; });
    std::vector<size_t> open;  // indices of the enclosing events
    std::vector<double> child(evs.size(), 0.0);
    auto close_until = [&](double t) {
      while (!open.empty() && evs[open.back()].ts + evs[open.back()].dur <= t) open.pop_back();
    };
    for (size_t i = 0; i < evs.size(); ++i) {
      close_until(evs[i].ts);
      if (open.empty()) total += evs[i].dur;
      else child[open.back()] += evs[i].dur;
      open.push_back(i);
    }
    for (size_t i = 0; i < evs.size(); ++i) {
      auto& s = stats[evs[i].name];
      s.self += std::max(0.0, evs[i].dur - child[i]);
      ++s.calls;
    }
  }
  std::vector<std::pair<std::string, Stat>> rows(stats.begin(), stats.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.self > b.second.self; });
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "%-44s %10s %8s %7s\n", "operator (self time)", "ms", "calls", "share");
  out << line;
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < top; ++i) {
    const auto& [name, st] = rows[i];
    std::snprintf(line, sizeof line, "%-44.44s %10.1f %8lld %6.1f%%\n", name.c_str(), st.self / 1e3,
                  static_cast<long long>(st.calls), total > 0 ? 100.0 * st.self / total : 0.0);
    out << line;
  }
  std::snprintf(line, sizeof line, "%-44s %10.1f\n", "traced operators, total", total / 1e3);
  out << line;
  return out.str();
}

#ifdef DISTILBERT_HAVE_RECORD_PROFILE
struct StepProfiler::Impl {
  explicit Impl(const std::string& path) : recorder(path) {}
  torch::autograd::profiler::RecordProfile recorder;
};
#else
struct StepProfiler::Impl {
  explicit Impl(const std::string&) {
    fail("trainer.profile_steps: this LibTorch has no legacy autograd profiler (torch/csrc/autograd/"
         "profiler_legacy.h); set profile_steps to 0");
  }
};
#endif

StepProfiler::StepProfiler(std::string trace_path) : path_(std::move(trace_path)) {
  impl_ = std::make_unique<Impl>(path_);
}

StepProfiler::~StepProfiler() = default;

std::string StepProfiler::finish(int top) {
  DISTILBERT_CHECK(impl_ != nullptr, "StepProfiler::finish called twice");
  impl_.reset();  // stops recording and writes the trace
  return summarize_trace(path_, top);
}

}  // namespace distilbert
