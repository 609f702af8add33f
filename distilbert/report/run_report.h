// The main job's report: reads a pipeline run folder (scripts/pipeline.sh writes it) and writes a Markdown summary
// (teacher vs student: parameters, size on disk, accuracy, inference speed, training time), summary.json with the
// same numbers, and SVG plots (loss curves per term, learning rate, tokens/s, fine-tuning curves, accuracy and
// speed bars). Torch-free: it only reads files.
//
// Run folder layout (every part optional except the fine-tuning results; missing parts are reported as such):
//   run_info.tsv                        key<TAB>value lines: mode, corpus, task, threads, majority_baseline, ...
//   timings.tsv                         stage<TAB>seconds (header "stage<TAB>seconds")
//   pretrain/metrics.jsonl              the teacher's MLM pretraining (`distilbert pretrain`)
//   distill/metrics.jsonl               the distillation (`distilbert distill`)
//   finetune_teacher/, finetune_student/  `distilbert finetune` folders: metrics.jsonl, eval_results.json
//   eval_teacher.json, eval_student.json  `distilbert evaluate --output` of the two fine-tuned models
//   info_teacher.json, info_student.json  `distilbert info --json` of the two fine-tuned models
//   speed.tsv                           model<TAB>examples<TAB>seconds<TAB>examples_per_s<TAB>threads (batch-1 runs)
//   onnx_check.json                     the student's ONNX export run in ONNX Runtime (tests/py/check_classifier.py)
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace distilbert::report {

struct MetricSeries {
  std::vector<double> step, value;
};

/// metrics.jsonl as series: split ("train", "eval", ...) -> key -> (step, value) for every numeric key.
struct RunMetrics {
  std::map<std::string, std::map<std::string, MetricSeries>> splits;
  size_t records = 0;
  /// nullptr when absent.
  const MetricSeries* find(const std::string& split, const std::string& key) const;
};

/// Reads a metrics.jsonl file (distilbert/train/run_log.h). Blank lines are skipped; a line that is not a JSON
/// object or has no numeric "step" is an Error naming file:line. Records without "split" count as "train".
RunMetrics read_metrics_jsonl(const std::string& path);

/// key<TAB>value lines (a first line "key<TAB>value" or "stage<TAB>seconds" is a header and skipped), in file order.
/// A line without a tab is an Error naming file:line.
std::vector<std::pair<std::string, std::string>> read_key_value_tsv(const std::string& path);

/// A JSON file; an Error naming the file when it cannot be read or is not JSON.
nlohmann::json read_json_file(const std::string& path);

struct ReportResult {
  std::vector<std::string> files;  ///< written, relative to the output folder
  nlohmann::json summary;          ///< what summary.json holds
};

/// Write README.md, summary.json and the SVG plots for `run_dir` into `out_dir` (created). Throws distilbert::Error
/// when run_dir holds neither fine-tuning result.
ReportResult write_run_report(const std::string& run_dir, const std::string& out_dir);

}  // namespace distilbert::report
