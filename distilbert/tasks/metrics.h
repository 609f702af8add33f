// Evaluation metrics with the semantics of the Python reference implementations:
//  * classification: accuracy, binary F1 of class 1 (sklearn f1_score defaults), Matthews correlation
//    (sklearn matthews_corrcoef, multiclass formula, 0 when the denominator is 0);
//  * correlation: Pearson r (scipy.stats.pearsonr) and Spearman rho (scipy.stats.spearmanr, average ranks
//    for ties). Both are NaN when either input is constant (scipy returns nan with a warning);
//  * GLUE: the HF `glue` metric's _compute per task, plus run_glue's combined_score;
//  * token classification: entity-level precision / recall / F1 as seqeval's default (non-strict) mode;
//  * SQuAD: v1.1 official EM / F1 (normalize_answer, max over ground truths) and v2.0 no-answer handling.
// Empty inputs and length mismatches throw distilbert::Error. Values are fractions in [0, 1] except SQuAD,
// which reports percentages as the official scripts do.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace distilbert::tasks {

// ---- classification -------------------------------------------------------------------------------------

/// Fraction of positions where predictions[i] == labels[i].
double accuracy(const std::vector<int>& predictions, const std::vector<int>& labels);

/// Binary F1 of the positive class 1: 2tp / (2tp + fp + fn); 0 when tp + fp + fn == 0 (sklearn's
/// zero_division default). All values must be 0 or 1 (sklearn raises for other labels with average='binary').
double binary_f1(const std::vector<int>& predictions, const std::vector<int>& labels);

/// Matthews correlation coefficient over any number of classes, as sklearn.metrics.matthews_corrcoef:
/// (c*s - sum_k p_k t_k) / sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2)); 0 when the denominator is 0
/// (e.g. constant predictions or constant labels).
double matthews_corrcoef(const std::vector<int>& predictions, const std::vector<int>& labels);

// ---- correlation ----------------------------------------------------------------------------------------

/// Pearson correlation coefficient; NaN when x or y is constant. Needs at least 2 values (scipy raises).
double pearson(const std::vector<double>& x, const std::vector<double>& y);

/// Ranks 1..n with ties given their average rank (scipy.stats.rankdata(method="average")).
std::vector<double> average_ranks(const std::vector<double>& values);

/// Spearman rank correlation: Pearson of the average ranks; NaN when x or y is constant.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

// ---- GLUE -----------------------------------------------------------------------------------------------

/// Metric name -> value in the order the HF glue metric returns them (then combined_score).
using MetricList = std::vector<std::pair<std::string, double>>;

/// The HF glue metric for `task` (cola, sst2, mrpc, qqp, stsb, mnli, mnli_matched, mnli_mismatched, qnli,
/// rte, wnli, hans; other names throw, as HF raises KeyError): cola -> matthews_correlation; stsb -> pearson, spearmanr; mrpc, qqp -> accuracy, f1;
/// others -> accuracy. combined_score (their mean) is appended when there is more than one, as run_glue.
/// Classification tasks need integral values (argmax ids); stsb takes the raw scores.
MetricList glue_metrics(const std::string& task, const std::vector<double>& predictions,
                        const std::vector<double>& labels);
MetricList glue_metrics(const std::string& task, const std::vector<int>& predictions, const std::vector<int>& labels);

/// The metric to keep the best checkpoint by: cola matthews_correlation; mrpc, qqp, stsb combined_score
/// (the GLUE leaderboard averages their two metrics); all others accuracy. Always greater-is-better.
std::string glue_main_metric(const std::string& task);

/// Value of `name` in a MetricList; throws distilbert::Error listing the names when absent.
double metric_value(const MetricList& metrics, const std::string& name);

// ---- token classification (seqeval) ---------------------------------------------------------------------

/// One entity: type, first and last token index in the flattened sequence (sentences joined with an "O").
struct Entity {
  std::string type;
  std::size_t begin = 0;
  std::size_t end = 0;  ///< inclusive, as seqeval
  bool operator==(const Entity& o) const { return type == o.type && begin == o.begin && end == o.end; }
  bool operator<(const Entity& o) const;
};

/// seqeval.metrics.sequence_labeling.get_entities (prefix tags B-/I-/E-/S-, O; a tag without "-TYPE" has
/// type "_"): an I- after O or after another type starts a new entity (IOB1-tolerant default mode).
std::vector<Entity> get_entities(const std::vector<std::vector<std::string>>& sequences);

struct PrfScore {
  double precision = 0, recall = 0, f1 = 0;
  std::size_t support = 0;  ///< number of true entities ("number" in the HF seqeval metric)
};

struct SeqevalResult {
  std::map<std::string, PrfScore> per_type;  ///< by entity type, sorted
  PrfScore overall;                          ///< micro average over all entities
  double accuracy = 0;                       ///< token-level accuracy (seqeval accuracy_score)
};

/// Entity-level scores as the HF `seqeval` metric (classification_report micro avg); precision / recall /
/// F1 are 0 where their denominator is 0. Each predicted sequence must match its reference length.
SeqevalResult seqeval(const std::vector<std::vector<std::string>>& predictions,
                      const std::vector<std::vector<std::string>>& references);

// ---- SQuAD ----------------------------------------------------------------------------------------------

/// Official normalize_answer: lower-case, drop ASCII punctuation, drop the articles a / an / the as whole
/// words, collapse whitespace. Works on code points of the UTF-8 input like Python 3: str.lower() (incl. the
/// Final_Sigma rule), \b and str.split() follow tables generated from Python 3.11 / Unicode 14.
std::string squad_normalize_answer(const std::string& text);

/// v1.1 exact_match_score: normalised strings equal.
bool squad_exact_match(const std::string& prediction, const std::string& ground_truth);

/// v1.1 f1_score: token F1 of the normalised bags of words; 0 when they share no token (also when both are
/// empty).
double squad_f1(const std::string& prediction, const std::string& ground_truth);

/// v2.0 compute_f1: as v1.1 except that when either side normalises to no tokens the score is 1 if both do,
/// else 0.
double squad_v2_f1(const std::string& prediction, const std::string& ground_truth);

struct SquadScores {
  double exact_match = 0;  ///< percent
  double f1 = 0;           ///< percent
  std::size_t total = 0;
  // v2 only (zero for v1): the split into answerable and unanswerable questions.
  double has_ans_exact = 0, has_ans_f1 = 0, no_ans_exact = 0, no_ans_f1 = 0;
  std::size_t has_ans_total = 0, no_ans_total = 0;
};

/// v1.1 evaluate(): per question, the max over its ground truths (at least one each) of EM and F1;
/// predictions[i] answers ground_truths[i]. A question without a prediction should be passed as "".
SquadScores squad_v1_evaluate(const std::vector<std::string>& predictions,
                              const std::vector<std::vector<std::string>>& ground_truths);

/// v2.0 evaluate (no na_prob threshold): ground truths that normalise to "" are dropped; a question left with
/// none is unanswerable and its only correct answer is "" (EM = F1 = 1 iff the prediction normalises to "").
SquadScores squad_v2_evaluate(const std::vector<std::string>& predictions,
                              const std::vector<std::vector<std::string>>& ground_truths);

}  // namespace distilbert::tasks
