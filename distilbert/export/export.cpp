// Folder-level export (HF / ONNX / transformers.js layout); see export.h.
#include "distilbert/export/export.h"

#include <filesystem>
#include <fstream>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/export/onnx_export.h"
#include "distilbert/export/onnx_graph.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/tokenizer/tokenizer.h"

namespace distilbert {

namespace fs = std::filesystem;

namespace {
// Tokenizer files HF and transformers.js read, in the order they are copied.
const char* const kTokenizerFiles[] = {"tokenizer.json", "tokenizer_config.json", "vocab.txt",
                                       "special_tokens_map.json", "added_tokens.json"};

std::string dtype_json_name(std::optional<torch::ScalarType> dtype) {
  if (!dtype || *dtype == torch::kFloat) return "float32";
  if (*dtype == torch::kHalf) return "float16";
  if (*dtype == torch::kBFloat16) return "bfloat16";
  fail("export: unsupported dtype ", *dtype, " (fp32, fp16, bf16)");
}

void write_json(const fs::path& path, const nlohmann::json& j) {
  const std::string tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    DISTILBERT_CHECK(out.good(), "cannot open '", tmp, "' for writing");
    out << j.dump(2) << "\n";
    out.close();
    DISTILBERT_CHECK(out.good(), "error while writing '", tmp, "'");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  DISTILBERT_CHECK(!ec, "cannot rename '", tmp, "' to '", path.string(), "': ", ec.message());
}

void copy_one_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  DISTILBERT_CHECK(!ec, "cannot copy '", from.string(), "' to '", to.string(), "': ", ec.message());
}

void write_onnx(const onnx::ModelProto& m, const fs::path& out_dir, const std::string& rel, ExportResult& r) {
  onnx_export::check_onnx_model(m, rel);
  onnx_export::save_onnx_model(m, (out_dir / rel).string());
  r.files.push_back(rel);
}
}  // namespace

ExportFormat parse_export_format(const std::string& name) {
  if (name == "hf") return ExportFormat::HF;
  if (name == "onnx") return ExportFormat::ONNX;
  if (name == "all") return ExportFormat::All;
  fail("unknown export format '", name, "' (expected hf, onnx or all)");
}

torch::ScalarType parse_export_dtype(const std::string& name) {
  if (name == "fp32" || name == "float32") return torch::kFloat;
  if (name == "fp16" || name == "float16") return torch::kHalf;
  if (name == "bf16" || name == "bfloat16") return torch::kBFloat16;
  fail("unknown dtype '", name, "' (expected fp32, fp16 or bf16)");
}

nlohmann::json export_config_json(const PretrainedModel& model, std::optional<torch::ScalarType> dtype) {
  const ModelConfig& c = model.config();
  nlohmann::json j = c.to_json();
  j["architectures"] = std::vector<std::string>{model.architecture()};
  const Head head = head_of_architecture(model.architecture(), c.model_type);
  if (head == Head::SequenceClassification || head == Head::TokenClassification || !c.id2label.empty()) {
    nlohmann::json i2l = nlohmann::json::object(), l2i = nlohmann::json::object();
    for (int64_t i = 0; i < c.num_labels; ++i) {
      i2l[std::to_string(i)] = c.label_name(i);
      l2i[c.label_name(i)] = i;
    }
    j["id2label"] = i2l;
    j["label2id"] = l2i;
  }
  j["torch_dtype"] = dtype_json_name(dtype);
  return j;
}

