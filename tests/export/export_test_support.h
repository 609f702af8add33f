// Helpers shared by the export tests: small randomised models with the real vocabulary, real SST-2 sentences,
// LibTorch reference outputs, the Python environment (tests/py) that runs ONNX Runtime, and the node environment
// (tests/js) that runs transformers.js where the npm registry can be reached.
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "distilbert/model/pretrained.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "support/python_env.h"
#include "support/run_command.h"
#include "test_paths.h"

namespace distilbert::export_test {

namespace fs = std::filesystem;
using testing::run_command;

inline std::string source_dir() { return DISTILBERT_SOURCE_DIR; }
inline std::string shared_data() { return DISTILBERT_SHARED_DATA; }
inline std::string golden_dir(const std::string& name) { return source_dir() + "/tests/data/golden/" + name; }

/// A fresh folder under the temp dir, unique to this process; removed on destruction.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) {
    path = fs::temp_directory_path() / ("distilbert_export_tests_" + std::to_string(::getpid())) / name;
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string str(const std::string& child = "") const { return child.empty() ? path.string() : (path / child).string(); }
};

/// The first `n` sentences of SST-2 dev (empty when the shared data is missing).
inline std::vector<std::string> sst2_sentences(size_t n) {
  std::ifstream in(shared_data() + "/glue/SST-2/dev.tsv");
  std::vector<std::string> out;
  std::string line;
  if (!in || !std::getline(in, line)) return out;  // header
  while (out.size() < n && std::getline(in, line)) out.push_back(line.substr(0, line.find('\t')));
  return out;
}

inline std::string tokenizer_dir() { return shared_data() + "/bert-base-uncased"; }

/// The real bert-base-uncased tokenizer and SST-2 sentences, or a WARN naming what is missing.
inline bool have_real_data() {
  if (!fs::is_regular_file(shared_data() + "/glue/SST-2/dev.tsv") || !tokenizer::has_tokenizer(tokenizer_dir())) {
    WARN("SKIPPED: real data missing (" << shared_data() << "/glue/SST-2/dev.tsv or " << tokenizer_dir()
                                        << "): the export comparisons on real sentences did not run");
    return false;
  }
  return true;
}

/// 2 layers, hidden 64, 4 heads, FFN 128, and the real 30522-token vocabulary.
inline ModelConfig small_config(ModelType type, int64_t vocab = 30522) {
  ModelConfig c = type == ModelType::Bert ? ModelConfig::bert_base_uncased() : ModelConfig::distilbert_base_uncased();
  c.vocab_size = vocab;
  c.hidden_size = 64;
  c.num_layers = 2;
  c.num_heads = 4;
  c.intermediate_size = 128;
  c.max_position_embeddings = 512;
  return c;
}

/// Every trainable tensor random (LayerNorm weights 1 + N(0, 0.1), the rest N(0, 0.1)) so that no bias or LayerNorm
/// parameter is a neutral 0/1 that a wrong graph could get away with. A frozen sinusoidal position table keeps its
/// formula (other runtimes compute it rather than load it).
inline void randomize(PretrainedModel& model, uint64_t seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard ng;
  for (auto& p : model.named_parameters(true)) {
    if (!p.value().requires_grad()) continue;
    const std::string& k = p.key();
    const bool ln = k.find("LayerNorm.weight") != std::string::npos || k.find("layer_norm.weight") != std::string::npos;
    if (ln)
      p.value().normal_(1.0, 0.1);
    else
      p.value().normal_(0.0, 0.1);
  }
}

inline ModelPtr random_model(ModelConfig c, Head head, uint64_t seed) {
  torch::manual_seed(seed);
  auto m = build_model(c, head);
  randomize(*m, seed + 1);
  m->eval();
  return m;
}

/// Named LibTorch outputs under the ONNX output names.
inline std::map<std::string, torch::Tensor> torch_outputs(PretrainedModel& model, const ModelInputs& in) {
  torch::NoGradGuard ng;
  model.eval();
  ModelOutput o = model.forward(in);
  std::map<std::string, torch::Tensor> out;
  if (o.logits.defined()) out["logits"] = o.logits;
  if (o.start_logits.defined()) out["start_logits"] = o.start_logits, out["end_logits"] = o.end_logits;
  if (!o.logits.defined() && !o.start_logits.defined()) out["last_hidden_state"] = o.last_hidden_state;
  return out;
}

