// `distilbert binarize`: raw text (one document / sentence per line, .gz allowed) -> token store PREFIX.{ids,idx,json}
// (binarized_data.py; see distilbert/data/token_store.h for the format).
#include <iomanip>
#include <iostream>

#include "distilbert/cli/commands.h"
#include "distilbert/data/token_store.h"
#include "distilbert/tokenizer/tokenizer.h"

namespace distilbert::cli {

namespace {
Command add_binarize_command(CLI::App& app) {
  auto tok_dir = std::make_shared<std::string>();
  auto opts = std::make_shared<data::BinarizeOptions>();
  auto quiet = std::make_shared<bool>(false);
  auto overwrite = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "binarize", "Tokenise raw text (one sequence per line; .gz allowed) into a token store for distillation");
  cmd->add_option("--tokenizer", *tok_dir, "Tokenizer folder (tokenizer.json or vocab.txt), e.g. the teacher's")
      ->required();
  cmd->add_option("--input", opts->inputs, "Text files and/or folders of text files")->required();
  cmd->add_option("--output", opts->output_prefix, "Store prefix: writes PREFIX.ids, PREFIX.idx, PREFIX.json")
      ->required();
  cmd->add_option("--threads", opts->threads, "Tokenisation threads (0: all available CPUs)")->capture_default_str();
  cmd->add_flag("--quiet", *quiet, "No progress on stderr");
  cmd->add_flag("--overwrite", *overwrite, "Replace an existing token store at the --output prefix");
  return {cmd, [tok_dir, opts, quiet, overwrite] {
            // Checked before hours of tokenising; the writer itself only replaces the old files once the new ones
            // are complete, so a failed run with --overwrite still leaves the old store in place.
            const std::string& p = opts->output_prefix;
            refuse_existing_outputs("token store '" + p + "'", {p + ".ids", p + ".idx", p + ".json"}, *overwrite);
            const auto tok = tokenizer::load_tokenizer(*tok_dir);
            opts->progress = !*quiet;
            const data::BinarizeResult r = data::binarize(*tok, *opts);
            std::cout << "wrote " << opts->output_prefix << ".{ids,idx,json}: " << r.sequences << " sequences, "
                      << r.tokens << " tokens (" << data::token_dtype_name(r.dtype) << "), from " << r.lines
                      << " lines (" << r.blank_lines << " blank skipped) in " << r.sources.size() << " file(s), "
                      << std::fixed << std::setprecision(1) << r.text_bytes / 1e6 << " MB of text in " << r.seconds
                      << " s (" << (r.seconds > 0 ? r.text_bytes / 1e6 / r.seconds : 0.0) << " MB/s)\n";
            return 0;
          }};
}
}  // namespace

DISTILBERT_REGISTER_COMMAND("binarize", add_binarize_command);

}  // namespace distilbert::cli
