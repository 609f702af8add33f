// Token counts and token_probs; see token_counts.h.
#include "distilbert/data/token_counts.h"

#include <cmath>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/text.h"
#include "distilbert/core/fs.h"
#include "distilbert/core/runtime.h"
#include "distilbert/tokenizer/thread_pool.h"
#include "distilbert/core/json_error.h"

namespace distilbert::data {

std::vector<std::int64_t> count_tokens(const TokenStore& store, std::size_t threads) {
  const std::size_t n_threads = threads ? threads : static_cast<std::size_t>(available_cpus());
  const std::uint64_t total = store.num_tokens();
  const std::size_t vocab = static_cast<std::size_t>(store.vocab_size());
  const std::size_t parts = static_cast<std::size_t>(std::min<std::uint64_t>(n_threads, std::max<std::uint64_t>(1, total >> 16)));
  std::vector<std::vector<std::int64_t>> partial(parts, std::vector<std::int64_t>(vocab, 0));
  std::vector<std::int64_t> bad(parts, -1);  // first bad global position per part
  tokenizer::ThreadPool pool(n_threads);
  pool.parallel_for(parts, [&](std::size_t p) {
    const std::uint64_t b = total * p / parts, e = total * (p + 1) / parts;
    auto& c = partial[p];
    for (std::uint64_t i = b; i < e; ++i) {
      const auto id = static_cast<std::uint64_t>(store.id_at(i));
      if (id >= vocab) {
        bad[p] = static_cast<std::int64_t>(i);
        return;
      }
      ++c[id];
    }
  });
  for (std::size_t p = 0; p < parts; ++p)
    if (bad[p] >= 0) store.verify();  // names the sequence and position of the first bad id
  std::vector<std::int64_t> counts(vocab, 0);
  for (const auto& c : partial)
    for (std::size_t i = 0; i < vocab; ++i) counts[i] += c[i];
  return counts;
}

void save_token_counts(const std::string& path, const std::vector<std::int64_t>& counts, const TokenStore& store) {
  nlohmann::json j = {{"format", "distilbert-token-counts"},
                      {"format_version", 1},
                      {"vocab_size", counts.size()},
                      {"num_tokens", store.num_tokens()},
                      {"tokenizer_fingerprint", store.tokenizer_fingerprint()},
                      {"store", printable(store.prefix())},
                      {"counts", counts}};
  write_file_atomic(path, j.dump() + "\n");
}

TokenCounts load_token_counts(const std::string& path, std::int64_t expected_vocab_size,
                              const std::string& expected_fingerprint) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail("token counts file '", path, "' is not valid JSON (", json_error_text(e), ")");
  }
  TokenCounts out;
  out.path = path;
  const nlohmann::json* list = &j;
  if (j.is_object()) {
    DISTILBERT_CHECK(j.contains("counts"), "token counts file '", path, "': key 'counts' is missing");
    list = &j["counts"];
    if (j.contains("format_version"))
      DISTILBERT_CHECK(j["format_version"] == 1, "token counts file '", path, "': unsupported format_version ",
                       j["format_version"].dump(), " (this build reads 1)");
    if (j.contains("tokenizer_fingerprint") && j["tokenizer_fingerprint"].is_string())
      out.tokenizer_fingerprint = j["tokenizer_fingerprint"].get<std::string>();
  }
  DISTILBERT_CHECK(list->is_array(), "token counts file '", path,
                   "': expected a list of counts (or an object with 'counts'), found ", list->type_name());
  out.counts.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto& v = (*list)[i];
    DISTILBERT_CHECK(v.is_number_integer() && v.get<std::int64_t>() >= 0, "token counts file '", path, "': count ", i,
                     " must be a non-negative integer, found ", v.dump());
    out.counts.push_back(v.get<std::int64_t>());
  }
  DISTILBERT_CHECK(!out.counts.empty(), "token counts file '", path, "' holds no counts");
  if (expected_vocab_size > 0)
    DISTILBERT_CHECK(static_cast<std::int64_t>(out.counts.size()) == expected_vocab_size, "token counts file '", path,
                     "' has ", out.counts.size(), " counts but the vocabulary has ", expected_vocab_size, " ids");
  if (!expected_fingerprint.empty() && !out.tokenizer_fingerprint.empty())
    DISTILBERT_CHECK(out.tokenizer_fingerprint == expected_fingerprint, "token counts file '", path,
                     "' was counted with tokenizer fingerprint ", out.tokenizer_fingerprint,
                     " but the tokenizer in use has ", expected_fingerprint,
                     "; run `distilbert token-counts` on a store made with this tokenizer");
  return out;
}

torch::Tensor token_probs(const std::vector<std::int64_t>& counts, double smoothing,
                          const std::vector<std::int64_t>& special_ids) {
  DISTILBERT_CHECK(!counts.empty(), "token_probs: no counts");
  DISTILBERT_CHECK(std::isfinite(smoothing) && smoothing >= 0, "token_probs: smoothing must be >= 0, found ",
                   smoothing);
  auto p = torch::empty({static_cast<std::int64_t>(counts.size())}, torch::kFloat64);
  double* d = p.data_ptr<double>();
  for (std::size_t i = 0; i < counts.size(); ++i)
    d[i] = std::pow(static_cast<double>(std::max<std::int64_t>(counts[i], 1)), -smoothing);
  for (std::int64_t id : special_ids) {
    DISTILBERT_CHECK(id >= 0 && id < static_cast<std::int64_t>(counts.size()), "token_probs: special id ", id,
                     " is outside the vocabulary of ", counts.size(), " ids");
    d[id] = 0.0;
  }
  return p;
}

torch::Tensor uniform_token_probs(std::int64_t vocab_size, const std::vector<std::int64_t>& special_ids) {
  return token_probs(std::vector<std::int64_t>(static_cast<std::size_t>(vocab_size), 1), 0.0, special_ids);
}

}  // namespace distilbert::data
