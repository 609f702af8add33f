// HF model folder I/O and strict state-dict loading; see model_folder.h.
#include "distilbert/io/model_folder.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/safe_path.h"
#include "distilbert/core/fs.h"
#include "distilbert/core/text.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/io/torch_pickle.h"
#include "distilbert/core/json_error.h"

namespace distilbert {

namespace fs = std::filesystem;

namespace {

std::string list(const std::vector<std::string>& keys, size_t max_items = 20) {
  std::string out;
  for (size_t i = 0; i < keys.size() && i < max_items; ++i) out += "\n  " + keys[i];
  if (keys.size() > max_items) out += str_cat("\n  ... and ", keys.size() - max_items, " more");
  return out;
}

std::string shape_str(const torch::Tensor& t) { return str_cat(t.sizes()); }

// Old TF-converted checkpoints name LayerNorm parameters gamma/beta (docs/MODELS.md §4).
std::string modern_key(const std::string& key, bool& renamed) {
  renamed = false;
  for (const auto& [old_suffix, new_suffix] :
       std::vector<std::pair<std::string, std::string>>{{".gamma", ".weight"}, {".beta", ".bias"}}) {
    if (ends_with(key, old_suffix) && key.find("LayerNorm") != std::string::npos) {
      renamed = true;
      return key.substr(0, key.size() - old_suffix.size()) + new_suffix;
    }
  }
  return key;
}

NamedTensors read_bin(const std::string& path) { return load_torch_state_dict(path); }

NamedTensors read_sharded(const std::string& index_path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(index_path));
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e99999
    fail("index '", index_path, "' is not valid JSON: ", json_error_text(e));
  }
  DISTILBERT_CHECK(j.contains("weight_map") && j["weight_map"].is_object(), "index '", index_path,
                   "' has no 'weight_map' object");
  std::set<std::string> shards;
  for (const auto& [k, v] : j["weight_map"].items()) {
    DISTILBERT_CHECK(v.is_string(), "index '", index_path, "': weight_map['", k, "'] must be a file name");
    const std::string shard = v.get<std::string>();
    child_path(fs::path(index_path).parent_path(), shard, str_cat("index '", index_path, "': shard name"));
    shards.insert(shard);
  }
  const fs::path dir = fs::path(index_path).parent_path();
  NamedTensors out;
  for (const auto& shard : shards) {
    auto part = read_weights((dir / shard).string());
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

}  // namespace

std::string LoadReport::summary() const {
  std::string s;
  if (!newly_initialized.empty())
    s += str_cat("newly initialized (train them before use):", list(newly_initialized), "\n");
  if (!unused.empty()) s += str_cat("unused checkpoint weights:", list(unused), "\n");
  for (const auto& n : notes) s += n + "\n";
  return s;
}

NamedTensors read_weights(const std::string& path) {
  if (fs::is_directory(path)) {
    const fs::path dir(path);
    for (const char* name : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"}) {
      if (fs::exists(dir / name)) return read_weights((dir / name).string());
    }
    fail("model folder '", path, "' has no weights (expected model.safetensors, model.safetensors.index.json or ",
         "pytorch_model.bin)");
  }
  DISTILBERT_CHECK(fs::exists(path), "weights file '", path, "' does not exist");
  if (ends_with(path, ".index.json")) return read_sharded(path);
  if (ends_with(path, ".bin") || ends_with(path, ".pt") || ends_with(path, ".pth")) return read_bin(path);
  return std::move(load_safetensors(path).tensors);
}

LoadReport load_state_dict(PretrainedModel& model, const NamedTensors& checkpoint, const std::string& origin,
                           bool allow_new_head) {
  LoadReport report;
  const std::string prefix = model.base_prefix();  // "" for base models
  const std::string type_prefix = model.config().model_type_name() + ".";

  // 1. Normalise names: gamma/beta, position_ids buffers, base <-> head prefixes.
  std::map<std::string, torch::Tensor> ckpt;
  bool has_type_prefix = false;
  for (const auto& [k, t] : checkpoint) has_type_prefix |= starts_with(k, type_prefix);
  size_t renamed_count = 0;
  for (const auto& [raw, t] : checkpoint) {
    bool renamed = false;
    std::string k = modern_key(raw, renamed);
    renamed_count += renamed;
    if (ends_with(k, "embeddings.position_ids")) continue;  // a non-persistent buffer in current HF
    if (!prefix.empty() && !has_type_prefix) {
      k = prefix + "." + k;  // a base-model checkpoint loaded into a head model
    } else if (prefix.empty() && has_type_prefix) {
      if (!starts_with(k, type_prefix)) {  // head weights of a head checkpoint loaded into a base model
        report.unused.push_back(raw);
        continue;
      }
      k = k.substr(type_prefix.size());
    }
    DISTILBERT_CHECK(ckpt.emplace(k, t).second, "weights '", origin, "': key '", k, "' appears twice");
  }
  if (renamed_count) report.notes.push_back(str_cat("renamed ", renamed_count, " LayerNorm gamma/beta keys"));

  // 2. Tied aliases: keep the canonical tensor; an alias alone stands in for it.
  for (const auto& [alias, canonical] : model.tied_aliases()) {
    auto it = ckpt.find(alias);
    if (it == ckpt.end()) continue;
    auto c = ckpt.find(canonical);
    if (c == ckpt.end()) {
      ckpt.emplace(canonical, it->second);
    } else if (it->second.sizes() != c->second.sizes()) {  // HF refuses this as a size mismatch too
      fail("weights '", origin, "': '", alias, "' has shape ", it->second.sizes(), " but '", canonical,
           "', the tensor it is tied to, has shape ", c->second.sizes(), ": a damaged or mismatched checkpoint");
    } else if (!torch::equal(it->second.to(torch::kFloat32), c->second.to(torch::kFloat32))) {
      report.notes.push_back(str_cat("'", alias, "' differs from '", canonical, "' it is tied to; using '", canonical,
                                     "'"));
    }
    ckpt.erase(alias);
  }
  for (const auto& p : model.ignorable_prefixes())
    for (auto it = ckpt.begin(); it != ckpt.end();) it = starts_with(it->first, p) ? ckpt.erase(it) : std::next(it);

  // 3. Compare with the model's tensors.
  auto params = model.named_parameters(/*recurse=*/true);
  auto buffers = model.named_buffers(/*recurse=*/true);
  std::map<std::string, torch::Tensor> targets;
  for (const auto& p : params) targets.emplace(p.key(), p.value());
  for (const auto& b : buffers) targets.emplace(b.key(), b.value());

  auto in_encoder = [&](const std::string& k) { return prefix.empty() || starts_with(k, prefix + "."); };
  // BERT's pooler belongs to the classification path: HF builds BertForMaskedLM without one, so loading an MLM
  // checkpoint into BertForSequenceClassification initialises the pooler afresh (as HF reports it), provided the
  // checkpoint has no pooler at all.
  const std::string pooler = prefix.empty() ? "pooler." : prefix + ".pooler.";
  bool ckpt_has_pooler = false;
  for (const auto& kv : ckpt) ckpt_has_pooler |= starts_with(kv.first, pooler);
  auto new_pooler = [&](const std::string& k) { return !ckpt_has_pooler && starts_with(k, pooler); };
  std::vector<std::string> missing, unexpected, mismatched, new_head, unused_head;
  for (const auto& [k, t] : targets) {
    auto it = ckpt.find(k);
    if (it == ckpt.end()) {
      ((in_encoder(k) && !new_pooler(k)) || !allow_new_head ? missing : new_head).push_back(k);
    } else if (it->second.sizes() != t.sizes()) {
      mismatched.push_back(str_cat(k, ": checkpoint ", shape_str(it->second), ", model ", shape_str(t)));
    }
  }
  for (const auto& [k, t] : ckpt)
    if (!targets.count(k)) (in_encoder(k) ? unexpected : unused_head).push_back(k);

  std::string errors;
  if (!mismatched.empty())
    errors += str_cat("\nwrong shapes (does config.json match the checkpoint?):", list(mismatched));
  if (!missing.empty()) errors += str_cat("\nmissing keys:", list(missing));
  if (!unexpected.empty()) errors += str_cat("\nunexpected keys:", list(unexpected));
  DISTILBERT_CHECK(errors.empty(), "weights '", origin, "' do not fit ", model.architecture(), ":", errors);

  // 4. Copy.
  torch::NoGradGuard no_grad;
  for (auto& [k, t] : targets) {
    auto it = ckpt.find(k);
    if (it == ckpt.end()) continue;
    DISTILBERT_CHECK(it->second.is_floating_point() == t.is_floating_point(), "weights '", origin, "': tensor '", k,
                     "' has dtype ", c10::toString(it->second.scalar_type()), ", expected ",
                     c10::toString(t.scalar_type()));
    t.copy_(it->second);
  }
  report.newly_initialized = new_head;
  report.unused.insert(report.unused.end(), unused_head.begin(), unused_head.end());
  return report;
}

NamedTensors state_dict(const PretrainedModel& model, bool include_tied_aliases) {
  NamedTensors out;
  std::set<const void*> seen;
  for (const auto& p : model.named_parameters(true))
    if (seen.insert(p.value().unsafeGetTensorImpl()).second) out.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers(true)) out.emplace_back(b.key(), b.value());
  if (include_tied_aliases) {
    std::map<std::string, torch::Tensor> by_name(out.begin(), out.end());
    for (const auto& [alias, canonical] : model.tied_aliases()) out.emplace_back(alias, by_name.at(canonical));
  }
  return out;
}

