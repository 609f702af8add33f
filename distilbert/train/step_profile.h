// Operator profile of chosen training steps (recipe `trainer.profile_steps`): LibTorch's autograd profiler records
// every ATen operator (forward and backward) into a Chrome trace (`profile.json` in the run folder; open it in
// Perfetto or chrome://tracing), and a table of the operators by self time (their time minus the operators they
// called) goes to `profile.txt` and the log: where a step's time goes, without perf or Python.
#pragma once

#include <memory>
#include <string>

namespace distilbert {

/// Self time per operator name from a Chrome trace of complete ("X") events, nested by time within each thread.
/// Returns a text table of the `top` largest, with counts and shares of the traced total.
std::string summarize_trace(const std::string& trace_path, int top);

class StepProfiler {
 public:
  /// Starts recording; the trace goes to `trace_path` when finish() is called.
  explicit StepProfiler(std::string trace_path);
  ~StepProfiler();
  StepProfiler(const StepProfiler&) = delete;
  StepProfiler& operator=(const StepProfiler&) = delete;
  /// Stops recording, writes the trace and returns summarize_trace(trace, top).
  std::string finish(int top = 20);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace distilbert
