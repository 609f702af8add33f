// `distilbert info`: what a model folder holds: architecture, sizes, parameter counts, stored dtypes, file size.
// `distilbert info --cpu`: what this machine runs fast: the CPU's flags, LibTorch's version and the measured rate of
// fp32 and bf16 matrix products (whether bf16 training pays off here, docs/PRECISION.md), and which library runs the
// fp32 linears. `--json-out FILE` also writes that one reading as JSON, so that a script shows the text and keeps
// the numbers of the same measurement.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>

#include <torch/torch.h>

#include <torch/version.h>

#include "distilbert/cli/commands.h"
#include "distilbert/core/cpu_caps.h"
#include "distilbert/core/error.h"
#include "distilbert/core/fs.h"
#include "distilbert/core/runtime.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/model/linear.h"

namespace distilbert::cli {

namespace {
int print_cpu_info(int threads, bool as_json, const std::string& json_out) {
  const int n_threads = set_threads(threads);
  // A 1024^3 product lasts about 11 ms here: the best of 0.3 s of them, so that the benchmarks' limit (the best rate
  // this CPU reaches) does not move by 20% between two calls on a shared machine, as the best of 10 ms did.
  const MatmulRates r = measure_matmul_rates(1024, 3, 0.3);
  // The limit is the best fp32 product this build reaches: oneDNN's linear beats the torch wheel's MKL on CPUs not
  // made by Intel (model/linear.h), and the models' linears then run in it.
  const double onednn_gflops = measure_onednn_linear_gflops(1024, 3, 0.3);
  const double fp32_gflops = std::max(r.fp32_gflops, onednn_gflops);
  const bool fast = cpu_bf16_is_fast();
  const int loop_threads = parallel_loop_threads();
  nlohmann::json j = {{"cpu", cpu_info().model},
                      {"flags", cpu_info().flags},
                      {"libtorch", TORCH_VERSION},
                      {"threads", n_threads},
                      {"parallel_loop_threads", loop_threads},
                      {"openblas", openblas_info().config},
                      {"openblas_threading", openblas_info().threading},
                      {"matmul_n", r.n},
                      {"fp32_gflops", fp32_gflops},
                      {"fp32_blas_gflops", r.fp32_gflops},
                      {"fp32_onednn_gflops", onednn_gflops},
                      {"linear", linear_backend_summary()},
                      {"bf16_gflops", r.bf16_gflops},
                      {"bf16_fast", fast}};
  if (!json_out.empty()) write_file_atomic(json_out, j.dump(2) + "\n");
  if (as_json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "cpu:       " << cpu_summary() << "\n"
            << "libtorch:  " << TORCH_VERSION << ", " << n_threads << " thread(s); this build's parallel loops reach "
            << loop_threads << "\n"
            << "blas:      "
            << (openblas_info().config.empty() ? std::string("not OpenBLAS (the torch wheel's MKL, or another)")
                                               : openblas_info().config + ", " + openblas_info().threading + " threads")
            << "\n"
            << "matmul:    " << r.n << "^3 products: fp32 " << static_cast<int>(fp32_gflops) << " GFLOP/s, bf16 "
            << static_cast<int>(r.bf16_gflops) << " GFLOP/s\n"
            << "linear:    fp32 in " << linear_backend_summary() << "; " << r.n << "^3: BLAS "
            << static_cast<int>(r.fp32_gflops) << " GFLOP/s"
            << (onednn_gflops > 0 ? ", oneDNN " + std::to_string(static_cast<int>(onednn_gflops)) + " GFLOP/s" : "")
            << "\n"
            << "bf16:      " << (fast ? "fast here: precision bf16 is used as asked"
                                      : "slow here: precision bf16 runs as fp32 (DISTILBERT_ALLOW_SLOW_BF16=1 keeps it)")
            << "\n";
  return 0;
}

Command add_info_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto cpu = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(0);
  auto json_out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("info", "Describe a model folder (--model) or what this CPU runs fast (--cpu)");
  auto* model_opt = cmd->add_option("--model", *dir, "Model folder (config.json + weights)");
  auto* cpu_opt = cmd->add_flag("--cpu", *cpu, "CPU flags and measured fp32/bf16 matrix-product rates instead");
  model_opt->excludes(cpu_opt);
  cmd->add_option("--threads", *threads, "Threads for --cpu (default: every CPU this process may use)");
  cmd->add_flag("--json", *as_json, "Print one JSON object instead of text");
  cmd->add_option("--json-out", *json_out, "With --cpu: also write the reading as JSON to this file")->needs(cpu_opt);
  return {cmd, [dir, as_json, cpu, threads, json_out] {
            if (*cpu) return print_cpu_info(*threads, *as_json, *json_out);
            DISTILBERT_CHECK(!dir->empty(), "info: give --model DIR (a model folder) or --cpu");
            namespace fs = std::filesystem;
            LoadOptions lo;
            lo.verbose = false;
            LoadedModel loaded = load_model_folder(*dir, lo);
            const auto& m = *loaded.model;
            const auto& c = m.config();
            std::map<std::string, int64_t> dtypes;
            for (const auto& [k, t] : read_weights(*dir)) dtypes[c10::toString(t.scalar_type())] += t.numel();
            uintmax_t bytes = 0;
            for (const auto& e : fs::directory_iterator(*dir))
              if (e.is_regular_file()) bytes += e.file_size();
            int64_t trainable = 0, total = count_parameters(m), encoder = 0;
            for (const auto& p : m.named_parameters(true)) {
              if (p.value().requires_grad()) trainable += p.value().numel();
              const auto& k = p.key();
              if (m.base_prefix().empty() || k.rfind(m.base_prefix() + ".", 0) == 0) encoder += p.value().numel();
            }
            nlohmann::json j = {{"architecture", m.architecture()},
                                {"model_type", c.model_type_name()},
                                {"layers", c.num_layers},
                                {"hidden_size", c.hidden_size},
                                {"heads", c.num_heads},
                                {"intermediate_size", c.intermediate_size},
                                {"vocab_size", c.vocab_size},
                                {"max_position_embeddings", c.max_position_embeddings},
                                {"num_labels", c.num_labels},
                                {"parameters", total},
                                {"trainable_parameters", trainable},
                                {"encoder_parameters", encoder},
                                {"head_parameters", total - encoder},
                                {"stored_dtypes", dtypes},
                                {"folder_bytes", bytes}};
            if (*as_json) {
              std::cout << j.dump(2) << "\n";
              return 0;
            }
            std::cout << "model:        " << *dir << "\n"
                      << "architecture: " << m.architecture() << " (" << c.model_type_name() << ")\n"
                      << "shape:        " << c.num_layers << " layers, hidden " << c.hidden_size << ", "
                      << c.num_heads << " heads, FFN " << c.intermediate_size << ", vocab " << c.vocab_size
                      << ", max positions " << c.max_position_embeddings << "\n"
                      << "parameters:   " << total << " (encoder " << encoder << ", head " << total - encoder
                      << ", trainable " << trainable << ")\n";
            std::cout << "stored as:    ";
            for (const auto& [d, n] : dtypes) std::cout << d << " (" << n << " values) ";
            std::cout << "\nfolder size:  " << bytes << " bytes (" << bytes / (1024.0 * 1024.0) << " MiB)\n";
            return 0;
          }};
}

}  // namespace

DISTILBERT_REGISTER_COMMAND("info", add_info_command);

}  // namespace distilbert::cli
