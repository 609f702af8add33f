// Readers for the nine GLUE tasks (plus the AX diagnostic set) from the TSV files of the GLUE distribution
// (download_glue_data.py layout: <root>/<CoLA|SST-2|MRPC|QQP|STS-B|MNLI|QNLI|RTE|WNLI>/{train,dev,test}.tsv,
// MNLI dev_matched / dev_mismatched / test_matched / test_mismatched.tsv, diagnostic/diagnostic.tsv).
//
// Files are read as HF datasets' glue.py does: tab-separated, quoting disabled (a `"` is text), columns
// found by header name (CoLA train/dev have no header: source, label, original mark, sentence). Labels are
// names or integer ids, mapped to the HF label order (see glue_label_names). A file whose header has no
// label column (the test splits) yields label -1 and has_labels == false.
// Layouts (header columns; * = not used):
//   CoLA   train/dev: no header, 4 columns *source, label(0/1), *mark, sentence; test: index, sentence
//   SST-2  sentence, label(0/1); test: index, sentence
//   MRPC   [BOM]Quality, #1 ID, #2 ID, #1 String, #2 String; test: index, #1 ID, #2 ID, #1 String, #2 String
//   QQP    id, qid1, qid2, question1, question2, is_duplicate; test: id, question1, question2
//   STS-B  index, genre, filename, year, old_index, source1, source2, sentence1, sentence2, score (test: no score)
//   MNLI   index, promptID, pairID, genre, sentence1_binary_parse, sentence2_binary_parse, sentence1_parse,
//          sentence2_parse, sentence1, sentence2, label1[..label5], gold_label (test: no labels)
//   QNLI   index, question, sentence, label;    RTE / WNLI: index, sentence1, sentence2, label (test: no label)
//   AX     index, sentence1, sentence2 (test only)
// A malformed row (column count different from the header's, unknown label, empty text, bad score) is
// reported as "file:line: column N ('name'): expected ..., found ..." and handled by ReadOptions::policy.
// Note: HF silently drops short rows; the real QQP train file is known to contain a few, so read it with
// BadRowPolicy::Skip to get HF's rows.
#pragma once

#include <string>
#include <vector>

#include "distilbert/tasks/example.h"

namespace distilbert::tasks {

enum class GlueTask { CoLA, SST2, MRPC, QQP, STSB, MNLI, QNLI, RTE, WNLI, AX };

/// All tasks in the order above.
const std::vector<GlueTask>& all_glue_tasks();

/// Parse a task name: the HF names (cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli, ax), case-insensitive,
/// also the GLUE folder spellings (SST-2, STS-B, diagnostic). Throws distilbert::Error listing the names.
GlueTask parse_glue_task(const std::string& name);

/// HF name: "cola", "sst2", ..., "ax".
std::string glue_task_name(GlueTask task);

/// Folder name in the GLUE distribution: "CoLA", "SST-2", "MRPC", "QQP", "STS-B", "MNLI", "QNLI", "RTE",
/// "WNLI", "diagnostic".
std::string glue_dir_name(GlueTask task);

/// Label names in HF datasets order (id = position): cola [unacceptable, acceptable], sst2 [negative, positive],
/// mrpc [not_equivalent, equivalent], qqp [not_duplicate, duplicate], mnli and ax [entailment, neutral,
/// contradiction], qnli and rte [entailment, not_entailment], wnli [not_entailment, entailment]; stsb: empty.
const std::vector<std::string>& glue_label_names(GlueTask task);

/// STS-B is the only regression task (num_labels = 1).
bool glue_is_regression(GlueTask task);

/// Number of model outputs: 1 for STS-B, else the number of label names.
int glue_num_labels(GlueTask task);

/// True for the sentence-pair tasks (all but CoLA and SST-2).
bool glue_is_pair(GlueTask task);

/// Split names of a task: train, validation, test; MNLI: train, validation_matched, validation_mismatched,
/// test_matched, test_mismatched; AX: test.
std::vector<std::string> glue_splits(GlueTask task);

/// File name of a split: "train.tsv", "dev.tsv" (validation; also accepts "dev"), "test.tsv";
/// MNLI "dev_matched.tsv", ...; AX "diagnostic.tsv". Throws distilbert::Error for an unknown split.
std::string glue_split_file(GlueTask task, const std::string& split);

/// Read one GLUE TSV file of `task` (any split; the layout is recognised from its header).
ReadResult read_glue_file(GlueTask task, const std::string& path, const ReadOptions& options = {});

/// Read a split from `data_dir`, which is either the task folder (…/glue/SST-2) or the GLUE root
/// (…/glue, the task folder is then appended); AX is also found as AX.tsv. Throws distilbert::Error naming
/// the paths tried.
ReadResult read_glue_split(GlueTask task, const std::string& data_dir, const std::string& split,
                           const ReadOptions& options = {});

}  // namespace distilbert::tasks
