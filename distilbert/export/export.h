// Exporting a model folder for other runtimes (`distilbert export`):
//   hf    config.json (architectures, model_type, id2label/label2id, torch_dtype) + model.safetensors under HF's key
//         names (tied weights stored once, as save_pretrained does) + the tokenizer files
//   onnx  the transformers.js layout: config.json + tokenizer files + onnx/model.onnx (fp32), plus
//         onnx/model_fp16.onnx (--dtype fp16) and onnx/model_quantized.onnx (--quantize), every graph checked with
//         onnx::checker and strict shape inference
//   all   both (one config.json and one set of tokenizer files)
// Tokenizer files are copied verbatim from the model folder; tokenizer.json / tokenizer_config.json are generated
// from the loaded tokenizer when the folder lacks them (transformers.js needs both).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "distilbert/export/onnx_quantize.h"
#include "distilbert/model/pretrained.h"

namespace distilbert::tokenizer {
class Tokenizer;
}

namespace distilbert {

enum class ExportFormat { HF, ONNX, All };
/// "hf", "onnx", "all"; throws Error otherwise.
ExportFormat parse_export_format(const std::string& name);

struct ExportOptions {
  ExportFormat format = ExportFormat::All;
  /// nullopt/kFloat: float32. kHalf: HF weights fp16 and an extra onnx/model_fp16.onnx. kBFloat16: HF weights bf16
  /// (ONNX has no bf16 variant: onnx/model.onnx stays fp32; refused for --format onnx).
  std::optional<torch::ScalarType> dtype;
  bool quantize = false;  // onnx/model_quantized.onnx (dynamic int8)
  onnx_export::QuantizeOptions quantize_options;
  int opset = 17;
};

struct ExportResult {
  std::vector<std::string> files;  // written, relative to the output folder, in order
  std::vector<std::string> notes;  // what a user should know (generated tokenizer files, skipped variants, ...)
  onnx_export::QuantizeReport quantize_report;
};

/// Parse "fp32" | "fp16" | "bf16" (also float32/float16/bfloat16).
torch::ScalarType parse_export_dtype(const std::string& name);

/// config.json content for an export: the model's config with architectures, id2label/label2id (always for
/// classification heads, as HF writes them) and torch_dtype.
nlohmann::json export_config_json(const PretrainedModel& model, std::optional<torch::ScalarType> dtype);

/// Export `model` into `out_dir` (created if needed; existing files of the same names are replaced). `tok` may be
/// null (no tokenizer files; a note says so). `tokenizer_source`, if not empty, is a folder whose tokenizer files
/// are copied verbatim.
ExportResult export_model(const PretrainedModel& model, const tokenizer::Tokenizer* tok, const std::string& out_dir,
                          const ExportOptions& options, const std::string& tokenizer_source = "");

/// Load a model folder (ours or one HF wrote: config.json + model.safetensors / pytorch_model.bin / sharded index,
/// tokenizer files if present) and export it. Every weight the architecture needs must be in the folder.
ExportResult export_model_folder(const std::string& model_dir, const std::string& out_dir,
                                 const ExportOptions& options);

}  // namespace distilbert
