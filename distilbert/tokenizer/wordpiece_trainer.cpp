// WordPiece vocabulary training (HF tokenizers' WordPieceTrainer == BpeTrainer with the "##" prefix) and the
// word counting shared by it; see trainer.h.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <unordered_map>

#include "distilbert/core/error.h"
#include "distilbert/core/file_list.h"
#include "distilbert/tokenizer/normalizer.h"
#include "distilbert/tokenizer/trainer.h"
#include "distilbert/tokenizer/unicode.h"

namespace distilbert::tokenizer {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

TokenizerType parse_tokenizer_type(std::string_view name) {
  if (name == "wordpiece") return TokenizerType::wordpiece;
  if (name == "unigram") return TokenizerType::unigram;
  if (name == "bpe") return TokenizerType::bpe;
  fail("tokenizer type '", name, "' is not one of wordpiece, unigram, bpe");
}

std::string tokenizer_type_name(TokenizerType type) {
  switch (type) {
    case TokenizerType::wordpiece: return "wordpiece";
    case TokenizerType::unigram: return "unigram";
    case TokenizerType::bpe: return "bpe";
  }
  return "?";
}

// ---- word counting ----------------------------------------------------------------------------------------

namespace {

using CountMap = std::unordered_map<std::string, std::uint64_t>;

/// Counts the words of lines; one per worker, reused across chunks.
struct WordCounter {
  BertNormalizer normalizer;
  NormalizedText chars, scratch;
  std::vector<WordSpan> words;
  std::string word;
  CountMap counts;

  explicit WordCounter(bool lowercase) : normalizer(NormalizerOptions{true, true, std::nullopt, lowercase}, Flavor::fast) {}

  void add_text(std::string_view text) {
    // Lines are independent (a newline is whitespace), so a text of many lines is processed line by line to
    // keep the buffers small.
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      add_line(text.substr(pos, end - pos));
      pos = end + 1;
    }
  }

