// Each subcommand registers its options on the CLI11 app and returns the function that runs it.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>
#include <torch/types.h>

namespace distilbert::cli {

using Runner = std::function<int()>;
struct Command {
  CLI::App* app;
  Runner run;
};

/// --device and --threads, shared by commands that run a model.
struct RuntimeOptions {
  std::string device = "cpu";
  int threads = 0;  // 0: all available CPUs
};
void add_runtime_options(CLI::App* cmd, RuntimeOptions& options);
/// Applies threads (printing the count in effect) and returns the parsed device.
torch::Device apply_runtime_options(const RuntimeOptions& options, bool quiet = false);

/// Refuse to write into a non-empty folder unless overwrite is set.
void prepare_output_dir(const std::string& dir, bool overwrite);

Command add_init_command(CLI::App& app);
Command add_predict_command(CLI::App& app);
Command add_info_command(CLI::App& app);

}  // namespace distilbert::cli
