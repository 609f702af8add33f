// safetensors reader and writer; see safetensors.h.
#include "distilbert/io/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/fs.h"
#include "distilbert/core/json_error.h"

namespace distilbert {
namespace {

using json = nlohmann::json;

// The Rust safetensors library refuses headers above 100 MB; so do we, before allocating anything.
constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  size_t bytes;
};
const DtypeInfo kDtypes[] = {
    {"F64", torch::kFloat64, 8}, {"F32", torch::kFloat32, 4}, {"F16", torch::kFloat16, 2},
    {"BF16", torch::kBFloat16, 2}, {"I64", torch::kInt64, 8}, {"I32", torch::kInt32, 4},
    {"I16", torch::kInt16, 2},     {"I8", torch::kInt8, 1},     {"U8", torch::kUInt8, 1},
    {"BOOL", torch::kBool, 1},
};

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

struct Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr && addr != MAP_FAILED) ::munmap(addr, size);
  }
};

struct Entry {
  std::string name;
  const DtypeInfo* dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

// Validate the header against a data section of `data_size` bytes; returns the entries in file order.
std::vector<Entry> parse_header(const char* header, size_t header_len, uint64_t data_size, const std::string& origin,
                                std::map<std::string, std::string>& metadata) {
  json j;
  try {
    j = json::parse(header, header + header_len);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e99999
    fail("safetensors '", origin, "': header is not valid JSON: ", json_error_text(e));
  }
  DISTILBERT_CHECK(j.is_object(), "safetensors '", origin, "': header must be a JSON object, found ", j.type_name());
  std::vector<Entry> entries;
  for (const auto& [name, v] : j.items()) {
    if (name == "__metadata__") {
      DISTILBERT_CHECK(v.is_object(), "safetensors '", origin, "': __metadata__ must be an object of strings");
      for (const auto& [k, s] : v.items()) {
        DISTILBERT_CHECK(s.is_string(), "safetensors '", origin, "': __metadata__ value for '", k,
                         "' must be a string, found ", s.type_name());
        metadata[k] = s.get<std::string>();
      }
      continue;
    }
    const std::string where = str_cat("safetensors '", origin, "': tensor '", name, "'");
    DISTILBERT_CHECK(v.is_object(), where, ": entry must be an object, found ", v.type_name());
    for (const auto& [k, unused] : v.items())
      DISTILBERT_CHECK(k == "dtype" || k == "shape" || k == "data_offsets", where, ": unknown field '", k,
                       "' (expected dtype, shape, data_offsets)");
    DISTILBERT_CHECK(v.contains("dtype") && v["dtype"].is_string(), where, ": missing or non-string 'dtype'");
    Entry e;
    e.name = name;
    e.dtype = find_dtype(v["dtype"].get<std::string>());
    DISTILBERT_CHECK(e.dtype != nullptr, where, ": unsupported dtype '", v["dtype"].get<std::string>(),
                     "' (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
    DISTILBERT_CHECK(v.contains("shape") && v["shape"].is_array(), where, ": missing or non-list 'shape'");
    uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : v["shape"]) {
      DISTILBERT_CHECK(d.is_number_unsigned() || (d.is_number_integer() && d.get<int64_t>() >= 0), where,
                       ": shape entries must be non-negative integers, found ", v["shape"].dump());
      const uint64_t dim = d.get<uint64_t>();
      DISTILBERT_CHECK(dim <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), where, ": dimension ", dim,
                       " is too large");
      if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / dim) overflow = true;
      numel *= dim;
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    DISTILBERT_CHECK(!overflow && numel <= std::numeric_limits<uint64_t>::max() / e.dtype->bytes, where, ": shape ",
                     v["shape"].dump(), " is too large");
    const auto& offs = v.contains("data_offsets") ? v["data_offsets"] : json();
    DISTILBERT_CHECK(
        offs.is_array() && offs.size() == 2 && offs[0].is_number_unsigned() && offs[1].is_number_unsigned(), where,
        ": 'data_offsets' must be [begin, end] of non-negative integers, found ", offs.dump());
    e.begin = offs[0].get<uint64_t>();
    e.end = offs[1].get<uint64_t>();
    DISTILBERT_CHECK(e.begin <= e.end, where, ": data_offsets [", e.begin, ", ", e.end, "] has begin after end");
    DISTILBERT_CHECK(e.end <= data_size, where, ": data_offsets [", e.begin, ", ", e.end,
                     "] run past the end of the data (", data_size,
                     " bytes; the file is truncated or the header lies)");
    DISTILBERT_CHECK(e.end - e.begin == numel * e.dtype->bytes, where, ": shape ", v["shape"].dump(), " of ",
                     e.dtype->name, " needs ", numel * e.dtype->bytes, " bytes but data_offsets span ",
                     e.end - e.begin);
    entries.push_back(std::move(e));
  }
  // The byte ranges must tile the data section: no overlaps, no holes.
  std::vector<const Entry*> sorted;
  for (const auto& e : entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t pos = 0;
  for (const Entry* e : sorted) {
    DISTILBERT_CHECK(e->begin >= pos, "safetensors '", origin, "': tensor '", e->name, "' [", e->begin, ", ", e->end,
                     ") overlaps the previous tensor (which ends at ", pos, ")");
    DISTILBERT_CHECK(e->begin == pos, "safetensors '", origin, "': hole in the data before tensor '", e->name,
                     "' (bytes ", pos, " to ", e->begin, " belong to no tensor)");
    pos = e->end;
  }
  DISTILBERT_CHECK(pos == data_size, "safetensors '", origin, "': ", data_size - pos,
                   " trailing bytes after the last tensor belong to no tensor");
  return entries;
}

// Shared parse of the 8-byte length and the header; returns entries and the offset of the data section.
std::vector<Entry> parse_image(const char* data, size_t size, const std::string& origin,
                               std::map<std::string, std::string>& metadata, size_t& data_start) {
  DISTILBERT_CHECK(size >= 8, "safetensors '", origin, "': file has ", size,
                   " bytes, too short for the 8-byte header length");
  uint64_t n = 0;
  std::memcpy(&n, data, 8);  // little-endian hosts only (x86-64, aarch64)
  DISTILBERT_CHECK(n <= kMaxHeaderBytes, "safetensors '", origin, "': header length ", n, " exceeds the 100 MB limit");
  DISTILBERT_CHECK(n <= size - 8, "safetensors '", origin, "': header length ", n, " runs past the end of the file (",
                   size, " bytes): the file is truncated or not safetensors");
  data_start = 8 + static_cast<size_t>(n);
  return parse_header(data + 8, static_cast<size_t>(n), size - data_start, origin, metadata);
}

}  // namespace

