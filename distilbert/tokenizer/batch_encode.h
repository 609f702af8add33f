// The batch recipe both tokenizers' encode_batch follow (Hugging Face tokenizers' encode_batch): encode every item
// on a thread pool with its type ids kept (padding needs them), pad the batch to its longest item under
// Padding::longest, then strip the type ids where they were not asked for.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "distilbert/tokenizer/encoding.h"
#include "distilbert/tokenizer/thread_pool.h"

namespace distilbert::tokenizer {

/// `encode(i, options, pad_each)` encodes item i of `count` (padding it alone when pad_each: Padding::max_length);
/// `pad(e, target)` pads one encoding and its windows to `target` tokens; `type_ids_by_default` is the tokenizer's
/// answer when options.return_token_type_ids is unset.
std::vector<Encoding> batch_encode(std::size_t count, const EncodeOptions& options, ThreadPool& pool,
                                   const std::function<Encoding(std::size_t, const EncodeOptions&, bool)>& encode,
                                   const std::function<void(Encoding&, std::size_t)>& pad, bool type_ids_by_default);

}  // namespace distilbert::tokenizer
