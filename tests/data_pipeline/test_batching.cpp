// Samplers and batching: GroupedBatchSampler against a hand-worked example (checked with the reference Python code),
// create_lengths_groups bins, plain batching, token budgets, DistributedSampler sharding and equal batch counts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "distilbert/core/error.h"
#include "distilbert/data/batching.h"

using namespace distilbert;
using namespace distilbert::data;
using Catch::Matchers::Contains;

namespace {
std::vector<std::vector<ItemIndex>> all(const BatchList& b) {
  std::vector<std::vector<ItemIndex>> out;
  for (std::size_t i = 0; i < b.size(); ++i) out.push_back(b.batch(i));
  return out;
}
using V = std::vector<std::vector<ItemIndex>>;
}  // namespace

TEST_CASE("length groups: bisect_right over arange(3, k, 4)", "[data]") {
  // Python: [bisect.bisect_right(list(np.arange(3, 512, 4)), y) for y in [3, 4, 7, 8, 11, 511, 512, 600]]
  CHECK(length_groups({3, 4, 7, 8, 11, 511, 512, 600}, 512) == std::vector<std::int32_t>{1, 1, 2, 2, 3, 128, 128, 128});
  CHECK(length_groups({3, 4, 7, 8, 11, 511, 512, 600}, 0) == std::vector<std::int32_t>{0, 0, 0, 0, 1, 1, 1, 1});
  CHECK(length_groups({12, 5, 13, 6, 14, 20, 2, 12, 7, 4}, 16) ==
        std::vector<std::int32_t>{3, 1, 3, 1, 3, 4, 0, 3, 2, 1});
}

