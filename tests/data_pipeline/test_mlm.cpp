// token_probs and the MLM corruption against the independent Python reference (tests/data/golden_distill), then the
// statistics of dynamic masking on a large sample: rate, 80/10/10, specials and pads never masked, and the
// count^-0.7 smoothing.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "data_pipeline/data_test_util.h"
#include "distilbert/core/error.h"
#include "distilbert/core/fs.h"
#include "distilbert/data/mlm.h"
#include "distilbert/data/token_counts.h"
#include "distilbert/io/safetensors.h"

using namespace distilbert;
using namespace distilbert::data;
using namespace distilbert::testing;
using Catch::Matchers::Contains;

namespace {

std::string golden(const std::string& p) { return std::string(DISTILBERT_SOURCE_DIR) + "/tests/data/" + p; }

// A batch of B sequences: [CLS] body [SEP] then pads, lengths in [T/2, T]; body ids from `pick`.
template <typename Pick>
Batch make_batch(std::int64_t B, std::int64_t T, std::mt19937& rng, Pick pick) {
  std::vector<std::vector<std::int64_t>> seqs;
  std::uniform_int_distribution<std::int64_t> len(T / 2, T);
  for (std::int64_t b = 0; b < B; ++b) {
    std::vector<std::int64_t> s(static_cast<std::size_t>(len(rng)));
    for (auto& v : s) v = pick(rng);
    s.front() = 2;
    s.back() = 3;
    seqs.push_back(s);
  }
  return collate(seqs, 0);
}

}  // namespace

TEST_CASE("token_probs matches the Python reference (case_token_probs.json)", "[data]") {
  const auto j = nlohmann::json::parse(read_file(golden("golden_distill/case_token_probs.json")));
  const auto counts = j["counts"].get<std::vector<std::int64_t>>();
  const auto specials = j["special_ids"].get<std::vector<std::int64_t>>();
  const auto want = j["token_probs"].get<std::vector<double>>();
  const torch::Tensor got = token_probs(counts, j["smoothing"].get<double>(), specials);
  REQUIRE(got.scalar_type() == torch::kFloat64);
  REQUIRE(got.numel() == static_cast<std::int64_t>(want.size()));
  double worst = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double g = got[static_cast<std::int64_t>(i)].item<double>();
    worst = std::max(worst, std::abs(g - want[i]) / std::max(1e-300, std::abs(want[i])));
    if (want[i] == 0) CHECK(g == 0);
  }
  CHECK(worst < 1e-14);
  // Uniform mode: smoothing 0 = 1 for every ordinary token.
  const torch::Tensor u = token_probs(counts, 0.0, specials);
  CHECK(u.slice(0, 4).eq(1).all().item<bool>());
  CHECK(u.slice(0, 0, 4).eq(0).all().item<bool>());
  CHECK(uniform_token_probs(128, specials).equal(u));
  CHECK_THROWS_WITH(token_probs(counts, 0.7, {128}), Contains("special id 128"));
}

TEST_CASE("apply_mlm_mask matches the Python reference (case_step.safetensors)", "[data]") {
  const auto f = load_safetensors(golden("golden_distill/case_step.safetensors"));
  const auto meta = nlohmann::json::parse(read_file(golden("golden_distill/case_step.json")));
  const std::int64_t mask_id = meta["token_ids"]["mask"].get<std::int64_t>();
  const auto& orig = f.at("input_ids_orig");
  const auto& pm = f.at("pred_mask");
  auto [ids, labels] = apply_mlm_mask(orig, pm, f.at("replace_choice"), f.at("random_ids"), mask_id);
  CHECK(ids.equal(f.at("input_ids")));
  CHECK(labels.equal(f.at("mlm_labels")));
  CHECK(pm.sum().item<std::int64_t>() == meta["n_masked"].get<std::int64_t>());
  // The 1-D layout (one entry per masked position, row-major) gives the same.
  auto [ids1, labels1] = apply_mlm_mask(orig, pm, f.at("replace_choice").masked_select(pm.to(torch::kBool)),
                                        f.at("random_ids").masked_select(pm.to(torch::kBool)), mask_id);
  CHECK(ids1.equal(f.at("input_ids")));
  CHECK(labels1.equal(f.at("mlm_labels")));
  // Bad inputs are errors.
  CHECK_THROWS_WITH(apply_mlm_mask(orig, pm, torch::full_like(orig, 3), f.at("random_ids"), mask_id),
                    Contains("0 ([MASK])"));
  CHECK_THROWS_WITH(apply_mlm_mask(orig, pm, torch::zeros({2}, torch::kLong), torch::zeros({2}, torch::kLong), mask_id),
                    Contains("one entry per masked position"));
}

