// `distilbert augment`: augmented copies of a GLUE task's examples (masking and n-gram sampling, tasks/augment.h),
// written as a text file for `distilbert predict` to label with a fine-tuned teacher: one example per line, a pair's
// texts separated by a tab (predict --pairs). docs/DISTILLATION.md §8 builds a transfer set from it.
#include <iostream>
#include <memory>

#include "distilbert/cli/commands.h"
#include "distilbert/core/error.h"
#include "distilbert/core/fs.h"
#include "distilbert/tasks/augment.h"
#include "distilbert/tasks/glue.h"

namespace distilbert::cli {

namespace {
Command add_augment_command(CLI::App& app) {
  auto o = std::make_shared<tasks::AugmentOptions>();
  auto task = std::make_shared<std::string>();
  auto data_dir = std::make_shared<std::string>();
  auto split = std::make_shared<std::string>("train");
  auto first = std::make_shared<std::size_t>(0);
  auto output = std::make_shared<std::string>();
  auto overwrite = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("augment", "Augmented copies of a GLUE task's examples, for a teacher to label");
  cmd->add_option("--task", *task, "GLUE task (sst2, mrpc, rte, stsb, ...)")->required();
  cmd->add_option("--data-dir", *data_dir, "The task's folder (…/glue/MRPC) or the GLUE root")->required();
  cmd->add_option("--split", *split, "Split to augment")->capture_default_str();
  cmd->add_option("--first", *first, "Augment the split's first N examples only (0: all)")->capture_default_str();
  cmd->add_option("--copies", o->copies, "Augmented versions of each example")->capture_default_str();
  cmd->add_option("--p-mask", o->p_mask, "Probability that a word becomes the mask token")->capture_default_str();
  cmd->add_option("--p-ngram", o->p_ngram, "Probability that a text is cut to an n-gram")->capture_default_str();
  cmd->add_option("--max-ngram", o->max_ngram, "Largest n of the n-gram sampling")->capture_default_str();
  cmd->add_option("--mask-token", o->mask_token, "The tokenizer's mask token")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--output", *output, "Text file to write (one example per line; pairs tab-separated)")->required();
  cmd->add_flag("--overwrite", *overwrite, "Replace an existing output file");
  return {cmd, [=] {
            tasks::check_augment_options(*o);
            refuse_existing_outputs("augmented examples", {*output}, *overwrite);
            const auto t = tasks::parse_glue_task(*task);
            auto examples = tasks::read_glue_split(t, *data_dir, *split).examples;
            if (*first > 0) {
              DISTILBERT_CHECK(*first <= examples.size(), "augment: --first ", *first, ": the ", *split,
                               " split of ", *data_dir, " has only ", examples.size(), " examples");
              examples.resize(*first);
            }
            const auto augmented = tasks::augment_examples(examples, *o);
            write_file_atomic(*output, [&](std::ostream& out) {
              for (const auto& e : augmented) out << e.text_a << (e.text_b ? "\t" + *e.text_b : "") << '\n';
            });
            std::cout << "wrote " << *output << ": " << augmented.size() << " augmented examples (" << o->copies
                      << " of each of " << examples.size() << ", p_mask " << o->p_mask << ", p_ngram " << o->p_ngram
                      << ")\n";
            return 0;
          }};
}
}  // namespace

DISTILBERT_REGISTER_COMMAND("augment", add_augment_command);

}  // namespace distilbert::cli
