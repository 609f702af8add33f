// The shared encode_batch recipe; see batch_encode.h.
#include "distilbert/tokenizer/batch_encode.h"

#include <algorithm>

namespace distilbert::tokenizer {

std::vector<Encoding> batch_encode(std::size_t count, const EncodeOptions& options, ThreadPool& pool,
                                   const std::function<Encoding(std::size_t, const EncodeOptions&, bool)>& encode,
                                   const std::function<void(Encoding&, std::size_t)>& pad, bool type_ids_by_default) {
  std::vector<Encoding> out(count);
  EncodeOptions inner = options;
  inner.return_token_type_ids = true;  // padding needs them; stripped below
  const bool pad_each = options.padding == Padding::max_length;
  pool.parallel_for(count, [&](std::size_t i) { out[i] = encode(i, inner, pad_each); });
  if (options.padding == Padding::longest && !out.empty()) {
    std::size_t longest = 0;
    for (const Encoding& e : out) longest = std::max(longest, e.size());
    const std::size_t target = padded_length(longest, options);
    for (Encoding& e : out) pad(e, target);
  }
  if (!options.return_token_type_ids.value_or(type_ids_by_default))
    for (Encoding& e : out) clear_type_ids(e);
  return out;
}

}  // namespace distilbert::tokenizer
