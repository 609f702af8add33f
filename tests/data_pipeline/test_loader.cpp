// MlmLoader: resume mid-epoch in a fresh loader gives the same batches and masks, prefetching changes nothing, ranks
// split every epoch and get the same number of batches, errors surface in next().
#include <catch2/catch.hpp>

#include <set>

#include <torch/torch.h>

#include "data_pipeline/data_test_util.h"
#include "distilbert/core/error.h"
#include "distilbert/data/loader.h"
#include "distilbert/data/token_counts.h"

using namespace distilbert;
using namespace distilbert::data;
using namespace distilbert::testing;
using Catch::Matchers::Contains;

namespace {

std::shared_ptr<const LmSequences> corpus(const std::string& name, std::size_t n = 300) {
  std::vector<std::vector<std::int64_t>> seqs;
  for (std::size_t i = 0; i < n; ++i) seqs.push_back(test_sequence(12 + (i * 37) % 90, static_cast<std::int64_t>(i)));
  const std::string dir = data_temp_dir("loader_" + name);
  LmSequencesOptions o;
  o.max_len = 64;
  return std::make_shared<LmSequences>(TokenStore::open(write_test_store(dir + "/s", seqs)), o);
}

MlmMasker masker_for(const LmSequences& s) {
  const auto counts = count_tokens(s.store(), 1);
  const auto sp = s.store().special_ids();
  return MlmMasker(token_probs(counts, 0.7, special_id_list(sp)), sp, s.store().vocab_size());
}

bool same(const MlmBatch& a, const MlmBatch& b) {
  return a.epoch == b.epoch && a.index == b.index && a.input_ids.equal(b.input_ids) &&
         a.mlm_labels.equal(b.mlm_labels) && a.attention_mask.equal(b.attention_mask) && a.lengths.equal(b.lengths);
}

std::vector<MlmBatch> drain(MlmLoader& l) {
  std::vector<MlmBatch> out;
  while (auto b = l.next()) out.push_back(*b);
  return out;
}

}  // namespace

TEST_CASE("loader: restore(state) in a fresh loader continues with identical batches and masks", "[data]") {
  const auto seqs = corpus("resume");
  LoaderOptions o;
  o.batching.batch_size = 8;
  o.batching.group_max_len = 64;
  o.seed = 123;
  o.prefetch = 3;
  MlmLoader a(seqs, masker_for(*seqs), o);
  a.set_epoch(0);
  const auto epoch0 = drain(a);
  REQUIRE(epoch0.size() == (seqs->size() + 7) / 8);
  a.set_epoch(1);
  const auto epoch1 = drain(a);
  const bool first_equal =
      epoch0[0].input_ids.sizes() == epoch1[0].input_ids.sizes() && epoch0[0].input_ids.equal(epoch1[0].input_ids);
  CHECK_FALSE(first_equal);  // another epoch, another order

  // Take the state after k batches of epoch 1, then restore in a fresh loader (the first one goes on).
  MlmLoader b(seqs, masker_for(*seqs), o);
  b.set_epoch(1);
  const std::size_t k = 7;
  for (std::size_t i = 0; i < k; ++i) REQUIRE(b.next());
  const LoaderState st = b.state();
  CHECK(st.epoch == 1);
  CHECK(st.batch == static_cast<std::int64_t>(k));
  const LoaderState round = LoaderState::from_json(nlohmann::json::parse(st.to_json().dump()));
  CHECK(round == st);
  MlmLoader c(seqs, masker_for(*seqs), o);
  c.restore(round);
  const auto rest = drain(c);
  REQUIRE(rest.size() == epoch1.size() - k);
  bool all_same = true;
  for (std::size_t i = 0; i < rest.size(); ++i) all_same &= same(rest[i], epoch1[k + i]);
  CHECK(all_same);
  // The loader that went on sees the same batches as well.
  const auto b_rest = drain(b);
  REQUIRE(b_rest.size() == rest.size());
  for (std::size_t i = 0; i < rest.size(); ++i) all_same &= same(b_rest[i], rest[i]);
  CHECK(all_same);
  // Restoring at the end of an epoch yields nothing until the next epoch.
  c.restore(LoaderState{1, static_cast<std::int64_t>(epoch1.size()), 123, 0, 1});
  CHECK_FALSE(c.next());
  // A state from another configuration is refused.
  CHECK_THROWS_WITH(c.restore(LoaderState{1, 0, 124, 0, 1}), Contains("seed 124"));
  CHECK_THROWS_WITH(c.restore(LoaderState{1, 10000, 123, 0, 1}), Contains("batch 10000"));
}

