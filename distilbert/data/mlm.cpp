// Collation and MLM masking; see mlm.h.
#include "distilbert/data/mlm.h"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "distilbert/core/error.h"

namespace distilbert::data {

Batch collate(const LmSequences& seqs, const ItemIndex* items, std::size_t n, std::int64_t pad_id) {
  DISTILBERT_CHECK(n > 0, "collate: empty batch");
  std::int64_t longest = 0;
  for (std::size_t i = 0; i < n; ++i) longest = std::max<std::int64_t>(longest, seqs.length(items[i]));
  Batch b;
  b.token_ids = torch::full({static_cast<std::int64_t>(n), longest}, pad_id, torch::kLong);
  b.lengths = torch::empty({static_cast<std::int64_t>(n)}, torch::kLong);
  std::int64_t* ids = b.token_ids.data_ptr<std::int64_t>();
  std::int64_t* lens = b.lengths.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < n; ++i) {
    seqs.copy(items[i], ids + static_cast<std::int64_t>(i) * longest);
    lens[i] = seqs.length(items[i]);
  }
  return b;
}

Batch collate(const std::vector<std::vector<std::int64_t>>& sequences, std::int64_t pad_id) {
  DISTILBERT_CHECK(!sequences.empty(), "collate: empty batch");
  std::size_t longest = 0;
  for (const auto& s : sequences) longest = std::max(longest, s.size());
  const auto n = static_cast<std::int64_t>(sequences.size());
  Batch b;
  b.token_ids = torch::full({n, static_cast<std::int64_t>(longest)}, pad_id, torch::kLong);
  b.lengths = torch::empty({n}, torch::kLong);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto& s = sequences[static_cast<std::size_t>(i)];
    std::copy(s.begin(), s.end(), b.token_ids.data_ptr<std::int64_t>() + i * static_cast<std::int64_t>(longest));
    b.lengths.data_ptr<std::int64_t>()[i] = static_cast<std::int64_t>(s.size());
  }
  return b;
}

std::pair<torch::Tensor, torch::Tensor> apply_mlm_mask(const torch::Tensor& token_ids, const torch::Tensor& pred_mask,
                                                       const torch::Tensor& replace_choice,
                                                       const torch::Tensor& random_ids, std::int64_t mask_id) {
  const torch::Tensor ids = token_ids.to(torch::kLong);
  const torch::Tensor pm = pred_mask.to(torch::kBool);
  DISTILBERT_CHECK(pm.sizes() == ids.sizes(), "apply_mlm_mask: pred_mask has shape ", pm.sizes(), ", token_ids ",
                   ids.sizes());
  const std::int64_t n = pm.sum().item<std::int64_t>();
  torch::Tensor choice = replace_choice.to(torch::kLong), rnd = random_ids.to(torch::kLong);
  if (choice.sizes() == ids.sizes()) {
    DISTILBERT_CHECK(rnd.sizes() == ids.sizes(), "apply_mlm_mask: random_ids has shape ", rnd.sizes(), ", expected ",
                     ids.sizes());
    choice = choice.masked_select(pm);
    rnd = rnd.masked_select(pm);
  } else {
    DISTILBERT_CHECK(choice.numel() == n && rnd.numel() == n,
                     "apply_mlm_mask: replace_choice / random_ids must be (B, T) or hold ",
                     "one entry per masked position (", n, "), found ", choice.numel(), " / ", rnd.numel());
    choice = choice.reshape({-1});
    rnd = rnd.reshape({-1});
  }
  if (n > 0)
    DISTILBERT_CHECK(((choice >= 0) & (choice <= 2)).all().item<bool>(),
                     "apply_mlm_mask: replace_choice values must be 0 ([MASK]), ",
                     "1 (keep) or 2 (random) on the mask");
  torch::Tensor labels = ids.clone();  // copied before corruption
  const torch::Tensor real = ids.masked_select(pm);
  const torch::Tensor fresh =
      torch::where(choice == kChoiceMask, torch::full_like(real, mask_id), torch::where(choice == kChoiceKeep, real, rnd));
  torch::Tensor corrupted = ids.masked_scatter(pm, fresh);
  labels.masked_fill_(pm.logical_not(), -100);
  return {corrupted, labels};
}

