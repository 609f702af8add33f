// Fuzz target: recipe files (YAML or JSON) through load_tree, key=value overrides and the strict typed readers
// DistillRecipe::from_tree (distill and pretrain modes) and FinetuneRecipe::from_tree. Input layout: byte 0 picks
// the extension (bit 0: .json or .yaml) and the kind (bit 2: fine-tuning; else bit 1: pretrain or distill); the
// rest up to the first NUL byte is the file, and after it each line is one override. Only distilbert::Error may
// come out; an accepted recipe's resolved tree, saved as recipe.json, must load and validate again.
#include <string>
#include <vector>

#include "distilbert/config/tree.h"
#include "distilbert/train/distill_recipe.h"
#include "distilbert/train/finetune_recipe.h"
#include "fuzz_target.h"

DISTILBERT_FUZZ_TARGET(recipe) {
  using namespace distilbert;
  if (size == 0) return 0;
  const bool as_json = data[0] & 1;
  const bool finetune = data[0] & 4;
  const std::string mode = (data[0] & 2) ? "pretrain" : "distill";
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto nul = body.find('\0');
  const std::string file = body.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string::npos) {
    std::string rest = body.substr(nul + 1), line;
    for (char c : rest) {
      if (c == '\n') {
        overrides.push_back(line);
        line.clear();
      } else {
        line += c;
      }
    }
    if (!line.empty()) overrides.push_back(line);
  }
  const std::string path = fuzz::scratch_dir() + (as_json ? "/recipe.json" : "/recipe.yaml");
  fuzz::write_bytes(path, file.data(), file.size());
  fuzz::guarded("load_tree", [&] {
    nlohmann::json tree = load_tree(path);
    apply_overrides(tree, overrides, path);
    // The run saves the resolved tree as recipe.json; that file must load and validate again.
    const nlohmann::json resolved = finetune ? FinetuneRecipe::from_tree(tree, path).resolved
                                             : DistillRecipe::from_tree(tree, path, mode).resolved;
    const std::string saved = fuzz::scratch_dir() + "/resolved.json";
    const std::string text = resolved.dump(2);
    fuzz::write_bytes(saved, text.data(), text.size());
    try {
      if (finetune)
        FinetuneRecipe::from_tree(load_tree(saved), saved);
      else
        DistillRecipe::from_tree(load_tree(saved), saved, mode);
    } catch (const std::exception& e) {
      fuzz::report(std::string("an accepted recipe's recipe.json is refused: ") + e.what());
    }
  });
  return 0;
}
