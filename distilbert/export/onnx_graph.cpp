// GraphBuilder and ONNX file helpers; see onnx_graph.h.
#include "distilbert/export/onnx_graph.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include "distilbert/core/error.h"

namespace distilbert::onnx_export {

namespace fs = std::filesystem;

onnx::AttributeProto attr_int(const std::string& name, int64_t v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(v);
  return a;
}

onnx::AttributeProto attr_ints(const std::string& name, const std::vector<int64_t>& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a.add_ints(x);
  return a;
}

onnx::AttributeProto attr_float(const std::string& name, float v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(v);
  return a;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t exp = (x >> 23) & 0xFFu;
  uint32_t mant = x & 0x7FFFFFu;
  if (exp == 0xFF) return static_cast<uint16_t>(sign | 0x7C00u | (mant ? 0x200u : 0u));  // inf / nan
  int32_t e = static_cast<int32_t>(exp) - 127 + 15;
  if (e >= 0x1F) return static_cast<uint16_t>(sign | 0x7C00u);  // overflow -> inf
  if (e <= 0) {                                                   // subnormal half (or zero)
    if (e < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t h = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u), halfway = 1u << (shift - 1u);
    if (rem > halfway || (rem == halfway && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // may carry into the exponent: still correct (inf at top)
  return static_cast<uint16_t>(sign | h);
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu, x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400u)) {
        mant <<= 1;
        --exp;
      }
      x = sign | (exp << 23) | ((mant & 0x3FFu) << 13);
    }
  } else if (exp == 0x1F) {
    x = sign | 0x7F800000u | (mant << 13);
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

GraphBuilder::GraphBuilder(onnx::GraphProto& graph) : graph_(graph) {
  for (const auto& t : graph_.initializer()) {
    initializer_names_[t.name()] = 1;
    used_[t.name()] = 1;
  }
  for (const auto& n : graph_.node()) {
    used_[n.name()] = 1;
    for (const auto& o : n.output()) used_[o] = 1;
  }
  for (const auto& i : graph_.input()) used_[i.name()] = 1;
}

std::string GraphBuilder::unique_name(const std::string& base) {
  auto it = used_.find(base);
  if (it == used_.end()) {
    used_[base] = 1;
    return base;
  }
  for (int k = it->second;; ++k) {
    std::string candidate = base + "_" + std::to_string(k);
    if (!used_.count(candidate)) {
      it->second = k + 1;
      used_[candidate] = 1;
      return candidate;
    }
  }
}

std::vector<std::string> GraphBuilder::node_n(const std::string& op_type, const std::vector<std::string>& inputs,
                                              size_t n_outputs, const std::vector<onnx::AttributeProto>& attrs,
                                              const std::string& domain) {
  onnx::NodeProto* n = graph_.add_node();
  n->set_op_type(op_type);
  if (!domain.empty()) n->set_domain(domain);
  n->set_name(unique_name(scope_ + "/" + op_type));
  for (const auto& i : inputs) n->add_input(i);
  std::vector<std::string> outs;
  for (size_t k = 0; k < n_outputs; ++k) {
    outs.push_back(unique_name(n->name() + "_output_" + std::to_string(k)));
    n->add_output(outs.back());
  }
  for (const auto& a : attrs) *n->add_attribute() = a;
  return outs;
}

std::string GraphBuilder::node(const std::string& op_type, const std::vector<std::string>& inputs,
                               const std::vector<onnx::AttributeProto>& attrs) {
  return node_n(op_type, inputs, 1, attrs)[0];
}

void GraphBuilder::node_to(const std::string& op_type, const std::vector<std::string>& inputs,
                           const std::string& output, const std::vector<onnx::AttributeProto>& attrs) {
  onnx::NodeProto* n = graph_.add_node();
  n->set_op_type(op_type);
  n->set_name(unique_name(scope_ + "/" + op_type));
  for (const auto& i : inputs) n->add_input(i);
  n->add_output(output);
  used_[output] = 1;
  for (const auto& a : attrs) *n->add_attribute() = a;
}

std::string GraphBuilder::initializer(const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims,
                                      const void* data, size_t bytes, const std::string& doc) {
  DISTILBERT_CHECK(!initializer_names_.count(name), "ONNX export: initializer '", name, "' added twice");
  initializer_names_[name] = 1;
  used_[name] = 1;
  onnx::TensorProto* t = graph_.add_initializer();
  t->set_name(name);
  t->set_data_type(elem_type);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(data, bytes);
  if (!doc.empty()) t->set_doc_string(doc);
  return name;
}

std::string GraphBuilder::const_i64(const std::vector<int64_t>& values, bool scalar) {
  std::string key = scalar ? "s" : "v";
  for (int64_t v : values) key += "_" + std::to_string(v);
  auto it = constants_.find("i64" + key);
  if (it != constants_.end()) return it->second;
  DISTILBERT_CHECK(!scalar || values.size() == 1, "ONNX export: scalar constant needs one value");
  std::string name = unique_name("const_i64" + key);
  std::vector<int64_t> dims;
  if (!scalar) dims.push_back(static_cast<int64_t>(values.size()));
  initializer(name, onnx::TensorProto::INT64, dims, values.data(), values.size() * sizeof(int64_t));
  constants_["i64" + key] = name;
  return name;
}

std::string GraphBuilder::const_scalar(float value, int32_t elem_type) {
  std::ostringstream os;
  os.precision(9);
  os << value;
  const std::string key = elem_type_name(elem_type) + "_" + os.str();
  auto it = constants_.find(key);
  if (it != constants_.end()) return it->second;
  std::string tag = os.str();
  for (char& ch : tag)
    if (ch == '-') ch = 'm';
  std::string name = unique_name("const_" + (elem_type == onnx::TensorProto::FLOAT16 ? std::string("f16_") : "f32_") + tag);
  if (elem_type == onnx::TensorProto::FLOAT16) {
    const uint16_t h = float_to_half(value);
    initializer(name, elem_type, {}, &h, 2);
  } else {
    DISTILBERT_CHECK(elem_type == onnx::TensorProto::FLOAT, "ONNX export: float constant of type ",
                     elem_type_name(elem_type));
    initializer(name, elem_type, {}, &value, 4);
  }
  constants_[key] = name;
  return name;
}

namespace {
void set_value_info(onnx::ValueInfoProto* v, const std::string& name, int32_t elem_type, const std::vector<Dim>& dims) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  auto* shape = tt->mutable_shape();
  for (const auto& d : dims) {
    auto* dim = shape->add_dim();
    if (std::holds_alternative<int64_t>(d))
      dim->set_dim_value(std::get<int64_t>(d));
    else
      dim->set_dim_param(std::get<std::string>(d));
  }
}
}  // namespace

void GraphBuilder::input(const std::string& name, int32_t elem_type, const std::vector<Dim>& dims) {
  used_[name] = 1;
  set_value_info(graph_.add_input(), name, elem_type, dims);
}

void GraphBuilder::output(const std::string& name, int32_t elem_type, const std::vector<Dim>& dims) {
  set_value_info(graph_.add_output(), name, elem_type, dims);
}

onnx::ModelProto check_onnx_model(const onnx::ModelProto& model, const std::string& what) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    fail("ONNX model ", what, " fails onnx::checker::check_model: ", e.what());
  }
  onnx::ModelProto inferred = model;
  try {
    onnx::ShapeInferenceOptions opts(/*check_type=*/true, /*strict_mode=*/1, /*data_prop=*/true);
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(), opts);
  } catch (const std::exception& e) {
    fail("ONNX model ", what, " fails strict shape inference: ", e.what());
  }
  return inferred;
}

