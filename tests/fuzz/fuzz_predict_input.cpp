// Fuzz target: the input files of `distilbert predict` (predict/predict_input.h), JSONL lines with input_ids,
// attention_mask, token_type_ids and position_ids (one row, or one per choice), read against a small model config,
// then collated into padded batches. Input layout: byte 0 picks the model (bit 0: BERT or DistilBERT) and multiple
// choice (bit 1); the rest is the file. Only distilbert::Error may come out. Every accepted example must hold ids
// inside the vocabulary, positions inside max_position_embeddings and masks of 0 and 1, and its batch tensors must
// have the documented shapes with padding where the rows end.
#include <sstream>
#include <string>

#include <torch/torch.h>

#include "distilbert/predict/predict_input.h"
#include "fuzz_target.h"

DISTILBERT_FUZZ_TARGET(predict_input) {
  using namespace distilbert;
  if (size == 0) return 0;
  ModelConfig config;
  config.model_type = (data[0] & 1) ? ModelType::Bert : ModelType::DistilBert;
  config.vocab_size = 50;
  config.max_position_embeddings = 12;
  config.type_vocab_size = 2;
  PredictInputOptions options;
  options.multiple_choice = data[0] & 2;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  fuzz::guarded("read_predict_inputs", [&] {
    const auto examples = read_predict_inputs(in, "input.jsonl", /*jsonl=*/true, config, options);
    for (const auto& ex : examples)
      for (size_t r = 0; r < ex.ids.size(); ++r) {
        for (int64_t id : ex.ids[r]) fuzz::require(id >= 0 && id < 50, "an accepted token id is outside the vocabulary");
        if (!ex.mask.empty())
          for (int64_t m : ex.mask[r]) fuzz::require(m == 0 || m == 1, "an accepted attention_mask value is not 0 or 1");
        if (!ex.positions.empty())
          for (int64_t p : ex.positions[r]) fuzz::require(p >= 0 && p < 12, "an accepted position is out of range");
        else
          fuzz::require(ex.ids[r].size() <= 12, "an accepted row is longer than max_position_embeddings");
      }
    const bool bert = config.model_type == ModelType::Bert;
    const ModelInputs in = collate_predict_inputs(examples, 0, examples.size(), options.multiple_choice, 0, bert);
    const int64_t dims = options.multiple_choice ? 3 : 2;
    fuzz::require(in.input_ids.dim() == dims && in.attention_mask.sizes() == in.input_ids.sizes(),
                  "collated input_ids / attention_mask have the wrong shape");
    fuzz::require(in.input_ids.size(0) == static_cast<int64_t>(examples.size()), "collated batch size differs");
    fuzz::require(in.input_ids.min().item<int64_t>() >= 0 && in.input_ids.max().item<int64_t>() < 50,
                  "a collated id is outside the vocabulary");
    fuzz::require(!in.position_ids.defined() || in.position_ids.max().item<int64_t>() < 12,
                  "a collated position is out of range");
    fuzz::require(bert == in.token_type_ids.defined(), "token_type_ids present exactly for BERT");
    // Padding: past each row's end, mask 0.
    const auto mask = in.attention_mask.reshape({static_cast<int64_t>(examples.size()), -1, in.input_ids.size(-1)});
    for (size_t i = 0; i < examples.size(); ++i)
      for (size_t c = 0; c < examples[i].ids.size(); ++c) {
        const auto len = static_cast<int64_t>(examples[i].ids[c].size());
        fuzz::require(mask[i][c].slice(0, len).sum().item<int64_t>() == 0,
                      "padding past a row's end is attended");
      }
  });
  return 0;
}
