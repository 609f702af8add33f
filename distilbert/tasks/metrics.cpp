// Classification, correlation, GLUE and seqeval metrics (SQuAD is in squad_metrics.cpp). Each follows the
// Python reference named in metrics.h, including its zero-denominator conventions.
#include "distilbert/tasks/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <set>
#include <tuple>

#include "distilbert/core/error.h"

namespace distilbert::tasks {

namespace {

template <typename A, typename B>
void check_pair(const char* metric, const std::vector<A>& predictions, const std::vector<B>& labels) {
  DISTILBERT_CHECK(!predictions.empty(), metric, ": expected at least one prediction, found an empty input");
  DISTILBERT_CHECK(predictions.size() == labels.size(), metric, ": expected as many labels as predictions, found ",
                   predictions.size(), " predictions and ", labels.size(), " labels");
}

bool is_constant(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [&](double x) { return x == v[0]; });
}

bool has_nan(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double x) { return std::isnan(x); });
}

std::vector<int> to_ids(const std::string& task, const char* what, const std::vector<double>& values) {
  std::vector<int> ids;
  ids.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    DISTILBERT_CHECK(std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e9, "glue metric for ", task, ": ", what,
                     "[", i, "]: expected a class id (an integer; take the argmax of the logits), found ", v);
    ids.push_back(static_cast<int>(v));
  }
  return ids;
}

const std::vector<std::string>& glue_metric_tasks() {
  static const std::vector<std::string> names = {"sst2", "mnli", "mnli_mismatched", "mnli_matched", "cola", "stsb",
                                                 "mrpc", "qqp",  "qnli",            "rte",          "wnli", "hans"};
  return names;
}

void check_glue_task(const std::string& task) {
  const auto& names = glue_metric_tasks();
  if (std::find(names.begin(), names.end(), task) != names.end()) return;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  fail("unknown GLUE metric task '", task, "': expected one of ", list);
}

/// seqeval's split of a prefix-style tag into (tag letter, type).
std::pair<char, std::string> split_tag(const std::string& chunk) {
  DISTILBERT_CHECK(!chunk.empty(), "seqeval: expected a tag such as B-PER, I-PER or O, found an empty string");
  const std::string rest = chunk.substr(1);
  const auto dash = rest.find('-');
  std::string type = dash == std::string::npos ? rest : rest.substr(dash + 1);
  if (type.empty()) type = "_";
  return {chunk[0], type};
}

bool end_of_chunk(char prev_tag, char tag, const std::string& prev_type, const std::string& type) {
  if (prev_tag == 'E' || prev_tag == 'S') return true;
  if ((prev_tag == 'B' || prev_tag == 'I') && (tag == 'B' || tag == 'S' || tag == 'O')) return true;
  return prev_tag != 'O' && prev_tag != '.' && prev_type != type;
}

bool start_of_chunk(char prev_tag, char tag, const std::string& prev_type, const std::string& type) {
  if (tag == 'B' || tag == 'S') return true;
  if ((prev_tag == 'E' || prev_tag == 'S' || prev_tag == 'O') && (tag == 'E' || tag == 'I')) return true;
  return tag != 'O' && tag != '.' && prev_type != type;
}

PrfScore prf(std::size_t tp, std::size_t n_pred, std::size_t n_true) {
  PrfScore s;
  s.precision = n_pred ? static_cast<double>(tp) / static_cast<double>(n_pred) : 0.0;
  s.recall = n_true ? static_cast<double>(tp) / static_cast<double>(n_true) : 0.0;
  const double denom = s.precision + s.recall;
  s.f1 = denom > 0 ? 2 * s.precision * s.recall / denom : 0.0;
  s.support = n_true;
  return s;
}

}  // namespace

// ---- classification -------------------------------------------------------------------------------------

double accuracy(const std::vector<int>& predictions, const std::vector<int>& labels) {
  check_pair("accuracy", predictions, labels);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) correct += predictions[i] == labels[i];
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

