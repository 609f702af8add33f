// `distilbert finetune` (train on a GLUE task, SQuAD, CoNLL-2003, SWAG or a user's data, keep the best model by the
// task's metric) and
// `distilbert evaluate` (score a model folder on a recipe's dev data; prints and writes JSON metrics).
#include <atomic>
#include <csignal>
#include <iostream>

#include "distilbert/cli/commands.h"
#include "distilbert/core/error.h"
#include "distilbert/dist/env.h"
#include "distilbert/core/fs.h"
#include "distilbert/train/finetune.h"

namespace distilbert::cli {

namespace {

Command add_finetune_command(CLI::App& app) {
  struct Opts {
    std::string recipe;
    std::vector<std::string> overrides;
    bool overwrite = false, print = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "finetune", "Fine-tune a model folder on GLUE, SQuAD, CoNLL-2003, SWAG or your own data (recipe)");
  cmd->add_option("--recipe", o->recipe, "Recipe file, e.g. recipes/glue/sst2.yaml")->required()->check(CLI::ExistingFile);
  cmd->add_option("overrides", o->overrides, "key.path=value overrides, e.g. model=runs/student/final");
  cmd->add_option("--set", o->overrides, "key.path=value override (repeatable)");
  cmd->add_flag("--overwrite", o->overwrite, "Replace a non-empty output folder");
  cmd->add_flag("--print-recipe", o->print, "Print the resolved recipe and exit");
  return {cmd, [o] {
            auto r = FinetuneRecipe::load(o->recipe, o->overrides);
            if (dist::DistEnv::from_environment().is_main())  // one copy in a data-parallel job
              std::cerr << "[finetune] recipe " << o->recipe << " (resolved):\n" << r.resolved.dump(2) << "\n";
            if (o->print) return 0;
            // SIGINT/SIGTERM: checkpoint at the next micro-batch and exit 130; trainer.resume auto continues.
            auto s = run_finetune(r, o->overwrite, stop_on_signals());
            if (s.interrupted) return 130;
            std::cout << nlohmann::json(s.best_metrics).dump() << "\n";
            return 0;
          }};
}

Command add_evaluate_command(CLI::App& app) {
  struct Opts {
    std::string recipe, model, output;
    std::vector<std::string> overrides;
    bool fresh_head = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("evaluate", "Score a model folder on a recipe's dev data with the task's metrics");
  cmd->add_option("--recipe", o->recipe, "Recipe naming the task and data")->required()->check(CLI::ExistingFile);
  cmd->add_option("--model", o->model, "Model folder (default: the recipe's model)");
  cmd->add_option("--output", o->output, "Also write the metrics to this JSON file");
  cmd->add_flag("--fresh-head", o->fresh_head,
                "Score even when the folder lacks the task's trained head (its weights are then random)");
  cmd->add_option("overrides", o->overrides, "key.path=value overrides");
  return {cmd, [o] {
            auto r = FinetuneRecipe::load(o->recipe, o->overrides);
            const auto m = evaluate_model(r, o->model.empty() ? r.model : o->model, o->fresh_head);
            const std::string text = nlohmann::json(m).dump(2) + "\n";
            std::cout << text;
            if (!o->output.empty()) write_file_atomic(o->output, text);
            return 0;
          }};
}

}  // namespace

DISTILBERT_REGISTER_COMMAND("finetune", add_finetune_command);
DISTILBERT_REGISTER_COMMAND("evaluate", add_evaluate_command);

}  // namespace distilbert::cli