  void add_line(std::string_view line) {
    if (line.empty()) return;
    chars.clear();
    unicode::decode_utf8(line, chars);
    normalizer.normalize(chars, scratch);
    words.clear();
    bert_pre_tokenize(chars, 0, static_cast<std::uint32_t>(chars.size()), Flavor::fast, words);
    for (const WordSpan& w : words) {
      word.clear();
      for (std::uint32_t i = w.begin; i < w.end; ++i) unicode::append_utf8(chars[i].cp, word);
      const auto it = counts.find(word);
      if (it == counts.end()) {
        counts.emplace(word, 1);
      } else {
        ++it->second;
      }
    }
  }
};

std::size_t resolve_threads(std::size_t n) {
  if (n > 0) return n;
  return std::max(1u, std::thread::hardware_concurrency());
}

/// Split `lines` among the counters and count them in parallel.
void count_lines_parallel(const std::vector<std::string_view>& lines, std::vector<WordCounter>& counters,
                          ThreadPool& pool) {
  const std::size_t parts = counters.size();
  pool.parallel_for(parts, [&](std::size_t t) {
    const std::size_t begin = lines.size() * t / parts, end = lines.size() * (t + 1) / parts;
    for (std::size_t i = begin; i < end; ++i) counters[t].add_line(lines[i]);
  });
}

WordCounts finish_counts(std::vector<WordCounter>& counters) {
  CountMap total = std::move(counters[0].counts);
  for (std::size_t t = 1; t < counters.size(); ++t) {
    for (auto& [w, c] : counters[t].counts) total[w] += c;
    counters[t].counts.clear();
  }
  WordCounts out(std::make_move_iterator(total.begin()), std::make_move_iterator(total.end()));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return out;
}

std::string megabytes(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

}  // namespace

WordCounts count_words(const std::vector<std::string>& texts, bool lowercase, std::size_t num_threads) {
  const std::size_t threads = resolve_threads(num_threads);
  std::vector<WordCounter> counters(threads, WordCounter(lowercase));
  std::vector<std::string_view> lines;
  for (const std::string& t : texts) {
    std::size_t pos = 0;
    while (pos <= t.size()) {
      std::size_t end = t.find('\n', pos);
      if (end == std::string::npos) end = t.size();
      if (end > pos) lines.emplace_back(t.data() + pos, end - pos);
      pos = end + 1;
    }
  }
  ThreadPool pool(threads);
  count_lines_parallel(lines, counters, pool);
  return finish_counts(counters);
}

WordCounts count_words_in_files(const std::vector<fs::path>& files, bool lowercase, std::size_t num_threads,
                                const std::function<void(const std::string&)>& log) {
  DISTILBERT_CHECK(!files.empty(), "train-tokenizer: no input files");
  std::uint64_t total_bytes = 0;
  for (const fs::path& f : files) {
    DISTILBERT_CHECK(fs::is_regular_file(f), "training input ", f.string(), ": not found (or not a regular file)");
    total_bytes += fs::file_size(f);
  }
  const std::size_t threads = resolve_threads(num_threads);
  std::vector<WordCounter> counters(threads, WordCounter(lowercase));
  ThreadPool pool(threads);
  constexpr std::size_t kChunk = 8u << 20;  // bytes per parallel step
  std::uint64_t done_bytes = 0;
  auto last_log = Clock::now();
  std::string chunk, carry;
  std::vector<std::string_view> lines;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    DISTILBERT_CHECK(in.good(), "training input ", f.string(), ": cannot open it");
    carry.clear();
    while (true) {
      chunk = carry;
      const std::size_t have = chunk.size();
      chunk.resize(have + kChunk);
      in.read(chunk.data() + have, static_cast<std::streamsize>(kChunk));
      const auto got = static_cast<std::size_t>(in.gcount());
      DISTILBERT_CHECK(!in.bad(), "training input ", f.string(), ": read error");
      chunk.resize(have + got);
      done_bytes += got;
      const bool eof = got < kChunk;
      // Keep the incomplete last line for the next step.
      std::size_t cut = chunk.size();
      if (!eof) {
        const std::size_t nl = chunk.rfind('\n');
        cut = nl == std::string::npos ? chunk.size() : nl + 1;
      }
      carry.assign(chunk, cut, std::string::npos);
      lines.clear();
      std::size_t pos = 0;
      while (pos < cut) {
        std::size_t end = chunk.find('\n', pos);
        if (end == std::string::npos || end > cut) end = cut;
        if (end > pos) lines.emplace_back(chunk.data() + pos, end - pos);
        pos = end + 1;
      }
      count_lines_parallel(lines, counters, pool);
      if (log && std::chrono::duration<double>(Clock::now() - last_log).count() >= 1.0) {
        log("counting words: " + megabytes(done_bytes) + " / " + megabytes(total_bytes));
        last_log = Clock::now();
      }
      if (eof) break;
    }
  }
  return finish_counts(counters);
}

// ---- the BPE-with-"##" merge loop --------------------------------------------------------------------------

