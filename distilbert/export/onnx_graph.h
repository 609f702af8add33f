// GraphBuilder: appends ONNX nodes, initializers, inputs and outputs to an onnx::GraphProto (the real ONNX protobuf
// classes of libonnx), giving every node and value a unique, readable name ("/distilbert/transformer/layer.0/
// attention/q_lin/MatMul", its output "..._output_0"), deduplicating constants. Also: reading and writing model
// files, validation (onnx::checker + strict shape inference) and float <-> IEEE half conversion. Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <onnx/onnx_pb.h>

namespace distilbert::onnx_export {

/// A dimension of a graph input/output: a fixed size or a symbolic (dynamic) name like "batch_size".
using Dim = std::variant<int64_t, std::string>;

onnx::AttributeProto attr_int(const std::string& name, int64_t v);
onnx::AttributeProto attr_ints(const std::string& name, const std::vector<int64_t>& v);
onnx::AttributeProto attr_float(const std::string& name, float v);

/// IEEE 754 binary16 from float (round to nearest even, overflow to inf) and back.
uint16_t float_to_half(float f);
float half_to_float(uint16_t h);

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto& graph);
  onnx::GraphProto& graph() { return graph_; }

  /// Node names are "<scope>/<Op>"; set the scope (e.g. "/distilbert/embeddings") before adding a block's nodes.
  void set_scope(std::string scope) { scope_ = std::move(scope); }
  const std::string& scope() const { return scope_; }

  /// Add a node with `n_outputs` fresh outputs; returns their names.
  std::vector<std::string> node_n(const std::string& op_type, const std::vector<std::string>& inputs, size_t n_outputs,
                                  const std::vector<onnx::AttributeProto>& attrs = {}, const std::string& domain = "");
  /// Add a one-output node; returns the output name.
  std::string node(const std::string& op_type, const std::vector<std::string>& inputs,
                   const std::vector<onnx::AttributeProto>& attrs = {});
  /// Add a one-output node whose output is named `output` (a graph output, or a value being replaced).
  void node_to(const std::string& op_type, const std::vector<std::string>& inputs, const std::string& output,
               const std::vector<onnx::AttributeProto>& attrs = {});

  /// Add an initializer holding `bytes` raw little-endian bytes; returns `name`. Throws when the name is taken.
  std::string initializer(const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims,
                          const void* data, size_t bytes, const std::string& doc = "");
  /// Deduplicated constants (initializers named "const_..."): int64 vector (or scalar), float scalar of `elem_type`
  /// (FLOAT or FLOAT16).
  std::string const_i64(const std::vector<int64_t>& values, bool scalar = false);
  std::string const_scalar(float value, int32_t elem_type);

  void input(const std::string& name, int32_t elem_type, const std::vector<Dim>& dims);
  void output(const std::string& name, int32_t elem_type, const std::vector<Dim>& dims);

  bool has_initializer(const std::string& name) const { return initializer_names_.count(name) != 0; }
  /// A name not used yet, from `base` (base itself when free, else base_1, base_2, ...).
  std::string unique_name(const std::string& base);

 private:
  onnx::GraphProto& graph_;
  std::string scope_;
  std::map<std::string, int> used_;
  std::map<std::string, int> initializer_names_;
  std::map<std::string, std::string> constants_;
};

/// Bytes of a model's serialisation limit (protobuf's 2 GiB); larger models need external data (not supported).
constexpr uint64_t kMaxOnnxBytes = (uint64_t{1} << 31) - 1;

/// onnx::checker::check_model plus strict shape inference (type checks on, node-level errors raised, data
/// propagation on). Throws distilbert::Error naming `what` and the ONNX message. Returns the inferred model
/// (value_info filled) so callers can inspect shapes.
onnx::ModelProto check_onnx_model(const onnx::ModelProto& model, const std::string& what);

/// Serialise to `path` (atomically: temp file + rename); throws Error when over 2 GiB or on write errors.
void save_onnx_model(const onnx::ModelProto& model, const std::string& path);
onnx::ModelProto load_onnx_model(const std::string& path);

/// "FLOAT", "INT64", ... for messages.
std::string elem_type_name(int32_t elem_type);
/// The data of a FLOAT initializer (raw_data or float_data) as floats.
std::vector<float> tensor_floats(const onnx::TensorProto& t);

}  // namespace distilbert::onnx_export