double binary_f1(const std::vector<int>& predictions, const std::vector<int>& labels) {
  check_pair("binary F1", predictions, labels);
  std::size_t tp = 0, fp = 0, fn = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const int p = predictions[i], t = labels[i];
    DISTILBERT_CHECK((p == 0 || p == 1) && (t == 0 || t == 1),
                     "binary F1: expected labels and predictions in {0, 1}, found ", "prediction ", p, " and label ", t,
                     " at position ", i, " (use accuracy or a multiclass average instead)");
    tp += p == 1 && t == 1;
    fp += p == 1 && t == 0;
    fn += p == 0 && t == 1;
  }
  const std::size_t denom = 2 * tp + fp + fn;
  return denom ? 2.0 * static_cast<double>(tp) / static_cast<double>(denom) : 0.0;
}

double matthews_corrcoef(const std::vector<int>& predictions, const std::vector<int>& labels) {
  check_pair("Matthews correlation", predictions, labels);
  std::set<int> classes(labels.begin(), labels.end());
  classes.insert(predictions.begin(), predictions.end());
  const std::vector<int> cls(classes.begin(), classes.end());
  auto index = [&](int c) { return std::lower_bound(cls.begin(), cls.end(), c) - cls.begin(); };
  std::vector<std::int64_t> t_sum(cls.size(), 0), p_sum(cls.size(), 0);
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    ++t_sum[static_cast<std::size_t>(index(labels[i]))];
    ++p_sum[static_cast<std::size_t>(index(predictions[i]))];
    correct += predictions[i] == labels[i];
  }
  const auto s = static_cast<std::int64_t>(labels.size());
  std::int64_t tp = 0, pp = 0, tt = 0;
  for (std::size_t k = 0; k < cls.size(); ++k) {
    tp += t_sum[k] * p_sum[k];
    pp += p_sum[k] * p_sum[k];
    tt += t_sum[k] * t_sum[k];
  }
  const double cov_ytyp = static_cast<double>(correct * s - tp);
  const double cov_ypyp = static_cast<double>(s * s - pp);
  const double cov_ytyt = static_cast<double>(s * s - tt);
  if (cov_ypyp == 0 || cov_ytyt == 0) return 0.0;
  return cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp);
}

// ---- correlation ----------------------------------------------------------------------------------------

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair("Pearson correlation", x, y);
  DISTILBERT_CHECK(x.size() >= 2, "Pearson correlation: expected at least 2 values, found ", x.size());
  if (has_nan(x) || has_nan(y) || is_constant(x) || is_constant(y)) return std::numeric_limits<double>::quiet_NaN();
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  const double nx = std::sqrt(sxx), ny = std::sqrt(syy);
  double r = 0;
  for (std::size_t i = 0; i < x.size(); ++i) r += ((x[i] - mx) / nx) * ((y[i] - my) / ny);
  return std::max(-1.0, std::min(1.0, r));
}

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j + 1)) / 2.0;  // mean of ranks i+1..j+1
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair("Spearman correlation", x, y);
  DISTILBERT_CHECK(x.size() >= 2, "Spearman correlation: expected at least 2 values, found ", x.size());
  if (has_nan(x) || has_nan(y)) return std::numeric_limits<double>::quiet_NaN();
  return pearson(average_ranks(x), average_ranks(y));
}

// ---- GLUE -----------------------------------------------------------------------------------------------

MetricList glue_metrics(const std::string& task, const std::vector<double>& predictions,
                        const std::vector<double>& labels) {
  check_glue_task(task);
  check_pair(("glue metric for " + task).c_str(), predictions, labels);
  MetricList out;
  if (task == "stsb") {
    out = {{"pearson", pearson(predictions, labels)}, {"spearmanr", spearman(predictions, labels)}};
  } else {
    const auto p = to_ids(task, "predictions", predictions);
    const auto l = to_ids(task, "labels", labels);
    if (task == "cola") {
      out = {{"matthews_correlation", matthews_corrcoef(p, l)}};
    } else if (task == "mrpc" || task == "qqp") {
      out = {{"accuracy", accuracy(p, l)}, {"f1", binary_f1(p, l)}};
    } else {
      out = {{"accuracy", accuracy(p, l)}};
    }
  }
  if (out.size() > 1) {
    double sum = 0;
    for (const auto& kv : out) sum += kv.second;
    out.emplace_back("combined_score", sum / static_cast<double>(out.size()));
  }
  return out;
}