ExportResult export_model(const PretrainedModel& model, const tokenizer::Tokenizer* tok, const std::string& out_dir,
                          const ExportOptions& options, const std::string& tokenizer_source) {
  ExportResult r;
  const fs::path out(out_dir);
  std::error_code ec;
  fs::create_directories(out, ec);
  DISTILBERT_CHECK(!ec, "cannot create output folder '", out_dir, "': ", ec.message());
  const bool hf = options.format != ExportFormat::ONNX, onnx = options.format != ExportFormat::HF;
  const torch::ScalarType dtype = options.dtype.value_or(torch::kFloat);
  DISTILBERT_CHECK(dtype == torch::kFloat || dtype == torch::kHalf || dtype == torch::kBFloat16,
                   "export: unsupported dtype ", dtype, " (fp32, fp16, bf16)");
  DISTILBERT_CHECK(
      !(options.format == ExportFormat::ONNX && dtype == torch::kBFloat16),
      "export: ONNX has no bf16 variant (ONNX Runtime's CPU kernels do not run bf16); use --dtype fp16 or fp32 for "
      "--format onnx, or --format hf --dtype bf16");
  DISTILBERT_CHECK(options.opset >= onnx_export::kMinOpset && options.opset <= onnx_export::kMaxOpset, "export: opset ",
                   options.opset, " is not supported (", onnx_export::kMinOpset, "-", onnx_export::kMaxOpset, ")");

  // config.json (shared by both layouts).
  write_json(out / "config.json", export_config_json(model, hf ? options.dtype : std::nullopt));
  r.files.push_back("config.json");

  if (hf) {
    NamedTensors tensors = state_dict(model);  // HF keys; tied aliases omitted as save_pretrained does
    for (auto& [k, t] : tensors) {
      t = t.detach().to(torch::kCPU);
      if (t.is_floating_point() && dtype != torch::kFloat) t = t.to(dtype);
    }
    save_safetensors((out / "model.safetensors").string(), tensors, {{"format", "pt"}});
    r.files.push_back("model.safetensors");
  }

  // Tokenizer files: verbatim copies from the source folder, generated ones for what it lacks.
  if (tok) {
    const fs::path tmp = out / ".tokenizer.tmp";
    fs::remove_all(tmp, ec);
    tok->save_pretrained(tmp);
    for (const char* f : kTokenizerFiles) {
      const fs::path src = tokenizer_source.empty() ? fs::path() : fs::path(tokenizer_source) / f;
      if (!src.empty() && fs::is_regular_file(src)) {
        copy_one_file(src, out / f);
      } else if (fs::is_regular_file(tmp / f)) {
        copy_one_file(tmp / f, out / f);
        if (!tokenizer_source.empty()) r.notes.push_back(std::string("generated ") + f + " from the loaded tokenizer");
      } else {
        continue;
      }
      r.files.push_back(f);
    }
    fs::remove_all(tmp, ec);
  } else {
    r.notes.push_back("the model folder has no tokenizer files: none exported (transformers.js pipelines need them)");
  }

  if (onnx) {
    onnx_export::OnnxExportOptions oo;
    oo.opset = options.opset;
    const onnx::ModelProto fp32 = onnx_export::build_onnx_model(model, oo);
    write_onnx(fp32, out, "onnx/model.onnx", r);
    if (dtype == torch::kHalf) {
      oo.fp16 = true;
      write_onnx(onnx_export::build_onnx_model(model, oo), out, "onnx/model_fp16.onnx", r);
    } else if (dtype == torch::kBFloat16) {
      r.notes.push_back("ONNX has no bf16 variant: onnx/model.onnx is float32 (model.safetensors is bf16)");
    }
    if (options.quantize) {
      const onnx::ModelProto q = onnx_export::quantize_dynamic(fp32, options.quantize_options, &r.quantize_report);
      write_onnx(q, out, "onnx/model_quantized.onnx", r);
    }
  } else if (options.quantize) {
    r.notes.push_back("--quantize applies to ONNX: nothing quantized for --format hf");
  }
  return r;
}

ExportResult export_model_folder(const std::string& model_dir, const std::string& out_dir,
                                 const ExportOptions& options) {
  DISTILBERT_CHECK(fs::is_directory(model_dir), "model folder '", model_dir, "' does not exist");
  DISTILBERT_CHECK(fs::weakly_canonical(model_dir) != fs::weakly_canonical(out_dir), "export: the output folder '",
                   out_dir, "' is the model folder itself; choose another one");
  LoadOptions lo;
  lo.allow_new_head = false;  // exporting randomly initialised head weights would be silently wrong
  lo.verbose = false;
  LoadedModel loaded = load_model_folder(model_dir, lo);
  loaded.model->eval();
  std::shared_ptr<tokenizer::Tokenizer> tok;
  if (tokenizer::has_tokenizer(model_dir)) tok = tokenizer::load_tokenizer(model_dir);
  ExportResult r = export_model(*loaded.model, tok.get(), out_dir, options, model_dir);
  if (tok && static_cast<int64_t>(tok->vocab_size()) > loaded.model->config().vocab_size)
    r.notes.push_back("the tokenizer has " + std::to_string(tok->vocab_size()) + " tokens but the model's vocab_size is " +
                      std::to_string(loaded.model->config().vocab_size) + ": ids past it will fail in every runtime");
  for (const auto& u : loaded.report.unused)
    r.notes.push_back("checkpoint tensor '" + u + "' is not used by " + loaded.model->architecture());
  for (const auto& n : loaded.report.notes) r.notes.push_back(n);
  return r;
}

}  // namespace distilbert
