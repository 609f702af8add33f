// `distilbert make-demo-data`: write the built-in demo corpus and sentiment task (distilbert/demo/demo_data.h)
// into a folder: corpus.txt, sentiment/{train,dev,test}.tsv (GLUE SST-2 layout) and README.md.
#include <filesystem>
#include <iostream>

#include "distilbert/cli/commands.h"
#include "distilbert/core/staged_folder.h"
#include "distilbert/core/fs.h"
#include "distilbert/demo/demo_data.h"

namespace distilbert::cli {

namespace {

Command add_make_demo_data_command(CLI::App& app) {
  struct Opts {
    std::string output;
    demo::DemoDataOptions data;
    bool overwrite = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("make-demo-data",
                                 "Write the built-in demo data: an English-like corpus (grammar-generated) and a "
                                 "sentiment task in GLUE SST-2 layout");
  cmd->add_option("--output", o->output, "Output folder")->required();
  cmd->add_option("--seed", o->data.seed, "Random seed (same seed, same files)")->capture_default_str();
  cmd->add_option("--corpus-lines", o->data.corpus_lines, "Corpus paragraphs (about 60 words each)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--train", o->data.train, "Training reviews")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--dev", o->data.dev, "Dev reviews")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--test", o->data.test, "Test reviews (unlabelled file)")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_flag("--overwrite", o->overwrite, "Replace files in a non-empty output folder");
  return {cmd, [o] {
            namespace fs = std::filesystem;
            StagedFolder staged(o->output, o->overwrite);
            const auto d = demo::make_demo_data(o->data);
            const fs::path out(staged.path()), task = out / "sentiment";
            fs::create_directories(task);
            write_file_atomic((out / "corpus.txt").string(), demo::demo_corpus_text(d.corpus));
            write_file_atomic((task / "train.tsv").string(), demo::demo_task_tsv(d.train, false));
            write_file_atomic((task / "dev.tsv").string(), demo::demo_task_tsv(d.dev, false));
            write_file_atomic((task / "test.tsv").string(), demo::demo_task_tsv(d.test, true));
            write_file_atomic((out / "README.md").string(), demo::demo_data_readme(o->data, d));
            staged.commit();
            std::cout << "wrote " << o->output << ": corpus.txt (" << d.corpus.size() << " lines, "
                      << fs::file_size(fs::path(o->output) / "corpus.txt") << " bytes), sentiment/{train,dev,test}.tsv ("
                      << d.train.size() << " / " << d.dev.size() << " / " << d.test.size() << " reviews), README.md\n";
            return 0;
          }};
}

}  // namespace

DISTILBERT_REGISTER_COMMAND("make-demo-data", add_make_demo_data_command);

}  // namespace distilbert::cli
