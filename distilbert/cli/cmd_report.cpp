// `distilbert report`: turn a pipeline run folder (scripts/pipeline.sh) into a report folder: README.md (teacher
// vs student), summary.json and SVG plots. No Python: the plots are written by distilbert/report/svg_plot.h.
#include <iostream>

#include "distilbert/cli/commands.h"
#include "distilbert/report/run_report.h"

namespace distilbert::cli {

namespace {

Command add_report_command(CLI::App& app) {
  struct Opts {
    std::string run, output;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("report",
                                 "Write the Markdown summary, summary.json and SVG plots of a main-job run folder");
  cmd->add_option("--run", o->run, "Run folder (e.g. runs/main): metrics.jsonl files, eval/info JSON, timings")
      ->required();
  cmd->add_option("--output", o->output, "Report folder (default: RUN/report)");
  return {cmd, [o] {
            const std::string out = o->output.empty() ? o->run + "/report" : o->output;
            const auto r = report::write_run_report(o->run, out);
            std::cout << "wrote " << out << ":";
            for (const auto& f : r.files) std::cout << " " << f;
            std::cout << "\n";
            return 0;
          }};
}

}  // namespace

DISTILBERT_REGISTER_COMMAND("report", add_report_command);

}  // namespace distilbert::cli