/// Encode `texts` (and `pairs` if non-empty) padded to the longest; token_type_ids when `types`.
inline ModelInputs encode(const tokenizer::Tokenizer& tok, const std::vector<std::string>& texts,
                          const std::vector<std::string>& pairs, bool types) {
  std::vector<tokenizer::TextInput> in;
  for (size_t i = 0; i < texts.size(); ++i) {
    tokenizer::TextInput t;
    t.text = texts[i];
    if (!pairs.empty()) t.pair = pairs[i];
    in.push_back(t);
  }
  tokenizer::EncodeOptions o;
  o.padding = tokenizer::Padding::longest;
  o.truncation = tokenizer::Truncation::longest_first;
  o.max_length = 128;
  o.return_token_type_ids = types;
  auto enc = tok.encode_batch(in, o);
  const int64_t B = static_cast<int64_t>(enc.size()), T = static_cast<int64_t>(enc[0].ids.size());
  ModelInputs mi;
  mi.input_ids = torch::empty({B, T}, torch::kLong);
  mi.attention_mask = torch::empty({B, T}, torch::kLong);
  if (types) mi.token_type_ids = torch::empty({B, T}, torch::kLong);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      mi.input_ids[b][t] = enc[b].ids[t];
      mi.attention_mask[b][t] = enc[b].attention_mask[t];
      if (types) mi.token_type_ids[b][t] = enc[b].type_ids[t];
    }
  return mi;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

/// Why an environment the checks need is missing ("" when it is there).
struct Availability {
  bool ok = false;
  std::string why;
};

/// WARN and return false when the project's Python environment cannot run ONNX Runtime (tests/py).
inline bool require_ort() {
  return testing::require_python("onnxruntime tokenizers safetensors numpy", "ONNX Runtime checks");
}

/// Run `python tests/py/<script> <arg>` in the project's environment; returns (exit code, output).
inline testing::CommandResult run_py(const std::string& script, const std::string& arg) {
  return testing::run_python(script, "'" + arg + "'");
}

/// tests/js with transformers.js installed from the npm registry (npm ci --ignore-scripts on first use, under a lock
/// so that parallel test processes install once). Where the registry cannot be reached (this project's machines
/// reach only Debian's packages and PyPI) `ok` is false and `why` says so; the install gives up after 60 s.
inline const Availability& js_env() {
  static const Availability env = [] {
    Availability e;
    const std::string dir = source_dir() + "/tests/js";
    if (run_command("command -v node").exit_code != 0) {
      e.why = "node is not installed (apt-get install nodejs npm)";
      return e;
    }
    // npm ci can exit 0 with empty package folders when the registry is unreachable ("Exit handler never
    // called!"), so the proof of an install is the package's own package.json.
    const std::string installed = dir + "/node_modules/@huggingface/transformers/package.json";
    if (!fs::exists(installed)) {
      if (run_command("command -v npm").exit_code != 0) {
        e.why = "npm is not installed (apt-get install npm)";
        return e;
      }
      const std::string lock = std::string(DISTILBERT_BINARY_DIR) + "/npm-install.lock";
      auto r = run_command("cd '" + dir + "' && flock -w 600 '" + lock + "' sh -c 'test -f " + installed +
                           " || timeout 60 npm ci --ignore-scripts --no-audit --no-fund --fetch-retries=0 "
                           "--loglevel=error'");
      if (!fs::exists(installed)) {
        e.why = "transformers.js could not be installed: npm ci in tests/js (exit " + std::to_string(r.exit_code) +
                ") left no " + installed + "; the npm registry is not reachable from this machine:\n" + r.output;
        return e;
      }
    }
    e.ok = true;
    return e;
  }();
  return env;
}

/// WARN and return false when transformers.js is unavailable.
inline bool require_js() {
  const Availability& e = js_env();
  if (!e.ok) WARN("SKIPPED: transformers.js checks did not run: " << e.why);
  return e.ok;
}

/// Run `node tests/js/<script> <arg>`; returns (exit code, output).
inline testing::CommandResult run_js(const std::string& script, const std::string& arg) {
  return run_command("node '" + source_dir() + "/tests/js/" + script + "' '" + arg + "'");
}

}  // namespace distilbert::export_test