TEST_CASE("dynamic masking: 15% rate, 80/10/10, never specials or pads, reproducible per generator", "[data]") {
  const std::int64_t V = 200;
  auto spec = test_specials();
  std::vector<std::int64_t> counts(V, 1000);
  MlmMasker masker(token_probs(counts, 0.7, special_id_list(spec)), spec, V);
  std::mt19937 rng(5);
  std::uniform_int_distribution<std::int64_t> body(5, V - 1);
  std::uniform_real_distribution<double> u(0, 1);
  // Bodies with some [UNK] and [MASK] tokens in them (specials: never to be picked).
  auto pick = [&](std::mt19937& r) -> std::int64_t {
    const double x = u(r);
    return x < 0.03 ? 1 : x < 0.05 ? 4 : body(r);
  };
  std::int64_t masked = 0, as_mask = 0, kept = 0, randomised = 0, special_masked = 0, pad_touched = 0;
  std::int64_t total_len = 0;
  bool exact_counts = true;
  for (int b = 0; b < 150; ++b) {
    const Batch batch = make_batch(32, 128, rng, pick);
    at::Generator gen = mlm_generator(1, 0, b);
    const MlmBatch m = masker.mask(batch, gen);
    const auto L = batch.lengths.sum().item<std::int64_t>();
    total_len += L;
    const torch::Tensor sel = m.mlm_labels.ne(-100);
    const std::int64_t n = sel.sum().item<std::int64_t>();
    exact_counts &= n == static_cast<std::int64_t>(std::ceil(0.15 * static_cast<double>(L)));
    masked += n;
    const torch::Tensor orig = batch.token_ids.masked_select(sel), now = m.input_ids.masked_select(sel);
    CHECK(m.mlm_labels.masked_select(sel).equal(orig));
    as_mask += now.eq(4).sum().item<std::int64_t>();
    kept += now.eq(orig).sum().item<std::int64_t>();
    randomised += (now.ne(4) & now.ne(orig)).sum().item<std::int64_t>();
    special_masked += (orig.le(4)).sum().item<std::int64_t>();
    const torch::Tensor pads = m.attention_mask.eq(0);
    pad_touched += (m.input_ids.masked_select(pads).ne(0).sum() + sel.masked_select(pads).sum()).item<std::int64_t>();
    // Unmasked positions are unchanged; the attention mask is arange(T) < lengths.
    CHECK(m.input_ids.masked_select(sel.logical_not()).equal(batch.token_ids.masked_select(sel.logical_not())));
    CHECK(m.attention_mask.sum(1).equal(batch.lengths));
    CHECK((m.input_ids.min().item<std::int64_t>() >= 0 && m.input_ids.max().item<std::int64_t>() < V));
  }
  CHECK(exact_counts);
  CHECK(special_masked == 0);
  CHECK(pad_touched == 0);
  const double rate = static_cast<double>(masked) / static_cast<double>(total_len);
  CHECK(std::abs(rate - 0.15) < 0.002);
  const double fm = static_cast<double>(as_mask) / masked, fk = static_cast<double>(kept) / masked,
               fr = static_cast<double>(randomised) / masked;
  INFO("mask " << fm << " keep " << fk << " random " << fr << " over " << masked);
  CHECK(std::abs(fm - 0.8) < 0.01);
  CHECK(std::abs(fk - 0.1) < 0.01);
  CHECK(std::abs(fr - 0.1) < 0.01);

  // Same generator seed -> same mask; another batch index -> another mask.
  const Batch batch = make_batch(8, 64, rng, pick);
  at::Generator g1 = mlm_generator(9, 3, 17), g2 = mlm_generator(9, 3, 17), g3 = mlm_generator(9, 3, 18);
  const MlmBatch a = masker.mask(batch, g1), b = masker.mask(batch, g2), c = masker.mask(batch, g3);
  CHECK(a.input_ids.equal(b.input_ids));
  CHECK(a.mlm_labels.equal(b.mlm_labels));
  CHECK_FALSE(a.mlm_labels.equal(c.mlm_labels));
}

