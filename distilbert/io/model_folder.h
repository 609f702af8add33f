// HF model folders: config.json + model.safetensors (or pytorch_model.bin, or a sharded
// model.safetensors.index.json) in, config.json + model.safetensors out. Loading is by key name and strict:
// missing, unexpected and wrongly shaped encoder keys are errors listing them; head weights that the checkpoint
// lacks are freshly initialised and reported (as HF's "newly initialized" warning), and checkpoint head weights the
// model does not use are reported as unused. Tied keys (vocab_projector.weight, cls.predictions.decoder.*) may be
// present or absent; old LayerNorm gamma/beta names are renamed.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "distilbert/model/pretrained.h"

namespace distilbert {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct LoadReport {
  std::vector<std::string> newly_initialized;  // model keys the checkpoint did not have (head weights only)
  std::vector<std::string> unused;             // checkpoint keys the model does not have (another head's weights)
  std::vector<std::string> notes;              // renamed keys, differing tied copies, ...
  /// A human-readable summary (empty when everything matched).
  std::string summary() const;
};

/// Copy `checkpoint` into `model` by HF key. `origin` names the file in errors. With allow_new_head false, any
/// missing key is an error.
LoadReport load_state_dict(PretrainedModel& model, const NamedTensors& checkpoint, const std::string& origin,
                           bool allow_new_head = true);

/// The model's tensors under HF keys, each unique tensor once (tied aliases omitted, as HF's save_pretrained does
/// for safetensors). With include_tied_aliases, the alias keys are added too (pytorch_model.bin style).
NamedTensors state_dict(const PretrainedModel& model, bool include_tied_aliases = false);

/// Read the weights of a folder or of a single file (.safetensors / .bin / .index.json).
NamedTensors read_weights(const std::string& path);

struct LoadOptions {
  std::optional<Head> head;          // build this head instead of config.architectures[0]
  std::optional<int64_t> num_labels; // override the config's num_labels (a fresh classification head)
  bool allow_new_head = true;
  bool verbose = true;               // print the load report to stderr
};

struct LoadedModel {
  ModelPtr model;
  LoadReport report;
  std::string weights_path;
};

/// Load an HF folder (config.json + weights). Throws Errors naming the folder and file.
LoadedModel load_model_folder(const std::string& dir, const LoadOptions& options = {});

struct SaveOptions {
  std::optional<torch::ScalarType> dtype;  // store weights as F16/BF16 instead of their own dtype
};

/// Write config.json (with architectures) and model.safetensors (metadata format=pt) into `dir`, creating it.
void save_model_folder(const PretrainedModel& model, const std::string& dir, const SaveOptions& options = {});

/// Before any work: a tokenizer whose ids reach past the model's embedding table (vocab_size) would fail deep in
/// LibTorch ("index out of range in self"); an Error naming both folders and both sizes instead.
void check_tokenizer_fits(std::size_t tokenizer_vocab_size, const ModelConfig& config, const std::string& tokenizer_path,
                          const std::string& model_path);

}  // namespace distilbert