TEST_CASE("loader: background prefetch gives the same sequence as synchronous", "[data]") {
  const auto seqs = corpus("prefetch");
  for (std::int64_t max_tokens : {std::int64_t{0}, std::int64_t{512}}) {
    LoaderOptions o;
    o.batching.batch_size = max_tokens ? 0 : 5;
    o.batching.max_tokens = max_tokens;
    o.batching.group_max_len = 64;
    o.prefetch = 0;
    MlmLoader sync(seqs, masker_for(*seqs), o);
    o.prefetch = 4;
    MlmLoader ahead(seqs, masker_for(*seqs), o);
    for (std::int64_t e : {0, 2}) {
      sync.set_epoch(e);
      ahead.set_epoch(e);
      const auto s = drain(sync), a = drain(ahead);
      REQUIRE(s.size() == a.size());
      bool all_same = true;
      for (std::size_t i = 0; i < s.size(); ++i) all_same &= same(s[i], a[i]);
      CHECK(all_same);
      if (max_tokens)
        for (const auto& b : s) CHECK(b.input_ids.numel() <= max_tokens);
    }
    // Switching epochs mid-way (the worker is stopped and restarted) is fine too.
    ahead.set_epoch(3);
    REQUIRE(ahead.next());
    ahead.set_epoch(4);
    sync.set_epoch(4);
    CHECK(same(*ahead.next(), *sync.next()));
  }
}

TEST_CASE("loader: ranks split each epoch and get the same number of batches", "[data]") {
  const auto seqs = corpus("ranks", 301);
  for (std::int64_t max_tokens : {std::int64_t{0}, std::int64_t{600}}) {
    std::set<std::size_t> counts;
    std::multiset<ItemIndex> seen;
    for (std::int64_t r = 0; r < 3; ++r) {
      LoaderOptions o;
      o.batching.batch_size = max_tokens ? 0 : 4;
      o.batching.max_tokens = max_tokens;
      o.batching.group_max_len = 64;
      o.shard = {r, 3};
      o.prefetch = 2;
      MlmLoader l(seqs, masker_for(*seqs), o);
      l.set_epoch(0);
      counts.insert(l.num_batches());
      std::set<ItemIndex> mine;
      for (std::size_t b = 0; b < l.num_batches(); ++b)
        for (ItemIndex i : l.batch_items(b)) mine.insert(i);
      seen.insert(mine.begin(), mine.end());
      CHECK(drain(l).size() == l.num_batches());
    }
    CHECK(counts.size() == 1);
    // 301 items over 3 ranks: 101 each, 2 padding repeats; distinct items per rank, each item somewhere.
    std::set<ItemIndex> distinct(seen.begin(), seen.end());
    CHECK(distinct.size() == seqs->size());
    CHECK(seen.size() <= seqs->size() + 2);
  }
}

TEST_CASE("loader: errors of the background thread surface in next(), CUDA pinning is optional", "[data]") {
  const std::string dir = data_temp_dir("loader_error");
  std::vector<std::vector<std::int64_t>> seqs;
  for (int i = 0; i < 40; ++i) seqs.push_back(test_sequence(20, i));
  const std::string p = write_test_store(dir + "/s", seqs);
  {  // corrupt one id after writing: open() passes, reading the sequence fails
    std::fstream f(p + ".ids", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2 * (20 * 13 + 5));
    const std::uint16_t bad = 9999;
    f.write(reinterpret_cast<const char*>(&bad), 2);
  }
  auto s = std::make_shared<LmSequences>(TokenStore::open(p));
  const auto sp = s->store().special_ids();
  LoaderOptions o;
  o.batching.batch_size = 4;
  o.batching.shuffle = false;
  o.batching.group_by_size = false;
  o.prefetch = 2;
  o.device = torch::Device(torch::kCUDA, 0);  // pinned only where CUDA is available; never fails on CPU builds
  MlmLoader l(s, MlmMasker(uniform_token_probs(s->store().vocab_size(), special_id_list(sp)), sp, s->store().vocab_size()),
              o);
  l.set_epoch(0);
  for (int i = 0; i < 3; ++i) REQUIRE(l.next());
  CHECK_THROWS_WITH(l.next(), Contains("id 9999 at sequence 13"));
  CHECK_THROWS_WITH(MlmLoader(s, MlmMasker(uniform_token_probs(5, {}), sp, 5), o), Contains("vocabulary"));
}
