// `distilbert distill` and `distilbert pretrain`: run a recipe (YAML/JSON) with trailing key=value overrides.
// SIGINT/SIGTERM save a checkpoint at the next micro-batch boundary and exit cleanly (resume: auto continues).
#include <csignal>
#include <iostream>

#include "distilbert/cli/commands.h"
#include "distilbert/core/error.h"
#include "distilbert/dist/env.h"
#include "distilbert/train/distiller.h"

namespace distilbert::cli {

namespace {

Command add_run_command(CLI::App& app, const std::string& mode) {
  struct Opts {
    std::string recipe;
    std::vector<std::string> overrides;
    bool overwrite = false, print = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      mode, mode == "distill" ? "Distil a student from a teacher with the triple loss (recipe + key=value overrides)"
                              : "Train a BERT or DistilBERT with MLM alone (recipe + key=value overrides)");
  cmd->add_option("--recipe", o->recipe, "Recipe file (.yaml or .json)")->required()->check(CLI::ExistingFile);
  cmd->add_option("overrides", o->overrides, "key.path=value overrides, e.g. trainer.max_steps=10");
  cmd->add_option("--set", o->overrides, "key.path=value override (repeatable)");
  cmd->add_flag("--overwrite", o->overwrite, "Allow an output folder that holds something else (or start over)");
  cmd->add_flag("--print-recipe", o->print, "Print the resolved recipe and exit");
  return {cmd, [o, mode] {
            const auto recipe = DistillRecipe::load(o->recipe, o->overrides, mode);
            if (dist::DistEnv::from_environment().is_main())  // one copy in a data-parallel job
              std::cerr << "[" << mode << "] recipe " << o->recipe << " (resolved):\n" << recipe.resolved.dump(2) << "\n";
            if (o->print) return 0;
            const auto summary = run_distillation(recipe, o->overwrite, stop_on_signals());
            return summary.interrupted ? 130 : 0;
          }};
}

Command add_distill_command(CLI::App& app) { return add_run_command(app, "distill"); }
Command add_pretrain_command(CLI::App& app) { return add_run_command(app, "pretrain"); }

}  // namespace

DISTILBERT_REGISTER_COMMAND("distill", add_distill_command);
DISTILBERT_REGISTER_COMMAND("pretrain", add_pretrain_command);

}  // namespace distilbert::cli