namespace {

using PairKey = std::uint64_t;  // (left id << 32) | right id: comparing keys == comparing (left, right)
inline PairKey pair_key(std::uint32_t a, std::uint32_t b) { return (static_cast<std::uint64_t>(a) << 32) | b; }
inline std::uint32_t pair_left(PairKey k) { return static_cast<std::uint32_t>(k >> 32); }
inline std::uint32_t pair_right(PairKey k) { return static_cast<std::uint32_t>(k & 0xFFFFFFFFu); }

/// A queued pair: its count when queued and the words where it was (re)formed (trainer.rs `Merge`).
struct QueuedPair {
  std::int64_t count;
  PairKey pair;
  std::uint64_t seq;  // queue order: makes the order of equal entries of one pair deterministic
  std::vector<std::uint32_t> pos;
};
/// Max-heap order: highest count, then the smallest pair, then the oldest entry.
struct QueueLess {
  bool operator()(const QueuedPair& a, const QueuedPair& b) const {
    if (a.count != b.count) return a.count < b.count;
    if (a.pair != b.pair) return a.pair > b.pair;
    return a.seq > b.seq;
  }
};

/// Word::merge from tokenizers/src/models/bpe/word.rs: replace every (c1, c2) by `rep` left to right and
/// record the pair count changes (+1 / -1 per occurrence).
void merge_word(std::vector<std::uint32_t>& syms, std::uint32_t c1, std::uint32_t c2, std::uint32_t rep,
                std::vector<std::pair<PairKey, int>>& changes) {
  for (std::size_t i = 0; i < syms.size(); ++i) {
    if (syms[i] != c1 || i + 1 >= syms.size() || syms[i + 1] != c2) continue;
    if (i > 0) {
      changes.emplace_back(pair_key(syms[i - 1], c1), -1);
      changes.emplace_back(pair_key(syms[i - 1], rep), 1);
    }
    syms[i] = rep;
    syms.erase(syms.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    if (i + 1 < syms.size()) {
      changes.emplace_back(pair_key(c2, syms[i + 1]), -1);
      changes.emplace_back(pair_key(rep, syms[i + 1]), 1);
    }
  }
}

void validate_specials(const TrainerOptions& o) {
  for (const char* required : {"[UNK]", "[CLS]", "[SEP]"}) {
    DISTILBERT_CHECK(std::find(o.special_tokens.begin(), o.special_tokens.end(), required) != o.special_tokens.end(),
                     "train-tokenizer: the special tokens must include ", required,
                     " (the BERT template and unknown words need it)");
  }
  for (std::size_t i = 0; i < o.special_tokens.size(); ++i) {
    DISTILBERT_CHECK(!o.special_tokens[i].empty(), "train-tokenizer: special token ", i, " is empty");
    for (std::size_t j = 0; j < i; ++j) {
      DISTILBERT_CHECK(o.special_tokens[i] != o.special_tokens[j], "train-tokenizer: special token '",
                       o.special_tokens[i], "' is listed twice");
    }
  }
}

}  // namespace

std::vector<std::string> train_wordpiece_vocab(const WordCounts& word_counts, const TrainerOptions& options,
                                               WordPieceTrainerStats* stats) {
  validate_specials(options);
  const std::string prefix = "##";
  std::vector<std::string> id_to_word;
  std::unordered_map<std::string, std::uint32_t> word_to_id;
  // Only a hint: a vocab_size beyond what the corpus supports (up to 2^32 - 1 on the command line) ends with the
  // vocabulary the corpus gives and a warning, as HF's trainer does, not with std::bad_alloc here.
  const std::size_t expected = std::min<std::size_t>(options.vocab_size, std::size_t{1} << 20) + 16;
  id_to_word.reserve(expected);
  word_to_id.reserve(expected);
  auto add = [&](const std::string& s) -> std::uint32_t {
    const auto it = word_to_id.find(s);
    if (it != word_to_id.end()) return it->second;
    const auto id = static_cast<std::uint32_t>(id_to_word.size());
    id_to_word.push_back(s);
    word_to_id.emplace(s, id);
    return id;
  };

  // 1. Special tokens.
  for (const std::string& s : options.special_tokens) add(s);

  // 2. The alphabet: every character of every word (weighted by the word count when limiting it).
  std::vector<std::vector<char32_t>> word_chars(word_counts.size());
  std::unordered_map<char32_t, std::uint64_t> alphabet;
  {
    std::vector<unicode::DecodedChar> decoded;
    for (std::size_t w = 0; w < word_counts.size(); ++w) {
      decoded.clear();
      unicode::decode_utf8(word_counts[w].first, decoded);
      for (const auto& c : decoded) {
        word_chars[w].push_back(c.cp);
        alphabet[c.cp] += word_counts[w].second;
      }
    }
  }
  std::vector<std::pair<char32_t, std::uint64_t>> kept(alphabet.begin(), alphabet.end());
  if (options.limit_alphabet && kept.size() > *options.limit_alphabet) {
    // Drop the least frequent characters (ties: the higher code point first).
    std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second < b.second : a.first > b.first;
    });
    kept.erase(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(kept.size() - *options.limit_alphabet));
  }
  std::sort(kept.begin(), kept.end());
  std::string buf;
  for (const auto& [cp, count] : kept) {
    buf.clear();
    unicode::append_utf8(cp, buf);
    add(buf);
  }

  // 3. The "##c" symbols, in the order HF's trainer most likely gives them. trainer.rs numbers them as it meets
  //    them, visiting the words in its hash map's random order, so a character inside many distinct words tends to
  //    be met early: "##a" comes before "##f" in practically every HF run. Its tie-breaks between equally frequent
  //    pairs compare these ids, so numbering them by the number of distinct words a character continues (ties: code
  //    point) makes ours take HF's likely side of each tie (docs/TOKENIZER.md §6).
  {
    std::unordered_map<char32_t, std::uint64_t> inside;  // distinct words with c at a position > 0
    std::vector<char32_t> seen;
    for (const auto& chars : word_chars) {
      seen.assign(chars.begin() + (chars.empty() ? 0 : 1), chars.end());
      std::sort(seen.begin(), seen.end());
      seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
      for (char32_t c : seen) ++inside[c];
    }
    std::vector<std::pair<char32_t, std::uint64_t>> order;
    for (const auto& [cp, count] : kept)
      if (const auto it = inside.find(cp); it != inside.end()) order.emplace_back(cp, it->second);
    std::sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
      return x.second != y.second ? x.second > y.second : x.first < y.first;
    });
    for (const auto& [cp, n] : order) {
      buf = prefix;
      unicode::append_utf8(cp, buf);
      add(buf);
    }
  }

  // 4. Words as symbol ids: first character plain, the others "##c"; characters outside the alphabet are
  //    dropped (as in trainer.rs).
  std::vector<std::vector<std::uint32_t>> words(word_counts.size());
  std::vector<std::int64_t> counts(word_counts.size());
  for (std::size_t w = 0; w < word_counts.size(); ++w) {
    counts[w] = static_cast<std::int64_t>(word_counts[w].second);
    const auto& chars = word_chars[w];
    words[w].reserve(chars.size());
    for (std::size_t i = 0; i < chars.size(); ++i) {
      buf.clear();
      unicode::append_utf8(chars[i], buf);
      if (!word_to_id.count(buf)) continue;
      if (i > 0) buf.insert(0, prefix);
      words[w].push_back(add(buf));
    }
    std::vector<char32_t>().swap(word_chars[w]);
  }

  // 5. Count the pairs and queue them.
  std::unordered_map<PairKey, std::int64_t> pair_counts;
  std::unordered_map<PairKey, std::vector<std::uint32_t>> where;
  for (std::size_t w = 0; w < words.size(); ++w) {
    const auto& s = words[w];
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
      const PairKey k = pair_key(s[i], s[i + 1]);
      pair_counts[k] += counts[w];
      auto& v = where[k];
      if (v.empty() || v.back() != w) v.push_back(static_cast<std::uint32_t>(w));
    }
  }
  std::vector<QueuedPair> queue;
  queue.reserve(where.size());
  std::uint64_t seq = 0;
  auto push_where = [&] {
    for (auto& [k, pos] : where) {
      const std::int64_t c = pair_counts[k];
      if (c <= 0) continue;
      queue.push_back(QueuedPair{c, k, seq++, std::move(pos)});
      std::push_heap(queue.begin(), queue.end(), QueueLess{});
    }
    where.clear();
  };
  // Initial entries: one per pair, so their push order cannot matter (the heap order is total).
  push_where();

  // 6. Merge until the vocabulary is full.
  std::size_t merges = 0;
  std::vector<std::pair<PairKey, int>> changes;
  auto last_log = Clock::now();
  const std::size_t start_size = id_to_word.size();
  while (id_to_word.size() < options.vocab_size && !queue.empty()) {
    std::pop_heap(queue.begin(), queue.end(), QueueLess{});
    QueuedPair top = std::move(queue.back());
    queue.pop_back();
    const std::int64_t current = pair_counts[top.pair];
    if (top.count != current) {
      top.count = current;
      queue.push_back(std::move(top));
      std::push_heap(queue.begin(), queue.end(), QueueLess{});
      continue;
    }
    if (top.count < 1 || static_cast<std::uint64_t>(top.count) < options.min_frequency) break;

    const std::uint32_t a = pair_left(top.pair), b = pair_right(top.pair);
    std::string right = id_to_word[b];
    if (right.compare(0, prefix.size(), prefix) == 0) right.erase(0, prefix.size());
    const std::uint32_t new_id = add(id_to_word[a] + right);
    if (stats && stats->first_merges.size() < 100) stats->first_merges.emplace_back(id_to_word[a], id_to_word[b]);
    ++merges;

    for (const std::uint32_t w : top.pos) {
      changes.clear();
      merge_word(words[w], a, b, new_id, changes);
      for (const auto& [k, change] : changes) {
        pair_counts[k] += change * counts[w];
        if (change > 0) {
          auto& v = where[k];
          if (v.empty() || v.back() != w) v.push_back(w);
        }
      }
    }
    push_where();

    if (options.log && std::chrono::duration<double>(Clock::now() - last_log).count() >= 1.0) {
      const std::size_t target = options.vocab_size > start_size ? options.vocab_size - start_size : 0;
      const std::size_t made = id_to_word.size() - start_size;
      options.log("merging: vocabulary " + std::to_string(id_to_word.size()) + " / " +
                  std::to_string(options.vocab_size) + " (" + std::to_string(target ? 100 * made / target : 100) + "%)");
      last_log = Clock::now();
    }
  }
  if (stats) {
    stats->words = word_counts.size();
    stats->alphabet = kept.size();
    stats->merges = merges;
  }
  return id_to_word;
}