at::Generator mlm_generator(std::uint64_t seed, std::int64_t epoch, std::int64_t batch_index, std::int64_t rank) {
  return at::make_generator<at::CPUGeneratorImpl>(mix_seed(seed ^ 0x6d6c6d6d61736bULL, static_cast<std::uint64_t>(epoch),
                                                           static_cast<std::uint64_t>(batch_index),
                                                           static_cast<std::uint64_t>(rank)));
}

MlmMasker::MlmMasker(torch::Tensor token_probs, tokenizer::SpecialTokenIds specials, std::int64_t vocab_size,
                     MlmOptions options)
    : specials_(specials), vocab_size_(vocab_size), options_(options) {
  DISTILBERT_CHECK(token_probs.defined() && token_probs.dim() == 1, "MlmMasker: token_probs must be a 1-D tensor");
  DISTILBERT_CHECK(token_probs.size(0) == vocab_size, "MlmMasker: token_probs has ", token_probs.size(0),
                   " entries but the vocabulary has ", vocab_size, " ids");
  DISTILBERT_CHECK(specials_.pad >= 0 && specials_.mask >= 0, "MlmMasker: the pad and mask ids are required (pad ",
                   specials_.pad, ", mask ", specials_.mask, ")");
  token_probs_ = token_probs.to(torch::kCPU, torch::kFloat64).contiguous();
  DISTILBERT_CHECK((token_probs_ >= 0).all().item<bool>() && torch::isfinite(token_probs_).all().item<bool>(),
                   "MlmMasker: token_probs must be finite and non-negative");
  DISTILBERT_CHECK(options_.mask_prop >= 0 && options_.mask_prop <= 1, "MlmMasker: mask_prop must be in [0, 1], found ",
                   options_.mask_prop);
  DISTILBERT_CHECK(options_.word_mask >= 0 && options_.word_keep >= 0 && options_.word_rand >= 0 &&
                       options_.word_mask + options_.word_keep + options_.word_rand > 0,
                   "MlmMasker: word_mask / word_keep / word_rand must be >= 0 with a positive sum");
  pred_probs_ = torch::tensor({options_.word_mask, options_.word_keep, options_.word_rand}, torch::kFloat64);
}

MlmBatch MlmMasker::mask(const Batch& batch, at::Generator& gen) const {
  const torch::Tensor& ids = batch.token_ids;
  DISTILBERT_CHECK(ids.dim() == 2 && ids.scalar_type() == torch::kLong, "MlmMasker: token_ids must be (B, T) int64");
  const std::int64_t T = ids.size(1);
  MlmBatch out;
  out.lengths = batch.lengths;
  out.attention_mask = (torch::arange(T, torch::kLong).unsqueeze(0) < batch.lengths.unsqueeze(1)).to(torch::kLong);
  const torch::Tensor flat = ids.reshape({-1});
  const torch::Tensor x_prob = token_probs_.index_select(0, flat);
  const auto total_len = batch.lengths.sum().item<std::int64_t>();
  std::int64_t n_tgt = static_cast<std::int64_t>(std::ceil(options_.mask_prop * static_cast<double>(total_len)));
  n_tgt = std::min(n_tgt, (x_prob > 0).sum().item<std::int64_t>());
  torch::Tensor pred_mask = torch::zeros({flat.numel()}, torch::kBool);
  if (n_tgt > 0) {
    const torch::Tensor tgt = torch::multinomial(x_prob / x_prob.sum(), n_tgt, /*replacement=*/false, gen);
    pred_mask.index_fill_(0, tgt, true);
  }
  pred_mask = pred_mask.view_as(ids);
  pred_mask.masked_fill_(ids == specials_.pad, false);
  const std::int64_t n = pred_mask.sum().item<std::int64_t>();
  if (n == 0) {
    out.input_ids = ids.clone();
    out.mlm_labels = torch::full_like(ids, -100);
    return out;
  }
  const torch::Tensor real = ids.masked_select(pred_mask);
  const torch::Tensor rand = real.clone().random_(vocab_size_, gen);
  const torch::Tensor choice = torch::multinomial(pred_probs_, n, /*replacement=*/true, gen);
  auto [corrupted, labels] = apply_mlm_mask(ids, pred_mask, choice, rand, specials_.mask);
  out.input_ids = corrupted;
  out.mlm_labels = labels;
  return out;
}

}  // namespace distilbert::data
