// Does distillation help? The main job (scripts/pipeline.sh) fine-tunes the teacher, then on the same task with the
// same seeds the distilled student (with the teacher's soft targets too: the paper's two-step DistilBERT(D)) and a
// control student: the same student initialisation trained for the same steps on the same corpus with the masked-LM
// loss alone (the paper's ablation "without L_ce and L_cos"), fine-tuned on the labels alone. This file reads their
// dev scores over the seeds and how each was fine-tuned from the run folder, and renders the table, the chart and the
// summary that lead the report (docs/RESULTS.md explains the protocol).
//
// Run folder: finetune_<model>/ is the first seed's run, finetune_<model>_seed<K>/ the others, each with
// eval_results.json (the best dev score, key = its "main_metric") and recipe.json (its "seed", epochs and distill
// block); <model> is teacher, student, control, or control_kd: the control fine-tuned with the teacher's soft targets
// as the student is, which tells how much of the student's lead general distillation makes.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "distilbert/report/svg_plot.h"

namespace distilbert::report {

struct SeedScores {
  std::string model;                          ///< teacher, student, control or control_kd
  std::string finetuning;                     ///< how it was fine-tuned: epochs, labels or soft targets
  std::vector<std::pair<int, double>> seeds;  ///< (seed, dev score), by seed
  double mean = 0, sd = 0, min = 0, max = 0;  ///< sd: sample standard deviation (0 for one seed)
};

struct DistillComparison {
  std::string metric;
  std::vector<SeedScores> models;  ///< teacher, student, control, control_kd: those with at least one run
  const SeedScores* find(const std::string& model) const;
};

/// The scores of every fine-tuning run in `run`; nullopt when there is no control run (a run folder from before the
/// comparison existed). A run folder without eval_results.json or without the metric is an Error naming it.
std::optional<DistillComparison> read_distill_comparison(const std::filesystem::path& run, const std::string& metric);

/// Whether a beats b by more than the spread of either: min(a) > max(b).
bool clearly_above(const SeedScores& a, const SeedScores& b);

/// The Markdown table (mean ± sd, range, every seed, retention) and one line on what it shows.
std::string comparison_markdown(const DistillComparison& c);

/// Bars: one group per seed, one category per model, in %.
BarChart comparison_chart(const DistillComparison& c);

nlohmann::json comparison_json(const DistillComparison& c);

}  // namespace distilbert::report
