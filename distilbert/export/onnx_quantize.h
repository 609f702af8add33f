// Dynamic int8 quantization of an fp32 ONNX graph, producing what onnxruntime's quantize_dynamic produces
// (QOperator format, "IntegerOps"):
//   MatMul(A, W) with W a constant (K, N) initializer, or Transpose of one (the tied MLM projector), becomes
//     DynamicQuantizeLinear(A) -> (A_q uint8, A_scale, A_zero_point)      [one per distinct A, shared]
//     MatMulInteger(A_q, W_q int8, A_zero_point, W_zero_point) -> int32
//     Cast(float) * (A_scale * W_scale)
//   with W symmetric int8 (zero point 0; 7-bit by default, see reduce_range), one scale per output column
//   (per_channel) or one per tensor;
//   Gather(E, ids) on a constant embedding table becomes Gather(E_q int8, ids) -> DequantizeLinear (per tensor).
// Biases, LayerNorm, Softmax and the attention products of activations stay float32.
#pragma once

#include <cstdint>
#include <string>

#include <onnx/onnx_pb.h>

namespace distilbert::onnx_export {

struct QuantizeOptions {
  bool per_channel = true;          // one scale per output column of each weight (else per tensor)
  // 7-bit weights (|q| <= 63). ONNX Runtime's integer products on CPUs without VNNI (AVX2's vpmaddubsw) add two
  // u8*s8 products into a saturating int16: 2 x 255 x 127 = 64770 overflows it, 2 x 255 x 63 = 32130 does not. With
  // 7 bits every CPU computes the exact integer product, so the int8 model is the same model everywhere
  // (docs/EXPORT.md, "int8"); 8 bits are more precise only where VNNI is present.
  bool reduce_range = true;
  bool quantize_embeddings = true;  // Gather tables int8 (as quantize_dynamic's default op list)
};

struct QuantizeReport {
  int matmuls = 0;                // MatMul nodes made integer
  int gathers = 0;                // embedding tables made int8
  int64_t weight_bytes_before = 0, weight_bytes_after = 0;  // initializer bytes
};

/// Quantize `model` (float32 graph, opset >= 13). Throws distilbert::Error for fp16 graphs.
onnx::ModelProto quantize_dynamic(const onnx::ModelProto& model, const QuantizeOptions& options = {},
                                  QuantizeReport* report = nullptr);

}  // namespace distilbert::onnx_export