TEST_CASE("grouped batches: the reference GroupedBatchSampler on a hand-worked example", "[data]") {
  const std::vector<std::uint32_t> lengths = {12, 5, 13, 6, 14, 20, 2, 12, 7, 4};
  const auto groups = length_groups(lengths, 16);
  // Sampler order 0..9, batch size 3: group 3 fills [0,2,4] first, group 1 fills [1,3,9]; leftovers by group id:
  // g0 [6], g2 [8], g3 [7] -> [6,8,7]; g4 [5] -> [5].  ceil(10 / 3) = 4 batches.
  CHECK(all(grouped_batches({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, groups, 3)) == V{{0, 2, 4}, {1, 3, 9}, {6, 8, 7}, {5}});
  CHECK(all(grouped_batches({9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, groups, 3)) == V{{7, 4, 2}, {9, 3, 1}, {6, 8, 0}, {5}});
  // Always ceil(N / bs) batches covering every index once.
  std::vector<std::uint32_t> many(1001);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = static_cast<std::uint32_t>(12 + (i * 37) % 500);
  const auto g = length_groups(many, 512);
  for (std::int64_t bs : {1, 5, 8, 32, 1001, 2000}) {
    const BatchList b = grouped_batches(random_permutation(many.size(), 7), g, bs);
    CHECK(b.size() == (many.size() + static_cast<std::size_t>(bs) - 1) / static_cast<std::size_t>(bs));
    std::vector<ItemIndex> seen = b.items;
    std::sort(seen.begin(), seen.end());
    bool identity = seen.size() == many.size();
    for (std::size_t i = 0; identity && i < seen.size(); ++i) identity = seen[i] == i;
    CHECK(identity);
  }
}

TEST_CASE("plain batches: BatchSampler(drop_last=False)", "[data]") {
  CHECK(all(sequential_batches({4, 3, 2, 1, 0}, 2)) == V{{4, 3}, {2, 1}, {0}});
  CHECK(all(sequential_batches({4, 3, 2, 1}, 4)) == V{{4, 3, 2, 1}});
}

TEST_CASE("token-budget batches: members x longest member <= max_tokens", "[data]") {
  const std::vector<std::uint32_t> lengths = {100, 20, 30, 200, 50, 60, 10, 250};
  std::vector<ItemIndex> order = {0, 1, 2, 3, 4, 5, 6, 7};
  // Greedy in sampler order, budget 256: [100, 20] (adding 30 would make 3 x 100 = 300); [30] (2 x 200 > 256);
  // [200] (2 x 200); [50, 60, 10] (3 x 60 = 180; adding 250 would make 4 x 250); [250].
  const BatchList greedy = token_budget_batches(order, lengths, nullptr, 0, 256);
  CHECK(all(greedy) == V{{0, 1}, {2}, {3}, {4, 5, 6}, {7}});
  for (std::size_t b = 0; b < greedy.size(); ++b) {
    std::uint32_t longest = 0;
    for (ItemIndex i : greedy.batch(b)) longest = std::max(longest, lengths[i]);
    CHECK(greedy.batch_size(b) * longest <= 256);
  }
  // A member cap applies too.
  CHECK(all(token_budget_batches({1, 2, 4, 5, 6}, lengths, nullptr, 2, 10000)) == V{{1, 2}, {4, 5}, {6}});
  CHECK_THROWS_WITH(token_budget_batches(order, lengths, nullptr, 0, 200), Contains("250"));
  BatchingOptions bo;
  bo.max_tokens = 200;
  CHECK_THROWS_WITH(BatchPlanner(lengths, bo), Contains("longest sequence (250 tokens)"));

  // Grouped: per-group buffers, then leftovers by group id; every batch within budget and all items once.
  std::vector<std::uint32_t> many(3000);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = static_cast<std::uint32_t>(12 + (i * 131) % 500);
  const auto groups = length_groups(many, 512);
  const BatchList tb = token_budget_batches(random_permutation(many.size(), 3), many, &groups, 0, 4096);
  std::vector<ItemIndex> seen = tb.items;
  std::sort(seen.begin(), seen.end());
  CHECK(seen.size() == many.size());
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  std::uint64_t padded = 0, real = 0;
  for (std::size_t b = 0; b < tb.size(); ++b) {
    std::uint32_t longest = 0;
    for (ItemIndex i : tb.batch(b)) {
      longest = std::max(longest, many[i]);
      real += many[i];
    }
    CHECK(tb.batch_size(b) * longest <= 4096);
    padded += tb.batch_size(b) * longest;
  }
  CHECK(static_cast<double>(real) / static_cast<double>(padded) > 0.9);  // grouping keeps padding low
}

TEST_CASE("shards: DistributedSampler semantics, disjoint per epoch, equal batch counts", "[data]") {
  const std::size_t n = 1003;
  for (std::int64_t w : {1, 2, 3, 4}) {
    std::map<ItemIndex, int> count;
    const std::size_t per_rank = (n + static_cast<std::size_t>(w) - 1) / static_cast<std::size_t>(w);
    const auto perm = random_permutation(n, mix_seed(11, 2));
    for (std::int64_t r = 0; r < w; ++r) {
      const auto order = shard_order(n, 11, 2, {r, w});
      REQUIRE(order.size() == per_rank);
      for (std::size_t k = 0; k < order.size(); ++k) {
        ++count[order[k]];
        CHECK(order[k] == perm[(static_cast<std::size_t>(r) + k * static_cast<std::size_t>(w)) % n]);  // perm[r::W]
      }
    }
    // Every item is seen; only the padding (per_rank * W - n items from the permutation's head) twice.
    CHECK(count.size() == n);
    std::size_t twice = 0;
    for (auto& [i, c] : count) twice += c == 2;
    CHECK(twice == per_rank * static_cast<std::size_t>(w) - n);
  }
  // Another epoch shuffles differently; the same epoch is reproducible.
  CHECK(shard_order(n, 11, 2, {0, 2}) == shard_order(n, 11, 2, {0, 2}));
  CHECK(shard_order(n, 11, 2, {0, 2}) != shard_order(n, 11, 3, {0, 2}));
  CHECK(shard_order(n, 12, 2, {0, 2}) != shard_order(n, 11, 2, {0, 2}));
  CHECK_THROWS_WITH(shard_order(n, 11, 2, {2, 2}), Contains("rank 2 of world size 2"));

  std::vector<std::uint32_t> lengths(n);
  for (std::size_t i = 0; i < n; ++i) lengths[i] = static_cast<std::uint32_t>(12 + (i * 97) % 500);
  for (bool grouped : {true, false})
    for (std::int64_t max_tokens : {std::int64_t{0}, std::int64_t{2048}}) {
      BatchingOptions o;
      o.batch_size = max_tokens ? 0 : 8;
      o.max_tokens = max_tokens;
      o.group_by_size = grouped;
      BatchPlanner planner(lengths, o);
      std::set<std::size_t> counts;
      std::size_t total_items = 0;
      for (std::int64_t r = 0; r < 3; ++r) {
        const BatchList b = planner.epoch(5, 1, {r, 3});
        counts.insert(b.size());
        total_items += b.items.size();
      }
      INFO("grouped " << grouped << " max_tokens " << max_tokens);
      CHECK(counts.size() == 1);  // every rank the same number of batches
      CHECK(total_items >= n);
    }
}

TEST_CASE("random permutation: a permutation, seed-dependent, roughly uniform", "[data]") {
  const auto p = random_permutation(10000, 42);
  std::vector<ItemIndex> s = p;
  std::sort(s.begin(), s.end());
  for (std::size_t i = 0; i < s.size(); ++i) REQUIRE(s[i] == i);
  CHECK(p != random_permutation(10000, 43));
  // First position: each of 10 values about 1/10 of the time over 20000 seeds.
  std::vector<int> first(10, 0);
  for (std::uint64_t seed = 0; seed < 20000; ++seed) ++first[random_permutation(10, seed)[0]];
  for (int c : first) CHECK(std::abs(c - 2000) < 200);
}
