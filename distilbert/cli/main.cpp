// distilbert: the command-line entry point. Parses arguments, runs one subcommand, and maps every error to a
// message on stderr and a non-zero exit code (library code never exits).
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>

#include <torch/torch.h>

#include "distilbert/cli/commands.h"
#include "distilbert/core/error.h"
#include "distilbert/core/runtime.h"

namespace distilbert::cli {

void add_runtime_options(CLI::App* cmd, RuntimeOptions& options) {
  cmd->add_option("--device", options.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", options.threads, "CPU threads for LibTorch (0: all available CPUs)")
      ->capture_default_str();
}

torch::Device apply_runtime_options(const RuntimeOptions& options, bool quiet) {
  const int threads = set_threads(options.threads);
  const torch::Device device = parse_device(options.device);
  if (!quiet) std::cerr << "[runtime] device " << device << ", " << threads << " CPU thread(s)\n";
  return device;
}

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }
}  // namespace

const std::atomic<bool>* stop_on_signals() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  return &g_stop;
}

std::vector<std::pair<std::string, CommandFactory>>& command_registry() {
  static std::vector<std::pair<std::string, CommandFactory>> registry;
  return registry;
}

namespace {
constexpr const char* kOverwriteHint = "; pass --overwrite to replace its files";
}  // namespace

void refuse_existing_outputs(const std::string& what, const std::vector<std::string>& files, bool overwrite) {
  if (overwrite) return;
  std::string found;
  for (const std::string& f : files)
    if (std::filesystem::exists(std::filesystem::symlink_status(f))) found += (found.empty() ? "'" : ", '") + f + "'";
  DISTILBERT_CHECK(found.empty(), "output ", what, " already exists (", found, ")", kOverwriteHint);
}

}  // namespace distilbert::cli

int main(int argc, char** argv) {
  using namespace distilbert::cli;
  CLI::App app{"distilbert: distil BERT into DistilBERT, fine-tune and export it (C++/LibTorch)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "distilbert 0.1.0");
  std::map<CLI::App*, Runner> runners;
  auto registry = command_registry();
  std::sort(registry.begin(), registry.end());
  for (const auto& [name, factory] : registry) {
    Command c = factory(app);
    runners[c.app] = std::move(c.run);
  }
  // An unknown command is named, with the list (CLI11 alone says "arguments were not expected").
  if (argc > 1 && argv[1][0] != '-' && !std::any_of(registry.begin(), registry.end(), [&](const auto& c) {
        return c.first == argv[1];
      })) {
    std::string names;
    for (const auto& [name, factory] : registry) names += (names.empty() ? "" : ", ") + name;
    std::cerr << "error: unknown command '" << argv[1] << "'; the commands are " << names
              << "\nusage: distilbert <command> [options]   (distilbert <command> --help for its options)\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; an argument error exits 2 with a usage line, as argparse and getopt tools do
    // (CLI11's own codes are 105-109).
    if (e.get_exit_code() == 0) return app.exit(e);
    std::string command = "<command>";
    for (auto* sub : app.get_subcommands()) command = sub->get_name();
    std::cerr << "error: " << e.what() << "\nusage: distilbert " << command << " [options]   (distilbert " << command
              << " --help for them)\n";
    return 2;
  }
  try {
    for (auto* sub : app.get_subcommands())
      if (runners.count(sub)) return runners[sub]();
    std::cerr << "error: no command given\n";
    return 2;
  } catch (const distilbert::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << "error (LibTorch): " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
