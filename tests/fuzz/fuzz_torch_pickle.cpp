// Fuzz target: pytorch_model.bin files (torch.save zip archives and legacy sequential pickles) through
// load_torch_state_dict. The unpickler must refuse anything but a dict of tensors with distilbert::Error; a
// c10::Error from LibTorch's zip reader is translated by the loader, never passed through raw.
#include <torch/torch.h>

#include "distilbert/io/torch_pickle.h"
#include "fuzz_target.h"

DISTILBERT_FUZZ_TARGET(torch_pickle) {
  using namespace distilbert;
  const std::string path = fuzz::scratch_dir() + "/pytorch_model.bin";
  fuzz::write_bytes(path, data, size);
  fuzz::guarded("load_torch_state_dict", [&] {
    const auto sd = load_torch_state_dict(path);
    for (const auto& [name, t] : sd) {
      fuzz::require(t.defined(), "tensor '" + name + "' defined");
      if (t.numel() > 0 && t.numel() < (1 << 20)) (void)t.sum();  // touch the storage
    }
  });
  return 0;
}
