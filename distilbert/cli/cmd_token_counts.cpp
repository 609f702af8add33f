// `distilbert token-counts`: per-id counts of a token store (token_counts.py) as JSON, the input of the MLM
// smoothing (token_probs = max(count, 1)^-0.7). Format: distilbert/data/token_counts.h.
#include <iostream>

#include "distilbert/cli/commands.h"
#include "distilbert/data/token_counts.h"
#include "distilbert/data/token_store.h"
#include "distilbert/tokenizer/tokenizer.h"

namespace distilbert::cli {

namespace {
Command add_token_counts_command(CLI::App& app) {
  auto prefix = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto tok_dir = std::make_shared<std::string>();
  auto verify = std::make_shared<bool>(false);
  auto threads = std::make_shared<std::size_t>(0);
  auto* cmd = app.add_subcommand("token-counts", "Count every token id of a binarized store (for MLM smoothing)");
  cmd->add_option("--data", *prefix, "Token store prefix (from `distilbert binarize`)")->required();
  cmd->add_option("--output", *output, "Counts file to write (JSON)")->required();
  cmd->add_option("--tokenizer", *tok_dir, "Refuse a store made by another tokenizer than this folder's");
  cmd->add_flag("--verify", *verify, "Check every id and the SHA-256 of the store files first");
  cmd->add_option("--threads", *threads, "Counting threads (0: all available CPUs)")->capture_default_str();
  return {cmd, [prefix, output, tok_dir, verify, threads] {
            data::TokenStore::OpenOptions o;
            o.verify = *verify;
            if (!tok_dir->empty()) o.expected_fingerprint = tokenizer::load_tokenizer(*tok_dir)->fingerprint();
            const auto store = data::TokenStore::open(*prefix, o);
            const auto counts = data::count_tokens(*store, *threads);
            data::save_token_counts(*output, counts, *store);
            std::int64_t seen = 0;
            for (auto c : counts) seen += c > 0;
            std::cout << "wrote " << *output << ": counts of " << counts.size() << " ids over " << store->num_tokens()
                      << " tokens (" << seen << " ids occur)\n";
            return 0;
          }};
}
}  // namespace

DISTILBERT_REGISTER_COMMAND("token-counts", add_token_counts_command);

}  // namespace distilbert::cli
