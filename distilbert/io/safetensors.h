// safetensors reading (memory-mapped) and writing (atomic). Format: u64 little-endian header length N, N bytes of
// JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the tensor bytes, offsets
// relative to the end of the header. The reader validates everything before touching data: header size, JSON,
// dtypes, shapes, offsets inside the file, byte sizes matching shapes, no overlaps or holes (as the Rust reference
// library requires). Any violation is a distilbert::Error naming the file and the tensor.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace distilbert {

struct SafetensorsFile {
  /// Tensors in file order. On CPU they alias the memory map (kept alive by each tensor) when aligned.
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::map<std::string, std::string> metadata;

  bool contains(const std::string& name) const;
  /// Throws an Error naming the file when absent.
  const torch::Tensor& at(const std::string& name) const;
  std::string path;
};

/// Read and validate a safetensors file (memory-mapped).
SafetensorsFile load_safetensors(const std::string& path);
/// Parse a safetensors image held in memory; `origin` names it in errors. Tensors are copies.
SafetensorsFile parse_safetensors(const char* data, size_t size, const std::string& origin);

/// Write tensors (any device; contiguous copies are made on CPU) atomically. Supported dtypes: F64 F32 F16 BF16
/// I64 I32 I16 I8 U8 BOOL.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

/// "F32", "BF16", ... for a torch dtype; throws for unsupported ones.
std::string safetensors_dtype_name(torch::ScalarType t);

}  // namespace distilbert