namespace {

BertTokenizer make_wordpiece_tokenizer(std::vector<std::string> vocab, const TrainerOptions& options) {
  TokenizerConfig config;
  config.normalizer.lowercase = options.lowercase;
  config.model_max_length = options.model_max_length;
  return BertTokenizer(Vocab(std::move(vocab), "trained WordPiece vocabulary"), config);
}

void log_summary(const TrainerOptions& options, const WordCounts& counts, std::size_t vocab_size,
                 Clock::time_point t0) {
  if (!options.log) return;
  std::uint64_t total = 0;
  for (const auto& [w, c] : counts) total += c;
  char buf[256];
  std::snprintf(buf, sizeof(buf), "wordpiece: %zu words (%zu distinct) -> vocabulary of %zu in %.2f s", static_cast<std::size_t>(total),
                counts.size(), vocab_size, std::chrono::duration<double>(Clock::now() - t0).count());
  options.log(buf);
  if (vocab_size < options.vocab_size) {
    options.log("warning: the vocabulary has " + std::to_string(vocab_size) + " tokens, fewer than the " +
                std::to_string(options.vocab_size) + " asked for: no pair occurs at least min_frequency (" +
                std::to_string(options.min_frequency) + ") times any more (use more text or a lower --min-frequency)");
  } else if (vocab_size > options.vocab_size) {
    options.log("warning: the vocabulary has " + std::to_string(vocab_size) + " tokens, more than the " +
                std::to_string(options.vocab_size) + " asked for: the special tokens and the alphabet alone need that "
                "many (use --limit-alphabet to keep fewer characters)");
  }
}

}  // namespace

