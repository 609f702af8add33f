// GLUE test-set submission files for gluebenchmark.com: one TSV per task with the header "index\tprediction"
// and one row per test example in test-file order (index 0, 1, ... as run_glue writes them).
//   text labels: MNLI-m, MNLI-mm, AX (entailment / neutral / contradiction), QNLI, RTE (entailment /
//                not_entailment);
//   integers:    CoLA, SST-2, MRPC, QQP, WNLI (the class id, as the GLUE files use 0/1);
//   floats:      STS-B, clipped to [0, 5] and written with 3 decimals.
// Files are written atomically (temporary file + rename) so a crash never leaves a half-written file.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "distilbert/tasks/glue.h"

namespace distilbert::tasks {

/// The eleven submission files.
enum class SubmissionFile { CoLA, SST2, MRPC, STSB, QQP, MNLIMatched, MNLIMismatched, QNLI, RTE, WNLI, AX };

/// All eleven, in the order above.
const std::vector<SubmissionFile>& all_submission_files();

/// "CoLA.tsv", "SST-2.tsv", "MRPC.tsv", "STS-B.tsv", "QQP.tsv", "MNLI-m.tsv", "MNLI-mm.tsv", "QNLI.tsv",
/// "RTE.tsv", "WNLI.tsv", "AX.tsv".
std::string submission_file_name(SubmissionFile file);

/// The task whose label set the file uses (MNLI-m / MNLI-mm / AX -> MNLI).
GlueTask submission_task(SubmissionFile file);

/// The submission file for a task; MNLI needs `mismatched` to pick MNLI-m or MNLI-mm.
SubmissionFile submission_file_for(GlueTask task, bool mismatched = false);

/// Number of rows the GLUE server expects (the public test-set sizes): CoLA 1063, SST-2 1821, MRPC 1725,
/// STS-B 1379, QQP 390965, MNLI-m 9796, MNLI-mm 9847, QNLI 5463, RTE 3000, WNLI 146, AX 1104.
std::size_t submission_expected_rows(SubmissionFile file);

/// The prediction cell for one classification prediction (label name or integer id). Throws
/// distilbert::Error when the id is outside [0, num_labels).
std::string format_class_prediction(SubmissionFile file, int label_id);

/// The prediction cell for an STS-B score: clipped to [0, 5], "%.3f". Throws for NaN.
std::string format_score_prediction(double score);

/// Write a classification submission (every file but STS-B) to `dir`/<file name>; returns the path.
/// When check_row_count is true, a prediction count different from submission_expected_rows is an Error.
std::string write_class_submission(const std::string& dir, SubmissionFile file, const std::vector<int>& label_ids,
                                   bool check_row_count = false);

/// Write STS-B.tsv to `dir`; returns the path.
std::string write_score_submission(const std::string& dir, const std::vector<double>& scores,
                                   bool check_row_count = false);

}  // namespace distilbert::tasks
