// Dynamic int8 quantization; see onnx_quantize.h.
#include "distilbert/export/onnx_quantize.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "distilbert/core/error.h"
#include "distilbert/export/onnx_graph.h"

namespace distilbert::onnx_export {

namespace {

using TP = onnx::TensorProto;

struct Weight {
  std::string key;         // what the quantized tensors are named after
  std::vector<float> data;  // (K, N) row-major
  int64_t K = 0, N = 0;
};

/// Symmetric int8 quantization of (K, N) with one scale per column (per_channel) or one overall.
void quantize_weight(const Weight& w, bool per_channel, int qmax, std::vector<int8_t>& q, std::vector<float>& scales) {
  const size_t K = static_cast<size_t>(w.K), N = static_cast<size_t>(w.N);
  std::vector<float> absmax(per_channel ? N : 1, 0.0f);
  for (size_t k = 0; k < K; ++k)
    for (size_t n = 0; n < N; ++n) {
      float& m = absmax[per_channel ? n : 0];
      m = std::max(m, std::fabs(w.data[k * N + n]));
    }
  scales.resize(absmax.size());
  for (size_t i = 0; i < absmax.size(); ++i) scales[i] = absmax[i] > 0 ? absmax[i] / static_cast<float>(qmax) : 1.0f;
  q.resize(K * N);
  for (size_t k = 0; k < K; ++k)
    for (size_t n = 0; n < N; ++n) {
      const float v = std::nearbyint(w.data[k * N + n] / scales[per_channel ? n : 0]);  // round half to even
      q[k * N + n] = static_cast<int8_t>(std::clamp(v, static_cast<float>(-qmax), static_cast<float>(qmax)));
    }
}

int64_t initializer_bytes(const onnx::GraphProto& g) {
  int64_t total = 0;
  for (const auto& t : g.initializer()) total += static_cast<int64_t>(t.raw_data().size()) + t.float_data_size() * 4;
  return total;
}

/// Remove nodes whose outputs nothing uses, and initializers no node reads.
void prune(onnx::GraphProto& g) {
  std::set<std::string> live;
  for (const auto& o : g.output()) live.insert(o.name());
  std::vector<bool> keep(static_cast<size_t>(g.node_size()), false);
  for (int i = g.node_size() - 1; i >= 0; --i) {
    const auto& n = g.node(i);
    bool used = false;
    for (const auto& o : n.output()) used = used || live.count(o);
    if (!used) continue;
    keep[static_cast<size_t>(i)] = true;
    for (const auto& in : n.input()) live.insert(in);
  }
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (int i = 0; i < g.node_size(); ++i)
    if (keep[static_cast<size_t>(i)]) *nodes.Add() = g.node(i);
  g.mutable_node()->Swap(&nodes);
  google::protobuf::RepeatedPtrField<TP> inits;
  for (const auto& t : g.initializer())
    if (live.count(t.name())) *inits.Add() = t;
  g.mutable_initializer()->Swap(&inits);
}

}  // namespace

onnx::ModelProto quantize_dynamic(const onnx::ModelProto& model, const QuantizeOptions& options,
                                  QuantizeReport* report) {
  onnx::ModelProto out = model;
  onnx::GraphProto& g = *out.mutable_graph();
  for (const auto& op : out.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx")
      DISTILBERT_CHECK(op.version() >= 13, "quantize: the graph's opset ", op.version(),
                       " is below 13 (per-axis DequantizeLinear)");

  std::map<std::string, const TP*> inits;
  for (const auto& t : model.graph().initializer()) {
    DISTILBERT_CHECK(t.data_type() != TP::FLOAT16, "quantize: the graph has float16 tensors ('", t.name(),
                     "'): quantize the float32 export");
    inits[t.name()] = &t;
  }
  std::map<std::string, const onnx::NodeProto*> producer;
  for (const auto& n : model.graph().node())
    for (const auto& o : n.output()) producer[o] = &n;

  // The constant (K, N) matrix a MatMul's B input stands for, if any.
  auto constant_matrix = [&](const std::string& name, Weight& w) -> bool {
    auto it = inits.find(name);
    bool transposed = false;
    if (it == inits.end()) {
      auto p = producer.find(name);
      if (p == producer.end() || p->second->op_type() != "Transpose" || p->second->input_size() != 1) return false;
      for (const auto& a : p->second->attribute())
        if (a.name() == "perm" && !(a.ints_size() == 2 && a.ints(0) == 1 && a.ints(1) == 0)) return false;
      it = inits.find(p->second->input(0));
      if (it == inits.end()) return false;
      transposed = true;
    }
    const TP& t = *it->second;
    if (t.data_type() != TP::FLOAT || t.dims_size() != 2) return false;
    std::vector<float> data = tensor_floats(t);
    const int64_t R = t.dims(0), C = t.dims(1);
    w.key = transposed ? t.name() + ".T" : t.name();
    if (!transposed) {
      w.K = R, w.N = C, w.data = std::move(data);
    } else {
      w.K = C, w.N = R;
      w.data.resize(data.size());
      for (int64_t r = 0; r < R; ++r)
        for (int64_t c = 0; c < C; ++c) w.data[static_cast<size_t>(c * R + r)] = data[static_cast<size_t>(r * C + c)];
    }
    return true;
  };

  QuantizeReport rep;
  rep.weight_bytes_before = initializer_bytes(model.graph());
  const int qmax = options.reduce_range ? 63 : 127;

  GraphBuilder b(g);  // registers every existing name before the nodes are rebuilt
  const google::protobuf::RepeatedPtrField<onnx::NodeProto> old_nodes = g.node();
  g.clear_node();
  std::map<std::string, std::vector<std::string>> dql;  // activation -> (q, scale, zero point)
  std::map<std::string, std::vector<std::string>> qweights;  // weight key -> (q, scale, zero point)

  for (const auto& n : old_nodes) {
    Weight w;
    if (n.op_type() == "MatMul" && n.input_size() == 2 && constant_matrix(n.input(1), w)) {
      b.set_scope(n.name());
      auto& qw = qweights[w.key];
      if (qw.empty()) {
        std::vector<int8_t> q;
        std::vector<float> scales;
        quantize_weight(w, options.per_channel, qmax, q, scales);
        std::vector<int8_t> zp(scales.size(), 0);
        std::vector<int64_t> sdims;
        if (options.per_channel) sdims.push_back(w.N);
        qw.push_back(b.initializer(b.unique_name(w.key + "_quantized"), TP::INT8, {w.K, w.N}, q.data(), q.size()));
        qw.push_back(b.initializer(b.unique_name(w.key + "_scale"), TP::FLOAT, sdims, scales.data(), scales.size() * 4));
        qw.push_back(b.initializer(b.unique_name(w.key + "_zero_point"), TP::INT8, sdims, zp.data(), zp.size()));
      }
      auto& a = dql[n.input(0)];
      if (a.empty()) a = b.node_n("DynamicQuantizeLinear", {n.input(0)}, 3);
      auto y = b.node("MatMulInteger", {a[0], qw[0], a[2], qw[2]});  // DQL outputs: y, y_scale, y_zero_point
      auto yf = b.node("Cast", {y}, {attr_int("to", TP::FLOAT)});
      auto scale = b.node("Mul", {a[1], qw[1]});
      b.node_to("Mul", {yf, scale}, n.output(0));
      ++rep.matmuls;
      continue;
    }
    if (options.quantize_embeddings && n.op_type() == "Gather" && n.input_size() == 2 && inits.count(n.input(0)) &&
        inits[n.input(0)]->data_type() == TP::FLOAT && inits[n.input(0)]->dims_size() == 2) {
      b.set_scope(n.name());
      const TP& t = *inits[n.input(0)];
      auto& qw = qweights["gather:" + t.name()];
      if (qw.empty()) {
        Weight e;
        e.key = t.name();
        e.K = t.dims(0), e.N = t.dims(1);
        e.data = tensor_floats(t);
        std::vector<int8_t> q;
        std::vector<float> scales;
        quantize_weight(e, /*per_channel=*/false, qmax, q, scales);
        const int8_t zp = 0;
        qw.push_back(b.initializer(b.unique_name(e.key + "_quantized"), TP::INT8, {e.K, e.N}, q.data(), q.size()));
        qw.push_back(b.initializer(b.unique_name(e.key + "_scale"), TP::FLOAT, {}, scales.data(), 4));
        qw.push_back(b.initializer(b.unique_name(e.key + "_zero_point"), TP::INT8, {}, &zp, 1));
        ++rep.gathers;
      }
      std::vector<onnx::AttributeProto> attrs(n.attribute().begin(), n.attribute().end());
      auto gq = b.node("Gather", {qw[0], n.input(1)}, attrs);
      b.node_to("DequantizeLinear", {gq, qw[1], qw[2]}, n.output(0));
      continue;
    }
    *g.add_node() = n;
  }
  prune(g);
  rep.weight_bytes_after = initializer_bytes(g);
  auto* p = out.add_metadata_props();
  p->set_key("quantization");
  p->set_value(std::string("dynamic int8 (MatMulInteger, ") + (options.per_channel ? "per-channel" : "per-tensor") +
               (options.reduce_range ? ", reduce_range" : "") + ")");
  if (report) *report = rep;
  return out;
}

}  // namespace distilbert::onnx_export
