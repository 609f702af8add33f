// Fuzz target: safetensors images (8-byte header length, JSON header, tensor bytes) through parse_safetensors and,
// written to a file, through the memory-mapping load_safetensors. Accepted images must give tensors whose byte
// sizes add up to the data section, identically on both paths.
#include <torch/torch.h>

#include "distilbert/io/safetensors.h"
#include "fuzz_target.h"

DISTILBERT_FUZZ_TARGET(safetensors) {
  using namespace distilbert;
  const char* bytes = reinterpret_cast<const char*>(data);
  std::size_t parsed_bytes = 0, parsed_count = 0;
  bool parsed = false;
  fuzz::guarded("parse_safetensors", [&] {
    const auto f = parse_safetensors(bytes, size, "fuzz");
    for (const auto& [name, t] : f.tensors) {
      fuzz::require(t.is_contiguous(), "tensor '" + name + "' is contiguous");
      parsed_bytes += t.numel() * t.element_size();
    }
    fuzz::require(parsed_bytes <= size, "tensor bytes fit in the image");
    parsed_count = f.tensors.size();
    parsed = true;
  });
  const std::string path = fuzz::scratch_dir() + "/input.safetensors";
  fuzz::write_bytes(path, data, size);
  bool loaded = false;
  fuzz::guarded("load_safetensors", [&] {
    const auto f = load_safetensors(path);
    std::size_t n = 0;
    for (const auto& [name, t] : f.tensors) {
      n += t.numel() * t.element_size();
      if (t.numel() > 0) (void)t.sum();  // touch the mapped bytes
    }
    fuzz::require(parsed && n == parsed_bytes && f.tensors.size() == parsed_count,
                  "load_safetensors and parse_safetensors agree on the image");
    loaded = true;
  });
  fuzz::require(parsed == loaded, "load_safetensors accepts exactly what parse_safetensors accepts");
  return 0;
}
