// Each subcommand registers its options on the CLI11 app and returns the function that runs it.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <utility>
#include <vector>

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

/// For training commands: from now on SIGINT and SIGTERM set the returned flag (the run polls it between
/// micro-batches, saves a checkpoint and returns; the command then exits 130).
const std::atomic<bool>* stop_on_signals();

/// Output folders: core/staged_folder.h. For outputs that are files (a token store's PREFIX.ids/.idx/.json): unless overwrite is set, an Error
/// naming `what` and every one of `files` that already exists.
void refuse_existing_outputs(const std::string& what, const std::vector<std::string>& files, bool overwrite);

/// Every cmd_*.cpp registers its factory with DISTILBERT_REGISTER_COMMAND(name, factory); main() adds them in
/// name order. (The CLI sources are compiled into the executable, so the static registrars always run.)
using CommandFactory = Command (*)(CLI::App&);
std::vector<std::pair<std::string, CommandFactory>>& command_registry();
struct CommandRegistrar {
  CommandRegistrar(const char* name, CommandFactory factory) { command_registry().emplace_back(name, factory); }
};
#define DISTILBERT_REGISTER_COMMAND(name, factory) \
  static ::distilbert::cli::CommandRegistrar distilbert_registrar_##factory(name, factory)

}  // namespace distilbert::cli