LoadedModel load_model_folder(const std::string& dir, const LoadOptions& options) {
  DISTILBERT_CHECK(fs::is_directory(dir), "model folder '", dir, "' does not exist or is not a folder");
  const std::string config_path = (fs::path(dir) / "config.json").string();
  DISTILBERT_CHECK(fs::exists(config_path), "model folder '", dir, "' has no config.json");
  ModelConfig config = ModelConfig::load(config_path);
  if (options.num_labels) {
    if (*options.num_labels != config.num_labels) config.id2label.clear();
    config.num_labels = *options.num_labels;
  }
  Head head = options.head ? *options.head
              : config.architectures.empty()
                  ? Head::None
                  : head_of_architecture(config.architectures.front(), config.model_type);
  LoadedModel out;
  out.model = build_model(config, head);
  NamedTensors weights = read_weights(dir);
  out.weights_path = dir;
  out.report = load_state_dict(*out.model, weights, dir, options.allow_new_head);
  if (options.verbose) {
    const std::string s = out.report.summary();
    if (!s.empty()) std::cerr << "[load] " << dir << " -> " << out.model->architecture() << ":\n" << s;
  }
  return out;
}

void save_model_folder(const PretrainedModel& model, const std::string& dir, const SaveOptions& options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  DISTILBERT_CHECK(!ec, "cannot create folder '", dir, "': ", ec.message());
  ModelConfig config = model.config();
  config.architectures = {model.architecture()};
  NamedTensors tensors = state_dict(model);
  if (options.dtype)
    for (auto& [k, t] : tensors)
      if (t.is_floating_point()) t = t.to(*options.dtype);
  // transformers refuses safetensors files whose metadata lacks format=pt.
  save_safetensors((fs::path(dir) / "model.safetensors").string(), tensors, {{"format", "pt"}});
  config.save((fs::path(dir) / "config.json").string());
}

void check_tokenizer_fits(std::size_t tokenizer_vocab_size, const ModelConfig& config, const std::string& tokenizer_path,
                          const std::string& model_path) {
  DISTILBERT_CHECK(static_cast<int64_t>(tokenizer_vocab_size) <= config.vocab_size, "tokenizer '", tokenizer_path,
                   "' has ", tokenizer_vocab_size, " tokens but model '", model_path, "' has vocab_size ",
                   config.vocab_size, " (its embedding table): ids past ", config.vocab_size - 1,
                   " would not exist; use the tokenizer the model was trained with");
}

}  // namespace distilbert
