// LmSequences: the reference's split / filter rules as a view over a TokenStore. See lm_sequences.h.
#include "distilbert/data/lm_sequences.h"

#include <algorithm>

#include "distilbert/core/error.h"
#include "distilbert/core/runtime.h"
#include "distilbert/tokenizer/thread_pool.h"

namespace distilbert::data {

std::string LmSequencesStats::summary() const {
  return str_cat(input_sequences, " sequences in the store: ", split_sequences, " longer than max_len split into ",
                 chunks, " chunks; dropped ", dropped_short, " with <= 11 tokens and ", dropped_unk,
                 " with >= 50% [UNK]; ", kept, " sequences, ", tokens, " tokens kept");
}

LmSequences::LmSequences(std::shared_ptr<const TokenStore> store, const LmSequencesOptions& options)
    : store_(std::move(store)), options_(options) {
  DISTILBERT_CHECK(store_ != nullptr, "LmSequences: no token store");
  const TokenStore& s = *store_;
  const std::int64_t cls = s.special_ids().cls, sep = s.special_ids().sep, unk = s.special_ids().unk;
  DISTILBERT_CHECK(cls >= 0 && sep >= 0, "token store '", s.prefix(),
                   "' records no [CLS]/[SEP] ids (special_ids.cls = ", cls, ", special_ids.sep = ", sep,
                   "): LmSequences needs both");
  DISTILBERT_CHECK(options_.max_len >= 3, "LmSequences: max_len must be at least 3, found ", options_.max_len);
  const std::uint64_t max_len = static_cast<std::uint64_t>(options_.max_len);
  const std::uint64_t piece = max_len - 2;
  const std::uint64_t min_len = static_cast<std::uint64_t>(std::max<std::int64_t>(0, options_.min_length));
  const double max_unk = options_.max_unk_ratio;

  struct Part {
    std::vector<std::uint64_t> items;
    std::vector<Chunk> chunks;
    std::vector<std::uint32_t> lengths;
    LmSequencesStats stats;
  };
  const std::size_t n = s.num_sequences();
  const std::size_t block = 1 << 16;
  const std::size_t blocks = (n + block - 1) / block;
  std::vector<Part> parts(blocks);
  const std::size_t threads = options_.threads ? options_.threads : static_cast<std::size_t>(available_cpus());
  tokenizer::ThreadPool pool(std::min(threads, std::max<std::size_t>(1, blocks)));
  pool.parallel_for(blocks, [&](std::size_t b) {
    Part& p = parts[b];
    auto count_unk = [&](std::uint64_t from, std::uint64_t to) {
      std::uint64_t c = 0;
      if (unk < 0) return c;
      for (std::uint64_t k = from; k < to; ++k) c += s.id_at(k) == unk;
      return c;
    };
    // keep() applies rules 3 and 4 to an item of `len` tokens containing `unks` [UNK].
    auto keep = [&](std::uint64_t len, std::uint64_t unks) {
      if (len < min_len) {
        ++p.stats.dropped_short;
        return false;
      }
      if (unk >= 0 && static_cast<double>(unks) / static_cast<double>(len) >= max_unk) {
        ++p.stats.dropped_unk;
        return false;
      }
      ++p.stats.kept;
      p.stats.tokens += len;
      p.lengths.push_back(static_cast<std::uint32_t>(len));
      return true;
    };
    const std::size_t end = std::min(n, (b + 1) * block);
    for (std::size_t i = b * block; i < end; ++i) {
      const std::uint64_t off = s.offset(i), len = s.length(i);
      ++p.stats.input_sequences;
      if (len == 0 || s.id_at(off) != cls || s.id_at(off + len - 1) != sep)
        fail("token store '", s.prefix(), "': sequence ", i, " (", len, " tokens) does not start with [CLS] (id ", cls,
             ") and end with [SEP] (id ", sep, ") as every sequence of `distilbert binarize` does");
      if (len <= max_len) {
        if (keep(len, count_unk(off, off + len))) p.items.push_back(i);
        continue;
      }
      ++p.stats.split_sequences;
      for (std::uint64_t c = 0; c < len; c += piece) {
        const std::uint64_t cnt = std::min(piece, len - c);
        Chunk ch{i, static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(cnt), s.id_at(off + c) != cls,
                 s.id_at(off + c + cnt - 1) != sep};
        ++p.stats.chunks;
        const std::uint64_t clen = cnt + ch.add_cls + ch.add_sep;
        if (keep(clen, count_unk(off + c, off + c + cnt))) {
          p.items.push_back(kChunkBit | p.chunks.size());
          p.chunks.push_back(ch);
        }
      }
    }
  });
  std::size_t total = 0, total_chunks = 0;
  for (const Part& p : parts) {
    total += p.items.size();
    total_chunks += p.chunks.size();
  }
  items_.reserve(total);
  lengths_.reserve(total);
  chunks_.reserve(total_chunks);
  for (Part& p : parts) {
    const std::uint64_t base = chunks_.size();
    for (std::uint64_t it : p.items) items_.push_back(it & kChunkBit ? (kChunkBit | ((it & ~kChunkBit) + base)) : it);
    chunks_.insert(chunks_.end(), p.chunks.begin(), p.chunks.end());
    lengths_.insert(lengths_.end(), p.lengths.begin(), p.lengths.end());
    stats_.input_sequences += p.stats.input_sequences;
    stats_.split_sequences += p.stats.split_sequences;
    stats_.chunks += p.stats.chunks;
    stats_.dropped_short += p.stats.dropped_short;
    stats_.dropped_unk += p.stats.dropped_unk;
    stats_.kept += p.stats.kept;
    stats_.tokens += p.stats.tokens;
    Part().items.swap(p.items);
  }
  for (std::uint32_t l : lengths_) max_length_ = std::max(max_length_, l);
  DISTILBERT_CHECK(!items_.empty(), "token store '", s.prefix(), "': no sequence is left after the reference filters (",
                   stats_.summary(), ")");
}

void LmSequences::copy(std::size_t i, std::int64_t* out) const {
  const std::uint64_t it = items_[i];
  if (!(it & kChunkBit)) {
    const auto seq = static_cast<std::size_t>(it);
    store_->copy(seq, 0, store_->length(seq), out);
    return;
  }
  const Chunk& c = chunks_[static_cast<std::size_t>(it & ~kChunkBit)];
  std::size_t k = 0;
  if (c.add_cls) out[k++] = store_->special_ids().cls;
  store_->copy(static_cast<std::size_t>(c.seq), c.begin, std::size_t(c.begin) + c.count, out + k);
  k += c.count;
  if (c.add_sep) out[k] = store_->special_ids().sep;
}

std::vector<std::int64_t> LmSequences::tokens(std::size_t i) const {
  DISTILBERT_CHECK(i < size(), "LmSequences: item ", i, " out of range (", size(), " items)");
  std::vector<std::int64_t> out(lengths_[i]);
  copy(i, out.data());
  return out;
}

std::size_t LmSequences::source_sequence(std::size_t i) const {
  const std::uint64_t it = items_[i];
  return static_cast<std::size_t>(it & kChunkBit ? chunks_[static_cast<std::size_t>(it & ~kChunkBit)].seq : it);
}

}  // namespace distilbert::data
