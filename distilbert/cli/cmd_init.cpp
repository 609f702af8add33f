// `distilbert init`: a randomly initialised model (HF initialisation) written as an HF folder.
#include <iostream>
#include <optional>

#include <torch/torch.h>

#include "distilbert/cli/commands.h"
#include "distilbert/core/staged_folder.h"
#include "distilbert/config/model_config.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/model/pretrained.h"
#include "distilbert/core/error.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/train/memory_estimate.h"

namespace distilbert::cli {

namespace {
Command add_init_command(CLI::App& app) {
  struct Opts {
    std::string config, head = "mlm", output, tokenizer;
    int64_t num_labels = 0;
    uint64_t seed = 42;
    bool overwrite = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("init", "Write a randomly initialised model (HF init) as an HF folder");
  cmd->add_option("--config", o->config, "Model config.json (HF form), e.g. configs/distilbert-base-uncased.json")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--head", o->head, "none | mlm | seq-cls | token-cls | qa | multiple-choice")->capture_default_str();
  cmd->add_option("--num-labels", o->num_labels, "Labels of a classification head (default: the config's)");
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--output", o->output, "Output folder")->required();
  cmd->add_option("--tokenizer", o->tokenizer,
                  "Tokenizer folder (tokenizer.json or vocab.txt) to save into the model folder");
  cmd->add_flag("--overwrite", o->overwrite, "Replace files in a non-empty output folder");
  return {cmd, [o] {
            ModelConfig config = ModelConfig::load(o->config);
            if (o->num_labels > 0) {
              if (o->num_labels != config.num_labels) config.id2label.clear();
              config.num_labels = o->num_labels;
            }
            const Head head = parse_head(o->head);
            std::shared_ptr<tokenizer::Tokenizer> tok;
            if (!o->tokenizer.empty()) {
              tok = tokenizer::load_tokenizer(o->tokenizer);
              check_tokenizer_fits(tok->vocab_size(), config, o->tokenizer, o->config);
            }
            check_model_memory(config, o->config);
            StagedFolder out(o->output, o->overwrite);
            torch::manual_seed(o->seed);
            ModelPtr model = build_model(config, head);
            save_model_folder(*model, out.path());
            if (tok) tok->save_pretrained(out.path());
            out.commit();
            std::cout << "wrote " << model->architecture() << " (" << count_parameters(*model)
                      << " parameters, seed " << o->seed << ") to " << o->output << "\n";
            return 0;
          }};
}

}  // namespace

DISTILBERT_REGISTER_COMMAND("init", add_init_command);

}  // namespace distilbert::cli
