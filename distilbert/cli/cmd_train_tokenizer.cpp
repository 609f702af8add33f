// `distilbert train-tokenizer`: learn a vocabulary from text files and write a tokenizer folder.
//   wordpiece: the HF WordPieceTrainer algorithm -> vocab.txt, tokenizer.json, tokenizer_config.json,
//              special_tokens_map.json (loaded by BertTokenizer, transformers and transformers.js);
//   unigram / bpe: sentencepiece -> spiece.model, tokenizer_config.json, special_tokens_map.json.
// The special tokens [PAD] [UNK] [CLS] [SEP] [MASK] get ids 0..4. See distilbert/tokenizer/trainer.h.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "distilbert/cli/commands.h"
#include "distilbert/core/staged_folder.h"
#include "distilbert/core/error.h"
#include "distilbert/core/runtime.h"
#include "distilbert/tokenizer/trainer.h"

namespace distilbert::cli {

namespace {

Command add_train_tokenizer_command(CLI::App& app) {
  struct Opts {
    std::vector<std::string> inputs;
    std::string type = "wordpiece";
    std::size_t vocab_size = 0;
    bool lowercase = true;
    std::optional<std::uint64_t> min_frequency;
    std::optional<std::size_t> limit_alphabet;
    double character_coverage = 0.9995;
    std::size_t max_length = 512;
    std::string output;
    bool overwrite = false;
    bool quiet = false;
    bool verbose = false;
    int threads = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("train-tokenizer",
                                 "Learn a WordPiece / unigram / BPE vocabulary from text files and write a tokenizer "
                                 "folder ([PAD] [UNK] [CLS] [SEP] [MASK] at ids 0..4)");
  cmd->add_option("--input", o->inputs, "Text files (one or more; every line is text)")
      ->required()
      ->expected(1, -1)
      ->check(CLI::ExistingFile);
  cmd->add_option("--type", o->type, "wordpiece (HF WordPieceTrainer), unigram or bpe (sentencepiece)")
      ->capture_default_str()
      ->check(CLI::IsMember({"wordpiece", "unigram", "bpe"}));
  cmd->add_option("--vocab-size", o->vocab_size, "Vocabulary size, special tokens included")->required();
  cmd->add_flag("--lowercase,!--no-lowercase", o->lowercase,
                "Uncased (lowercase + strip accents; default) or cased vocabulary");
  cmd->add_option("--min-frequency", o->min_frequency,
                  "wordpiece: merge only pairs seen at least this often (default 2)");
  cmd->add_option("--limit-alphabet", o->limit_alphabet,
                  "wordpiece: keep only the N most frequent characters (default: all)");
  cmd->add_option("--character-coverage", o->character_coverage,
                  "unigram/bpe: share of characters sentencepiece must cover")
      ->capture_default_str();
  cmd->add_option("--max-length", o->max_length, "model_max_length written to tokenizer_config.json")
      ->capture_default_str();
  cmd->add_option("--output", o->output, "Output folder")->required();
  cmd->add_flag("--overwrite", o->overwrite, "Write into a non-empty output folder");
  cmd->add_option("--threads", o->threads, "Threads for counting words (wordpiece; 0: all CPUs). The result does "
                                           "not depend on it")
      ->capture_default_str();
  cmd->add_flag("--quiet", o->quiet, "No progress messages");
  cmd->add_flag("--verbose", o->verbose, "Also show sentencepiece's own log (unigram/bpe)");
  return {cmd, [o] {
            namespace tk = tokenizer;
            tk::TrainerOptions t;
            t.type = tk::parse_tokenizer_type(o->type);
            DISTILBERT_CHECK(o->vocab_size > 5, "--vocab-size ", o->vocab_size,
                             " is too small (the 5 special tokens alone need 5)");
            t.vocab_size = o->vocab_size;
            t.lowercase = o->lowercase;
            if (t.type == tk::TokenizerType::wordpiece) {
              if (o->min_frequency) t.min_frequency = *o->min_frequency;
              t.limit_alphabet = o->limit_alphabet;
            } else {
              DISTILBERT_CHECK(!o->min_frequency && !o->limit_alphabet,
                               "--min-frequency and --limit-alphabet apply to --type "
                               "wordpiece only (sentencepiece ",
                               o->type, " has no such setting)");
            }
            DISTILBERT_CHECK(o->character_coverage > 0 && o->character_coverage <= 1,
                             "--character-coverage must be in (0, 1], found ", o->character_coverage);
            t.character_coverage = o->character_coverage;
            t.model_max_length = o->max_length;
            t.num_threads = static_cast<std::size_t>(o->threads > 0 ? o->threads : available_cpus());
            t.verbose = o->verbose;
            if (!o->quiet) t.log = [](const std::string& line) { std::cerr << "[train-tokenizer] " << line << "\n"; };
            StagedFolder out(o->output, o->overwrite);

            std::vector<std::filesystem::path> files(o->inputs.begin(), o->inputs.end());
            const auto t0 = std::chrono::steady_clock::now();
            const auto tok = tk::train_tokenizer(files, t);
            tok->save_pretrained(out.path());
            out.commit();
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (!o->quiet) {
              char secs[32];
              std::snprintf(secs, sizeof(secs), "%.2f", s);
              std::cerr << "[train-tokenizer] wrote a " << o->type << " tokenizer with " << tok->vocab_size()
                        << " tokens (" << (o->lowercase ? "uncased" : "cased") << ", fingerprint " << tok->fingerprint()
                        << ") to " << o->output << " in " << secs << " s\n";
            }
            return 0;
          }};
}

}  // namespace

DISTILBERT_REGISTER_COMMAND("train-tokenizer", add_train_tokenizer_command);

}  // namespace distilbert::cli