MetricList glue_metrics(const std::string& task, const std::vector<int>& predictions, const std::vector<int>& labels) {
  return glue_metrics(task, std::vector<double>(predictions.begin(), predictions.end()),
                      std::vector<double>(labels.begin(), labels.end()));
}

std::string glue_main_metric(const std::string& task) {
  check_glue_task(task);
  if (task == "cola") return "matthews_correlation";
  if (task == "mrpc" || task == "qqp" || task == "stsb") return "combined_score";
  return "accuracy";
}

double metric_value(const MetricList& metrics, const std::string& name) {
  std::string names;
  for (const auto& kv : metrics) {
    if (kv.first == name) return kv.second;
    names += (names.empty() ? "" : ", ") + kv.first;
  }
  fail("metric '", name, "' not found: expected one of ", names);
}

// ---- seqeval --------------------------------------------------------------------------------------------

bool Entity::operator<(const Entity& o) const {
  return std::tie(type, begin, end) < std::tie(o.type, o.begin, o.end);
}

std::vector<Entity> get_entities(const std::vector<std::vector<std::string>>& sequences) {
  std::vector<std::string> seq;
  for (const auto& sentence : sequences) {
    seq.insert(seq.end(), sentence.begin(), sentence.end());
    seq.emplace_back("O");
  }
  seq.emplace_back("O");  // seqeval iterates over seq + ['O']
  std::vector<Entity> chunks;
  char prev_tag = 'O';
  std::string prev_type;
  std::size_t begin = 0;
  for (std::size_t i = 0; i < seq.size(); ++i) {
    const auto [tag, type] = split_tag(seq[i]);
    if (end_of_chunk(prev_tag, tag, prev_type, type)) chunks.push_back({prev_type, begin, i - 1});
    if (start_of_chunk(prev_tag, tag, prev_type, type)) begin = i;
    prev_tag = tag;
    prev_type = type;
  }
  return chunks;
}

SeqevalResult seqeval(const std::vector<std::vector<std::string>>& predictions,
                      const std::vector<std::vector<std::string>>& references) {
  check_pair("seqeval", predictions, references);
  std::size_t tokens = 0, correct_tokens = 0;
  for (std::size_t s = 0; s < references.size(); ++s) {
    DISTILBERT_CHECK(predictions[s].size() == references[s].size(), "seqeval: sentence ", s, ": expected ",
                     references[s].size(), " predicted tags (one per reference tag), found ", predictions[s].size());
    for (std::size_t k = 0; k < references[s].size(); ++k) correct_tokens += predictions[s][k] == references[s][k];
    tokens += references[s].size();
  }
  DISTILBERT_CHECK(tokens > 0, "seqeval: expected at least one tag, found only empty sentences");
  const auto true_entities = get_entities(references);
  const auto pred_entities = get_entities(predictions);
  const std::set<Entity> true_set(true_entities.begin(), true_entities.end());
  const std::set<Entity> pred_set(pred_entities.begin(), pred_entities.end());
  std::map<std::string, std::size_t> n_true, n_pred, n_tp;
  for (const auto& e : true_set) ++n_true[e.type];
  for (const auto& e : pred_set) {
    ++n_pred[e.type];
    if (true_set.count(e)) ++n_tp[e.type];
  }
  SeqevalResult result;
  std::set<std::string> types;
  for (const auto& kv : n_true) types.insert(kv.first);
  for (const auto& kv : n_pred) types.insert(kv.first);
  std::size_t tp = 0;
  for (const auto& t : types) {
    result.per_type[t] = prf(n_tp[t], n_pred[t], n_true[t]);
    tp += n_tp[t];
  }
  result.overall = prf(tp, pred_set.size(), true_set.size());
  result.accuracy = static_cast<double>(correct_tokens) / static_cast<double>(tokens);
  return result;
}

}  // namespace distilbert::tasks
