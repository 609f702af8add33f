// `distilbert export`: write a model folder (ours or HF's, any head) for other runtimes: an HF folder
// (config.json + model.safetensors + tokenizer), ONNX in the transformers.js layout (onnx/model.onnx, optional
// fp16 and dynamic-int8 variants), or both.
#include <filesystem>
#include <iostream>

#include "distilbert/cli/commands.h"
#include "distilbert/core/staged_folder.h"
#include "distilbert/core/error.h"
#include "distilbert/export/export.h"

namespace distilbert::cli {

namespace {
struct ExportArgs {
  std::string model, output, format = "all", dtype = "fp32";
  bool quantize = false, per_tensor = false, full_range = false, float_embeddings = false, overwrite = false;
  int opset = 17;
};

Command add_export_command(CLI::App& app) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand(
      "export", "Export a model folder as an HF folder (safetensors) and/or ONNX (transformers.js layout)");
  cmd->add_option("--model", a->model, "Model folder (config.json + weights [+ tokenizer files])")->required();
  cmd->add_option("--output", a->output, "Output folder")->required();
  cmd->add_option("--format", a->format, "hf: config + model.safetensors + tokenizer; onnx: config + tokenizer + "
                                         "onnx/model.onnx; all: both")
      ->check(CLI::IsMember({"hf", "onnx", "all"}))
      ->capture_default_str();
  cmd->add_option("--dtype", a->dtype, "fp32, fp16 (HF weights fp16 + onnx/model_fp16.onnx) or bf16 (HF weights only)")
      ->check(CLI::IsMember({"fp32", "fp16", "bf16"}))
      ->capture_default_str();
  cmd->add_flag("--quantize", a->quantize, "Also write onnx/model_quantized.onnx (dynamic int8 MatMulInteger)");
  cmd->add_flag("--per-tensor", a->per_tensor, "Quantize weights with one scale per tensor (default: per channel)");
  cmd->add_flag("--full-range", a->full_range,
                "Quantize weights to 8 bits instead of 7: more precise where the CPU has VNNI, but ONNX Runtime's "
                "integer products saturate on CPUs without it (AVX2)");
  cmd->add_flag("--float-embeddings", a->float_embeddings, "Keep the embedding tables float32 when quantizing");
  cmd->add_option("--opset", a->opset, "ONNX opset (14-17; LayerNormalization needs 17, decomposed below)")
      ->check(CLI::Range(14, 17))
      ->capture_default_str();
  cmd->add_flag("--overwrite", a->overwrite, "Write into an existing non-empty output folder");
  return {cmd, [a] {
            StagedFolder out(a->output, a->overwrite);
            ExportOptions o;
            o.format = parse_export_format(a->format);
            o.dtype = parse_export_dtype(a->dtype);
            o.quantize = a->quantize;
            o.quantize_options.per_channel = !a->per_tensor;
            o.quantize_options.reduce_range = !a->full_range;
            o.quantize_options.quantize_embeddings = !a->float_embeddings;
            o.opset = a->opset;
            ExportResult r = export_model_folder(a->model, out.path(), o);
            out.commit();
            namespace fs = std::filesystem;
            for (const auto& f : r.files) {
              const fs::path p = fs::path(a->output) / f;
              std::cout << "wrote " << p.string() << " (" << fs::file_size(p) << " bytes)\n";
            }
            if (a->quantize && o.format != ExportFormat::HF)
              std::cout << "quantized " << r.quantize_report.matmuls << " MatMul(s) and " << r.quantize_report.gathers
                        << " embedding table(s): initializers " << r.quantize_report.weight_bytes_before << " -> "
                        << r.quantize_report.weight_bytes_after << " bytes\n";
            std::cout.flush();
            for (const auto& n : r.notes) std::cerr << "[export] note: " << n << "\n";
            return 0;
          }};
}
}  // namespace

DISTILBERT_REGISTER_COMMAND("export", add_export_command);

}  // namespace distilbert::cli
