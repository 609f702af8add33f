// The SVG plot writer and the run report: nice axes and tick labels against hand-computed ranges, point
// coordinates against the documented mapping computed by hand, well-formed XML (a small independent tag checker),
// NaN breaks, bar heights, grids, metrics.jsonl parsing and the report's numbers on a hand-made run folder.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <vector>

#include <nlohmann/json.hpp>

#include "distilbert/core/error.h"
#include "distilbert/report/distill_comparison.h"
#include "distilbert/report/run_report.h"
#include "distilbert/report/svg_plot.h"

using namespace distilbert;
using namespace distilbert::report;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// A minimal XML well-formedness check: every tag closes in order, attributes are quoted, text holds no raw '<'
// and only the five predefined entities. Returns "" when well formed, else what is wrong.
std::string xml_problem(const std::string& s) {
  std::vector<std::string> stack;
  size_t i = 0;
  bool root_seen = false;
  while (i < s.size()) {
    if (s[i] == '<') {
      if (s.compare(i, 5, "<?xml") == 0) {
        const size_t e = s.find("?>", i);
        if (e == std::string::npos) return "unterminated declaration";
        i = e + 2;
        continue;
      }
      const size_t e = s.find('>', i);
      if (e == std::string::npos) return "unterminated tag at " + std::to_string(i);
      std::string tag = s.substr(i + 1, e - i - 1);
      i = e + 1;
      if (!tag.empty() && tag[0] == '/') {
        const std::string name = tag.substr(1);
        if (stack.empty() || stack.back() != name) return "closing </" + name + "> does not match";
        stack.pop_back();
        continue;
      }
      const bool self_closing = !tag.empty() && tag.back() == '/';
      if (self_closing) tag.pop_back();
      const size_t sp = tag.find_first_of(" \n");
      const std::string name = tag.substr(0, sp);
      if (name.empty()) return "empty tag name";
      if (stack.empty()) {
        if (root_seen) return "two root elements";
        root_seen = true;
      }
      // attributes: name="value" pairs
      static const std::regex attr(R"(\s+([A-Za-z_:][-A-Za-z0-9_:.]*)="([^"<]*)\")");
      std::string rest = sp == std::string::npos ? "" : tag.substr(sp);
      std::string consumed = std::regex_replace(rest, attr, "");
      if (consumed.find_first_not_of(" \n") != std::string::npos) return "bad attributes in <" + name + ">: " + rest;
      if (!self_closing) stack.push_back(name);
    } else {
      if (s[i] == '&') {
        bool ok = false;
        for (const char* ent : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
          ok |= s.compare(i, std::strlen(ent), ent) == 0;
        if (!ok) return "raw '&' at " + std::to_string(i);
      }
      ++i;
    }
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  return root_seen ? "" : "no root element";
}

std::vector<std::string> all(const std::string& s, const std::string& re) {
  std::vector<std::string> out;
  const std::regex r(re);
  for (auto it = std::sregex_iterator(s.begin(), s.end(), r); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1].str());
  return out;
}

}  // namespace

TEST_CASE("svg: nice axes match hand-computed ranges", "[unit][report]") {
  auto a = nice_axis(0.3, 9.3);  // raw step 9/5 = 1.8 -> 2
  CHECK(a.min == 0);
  CHECK(a.max == 10);
  CHECK(a.step == 2);
  CHECK(a.ticks == std::vector<double>{0, 2, 4, 6, 8, 10});

  a = nice_axis(0.00012, 0.00098);  // step 1e-4 would need 10 ticks; 2e-4: 0 .. 1e-3, 6 ticks
  CHECK(a.min == Approx(0).margin(1e-15));
  CHECK(a.max == Approx(0.001));
  CHECK(a.step == Approx(0.0002));
  CHECK(a.ticks.size() == 6);

  a = nice_axis(5, 5);  // widened by 10% to 4.5 .. 5.5; 0.1 and 0.2 steps need too many ticks, 0.25 fits
  CHECK(a.step == 0.25);
  CHECK(a.ticks == std::vector<double>{4.5, 4.75, 5, 5.25, 5.5});

  a = nice_axis(3, 7, 6, true);  // 0 .. 7: step 1 needs 8 ticks, step 2 gives 0 .. 8
  CHECK(a.ticks == std::vector<double>{0, 2, 4, 6, 8});

  a = nice_axis(-0.35, 0.1);  // raw 0.09 -> 0.1: -0.4 .. 0.1, 6 ticks
  CHECK(a.min == Approx(-0.4));
  CHECK(a.max == Approx(0.1));
  CHECK(a.ticks.size() == 6);
  CHECK(a.ticks[4] == 0);

  CHECK_THROWS_WITH(nice_axis(0, NAN), Contains("finite"));
  CHECK_THROWS_WITH(nice_axis(0, 1, 1), Contains("max_ticks"));
}

TEST_CASE("svg: tick labels", "[unit][report]") {
  CHECK(format_tick(0.25, 0.25) == "0.25");
  CHECK(format_tick(0.5, 0.25) == "0.50");
  CHECK(format_tick(1000, 500) == "1000");
  CHECK(format_tick(0, 0.2) == "0");
  CHECK(format_tick(-0.4, 0.2) == "-0.4");
  CHECK(format_tick(0.0005, 0.0001) == "5e-4");
  CHECK(format_tick(0.0002, 0.0002) == "2e-4");
  CHECK(format_tick(2.5e6, 5e5) == "2.5e6");
  CHECK(xml_escape("a<b & \"c\">") == "a&lt;b &amp; &quot;c&quot;&gt;");
}

TEST_CASE("svg: a line chart's points are where the mapping puts them", "[unit][report]") {
  LineChart c;
  c.title = "loss <train> & \"eval\"";
  c.x_label = "step";
  c.y_label = "loss";
  Series s;
  s.name = "mlm";
  s.x = {0, 5, 10};
  s.y = {0, 2, 4};
  c.series.push_back(s);
  const Layout l;  // 640 x 360, margins 72 / 24 / 44 / 52: plot 544 x 264
  REQUIRE(l.plot_width() == 544);
  REQUIRE(l.plot_height() == 264);
  const auto [xa, ya] = line_chart_axes(c);
  CHECK(xa.ticks == std::vector<double>{0, 2, 4, 6, 8, 10});  // 0 .. 10 with at most 7 ticks: step 2
  CHECK(ya.ticks == std::vector<double>{0, 1, 2, 3, 4});      // 0 .. 4 with at most 6 ticks: step 1
  const std::string svg = render_line_chart(c, l);
  CHECK(xml_problem(svg) == "");
  const auto polylines = all(svg, R"(<polyline[^>]* points="([^"]*)\")");
  REQUIRE(polylines.size() == 1);
  // (0,0) -> (72, 44 + 264); (5,2) -> (72 + 272, 308 - 132); (10,4) -> (72 + 544, 44)
  CHECK(polylines[0] == "72,308 344,176 616,44");
  CHECK_THAT(svg, Contains("loss &lt;train&gt; &amp; &quot;eval&quot;"));
  // y tick labels 0..4 and x tick labels 0..10, each once in the axis groups.
  CHECK(all(svg, R"(text-anchor="end">([^<]*)</text>)") == std::vector<std::string>{"0", "1", "2", "3", "4"});
  CHECK(all(svg, R"(<text x="[0-9.]+" y="326" text-anchor="middle">([^<]*)</text>)") ==
        std::vector<std::string>{"0", "2", "4", "6", "8", "10"});
  CHECK(svg.find("class=\"legend\"") == std::string::npos);  // one series: no legend
}

TEST_CASE("svg: non-finite values break the line and several series get a legend", "[unit][report]") {
  LineChart c;
  Series a, b;
  a.name = "with gap";
  a.x = {0, 1, 2, 3, 4};
  a.y = {1, NAN, 2, 3, INFINITY};
  b.name = "flat";
  b.x = {0, 4};
  b.y = {1, 1};
  b.dashed = true;
  c.series = {a, b};
  c.hlines = {{"chance", 0.5}};
  const std::string svg = render_line_chart(c);
  CHECK(xml_problem(svg) == "");
  const auto polylines = all(svg, R"(<polyline[^>]* points="([^"]*)\")");
  REQUIRE(polylines.size() == 3);  // [1], [2, 3], [1, 1]
  auto count_points = [](const std::string& p) { return 1 + std::count(p.begin(), p.end(), ' '); };
  CHECK(count_points(polylines[0]) == 1);
  CHECK(count_points(polylines[1]) == 2);
  CHECK(count_points(polylines[2]) == 2);
  CHECK_THAT(svg, Contains("stroke-dasharray=\"6 3\""));
  CHECK_THAT(svg, Contains("class=\"legend\""));
  CHECK_THAT(svg, Contains(">chance</text>"));
  // y range: data 1 .. 3 and the 0.5 line -> 0.5 .. 3 -> step 0.5: 0.5 .. 3 (6 ticks)
  const auto [xa, ya] = line_chart_axes(c);
  CHECK(ya.min == 0.5);
  CHECK(ya.max == 3);

  LineChart bad;
  Series s;
  s.name = "broken";
  s.x = {1, 2};
  s.y = {1};
  bad.series = {s};
  CHECK_THROWS_WITH(render_line_chart(bad), Contains("'broken' has 2 x values but 1 y values"));
}

TEST_CASE("svg: bar heights are proportional to the values", "[unit][report]") {
  BarChart b;
  b.title = "accuracy";
  b.categories = {"teacher", "student"};
  b.groups = {{"dev", {80, 60}, ""}};
  b.y_max = 100;
  b.hlines = {{"chance", 50}};
  const std::string svg = render_bar_chart(b);
  CHECK(xml_problem(svg) == "");
  const auto heights = all(svg, R"(<rect class="bar"[^>]* height="([0-9.]+)\")");
  REQUIRE(heights.size() == 2);
  // y axis 0 .. 100 over 264 px: 80 -> 211.2 px, 60 -> 158.4 px
  CHECK(std::stod(heights[0]) == Approx(211.2));
  CHECK(std::stod(heights[1]) == Approx(158.4));
  CHECK(all(svg, R"(data-value="([^"]*)\")") == std::vector<std::string>{"80.0", "60.0"});
  BarChart wrong = b;
  wrong.groups[0].values = {1};
  CHECK_THROWS_WITH(render_bar_chart(wrong), Contains("1 values for 2 categories"));
}

TEST_CASE("svg: a grid places every panel in one document", "[unit][report]") {
  std::vector<LineChart> panels(3);
  for (size_t i = 0; i < panels.size(); ++i) {
    panels[i].title = "panel " + std::to_string(i);
    panels[i].series.push_back({"s", {0, 1}, {0, static_cast<double>(i + 1)}, "", false, false});
  }
  Layout p;
  p.width = 460;
  p.height = 300;
  const std::string svg = render_line_chart_grid(panels, 2, p, "all terms");
  CHECK(xml_problem(svg) == "");
  CHECK_THAT(svg, Contains("width=\"920\" height=\"636\""));  // 2 columns x 460, 36 title + 2 rows x 300
  CHECK(all(svg, R"(class="(line-chart)\")").size() == 3);
  // The third panel sits in row 2, column 1: its first point (0, 0) is at (72, 36 + 300 + 44 + 204).
  const auto polylines = all(svg, R"(<polyline[^>]* points="([^"]*)\")");
  REQUIRE(polylines.size() == 3);
  CHECK(polylines[2].rfind("72,584 ", 0) == 0);
}

TEST_CASE("report: metrics.jsonl parsing", "[unit][report]") {
  const fs::path dir = fs::temp_directory_path() / "distilbert_report_tests" / "metrics";
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream f(dir / "metrics.jsonl");
    f << R"({"step": 10, "split": "train", "loss": 2.5, "lr": 0.001, "note": "x"})" << "\n\n"
      << R"({"step": 20, "loss": 2.0, "lr": 0.0005})" << "\n"
      << R"({"step": 20, "split": "eval", "accuracy": 0.75})" << "\n";
  }
  const auto m = read_metrics_jsonl((dir / "metrics.jsonl").string());
  CHECK(m.records == 3);
  REQUIRE(m.find("train", "loss"));
  CHECK(m.find("train", "loss")->step == std::vector<double>{10, 20});
  CHECK(m.find("train", "loss")->value == std::vector<double>{2.5, 2.0});
  CHECK(m.find("train", "note") == nullptr);  // not a number
  REQUIRE(m.find("eval", "accuracy"));
  CHECK(m.find("eval", "accuracy")->value == std::vector<double>{0.75});
  {
    std::ofstream f(dir / "bad.jsonl");
    f << R"({"step": 1, "loss": 1})" << "\n" << R"({"loss": 1})" << "\n";
  }
  CHECK_THROWS_WITH(read_metrics_jsonl((dir / "bad.jsonl").string()), Contains("bad.jsonl:2: key 'step'"));
  {
    std::ofstream f(dir / "bad2.jsonl");
    f << "{\"step\": 1,\n";
  }
  CHECK_THROWS_WITH(read_metrics_jsonl((dir / "bad2.jsonl").string()), Contains("bad2.jsonl:1: expected one JSON"));
}

TEST_CASE("report: the summary's numbers on a hand-made run folder", "[unit][report]") {
  const fs::path run = fs::temp_directory_path() / "distilbert_report_tests" / "run";
  fs::remove_all(run);
  for (const char* d : {"pretrain", "distill", "finetune_teacher", "finetune_student"}) fs::create_directories(run / d);
  auto put = [&](const fs::path& p, const std::string& text) {
    std::ofstream f(run / p);
    f << text;
  };
  put("run_info.tsv", "key\tvalue\nmode\tdemo\nmajority_baseline\t0.5\n");
  put("timings.tsv", "stage\tseconds\npretrain\t30\ninit_student\t1\ndistill\t20\nfinetune_teacher\t10\n"
                     "finetune_student\t5\n");
  put("speed.tsv", "model\texamples\tseconds\texamples_per_s\tthreads\nteacher\t100\t10\t10\t2\n"
                   "student\t100\t4\t25\t2\n");
  put("eval_teacher.json", R"({"accuracy": 0.9})");
  put("eval_student.json", R"({"accuracy": 0.855})");
  put("finetune_teacher/eval_results.json", R"({"accuracy": 0.91, "main_metric": "accuracy"})");
  put("finetune_student/eval_results.json", R"({"accuracy": 0.86, "main_metric": "accuracy"})");
  put("info_teacher.json", R"({"parameters": 1000, "folder_bytes": 4194304, "layers": 4})");
  put("info_student.json", R"({"parameters": 600, "folder_bytes": 2097152, "layers": 2})");
  put("onnx_check.json", R"({"ok": true, "runtime": "ORT", "examples": 200, "accuracy": 0.85,
                             "agreement_with_libtorch": 1.0, "max_abs_prob_diff": 1e-6})");
  put("pretrain/metrics.jsonl", "{\"step\": 10, \"loss\": 6, \"loss_mlm\": 6, \"lr\": 0.001, \"tokens_per_s\": 900}\n"
                                "{\"step\": 20, \"loss\": 4, \"loss_mlm\": 4, \"lr\": 0.0005, \"tokens_per_s\": 1000}\n");
  put("distill/metrics.jsonl",
      "{\"step\": 5, \"loss\": 9, \"loss_ce\": 1, \"loss_mlm\": 1.5, \"loss_cos\": 1, \"loss_mse\": 0, \"lr\": 1e-3}\n"
      "{\"step\": 10, \"loss\": 8, \"loss_ce\": 0.9, \"loss_mlm\": 1.2, \"loss_cos\": 0.7, \"loss_mse\": 0, \"lr\": 5e-4}\n");
  put("finetune_teacher/metrics.jsonl", "{\"step\": 10, \"split\": \"train\", \"loss\": 0.6}\n"
                                        "{\"step\": 20, \"split\": \"eval\", \"accuracy\": 0.91}\n");
  put("finetune_student/metrics.jsonl", "{\"step\": 10, \"split\": \"train\", \"loss\": 0.65}\n"
                                        "{\"step\": 20, \"split\": \"eval\", \"accuracy\": 0.86}\n");
  const auto r = write_run_report(run.string(), (run / "report").string());
  for (const char* f : {"README.md", "summary.json", "pretrain_loss.svg", "distill_losses.svg", "learning_rate.svg",
                        "tokens_per_s.svg", "finetune.svg", "accuracy.svg", "speed.svg"}) {
    INFO(f);
    CHECK(fs::exists(run / "report" / f));
    if (std::string(f).find(".svg") != std::string::npos) {
      std::ifstream in(run / "report" / f);
      const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      CHECK(xml_problem(svg) == "");
    }
  }
  const auto& s = r.summary;
  CHECK(s["teacher"]["accuracy"].get<double>() == 0.9);  // evaluate's number, not the run's own 0.91
  CHECK(s["student"]["accuracy"].get<double>() == 0.855);
  CHECK(s["teacher"]["train_seconds"].get<double>() == 40);  // pretrain + finetune_teacher
  CHECK(s["student"]["train_seconds"].get<double>() == 26);  // init + distill + finetune_student
  CHECK(s["total_seconds"].get<double>() == 66);
  std::ifstream in(run / "report" / "README.md");
  const std::string md((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_THAT(md, Contains("| parameters | 1,000 | 600 | 60.0% |"));
  CHECK_THAT(md, Contains("| size on disk (fine-tuned folder) | 4.00 MiB | 2.00 MiB | 50.0% |"));
  CHECK_THAT(md, Contains("| dev accuracy | 90.00% | 85.50% | 95.0% of the teacher's |"));
  CHECK_THAT(md, Contains("| 10.0 examples/s | 25.0 examples/s | 2.50x faster |"));
  CHECK_THAT(md, Contains("Majority-class baseline on dev: 50.00%"));
  CHECK_THAT(md, Contains("same prediction as LibTorch for 100.00%"));
  // The distillation grid has panels for loss, loss_ce, loss_mlm, loss_cos; loss_mse is all zeros and left out.
  std::ifstream dl(run / "report" / "distill_losses.svg");
  const std::string dsvg((std::istreambuf_iterator<char>(dl)), std::istreambuf_iterator<char>());
  CHECK(all(dsvg, R"(class="(line-chart)\")").size() == 4);
  CHECK(dsvg.find("loss_mse") == std::string::npos);
  // Accuracy bars: 90, 85.5 and the ONNX 85 on a 0..100 axis of 264 px.
  std::ifstream ac(run / "report" / "accuracy.svg");
  const std::string asvg((std::istreambuf_iterator<char>(ac)), std::istreambuf_iterator<char>());
  const auto heights = all(asvg, R"(<rect class="bar"[^>]* height="([0-9.]+)\")");
  REQUIRE(heights.size() == 3);
  CHECK(std::stod(heights[0]) == Approx(237.6));
  CHECK(std::stod(heights[1]) == Approx(225.72));
  CHECK(std::stod(heights[2]) == Approx(224.4));

  fs::remove_all(run / "finetune_teacher");
  fs::remove_all(run / "finetune_student");
  CHECK_THROWS_WITH(write_run_report(run.string(), (run / "report").string()),
                    Contains("expected finetune_teacher/eval_results.json"));
}

TEST_CASE("report: teacher, distilled student and control over seeds", "[unit][report]") {
  const fs::path run = fs::temp_directory_path() / "distilbert_report_tests" / "comparison";
  fs::remove_all(run);
  // (folder, seed, accuracy): the student's seed 2 (0.80) is below the control's best (0.81), so the student's and
  // the control's ranges overlap while the teacher's lie above both.
  const std::vector<std::tuple<std::string, int, double>> runs = {
      {"finetune_teacher", 1, 0.90},         {"finetune_teacher_seed2", 2, 0.92}, {"finetune_teacher_seed3", 3, 0.91},
      {"finetune_student", 1, 0.85},         {"finetune_student_seed2", 2, 0.80}, {"finetune_student_seed3", 3, 0.84},
      {"finetune_control", 1, 0.78},         {"finetune_control_seed2", 2, 0.81}, {"finetune_control_seed3", 3, 0.75},
      {"finetune_control_kd", 1, 0.82},      {"finetune_control_kd_seed2", 2, 0.83},
      {"finetune_control_kd_seed3", 3, 0.79}};
  // How each was fine-tuned: the teacher longer, the distilled student and control_kd with soft targets.
  const nlohmann::json kd = {{"teacher", "t/best"}, {"alpha_ce", 0.9}, {"alpha_task", 0.1}};
  for (const auto& [dir, seed, acc] : runs) {
    fs::create_directories(run / dir);
    std::ofstream(run / dir / "eval_results.json") << nlohmann::json{{"accuracy", acc}, {"main_metric", "accuracy"}};
    nlohmann::json recipe = {{"seed", seed}, {"trainer", {{"epochs", dir.find("teacher") != std::string::npos ? 6 : 3}}}};
    if (dir.find("student") != std::string::npos || dir.find("control_kd") != std::string::npos) recipe["distill"] = kd;
    std::ofstream(run / dir / "recipe.json") << recipe;
  }
  const auto c = read_distill_comparison(run, "accuracy");
  REQUIRE(c);
  REQUIRE(c->models.size() == 4);
  const SeedScores& t = *c->find("teacher");
  const SeedScores& s = *c->find("student");
  const SeedScores& k = *c->find("control");
  CHECK(t.mean == Approx(0.91));
  CHECK(t.sd == Approx(0.01));  // sample sd of 0.90, 0.91, 0.92
  CHECK(s.mean == Approx(0.83));
  CHECK(s.sd == Approx(std::sqrt((0.0004 + 0.0009 + 0.0001) / 2)));
  CHECK(s.seeds == std::vector<std::pair<int, double>>{{1, 0.85}, {2, 0.80}, {3, 0.84}});
  CHECK(k.min == Approx(0.75));
  CHECK(k.max == Approx(0.81));
  CHECK(clearly_above(t, s));
  CHECK_FALSE(clearly_above(s, k));
  const auto j = comparison_json(*c);
  CHECK(j["ordering_holds"] == false);
  CHECK(j["student"]["seeds"][1]["accuracy"].get<double>() == 0.80);
  const std::string md = comparison_markdown(*c);
  CHECK_THAT(md, Contains("| distilled student | 83.0 ± 2.6 | 80.0–85.0 | 85.0 (seed 1), 80.0 (seed 2), 84.0 (seed 3) "
                          "| 91.2% |"));
  CHECK_THAT(md, Contains("Teacher − distilled student: +8.0 points (every seed of the first above every seed of "
                          "the second)"));
  CHECK_THAT(md, Contains("distilled student − control: +5.0 points (the seeds' ranges overlap or are reversed)"));
  CHECK_THAT(md, Contains("| 91.2% | 3 epochs, 0.9 x soft targets of the fine-tuned teacher + 0.1 x labels |"));
  CHECK_THAT(md, Contains("| teacher (BERT) | 91.0 ± 1.0 | 90.0–92.0 |") && Contains("| 100.0% | 6 epochs, labels only |"));
  CHECK_THAT(md, Contains("| control student + task-specific distillation | 81.3 ± 2.1 |"));
  CHECK_THAT(md, Contains("distilled student − control with task-specific distillation: +1.7 points (the seeds' "
                          "ranges overlap or are reversed)"));
  CHECK(j["control_kd"]["finetuning"] == "3 epochs, 0.9 x soft targets of the fine-tuned teacher + 0.1 x labels");
  // One bar per model and seed, on 0..100.
  const std::string svg = render_bar_chart(comparison_chart(*c));
  CHECK(xml_problem(svg) == "");
  CHECK(all(svg, R"(<rect class="bar")").size() == 12);
  // The whole report leads with the comparison.
  fs::create_directories(run / "finetune_student");
  const auto r = write_run_report(run.string(), (run / "report").string());
  CHECK(r.summary["distillation"]["teacher"]["mean"].get<double>() == Approx(0.91));
  std::ifstream in(run / "report" / "README.md");
  const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(readme.find("## Does distillation help?") < readme.find("| layers |"));
  CHECK(fs::exists(run / "report" / "distillation.svg"));
  // A broken run folder is named.
  std::ofstream(run / "finetune_control_seed3" / "eval_results.json") << R"({"f1": 0.5})";
  CHECK_THROWS_WITH(read_distill_comparison(run, "accuracy"),
                    Contains("finetune_control_seed3/eval_results.json': key 'accuracy': expected a number, found "
                             "nothing"));
}
