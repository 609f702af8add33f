// Run logging: metrics.jsonl (one JSON object per logged step, what tests and scripts read) and TensorBoard event
// files with the same scalars (TFRecord framing with masked CRC-32C around Event/Summary protobuf messages, written
// by hand: only the three message types a scalar needs).
#pragma once

#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace distilbert {

/// CRC-32C (Castagnoli), as TFRecord uses.
uint32_t crc32c(const void* data, size_t size);

class TensorBoardWriter {
 public:
  /// Creates `dir` and an events.out.tfevents.<time>.<host> file in it.
  explicit TensorBoardWriter(const std::string& dir);
  void scalar(const std::string& tag, double value, int64_t step);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& data);
  std::ofstream out_;
  std::string path_;
};

class RunLog {
 public:
  /// Appends to <dir>/metrics.jsonl; with tensorboard also writes <dir>/tensorboard/.
  RunLog(const std::string& dir, bool tensorboard);
  /// One record: every number in `values` goes to metrics.jsonl (with step) and TensorBoard (prefixed by group).
  void log(int64_t step, const nlohmann::json& values, const std::string& group = "train");

 private:
  std::ofstream jsonl_;
  std::unique_ptr<TensorBoardWriter> tb_;
};

/// Resident memory of this process in MiB (from /proc/self/statm; 0 when unavailable).
double resident_memory_mib();

}  // namespace distilbert
