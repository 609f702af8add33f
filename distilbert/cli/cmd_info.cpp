// `distilbert info`: what a model folder holds: architecture, sizes, parameter counts, stored dtypes, file size.
#include <filesystem>
#include <iostream>
#include <map>

#include <torch/torch.h>

#include "distilbert/cli/commands.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"

namespace distilbert::cli {

namespace {
Command add_info_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("info", "Describe a model folder: architecture, parameters, dtype, size");
  cmd->add_option("--model", *dir, "Model folder (config.json + weights)")->required();
  cmd->add_flag("--json", *as_json, "Print one JSON object instead of text");
  return {cmd, [dir, as_json] {
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
