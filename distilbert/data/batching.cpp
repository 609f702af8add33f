// Samplers and batch construction; see batching.h.
#include "distilbert/data/batching.h"

#include <algorithm>
#include <limits>
#include <map>

#include "distilbert/core/error.h"
#include "distilbert/core/splitmix64.h"

namespace distilbert::data {

namespace {

struct Xoshiro256 {
  std::uint64_t s[4];
  explicit Xoshiro256(std::uint64_t seed) {
    for (auto& v : s) v = splitmix64_next(seed);
  }
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
  /// Uniform in [0, bound) (Lemire's multiply-shift with rejection: unbiased).
  std::uint64_t below(std::uint64_t bound) {
    unsigned __int128 m = static_cast<unsigned __int128>(next()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }
};

}  // namespace

std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d) {
  std::uint64_t x = 0x243f6a8885a308d3ULL;
  for (std::uint64_t v : {a, b, c, d}) {
    x ^= v;
    x = splitmix64_next(x);
  }
  return x;
}

std::vector<std::int32_t> length_groups(const std::vector<std::uint32_t>& lengths, std::int64_t k) {
  std::vector<std::int64_t> bins;
  if (k > 0)
    for (std::int64_t b = 3; b < k; b += 4) bins.push_back(b);
  else
    bins.push_back(10);
  std::vector<std::int32_t> groups(lengths.size());
  for (std::size_t i = 0; i < lengths.size(); ++i)
    groups[i] = static_cast<std::int32_t>(
        std::upper_bound(bins.begin(), bins.end(), static_cast<std::int64_t>(lengths[i])) - bins.begin());
  return groups;
}

std::vector<ItemIndex> random_permutation(std::size_t n, std::uint64_t seed) {
  DISTILBERT_CHECK(n <= std::numeric_limits<ItemIndex>::max(), "more than 2^32 - 1 sequences are not supported (", n,
                   ")");
  std::vector<ItemIndex> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<ItemIndex>(i);
  Xoshiro256 rng(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[rng.below(i)]);
  return p;
}

std::vector<ItemIndex> shard_order(std::size_t n, std::uint64_t seed, std::int64_t epoch, ShardSpec shard,
                                   bool shuffle) {
  DISTILBERT_CHECK(shard.world_size >= 1 && shard.rank >= 0 && shard.rank < shard.world_size, "invalid shard: rank ",
                   shard.rank, " of world size ", shard.world_size);
  DISTILBERT_CHECK(n > 0, "no sequences to sample from");
  std::vector<ItemIndex> perm;
  if (shuffle) {
    perm = random_permutation(n, mix_seed(seed, static_cast<std::uint64_t>(epoch)));
  } else {
    DISTILBERT_CHECK(n <= std::numeric_limits<ItemIndex>::max(), "more than 2^32 - 1 sequences are not supported (", n,
                     ")");
    perm.resize(n);
    for (std::size_t i = 0; i < n; ++i) perm[i] = static_cast<ItemIndex>(i);
  }
  if (shard.world_size == 1) return perm;
  const auto w = static_cast<std::size_t>(shard.world_size);
  const std::size_t per_rank = (n + w - 1) / w;
  std::vector<ItemIndex> out(per_rank);
  for (std::size_t k = 0; k < per_rank; ++k) out[k] = perm[(static_cast<std::size_t>(shard.rank) + k * w) % n];
  return out;
}

BatchList grouped_batches(const std::vector<ItemIndex>& order, const std::vector<std::int32_t>& groups,
                          std::int64_t batch_size) {
  DISTILBERT_CHECK(batch_size > 0, "batch_size must be positive, found ", batch_size);
  const auto bs = static_cast<std::size_t>(batch_size);
  BatchList out;
  out.items.reserve(order.size());
  std::map<std::int32_t, std::vector<ItemIndex>> buffers;  // ordered by group id for the leftovers
  for (ItemIndex idx : order) {
    auto& buf = buffers[groups[idx]];
    buf.push_back(idx);
    if (buf.size() == bs) {
      out.add(buf.data(), bs);
      buf.clear();
    }
  }
  std::vector<ItemIndex> rest;
  for (auto& [g, buf] : buffers) {
    rest.insert(rest.end(), buf.begin(), buf.end());
    if (rest.size() >= bs) {
      out.add(rest.data(), bs);
      rest.erase(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(bs));
    }
  }
  if (!rest.empty()) out.add(rest.data(), rest.size());
  return out;
}

BatchList sequential_batches(const std::vector<ItemIndex>& order, std::int64_t batch_size) {
  DISTILBERT_CHECK(batch_size > 0, "batch_size must be positive, found ", batch_size);
  const auto bs = static_cast<std::size_t>(batch_size);
  BatchList out;
  out.items.reserve(order.size());
  for (std::size_t i = 0; i < order.size(); i += bs) out.add(order.data() + i, std::min(bs, order.size() - i));
  return out;
}

namespace {
// A batch being filled under a token budget.
struct BudgetBuffer {
  std::vector<ItemIndex> items;
  std::uint32_t longest = 0;
  bool fits(std::uint32_t len, std::size_t cap, std::int64_t max_tokens) const {
    if (cap && items.size() + 1 > cap) return false;
    const std::uint64_t l = std::max(longest, len);
    return static_cast<std::int64_t>((items.size() + 1) * l) <= max_tokens;
  }
  void push(ItemIndex i, std::uint32_t len) {
    items.push_back(i);
    longest = std::max(longest, len);
  }
  void flush(BatchList& out) {
    if (!items.empty()) out.add(items.data(), items.size());
    items.clear();
    longest = 0;
  }
};
}  // namespace

BatchList token_budget_batches(const std::vector<ItemIndex>& order, const std::vector<std::uint32_t>& lengths,
                               const std::vector<std::int32_t>* groups, std::int64_t batch_size,
                               std::int64_t max_tokens) {
  DISTILBERT_CHECK(max_tokens > 0, "max_tokens must be positive, found ", max_tokens);
  DISTILBERT_CHECK(batch_size >= 0, "batch_size must be >= 0, found ", batch_size);
  const auto cap = static_cast<std::size_t>(batch_size);
  BatchList out;
  out.items.reserve(order.size());
  auto add = [&](BudgetBuffer& buf, ItemIndex i) {
    const std::uint32_t len = lengths[i];
    DISTILBERT_CHECK(static_cast<std::int64_t>(len) <= max_tokens, "max_tokens ", max_tokens,
                     " is below the length of a sequence (", len,
                     " tokens): raise it to at least the longest sequence");
    if (!buf.fits(len, cap, max_tokens)) buf.flush(out);
    buf.push(i, len);
    if (cap && buf.items.size() == cap) buf.flush(out);
  };
  if (!groups) {
    BudgetBuffer buf;
    for (ItemIndex i : order) add(buf, i);
    buf.flush(out);
    return out;
  }
  std::map<std::int32_t, BudgetBuffer> buffers;
  for (ItemIndex i : order) add(buffers[(*groups)[i]], i);
  BudgetBuffer rest;
  for (auto& [g, buf] : buffers)
    for (ItemIndex i : buf.items) add(rest, i);
  rest.flush(out);
  return out;
}

BatchPlanner::BatchPlanner(const std::vector<std::uint32_t>& lengths, BatchingOptions options)
    : lengths_(&lengths), options_(options) {
  if (options_.max_tokens > 0) {
    DISTILBERT_CHECK(options_.batch_size >= 0, "batch_size must be >= 0, found ", options_.batch_size);
    const std::uint32_t longest = lengths.empty() ? 0 : *std::max_element(lengths.begin(), lengths.end());
    DISTILBERT_CHECK(static_cast<std::int64_t>(longest) <= options_.max_tokens, "max_tokens ", options_.max_tokens,
                     " is below the longest sequence (", longest,
                     " tokens): raise it to at least that (or lower max_len)");
  } else {
    DISTILBERT_CHECK(options_.batch_size > 0, "batch_size must be positive, found ", options_.batch_size);
  }
  if (options_.group_by_size) groups_ = length_groups(lengths, options_.group_max_len);
}

BatchList BatchPlanner::rank_batches(const std::vector<ItemIndex>& order) const {
  const auto* groups = options_.group_by_size ? &groups_ : nullptr;
  if (options_.max_tokens > 0)
    return token_budget_batches(order, *lengths_, groups, options_.batch_size, options_.max_tokens);
  return groups ? grouped_batches(order, groups_, options_.batch_size) : sequential_batches(order, options_.batch_size);
}

BatchList BatchPlanner::epoch(std::uint64_t seed, std::int64_t epoch, ShardSpec shard) const {
  BatchList mine = rank_batches(shard_order(lengths_->size(), seed, epoch, shard, options_.shuffle));
  if (options_.max_tokens <= 0 || shard.world_size == 1) return mine;  // counts equal by construction
  // Token budgets: batch counts differ between ranks; every rank computes all counts (same seed, same data) and
  // pads its list by repeating its own first batches.
  std::size_t most = mine.size();
  for (std::int64_t r = 0; r < shard.world_size; ++r) {
    if (r == shard.rank) continue;
    most = std::max(most, rank_batches(shard_order(lengths_->size(), seed, epoch, {r, shard.world_size},
                                                   options_.shuffle)).size());
  }
  const std::size_t have = mine.size();
  for (std::size_t b = 0; mine.size() < most; b = (b + 1) % have) {
    const std::vector<ItemIndex> copy = mine.batch(b);
    mine.add(copy.data(), copy.size());
  }
  return mine;
}

}  // namespace distilbert::data