BertTokenizer train_wordpiece(const std::vector<std::string>& texts, const TrainerOptions& options,
                              WordPieceTrainerStats* stats) {
  const auto t0 = Clock::now();
  const WordCounts counts = count_words(texts, options.lowercase, options.num_threads);
  DISTILBERT_CHECK(!counts.empty(), "train-tokenizer: the input has no words to train on");
  auto vocab = train_wordpiece_vocab(counts, options, stats);
  log_summary(options, counts, vocab.size(), t0);
  return make_wordpiece_tokenizer(std::move(vocab), options);
}

BertTokenizer train_wordpiece_files(const std::vector<fs::path>& files, const TrainerOptions& options,
                                    WordPieceTrainerStats* stats) {
  const auto t0 = Clock::now();
  const WordCounts counts = count_words_in_files(files, options.lowercase, options.num_threads, options.log);
  DISTILBERT_CHECK(!counts.empty(), "train-tokenizer: the input files ", file_list(files), " have no words to train on");
  if (options.log) options.log("counted " + std::to_string(counts.size()) + " distinct words; merging");
  auto vocab = train_wordpiece_vocab(counts, options, stats);
  log_summary(options, counts, vocab.size(), t0);
  return make_wordpiece_tokenizer(std::move(vocab), options);
}

std::shared_ptr<Tokenizer> train_tokenizer(const std::vector<fs::path>& files, const TrainerOptions& options) {
  if (options.type == TokenizerType::wordpiece) return std::make_shared<BertTokenizer>(train_wordpiece_files(files, options));
  return std::make_shared<SentencePieceTokenizer>(train_sentencepiece_files(files, options));
}

}  // namespace distilbert::tokenizer