void save_onnx_model(const onnx::ModelProto& model, const std::string& path) {
  const uint64_t bytes = model.ByteSizeLong();
  DISTILBERT_CHECK(
      bytes <= kMaxOnnxBytes, "ONNX model for '", path, "' would be ", bytes,
      " bytes: over protobuf's 2 GiB limit (external data is not supported; export fp16 or quantized instead)");
  std::error_code ec;
  const fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  DISTILBERT_CHECK(!ec, "cannot create folder '", p.parent_path().string(), "': ", ec.message());
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    DISTILBERT_CHECK(out.good(), "cannot open '", tmp, "' for writing");
    DISTILBERT_CHECK(model.SerializeToOstream(&out), "cannot serialise the ONNX model to '", tmp, "'");
    out.close();
    DISTILBERT_CHECK(out.good(), "error while writing '", tmp, "'");
  }
  fs::rename(tmp, path, ec);
  DISTILBERT_CHECK(!ec, "cannot rename '", tmp, "' to '", path, "': ", ec.message());
}

onnx::ModelProto load_onnx_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DISTILBERT_CHECK(in.good(), "ONNX model '", path, "': cannot open");
  onnx::ModelProto m;
  DISTILBERT_CHECK(m.ParseFromIstream(&in), "ONNX model '", path, "': not a valid ONNX protobuf");
  return m;
}

std::string elem_type_name(int32_t t) {
  if (onnx::TensorProto::DataType_IsValid(t)) return onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(t));
  return "type#" + std::to_string(t);
}

std::vector<float> tensor_floats(const onnx::TensorProto& t) {
  DISTILBERT_CHECK(t.data_type() == onnx::TensorProto::FLOAT, "ONNX tensor '", t.name(), "': expected FLOAT, found ",
                   elem_type_name(t.data_type()));
  int64_t n = 1;
  for (int64_t d : t.dims()) n *= d;
  std::vector<float> out(static_cast<size_t>(n));
  if (t.has_raw_data()) {
    DISTILBERT_CHECK(t.raw_data().size() == out.size() * 4, "ONNX tensor '", t.name(), "': raw_data has ",
                     t.raw_data().size(), " bytes, expected ", out.size() * 4);
    std::memcpy(out.data(), t.raw_data().data(), t.raw_data().size());
  } else {
    DISTILBERT_CHECK(t.float_data_size() == n, "ONNX tensor '", t.name(), "': float_data has ", t.float_data_size(),
                     " values, expected ", n);
    for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = t.float_data(static_cast<int>(i));
  }
  return out;
}

}  // namespace distilbert::onnx_export
