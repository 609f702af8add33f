// Reading state dicts saved by Python's torch.save: both the zip format (torch >= 1.6: data.pkl + data/<key>
// records) and the legacy sequential format that older checkpoints such as the original bert-base-uncased
// pytorch_model.bin use. A small unpickler handles the opcodes torch.save emits for a dict of tensors
// (collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter, typed storages via persistent
// ids); LibTorch's own pickle_load turns an OrderedDict into None, hence this reader. Anything else in the pickle
// (arbitrary Python objects) is refused with a message naming it: nothing is ever executed.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace distilbert {

/// name -> tensor, in file order. Throws distilbert::Error naming `path` on anything unexpected.
std::vector<std::pair<std::string, torch::Tensor>> load_torch_state_dict(const std::string& path);

}  // namespace distilbert
