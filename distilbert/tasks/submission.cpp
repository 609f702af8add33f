// GLUE submission writer: file names, per-task prediction formatting (label names, integer ids, clipped
// STS-B scores) and an atomic write of "index\tprediction" rows.
#include "distilbert/tasks/submission.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <system_error>
#include <unistd.h>

#include "distilbert/core/error.h"

namespace distilbert::tasks {

namespace {

struct FileInfo {
  SubmissionFile file;
  const char* name;
  GlueTask task;
  bool text_labels;
  std::size_t rows;
};

const FileInfo kFiles[] = {
    {SubmissionFile::CoLA, "CoLA.tsv", GlueTask::CoLA, false, 1063},
    {SubmissionFile::SST2, "SST-2.tsv", GlueTask::SST2, false, 1821},
    {SubmissionFile::MRPC, "MRPC.tsv", GlueTask::MRPC, false, 1725},
    {SubmissionFile::STSB, "STS-B.tsv", GlueTask::STSB, false, 1379},
    {SubmissionFile::QQP, "QQP.tsv", GlueTask::QQP, false, 390965},
    {SubmissionFile::MNLIMatched, "MNLI-m.tsv", GlueTask::MNLI, true, 9796},
    {SubmissionFile::MNLIMismatched, "MNLI-mm.tsv", GlueTask::MNLI, true, 9847},
    {SubmissionFile::QNLI, "QNLI.tsv", GlueTask::QNLI, true, 5463},
    {SubmissionFile::RTE, "RTE.tsv", GlueTask::RTE, true, 3000},
    {SubmissionFile::WNLI, "WNLI.tsv", GlueTask::WNLI, false, 146},
    {SubmissionFile::AX, "AX.tsv", GlueTask::MNLI, true, 1104},
};

const FileInfo& info(SubmissionFile file) {
  for (const auto& f : kFiles) {
    if (f.file == file) return f;
  }
  fail("unknown SubmissionFile value ", static_cast<int>(file));
}

void check_rows(const FileInfo& f, std::size_t n, bool check_row_count) {
  DISTILBERT_CHECK(n > 0, "GLUE submission ", f.name, ": expected predictions, found none");
  DISTILBERT_CHECK(!check_row_count || n == f.rows, "GLUE submission ", f.name, ": expected ", f.rows,
                   " predictions (the size of the GLUE test set), found ", n, "; predict on the full test split");
}

std::string write_rows(const std::string& dir, const FileInfo& f, std::size_t n,
                       const std::function<std::string(std::size_t)>& cell) {
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  DISTILBERT_CHECK(!ec, "cannot create the submission folder '", dir, "': ", ec.message());
  const std::string path = (dir.empty() ? std::string(".") : dir) + "/" + f.name;
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    DISTILBERT_CHECK(static_cast<bool>(out), "cannot write the submission file '", tmp, "'");
    out << "index\tprediction\n";
    try {
      for (std::size_t i = 0; i < n; ++i) out << i << '\t' << cell(i) << '\n';
    } catch (...) {
      out.close();
      std::remove(tmp.c_str());
      throw;
    }
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      fail("error while writing the submission file '", tmp, "' (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail("cannot move '", tmp, "' to '", path, "'");
  }
  return path;
}

}  // namespace

const std::vector<SubmissionFile>& all_submission_files() {
  static const std::vector<SubmissionFile> files = [] {
    std::vector<SubmissionFile> v;
    for (const auto& f : kFiles) v.push_back(f.file);
    return v;
  }();
  return files;
}

std::string submission_file_name(SubmissionFile file) { return info(file).name; }

GlueTask submission_task(SubmissionFile file) { return info(file).task; }

SubmissionFile submission_file_for(GlueTask task, bool mismatched) {
  if (task == GlueTask::MNLI) return mismatched ? SubmissionFile::MNLIMismatched : SubmissionFile::MNLIMatched;
  if (task == GlueTask::AX) return SubmissionFile::AX;
  DISTILBERT_CHECK(!mismatched, "only MNLI has a mismatched submission file, not ", glue_task_name(task));
  for (const auto& f : kFiles) {
    if (f.task == task) return f.file;
  }
  fail("no GLUE submission file for task ", glue_task_name(task));
}

std::size_t submission_expected_rows(SubmissionFile file) { return info(file).rows; }

std::string format_class_prediction(SubmissionFile file, int label_id) {
  const FileInfo& f = info(file);
  DISTILBERT_CHECK(f.task != GlueTask::STSB, "GLUE submission ", f.name, ": STS-B takes scores, not class ids");
  const auto& names = glue_label_names(f.task);
  DISTILBERT_CHECK(label_id >= 0 && label_id < static_cast<int>(names.size()), "GLUE submission ", f.name,
                   ": expected a class id in [0, ", names.size(), "), found ", label_id);
  return f.text_labels ? names[static_cast<std::size_t>(label_id)] : std::to_string(label_id);
}

std::string format_score_prediction(double score) {
  DISTILBERT_CHECK(!std::isnan(score), "GLUE submission STS-B.tsv: expected a similarity score, found NaN");
  const double clipped = std::min(5.0, std::max(0.0, score));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", clipped);
  return buffer;
}

std::string write_class_submission(const std::string& dir, SubmissionFile file, const std::vector<int>& label_ids,
                                   bool check_row_count) {
  const FileInfo& f = info(file);
  DISTILBERT_CHECK(f.task != GlueTask::STSB, "GLUE submission STS-B.tsv takes scores: use write_score_submission");
  check_rows(f, label_ids.size(), check_row_count);
  for (std::size_t i = 0; i < label_ids.size(); ++i) {
    try {
      format_class_prediction(file, label_ids[i]);
    } catch (const Error& e) {
      fail(e.what(), " (prediction ", i, ")");
    }
  }
  return write_rows(dir, f, label_ids.size(), [&](std::size_t i) { return format_class_prediction(file, label_ids[i]); });
}

std::string write_score_submission(const std::string& dir, const std::vector<double>& scores, bool check_row_count) {
  const FileInfo& f = info(SubmissionFile::STSB);
  check_rows(f, scores.size(), check_row_count);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    DISTILBERT_CHECK(!std::isnan(scores[i]), "GLUE submission STS-B.tsv: prediction ", i,
                     ": expected a score, found NaN");
  }
  return write_rows(dir, f, scores.size(), [&](std::size_t i) { return format_score_prediction(scores[i]); });
}

}  // namespace distilbert::tasks
