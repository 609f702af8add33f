// Teacher, distilled student and control over seeds; see distill_comparison.h.
#include "distilbert/report/distill_comparison.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "distilbert/core/error.h"
#include "distilbert/report/run_report.h"

namespace distilbert::report {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const char* const kModels[] = {"teacher", "student", "control", "control_kd"};

std::string label(const std::string& model) {
  if (model == "teacher") return "teacher (BERT)";
  if (model == "student") return "distilled student";
  if (model == "control") return "control student (no teacher)";
  return "control student + task-specific distillation";
}

// How a fine-tuning run trained, from its recipe.json: "6 epochs, labels only" or "3 epochs, 0.9 x soft targets of
// the fine-tuned teacher + 0.1 x labels".
std::string finetuning(const json& recipe) {
  std::ostringstream o;
  const json trainer = recipe.value("trainer", json::object());
  if (trainer.value("max_steps", int64_t{0}) > 0) o << trainer["max_steps"].get<int64_t>() << " steps";
  else o << trainer.value("epochs", int64_t{0}) << " epochs";
  const json kd = recipe.value("distill", json::object());
  if (kd.value("teacher", std::string()).empty()) return o.str() + ", labels only";
  o << ", " << kd.value("alpha_ce", 0.5) << " x soft targets of the fine-tuned teacher + " << kd.value("alpha_task", 0.5)
    << " x labels";
  return o.str();
}

// (seed, score) of one fine-tuning folder; `how` gets its finetuning() description.
std::pair<int, double> run_score(const fs::path& dir, const std::string& metric, std::string& how) {
  const json res = read_json_file((dir / "eval_results.json").string());
  DISTILBERT_CHECK(res.contains(metric) && res[metric].is_number(), "'", (dir / "eval_results.json").string(),
                   "': key '", metric, "': expected a number, found ",
                   res.contains(metric) ? res[metric].dump() : "nothing");
  const json recipe = read_json_file((dir / "recipe.json").string());
  DISTILBERT_CHECK(recipe.contains("seed") && recipe["seed"].is_number_integer(), "'", (dir / "recipe.json").string(),
                   "': key 'seed': expected an integer, found ",
                   recipe.contains("seed") ? recipe["seed"].dump() : "nothing");
  how = finetuning(recipe);
  return {recipe["seed"].get<int>(), res[metric].get<double>()};
}

void summarise(SeedScores& s) {
  std::sort(s.seeds.begin(), s.seeds.end());
  double sum = 0;
  s.min = s.max = s.seeds.front().second;
  for (const auto& [seed, v] : s.seeds) {
    sum += v;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
  }
  const double n = static_cast<double>(s.seeds.size());
  s.mean = sum / n;
  double ss = 0;
  for (const auto& [seed, v] : s.seeds) ss += (v - s.mean) * (v - s.mean);
  s.sd = s.seeds.size() > 1 ? std::sqrt(ss / (n - 1)) : 0;
}

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", 100 * v);
  return buf;
}

}  // namespace

const SeedScores* DistillComparison::find(const std::string& model) const {
  for (const auto& m : models)
    if (m.model == model) return &m;
  return nullptr;
}

std::optional<DistillComparison> read_distill_comparison(const fs::path& run, const std::string& metric) {
  if (!fs::exists(run / "finetune_control" / "eval_results.json")) return std::nullopt;
  DistillComparison c;
  c.metric = metric;
  for (const std::string model : kModels) {
    SeedScores s;
    s.model = model;
    const std::string first = "finetune_" + model, more = first + "_seed";
    for (const auto& entry : fs::directory_iterator(run)) {
      const std::string name = entry.path().filename().string();
      if (name == first || name.rfind(more, 0) == 0) s.seeds.push_back(run_score(entry.path(), metric, s.finetuning));
    }
    if (s.seeds.empty()) continue;
    summarise(s);
    c.models.push_back(std::move(s));
  }
  return c;
}

bool clearly_above(const SeedScores& a, const SeedScores& b) { return a.min > b.max; }

std::string comparison_markdown(const DistillComparison& c) {
  std::ostringstream md;
  const SeedScores* teacher = c.find("teacher");
  md << "| dev " << c.metric << " (%) | mean ± sd | range | per seed | of the teacher's | fine-tuning |\n"
     << "|---|---|---|---|---|---|\n";
  for (const auto& m : c.models) {
    md << "| " << label(m.model) << " | " << pct(m.mean) << " ± " << pct(m.sd) << " | " << pct(m.min) << "–"
       << pct(m.max) << " | ";
    for (size_t i = 0; i < m.seeds.size(); ++i)
      md << (i ? ", " : "") << pct(m.seeds[i].second) << " (seed " << m.seeds[i].first << ")";
    md << " | " << (teacher ? pct(m.mean / teacher->mean) + "%" : std::string("n/a")) << " | " << m.finetuning
       << " |\n";
  }
  const SeedScores *student = c.find("student"), *control = c.find("control");
  if (teacher && student && control) {
    auto verdict = [](const SeedScores& a, const SeedScores& b, const std::string& what) {
      char buf[160];
      std::snprintf(buf, sizeof(buf), "%s: %+.1f points (%s)", what.c_str(), 100 * (a.mean - b.mean),
                    clearly_above(a, b) ? "every seed of the first above every seed of the second"
                                        : "the seeds' ranges overlap or are reversed");
      return std::string(buf);
    };
    md << "\n" << verdict(*teacher, *student, "Teacher − distilled student") << "; "
       << verdict(*student, *control, "distilled student − control") << ". ";
    if (const SeedScores* control_kd = c.find("control_kd"))
      md << "What general distillation adds to the fine-tuning stage's: "
         << verdict(*student, *control_kd, "distilled student − control with task-specific distillation") << ". ";
  }
  md << "The students share their fine-tuning seeds and steps; a score is the best dev " << c.metric
     << " over the run's evaluations.\n";
  return md.str();
}

BarChart comparison_chart(const DistillComparison& c) {
  BarChart b;
  b.title = "Dev " + c.metric + " per fine-tuning seed";
  b.y_label = c.metric + " (%)";
  b.y_max = 100;
  size_t seeds = 0;
  for (const auto& m : c.models) {
    b.categories.push_back(label(m.model));
    seeds = std::max(seeds, m.seeds.size());
  }
  for (size_t i = 0; i < seeds; ++i) {
    BarGroup g;
    for (const auto& m : c.models) g.values.push_back(i < m.seeds.size() ? 100 * m.seeds[i].second : NAN);
    g.name = "seed " + std::to_string(c.models.front().seeds[std::min(i, c.models.front().seeds.size() - 1)].first);
    g.color = palette(i);
    b.groups.push_back(std::move(g));
  }
  return b;
}

json comparison_json(const DistillComparison& c) {
  json out = {{"metric", c.metric}};
  for (const auto& m : c.models) {
    json seeds = json::array();
    for (const auto& [seed, v] : m.seeds) seeds.push_back({{"seed", seed}, {c.metric, v}});
    out[m.model] = {{"mean", m.mean}, {"sd", m.sd}, {"min", m.min}, {"max", m.max}, {"seeds", seeds}};
  }
  for (const auto& m : c.models) out[m.model]["finetuning"] = m.finetuning;
  const SeedScores *t = c.find("teacher"), *s = c.find("student"), *k = c.find("control");
  if (t && s && k)
    out["ordering_holds"] = clearly_above(*t, *s) && clearly_above(*s, *k);  // teacher > distilled > control
  return out;
}

}  // namespace distilbert::report
