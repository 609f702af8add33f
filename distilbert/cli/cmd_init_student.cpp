// `distilbert init-student`: a DistilBERT student initialised from a BERT teacher's layers (docs/DISTILLATION.md §4).
#include <filesystem>
#include <iostream>
#include <sstream>

#include <torch/torch.h>

#include "distilbert/cli/commands.h"
#include "distilbert/core/staged_folder.h"
#include "distilbert/core/error.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/train/memory_estimate.h"
#include "distilbert/train/student_init.h"

namespace distilbert::cli {

namespace {

std::vector<int64_t> parse_layers(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    DISTILBERT_CHECK(!item.empty() && item.find_first_not_of("0123456789") == std::string::npos, "--layers '", text,
                     "': expected comma-separated layer indices such as 0,2,4,7,9,11");
    out.push_back(std::stoll(item));
  }
  DISTILBERT_CHECK(!out.empty(), "--layers is empty");
  return out;
}

Command add_init_student_command(CLI::App& app) {
  struct Opts {
    std::string teacher, config, layers = "0,2,4,7,9,11", output;
    bool vocab_transform = false, overwrite = false;
    uint64_t seed = 56;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("init-student", "Initialise a DistilBERT student from a BERT teacher's layers");
  cmd->add_option("--teacher", o->teacher, "Teacher folder (BertForMaskedLM: config.json + weights)")->required();
  cmd->add_option("--config", o->config, "Student config.json (DistilBERT), e.g. configs/distilbert-base-uncased.json")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--layers", o->layers, "Teacher layers copied into the student's layers, in order")
      ->capture_default_str();
  cmd->add_flag("--vocab-transform", o->vocab_transform, "Also copy the MLM transform and its LayerNorm");
  cmd->add_option("--seed", o->seed, "Seed for the weights that are not copied")->capture_default_str();
  cmd->add_option("--output", o->output, "Output folder")->required();
  cmd->add_flag("--overwrite", o->overwrite, "Replace files in a non-empty output folder");
  return {cmd, [o] {
            namespace fs = std::filesystem;
            DISTILBERT_CHECK(fs::exists(fs::path(o->teacher) / "config.json"), "teacher folder '", o->teacher,
                             "' has no config.json");
            const ModelConfig tc = ModelConfig::load((fs::path(o->teacher) / "config.json").string());
            ModelConfig sc = ModelConfig::load(o->config);
            const auto layers = parse_layers(o->layers);
            auto init = init_student_from_teacher(read_weights(o->teacher), tc, sc, layers, o->vocab_transform);
            check_model_memory(sc, o->config);
            StagedFolder out(o->output, o->overwrite);
            torch::manual_seed(o->seed);
            ModelPtr student = build_model(sc, Head::MaskedLM);
            auto report = load_state_dict(*student, init.weights, o->teacher, /*allow_new_head=*/true);
            save_model_folder(*student, out.path());
            if (tokenizer::has_tokenizer(o->teacher)) tokenizer::load_tokenizer(o->teacher)->save_pretrained(out.path());
            out.commit();
            std::cout << "wrote " << student->architecture() << " (" << count_parameters(*student)
                      << " parameters) to " << o->output << ": teacher layers [" << o->layers << "] -> student layers 0.."
                      << layers.size() - 1;
            if (!init.not_copied.empty()) std::cout << "; freshly initialised (seed " << o->seed << "):";
            for (const auto& k : init.not_copied) std::cout << " " << k;
            std::cout << "\n";
            return 0;
          }};
}

}  // namespace

DISTILBERT_REGISTER_COMMAND("init-student", add_init_student_command);

}  // namespace distilbert::cli