bool SafetensorsFile::contains(const std::string& name) const {
  for (const auto& [k, t] : tensors)
    if (k == name) return true;
  return false;
}

const torch::Tensor& SafetensorsFile::at(const std::string& name) const {
  for (const auto& [k, t] : tensors)
    if (k == name) return t;
  fail("safetensors '", path, "': no tensor named '", name, "'");
}

SafetensorsFile parse_safetensors(const char* data, size_t size, const std::string& origin) {
  SafetensorsFile f;
  f.path = origin;
  size_t start = 0;
  auto entries = parse_image(data, size, origin, f.metadata, start);
  for (const auto& e : entries) {
    auto t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype->type));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), data + start + e.begin, e.end - e.begin);
    f.tensors.emplace_back(e.name, t);
  }
  return f;
}

SafetensorsFile load_safetensors(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail("cannot open safetensors file '", path, "': ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail("cannot stat '", path, "': ", std::strerror(err));
  }
  auto map = std::make_shared<Mapping>();
  map->size = static_cast<size_t>(st.st_size);
  if (map->size > 0) {
    map->addr = ::mmap(nullptr, map->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (map->addr == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      fail("cannot memory-map '", path, "': ", std::strerror(err));
    }
  }
  ::close(fd);
  const char* base = static_cast<const char*>(map->addr);
  SafetensorsFile f;
  f.path = path;
  size_t start = 0;
  auto entries = parse_image(map->size ? base : "", map->size, path, f.metadata, start);
  for (const auto& e : entries) {
    const char* p = base + start + e.begin;
    const auto opts = torch::TensorOptions().dtype(e.dtype->type);
    torch::Tensor t;
    if (e.end == e.begin) {
      t = torch::empty(e.shape, opts);
    } else if (reinterpret_cast<uintptr_t>(p) % e.dtype->bytes == 0) {
      // Zero-copy view of the private (copy-on-write) mapping; the deleter keeps the mapping alive.
      auto keep = map;
      t = torch::from_blob(const_cast<char*>(p), e.shape, [keep](void*) {}, opts);
    } else {
      t = torch::empty(e.shape, opts);
      std::memcpy(t.data_ptr(), p, e.end - e.begin);
    }
    f.tensors.emplace_back(e.name, t);
  }
  return f;
}

std::string safetensors_dtype_name(torch::ScalarType t) {
  for (const auto& d : kDtypes)
    if (d.type == t) return d.name;
  fail("safetensors: dtype ", c10::toString(t), " cannot be stored (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> blobs;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    DISTILBERT_CHECK(tensor.defined(), "safetensors '", path, "': tensor '", name, "' is undefined");
    DISTILBERT_CHECK(!header.contains(name), "safetensors '", path, "': tensor name '", name, "' appears twice");
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", safetensors_dtype_name(t.scalar_type())},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    blobs.push_back(t);
  }
  std::string h = header.dump();
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  while ((8 + h.size()) % 8 != 0) h.push_back(' ');
  write_file_atomic(path, [&](std::ostream& out) {
    const uint64_t n = h.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(h.data(), static_cast<std::streamsize>(h.size()));
    for (const auto& t : blobs)
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
  });
}

}  // namespace distilbert
