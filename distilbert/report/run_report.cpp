// The main job's report; see run_report.h.
#include "distilbert/report/run_report.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <tuple>

#include "distilbert/core/error.h"
#include "distilbert/report/distill_comparison.h"
#include "distilbert/report/svg_plot.h"
#include "distilbert/core/json_error.h"

namespace distilbert::report {

namespace fs = std::filesystem;
using json = nlohmann::json;

const MetricSeries* RunMetrics::find(const std::string& split, const std::string& key) const {
  const auto s = splits.find(split);
  if (s == splits.end()) return nullptr;
  const auto k = s->second.find(key);
  return k == s->second.end() ? nullptr : &k->second;
}

RunMetrics read_metrics_jsonl(const std::string& path) {
  std::ifstream in(path);
  DISTILBERT_CHECK(in.good(), "cannot read metrics file '", path, "'");
  RunMetrics m;
  std::string line;
  for (size_t no = 1; std::getline(in, line); ++no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json rec;
    try {
      rec = json::parse(line);
    } catch (const json::exception& e) {
      fail(path, ":", no, ": expected one JSON object per line, found invalid JSON (", json_error_text(e), ")");
    }
    DISTILBERT_CHECK(rec.is_object(), path, ":", no, ": expected a JSON object, found ", rec.type_name());
    DISTILBERT_CHECK(rec.contains("step") && rec["step"].is_number(), path, ":", no,
                     ": key 'step': expected a number, found ", rec.contains("step") ? rec["step"].dump() : "nothing");
    const double step = rec["step"].get<double>();
    const std::string split = rec.contains("split") && rec["split"].is_string() ? rec["split"].get<std::string>()
                                                                                  : "train";
    auto& keys = m.splits[split];
    for (const auto& [k, v] : rec.items()) {
      if (k == "step" || !v.is_number()) continue;
      keys[k].step.push_back(step);
      keys[k].value.push_back(v.get<double>());
    }
    ++m.records;
  }
  return m;
}

std::vector<std::pair<std::string, std::string>> read_key_value_tsv(const std::string& path) {
  std::ifstream in(path);
  DISTILBERT_CHECK(in.good(), "cannot read '", path, "'");
  std::vector<std::pair<std::string, std::string>> out;
  std::string line;
  for (size_t no = 1; std::getline(in, line); ++no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto tab = line.find('\t');
    DISTILBERT_CHECK(tab != std::string::npos, path, ":", no, ": expected 'key<TAB>value', found '", line, "'");
    std::string k = line.substr(0, tab), v = line.substr(tab + 1);
    if (no == 1 && ((k == "key" && v == "value") || (k == "stage" && v == "seconds"))) continue;
    out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  DISTILBERT_CHECK(in.good(), "cannot read '", path, "'");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    fail("'", path, "': invalid JSON (", json_error_text(e), ")");
  }
}

namespace {

std::optional<json> read_json_if(const fs::path& p) {
  if (!fs::exists(p)) return std::nullopt;
  return read_json_file(p.string());
}

std::optional<RunMetrics> metrics_if(const fs::path& dir) {
  const fs::path p = dir / "metrics.jsonl";
  if (!fs::exists(p)) return std::nullopt;
  return read_metrics_jsonl(p.string());
}

std::string fmt(double v, int decimals) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string thousands(double v) {
  if (!std::isfinite(v)) return "n/a";
  std::string s = std::to_string(static_cast<long long>(std::llround(v)));
  for (int i = static_cast<int>(s.size()) - 3; i > 0 && s[static_cast<size_t>(i) - 1] != '-'; i -= 3)
    s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string duration(double s) {
  if (!std::isfinite(s)) return "n/a";
  if (s < 120) return fmt(s, 1) + " s";
  return fmt(s / 60, 1) + " min";
}

double number_at(const std::optional<json>& j, const std::string& key) {
  if (!j || !j->contains(key) || !(*j)[key].is_number()) return NAN;
  return (*j)[key].get<double>();
}

Series series_of(const MetricSeries& m, const std::string& name) {
  Series s;
  s.name = name;
  s.x = m.step;
  s.y = m.value;
  return s;
}

}  // namespace

ReportResult write_run_report(const std::string& run_dir, const std::string& out_dir) {
  const fs::path run(run_dir), out(out_dir);
  DISTILBERT_CHECK(fs::is_directory(run), "run folder '", run_dir, "' does not exist");
  const auto ft_teacher = read_json_if(run / "finetune_teacher" / "eval_results.json");
  const auto ft_student = read_json_if(run / "finetune_student" / "eval_results.json");
  DISTILBERT_CHECK(
      ft_teacher || ft_student, "run folder '", run_dir,
      "': expected finetune_teacher/eval_results.json or finetune_student/eval_results.json, found neither "
      "(run scripts/pipeline.sh first)");
  std::error_code ec;
  fs::create_directories(out, ec);
  DISTILBERT_CHECK(!ec, "cannot create report folder '", out_dir, "': ", ec.message());

  ReportResult result;
  auto write = [&](const std::string& name, const std::string& text) {
    const fs::path p = out / name;
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    DISTILBERT_CHECK(f.good(), "cannot write '", p.string(), "'");
    result.files.push_back(name);
  };

  // ---- inputs ----------------------------------------------------------------------------------------------------
  std::map<std::string, std::string> info;
  if (fs::exists(run / "run_info.tsv"))
    for (auto& [k, v] : read_key_value_tsv((run / "run_info.tsv").string())) info[k] = v;
  std::vector<std::pair<std::string, std::string>> timings;
  std::map<std::string, double> stage_s;
  if (fs::exists(run / "timings.tsv")) timings = read_key_value_tsv((run / "timings.tsv").string());
  for (const auto& [k, v] : timings) {
    try {
      stage_s[k] += std::stod(v);
    } catch (const std::exception&) {
      fail((run / "timings.tsv").string(), ": stage '", k, "': expected seconds, found '", v, "'");
    }
  }
  auto stage = [&](const std::string& k) { return stage_s.count(k) ? stage_s[k] : NAN; };
  struct Speed {
    double examples = NAN, seconds = NAN, per_s = NAN, threads = NAN;
  };
  std::map<std::string, Speed> speed;
  if (fs::exists(run / "speed.tsv")) {
    std::ifstream in(run / "speed.tsv");
    std::string line;
    for (size_t no = 1; std::getline(in, line); ++no) {
      if (line.empty() || line.rfind("model\t", 0) == 0) continue;
      std::istringstream ls(line);
      std::string name;
      Speed s;
      DISTILBERT_CHECK(
          static_cast<bool>(std::getline(ls, name, '\t') >> s.examples >> s.seconds >> s.per_s >> s.threads),
          (run / "speed.tsv").string(), ":", no,
          ": expected model<TAB>examples<TAB>seconds<TAB>examples_per_s<TAB>threads, found '", line, "'");
      speed[name] = s;
    }
  }
  const auto eval_t = read_json_if(run / "eval_teacher.json"), eval_s = read_json_if(run / "eval_student.json");
  const auto info_t = read_json_if(run / "info_teacher.json"), info_s = read_json_if(run / "info_student.json");
  const auto onnx = read_json_if(run / "onnx_check.json");
  const auto m_pre = metrics_if(run / "pretrain"), m_dist = metrics_if(run / "distill");
  const auto m_ft_t = metrics_if(run / "finetune_teacher"), m_ft_s = metrics_if(run / "finetune_student");
  const auto m_ft_c = metrics_if(run / "finetune_control");

  std::string metric = "accuracy";
  for (const auto* r : {&ft_teacher, &ft_student})
    if (*r && (*r)->contains("main_metric")) metric = (**r)["main_metric"].get<std::string>();
  // The evaluation of the kept model; the fine-tuning run's own best number when evaluate was not run.
  const double acc_t = eval_t ? number_at(eval_t, metric) : number_at(ft_teacher, metric);
  const double acc_s = eval_s ? number_at(eval_s, metric) : number_at(ft_student, metric);
  const double baseline = info.count("majority_baseline") ? std::stod(info["majority_baseline"]) : NAN;
  const double params_t = number_at(info_t, "parameters"), params_s = number_at(info_s, "parameters");
  const double bytes_t = number_at(info_t, "folder_bytes"), bytes_s = number_at(info_s, "folder_bytes");
  const double layers_t = number_at(info_t, "layers"), layers_s = number_at(info_s, "layers");
  const double train_t = stage("pretrain") + stage("finetune_teacher");
  const double train_s = stage("init_student") + stage("distill") + stage("finetune_student");
  const Speed sp_t = speed.count("teacher") ? speed["teacher"] : Speed{};
  const Speed sp_s = speed.count("student") ? speed["student"] : Speed{};

  json& sum = result.summary;
  sum["metric"] = metric;
  sum["run_info"] = info;
  sum["majority_baseline"] = std::isfinite(baseline) ? json(baseline) : json(nullptr);
  auto side = [&](double acc, double params, double bytes, double layers, const Speed& sp, double train) {
    auto num_or_null = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
    return json{{metric, num_or_null(acc)},          {"parameters", num_or_null(params)},
                {"folder_bytes", num_or_null(bytes)}, {"layers", num_or_null(layers)},
                {"examples_per_s", num_or_null(sp.per_s)}, {"threads", num_or_null(sp.threads)},
                {"train_seconds", num_or_null(train)}};
  };
  sum["teacher"] = side(acc_t, params_t, bytes_t, layers_t, sp_t, train_t);
  sum["student"] = side(acc_s, params_s, bytes_s, layers_s, sp_s, train_s);
  sum["onnx_check"] = onnx ? *onnx : json(nullptr);
  sum["timings"] = stage_s;
  const auto comparison = read_distill_comparison(run, metric);
  if (comparison) sum["distillation"] = comparison_json(*comparison);

  // ---- plots -----------------------------------------------------------------------------------------------------
  std::vector<std::pair<std::string, std::string>> plots;  // file, caption
  Layout wide;
  if (comparison) {
    write("distillation.svg", render_bar_chart(comparison_chart(*comparison), wide));
    plots.emplace_back("distillation.svg", "Teacher, distilled student and control student, per fine-tuning seed");
  }
  if (m_pre) {
    LineChart c;
    c.title = "Teacher pretraining: masked-LM loss";
    c.x_label = "optimizer step";
    c.y_label = "loss";
    if (auto* s = m_pre->find("train", "loss_mlm")) c.series.push_back(series_of(*s, "MLM cross-entropy"));
    else if (auto* s2 = m_pre->find("train", "loss")) c.series.push_back(series_of(*s2, "loss"));
    if (!c.series.empty()) {
      write("pretrain_loss.svg", render_line_chart(c, wide));
      plots.emplace_back("pretrain_loss.svg", "Teacher MLM pretraining loss per logged step");
    }
  }
  if (m_dist) {
    std::vector<LineChart> panels;
    const std::vector<std::pair<std::string, std::string>> terms = {
        {"loss", "total (weighted sum)"},        {"loss_ce", "soft-target KL (T^2-scaled)"},
        {"loss_mlm", "MLM cross-entropy"},       {"loss_cos", "hidden-state cosine (1 - cos)"},
        {"loss_mse", "logit MSE"},               {"loss_layer_cos", "layer-pair cosine"},
        {"loss_layer_mse", "layer-pair MSE"}};
    for (const auto& [key, name] : terms) {
      const auto* s = m_dist->find("train", key);
      if (!s) continue;
      bool nonzero = false;
      for (double v : s->value) nonzero |= std::isfinite(v) && v != 0;
      if (!nonzero && key != "loss") continue;
      LineChart c;
      c.title = key + ": " + name;
      c.x_label = "optimizer step";
      c.series.push_back(series_of(*s, key));
      c.series.back().color = palette(panels.size());
      panels.push_back(std::move(c));
    }
    if (!panels.empty()) {
      Layout panel;
      panel.width = 460;
      panel.height = 300;
      write("distill_losses.svg", render_line_chart_grid(panels, 2, panel, "Distillation: every loss term"));
      plots.emplace_back("distill_losses.svg", "Distillation loss terms (each on its own scale)");
    }
  }
  for (const auto& [key, file, title, ylabel] :
       {std::tuple<std::string, std::string, std::string, std::string>{"lr", "learning_rate.svg", "Learning rate",
                                                                        "learning rate"},
        {"tokens_per_s", "tokens_per_s.svg", "Training throughput", "tokens / s"}}) {
    LineChart c;
    c.title = title;
    c.x_label = "optimizer step";
    c.y_label = ylabel;
    c.y_from_zero = true;
    if (m_pre)
      if (auto* s = m_pre->find("train", key)) c.series.push_back(series_of(*s, "teacher pretraining"));
    if (m_dist)
      if (auto* s = m_dist->find("train", key)) c.series.push_back(series_of(*s, "distillation"));
    if (c.series.empty()) continue;
    write(file, render_line_chart(c, wide));
    plots.emplace_back(file, title + " (pretraining and distillation)");
  }
  if (m_ft_t || m_ft_s || m_ft_c) {
    LineChart loss, acc;
    loss.title = "Fine-tuning: training loss";
    loss.x_label = acc.x_label = "optimizer step";
    loss.y_from_zero = true;
    acc.title = "Fine-tuning: dev " + metric;
    acc.y_label = metric;
    for (const auto& [m, name] : {std::pair<const std::optional<RunMetrics>*, std::string>{&m_ft_t, "teacher"},
                                  {&m_ft_s, "student"}, {&m_ft_c, "control"}}) {
      if (!*m) continue;
      if (auto* s = (*m)->find("train", "loss")) loss.series.push_back(series_of(*s, name));
      if (auto* s = (*m)->find("eval", metric)) {
        acc.series.push_back(series_of(*s, name));
        acc.series.back().markers = true;
      }
    }
    if (std::isfinite(baseline)) acc.hlines.emplace_back("majority class", baseline);
    std::vector<LineChart> panels;
    if (!loss.series.empty()) panels.push_back(loss);
    if (!acc.series.empty()) panels.push_back(acc);
    if (!panels.empty()) {
      Layout panel;
      panel.width = 520;
      panel.height = 320;
      write("finetune.svg", render_line_chart_grid(panels, 2, panel));
      plots.emplace_back("finetune.svg", "Fine-tuning loss and dev " + metric + " (first seed)");
    }
  }
  {
    BarChart b;
    b.title = "Dev " + metric + " (%)";
    b.y_label = metric + " (%)";
    b.y_max = 100;
    BarGroup g;
    g.name = metric;
    auto add = [&](const std::string& cat, double v) {
      if (!std::isfinite(v)) return;
      b.categories.push_back(cat);
      g.values.push_back(100 * v);
    };
    add("teacher (BERT)", acc_t);
    add("student (DistilBERT)", acc_s);
    if (onnx && onnx->value("ok", false)) add("student, ONNX Runtime", number_at(onnx, "accuracy"));
    if (onnx && onnx->value("ok", false) && onnx->contains("quantized"))
      add("student, ORT int8", number_at((*onnx)["quantized"], "accuracy"));
    b.groups.push_back(g);
    if (std::isfinite(baseline)) b.hlines.emplace_back("majority class", 100 * baseline);
    if (!b.categories.empty()) {
      write("accuracy.svg", render_bar_chart(b, wide));
      plots.emplace_back("accuracy.svg", "Dev " + metric + ": teacher vs student (and the exported student)");
    }
  }
  if (std::isfinite(sp_t.per_s) || std::isfinite(sp_s.per_s)) {
    BarChart b;
    b.title = "Inference speed, batch size 1";
    b.y_label = "examples / s";
    BarGroup g;
    g.name = "examples/s";
    for (const auto& [name, sp] : {std::pair<std::string, Speed>{"teacher (BERT)", sp_t}, {"student (DistilBERT)", sp_s}})
      if (std::isfinite(sp.per_s)) {
        b.categories.push_back(name);
        g.values.push_back(sp.per_s);
      }
    b.groups.push_back(g);
    write("speed.svg", render_bar_chart(b, wide));
    plots.emplace_back("speed.svg", "Inference speed (LibTorch, batch size 1)");
  }

  // ---- Markdown --------------------------------------------------------------------------------------------------
  std::ostringstream md;
  md << "# distilbert main job report\n\n";
  if (comparison) md << "## Does distillation help?\n\n" << comparison_markdown(*comparison) << "\n";
  if (!info.empty()) {
    md << "| run | |\n|---|---|\n";
    for (const auto& [k, v] : info) md << "| " << k << " | " << v << " |\n";
    md << "\n";
  }
  auto ratio = [](double s, double t, int d, const std::string& unit) {
    return std::isfinite(s) && std::isfinite(t) && t != 0 ? fmt(s / t, d) + unit : std::string("");
  };
  md << "| | teacher (BERT) | student (DistilBERT) | student / teacher |\n|---|---|---|---|\n"
     << "| layers | " << fmt(layers_t, 0) << " | " << fmt(layers_s, 0) << " | " << ratio(layers_s, layers_t, 2, "")
     << " |\n"
     << "| parameters | " << thousands(params_t) << " | " << thousands(params_s) << " | "
     << ratio(100 * params_s, params_t, 1, "%") << " |\n"
     << "| size on disk (fine-tuned folder) | " << fmt(bytes_t / 1048576.0, 2) << " MiB | "
     << fmt(bytes_s / 1048576.0, 2) << " MiB | " << ratio(100 * bytes_s, bytes_t, 1, "%") << " |\n"
     << "| dev " << metric << " | " << fmt(100 * acc_t, 2) << "% | " << fmt(100 * acc_s, 2) << "% | "
     << ratio(100 * acc_s, acc_t, 1, "% of the teacher's") << " |\n"
     << "| inference, batch size 1, " << fmt(sp_t.threads, 0) << " thread(s) | " << fmt(sp_t.per_s, 1)
     << " examples/s | " << fmt(sp_s.per_s, 1) << " examples/s | " << ratio(sp_s.per_s, sp_t.per_s, 2, "x faster")
     << " |\n"
     << "| training time | " << duration(train_t) << " (pretraining + fine-tuning) | " << duration(train_s)
     << " (init + distillation + fine-tuning) | |\n\n";
  if (std::isfinite(baseline))
    md << "Majority-class baseline on dev: " << fmt(100 * baseline, 2) << "%. The paper's DistilBERT keeps 97% of "
       << "BERT-base's GLUE score with 60% of the parameters and runs 60% faster.\n\n";
  md << "**ONNX export.** ";
  if (!onnx) {
    md << "not checked (no onnx_check.json).\n\n";
  } else if (!onnx->value("ok", false)) {
    md << "not checked in ONNX Runtime: " << onnx->value("skipped", std::string("unknown reason")) << "\n\n";
  } else {
    md << "The student's `onnx/model.onnx` run in " << onnx->value("runtime", std::string("ONNX Runtime")) << " on "
       << thousands(number_at(onnx, "examples")) << " dev examples: " << metric << " "
       << fmt(100 * number_at(onnx, "accuracy"), 2) << "%, same prediction as LibTorch for "
       << fmt(100 * number_at(onnx, "agreement_with_libtorch"), 2) << "%, largest probability difference "
       << fmt(number_at(onnx, "max_abs_prob_diff"), 6) << ".";
    if (onnx->contains("quantized"))
      md << " The dynamic-int8 model: " << metric << " " << fmt(100 * number_at((*onnx)["quantized"], "accuracy"), 2)
         << "%, agreement " << fmt(100 * number_at((*onnx)["quantized"], "agreement_with_libtorch"), 2) << "%.";
    md << "\n\n";
  }
  if (!timings.empty()) {
    md << "| stage | wall time |\n|---|---|\n";
    double total = 0;
    for (const auto& [k, v] : stage_s) total += v;
    for (const auto& [k, v] : timings) md << "| " << k << " | " << duration(std::stod(v)) << " |\n";
    md << "| **total** | " << duration(total) << " |\n\n";
    sum["total_seconds"] = total;
  }
  for (const auto& [file, caption] : plots) md << "### " << caption << "\n\n![" << caption << "](" << file << ")\n\n";
  write("README.md", md.str());
  write("summary.json", sum.dump(2) + "\n");
  return result;
}

}  // namespace distilbert::report
