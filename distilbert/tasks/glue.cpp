// GLUE TSV readers: per-task column layouts (by header name, as HF datasets' glue.py), label mapping to the
// HF label order, and malformed-row reporting with file:line, column and expected vs found.
#include "distilbert/tasks/glue.h"

#include <algorithm>
#include <cctype>
#include <fstream>

#include "distilbert/core/error.h"
#include "distilbert/core/text.h"
#include "distilbert/tasks/delimited.h"

namespace distilbert::tasks {

namespace {

struct TaskInfo {
  GlueTask task;
  const char* name;      // HF config name
  const char* dir;       // GLUE folder
  const char* text_a;    // header name of the first text column
  const char* text_b;    // header name of the second text column, or "" for single-sentence tasks
  const char* label;     // header name of the label / score column
  const char* guid;      // header name of the index/id column, or "" when there is none
};

const TaskInfo kTasks[] = {
    {GlueTask::CoLA, "cola", "CoLA", "sentence", "", "label", "index"},
    {GlueTask::SST2, "sst2", "SST-2", "sentence", "", "label", "index"},
    {GlueTask::MRPC, "mrpc", "MRPC", "#1 String", "#2 String", "Quality", "index"},
    {GlueTask::QQP, "qqp", "QQP", "question1", "question2", "is_duplicate", "id"},
    {GlueTask::STSB, "stsb", "STS-B", "sentence1", "sentence2", "score", "index"},
    {GlueTask::MNLI, "mnli", "MNLI", "sentence1", "sentence2", "gold_label", "index"},
    {GlueTask::QNLI, "qnli", "QNLI", "question", "sentence", "label", "index"},
    {GlueTask::RTE, "rte", "RTE", "sentence1", "sentence2", "label", "index"},
    {GlueTask::WNLI, "wnli", "WNLI", "sentence1", "sentence2", "label", "index"},
    {GlueTask::AX, "ax", "diagnostic", "sentence1", "sentence2", "label", "index"},
};

const TaskInfo& info(GlueTask task) {
  for (const auto& t : kTasks) {
    if (t.task == task) return t;
  }
  fail("unknown GlueTask value ", static_cast<int>(task));
}

// Column names CoLA's header-less train/dev files are given in messages.
const std::vector<std::string> kColaColumns = {"source", "label", "original_mark", "sentence"};

long find_column(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? -1 : static_cast<long>(it - header.begin());
}

std::string column_ref(long index, const std::vector<std::string>& header) {
  return str_cat("column ", index + 1, " ('", header[static_cast<std::size_t>(index)], "')");
}

bool file_exists(const std::string& path) { return static_cast<bool>(std::ifstream(path)); }

}  // namespace

const std::vector<GlueTask>& all_glue_tasks() {
  static const std::vector<GlueTask> tasks = {GlueTask::CoLA, GlueTask::SST2, GlueTask::MRPC, GlueTask::QQP,
                                              GlueTask::STSB, GlueTask::MNLI, GlueTask::QNLI, GlueTask::RTE,
                                              GlueTask::WNLI, GlueTask::AX};
  return tasks;
}

GlueTask parse_glue_task(const std::string& name) {
  const std::string key = ascii_lower(name);
  std::vector<std::string> names;
  for (const auto& t : kTasks) {
    if (key == t.name || key == ascii_lower(t.dir)) return t.task;
    names.emplace_back(t.name);
  }
  fail("unknown GLUE task '", name, "': expected one of ", join(names));
}

std::string glue_task_name(GlueTask task) { return info(task).name; }
std::string glue_dir_name(GlueTask task) { return info(task).dir; }

const std::vector<std::string>& glue_label_names(GlueTask task) {
  static const std::vector<std::string> cola = {"unacceptable", "acceptable"};
  static const std::vector<std::string> sst2 = {"negative", "positive"};
  static const std::vector<std::string> mrpc = {"not_equivalent", "equivalent"};
  static const std::vector<std::string> qqp = {"not_duplicate", "duplicate"};
  static const std::vector<std::string> stsb = {};
  static const std::vector<std::string> mnli = {"entailment", "neutral", "contradiction"};
  static const std::vector<std::string> qnli_rte = {"entailment", "not_entailment"};
  static const std::vector<std::string> wnli = {"not_entailment", "entailment"};
  switch (task) {
    case GlueTask::CoLA: return cola;
    case GlueTask::SST2: return sst2;
    case GlueTask::MRPC: return mrpc;
    case GlueTask::QQP: return qqp;
    case GlueTask::STSB: return stsb;
    case GlueTask::MNLI:
    case GlueTask::AX: return mnli;
    case GlueTask::QNLI:
    case GlueTask::RTE: return qnli_rte;
    case GlueTask::WNLI: return wnli;
  }
  fail("unknown GlueTask value ", static_cast<int>(task));
}

bool glue_is_regression(GlueTask task) { return task == GlueTask::STSB; }

int glue_num_labels(GlueTask task) {
  return glue_is_regression(task) ? 1 : static_cast<int>(glue_label_names(task).size());
}

bool glue_is_pair(GlueTask task) { return task != GlueTask::CoLA && task != GlueTask::SST2; }

std::vector<std::string> glue_splits(GlueTask task) {
  if (task == GlueTask::MNLI) {
    return {"train", "validation_matched", "validation_mismatched", "test_matched", "test_mismatched"};
  }
  if (task == GlueTask::AX) return {"test"};
  return {"train", "validation", "test"};
}

std::string glue_split_file(GlueTask task, const std::string& split) {
  const std::string s = ascii_lower(split);
  if (task == GlueTask::AX) {
    if (s == "test") return "diagnostic.tsv";
  } else if (task == GlueTask::MNLI) {
    if (s == "train") return "train.tsv";
    if (s == "validation_matched" || s == "dev_matched") return "dev_matched.tsv";
    if (s == "validation_mismatched" || s == "dev_mismatched") return "dev_mismatched.tsv";
    if (s == "test_matched") return "test_matched.tsv";
    if (s == "test_mismatched") return "test_mismatched.tsv";
  } else {
    if (s == "train") return "train.tsv";
    if (s == "validation" || s == "dev") return "dev.tsv";
    if (s == "test") return "test.tsv";
  }
  fail("unknown split '", split, "' for GLUE task ", glue_task_name(task), ": expected one of ",
       join(glue_splits(task)));
}

ReadResult read_glue_file(GlueTask task, const std::string& path, const ReadOptions& options) {
  const TaskInfo& t = info(task);
  const std::vector<Record> records = read_unquoted_records(read_text_file(path), '\t');
  ReadResult result;
  result.is_regression = glue_is_regression(task);
  result.label_names = glue_label_names(task);
  DISTILBERT_CHECK(!records.empty(), "GLUE ", t.name, " file '", path, "' is empty: expected a header line",
                   task == GlueTask::CoLA ? " or 4-column rows" : "");

  // Header: CoLA train/dev have none (fixed 4 columns); every other file starts with one.
  std::vector<std::string> header;
  std::size_t first_row = 1;
  if (task == GlueTask::CoLA && records[0].fields != std::vector<std::string>{"index", "sentence"}) {
    header = kColaColumns;
    first_row = 0;
  } else {
    header = records[0].fields;
  }
  const long col_a = find_column(header, t.text_a);
  const long col_b = *t.text_b ? find_column(header, t.text_b) : -1;
  const long col_label = find_column(header, t.label);
  const long col_guid = find_column(header, t.guid);
  const bool header_ok = col_a >= 0 && (!*t.text_b || col_b >= 0);
  if (!header_ok) {
    std::string expected = str_cat("'", t.text_a, "'");
    if (*t.text_b) expected += str_cat(" and '", t.text_b, "'");
    fail(where(path, records[0].line), "header of a GLUE ", t.dir, " file: expected columns ", expected,
         (task == GlueTask::CoLA ? " (or no header and 4 columns)" : ""), ", found [", join(header),
         "]; is this the right task and a file from the GLUE distribution?");
  }
  result.has_labels = col_label >= 0;

  const std::vector<std::string>& names = result.label_names;
  for (std::size_t r = first_row; r < records.size(); ++r) {
    const Record& rec = records[r];
    const std::size_t ordinal = r - first_row;
    const auto& f = rec.fields;
    if (f.size() != header.size()) {
      report_bad_row(result, options,
                     str_cat(where(path, rec.line), "expected ", header.size(), " tab-separated columns (",
                             join(header), "), found ", f.size()));
      continue;
    }
    Example ex;
    ex.line = rec.line;
    ex.guid = col_guid >= 0 ? f[static_cast<std::size_t>(col_guid)] : std::to_string(ordinal);
    ex.text_a = f[static_cast<std::size_t>(col_a)];
    if (is_blank(ex.text_a)) {
      report_bad_row(result, options,
                     str_cat(where(path, rec.line), column_ref(col_a, header), ": expected a text, found empty"));
      continue;
    }
    if (col_b >= 0) {
      ex.text_b = f[static_cast<std::size_t>(col_b)];
      if (is_blank(*ex.text_b)) {
        report_bad_row(result, options, str_cat(where(path, rec.line), column_ref(col_b, header),
                                                ": expected a text, found empty"));
        continue;
      }
    }
    if (col_label >= 0) {
      const std::string& value = f[static_cast<std::size_t>(col_label)];
      const std::string at = str_cat(where(path, rec.line), column_ref(col_label, header), ": ");
      if (result.is_regression) {
        double score = 0;
        if (!parse_finite_double(value, score)) {
          report_bad_row(result, options, str_cat(at, "expected a similarity score (a number in [0, 5]), found ",
                                                  quoted(value)));
          continue;
        }
        ex.score = static_cast<float>(score);
      } else {
        const auto it = std::find(names.begin(), names.end(), value);
        long long id = -1;
        if (it != names.end()) {
          id = it - names.begin();
        } else if (!parse_int(value, id) || id < 0 || id >= static_cast<long long>(names.size())) {
          report_bad_row(result, options,
                         str_cat(at, "expected a label (", join(names), ") or a label id in [0, ", names.size(),
                                 "), found ", quoted(value)));
          continue;
        }
        ex.label = static_cast<int>(id);
      }
    }
    result.examples.push_back(std::move(ex));
  }
  return result;
}

ReadResult read_glue_split(GlueTask task, const std::string& data_dir, const std::string& split,
                           const ReadOptions& options) {
  const std::string file = glue_split_file(task, split);
  const std::string dir = data_dir.empty() ? std::string(".") : data_dir;
  std::vector<std::string> candidates = {dir + "/" + file, dir + "/" + glue_dir_name(task) + "/" + file};
  if (task == GlueTask::AX) candidates.push_back(dir + "/AX.tsv");  // the name HF datasets downloads it under
  for (const auto& path : candidates) {
    if (file_exists(path)) return read_glue_file(task, path, options);
  }
  std::string tried;
  for (const auto& path : candidates) tried += (tried.empty() ? "'" : ", '") + path + "'";
  fail("GLUE ", glue_task_name(task), " split '", split, "' not found: tried ", tried,
       ". Download the GLUE data (https://gluebenchmark.com/tasks, or download_glue_data.py) and pass the "
       "folder that holds ", glue_dir_name(task), "/");
}

}  // namespace distilbert::tasks