TEST_CASE("dynamic masking: smoothing skews toward rare tokens as count^-0.7 predicts", "[data]") {
  const std::int64_t V = 200, rare = 150, common = 151;
  auto spec = test_specials();
  std::vector<std::int64_t> counts(V, 100);
  counts[rare] = 1000;
  counts[common] = 4000;
  std::mt19937 rng(11);
  std::uniform_int_distribution<std::int64_t> bg(5, 99);
  std::uniform_real_distribution<double> u(0, 1);
  auto pick = [&](std::mt19937& r) -> std::int64_t {
    const double x = u(r);
    return x < 0.1 ? rare : x < 0.2 ? common : bg(r);
  };
  for (double smoothing : {0.7, 0.0}) {
    MlmMasker masker(token_probs(counts, smoothing, special_id_list(spec)), spec, V);
    std::int64_t seen_rare = 0, seen_common = 0, hit_rare = 0, hit_common = 0;
    for (int b = 0; b < 400; ++b) {
      const Batch batch = make_batch(64, 128, rng, pick);
      at::Generator gen = mlm_generator(2, 0, b);
      const MlmBatch m = masker.mask(batch, gen);
      const torch::Tensor sel = m.mlm_labels.ne(-100);
      seen_rare += batch.token_ids.eq(rare).sum().item<std::int64_t>();
      seen_common += batch.token_ids.eq(common).sum().item<std::int64_t>();
      hit_rare += (batch.token_ids.eq(rare) & sel).sum().item<std::int64_t>();
      hit_common += (batch.token_ids.eq(common) & sel).sum().item<std::int64_t>();
    }
    const double ratio = (static_cast<double>(hit_rare) / seen_rare) / (static_cast<double>(hit_common) / seen_common);
    const double predicted = std::pow(1000.0 / 4000.0, -smoothing);  // (c1 / c2)^-0.7 = 2.64, or 1 when uniform
    INFO("smoothing " << smoothing << ": rate ratio " << ratio << ", predicted " << predicted << " (" << hit_rare
                      << " / " << hit_common << " masked)");
    CHECK(std::abs(ratio / predicted - 1) < 0.08);
  }
}

TEST_CASE("masker: fewer weighted positions than 15% -> all of them, configuration errors", "[data]") {
  auto spec = test_specials();
  MlmMasker masker(uniform_token_probs(10, special_id_list(spec)), spec, 10);
  // 20 tokens, only 2 ordinary ones: ceil(0.15 * 20) = 3 > 2.
  const Batch b = collate({{2, 1, 1, 1, 1, 1, 1, 1, 1, 7, 1, 1, 1, 1, 1, 1, 1, 1, 8, 3}}, 0);
  at::Generator gen = mlm_generator(0, 0, 0);
  const MlmBatch m = masker.mask(b, gen);
  CHECK(m.mlm_labels.ne(-100).sum().item<std::int64_t>() == 2);
  CHECK(m.mlm_labels[0][9].item<std::int64_t>() == 7);
  CHECK(m.mlm_labels[0][18].item<std::int64_t>() == 8);
  CHECK_THROWS_WITH(MlmMasker(uniform_token_probs(10, {}), spec, 11), Contains("10 entries") && Contains("11 ids"));
  tokenizer::SpecialTokenIds no_mask = spec;
  no_mask.mask = -1;
  CHECK_THROWS_WITH(MlmMasker(uniform_token_probs(10, {}), no_mask, 10), Contains("mask"));
}
