// Fuzz target: arbitrary bytes (invalid UTF-8 included) through BertTokenizer::encode / decode with fuzzed
// options (flavour, normaliser, truncation with stride, padding, offsets in bytes or characters), on a fixed
// in-memory vocabulary so the target behaves the same everywhere. Invariants: every id is in the vocabulary, all
// per-token vectors have the same length, offsets lie inside the text they point into, truncation respects
// max_length (main encoding), and decoding any id list (out-of-range ids included) either works or is a distilbert::Error.
#include <memory>
#include <string>
#include <vector>

#include "distilbert/tokenizer/bert_tokenizer.h"
#include "fuzz_target.h"

namespace {

using namespace distilbert::tokenizer;

std::vector<std::string> fuzz_vocab() {
  std::vector<std::string> v = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (int c = 33; c < 127; ++c) v.push_back(std::string(1, static_cast<char>(c)));
  for (char c = 'a'; c <= 'z'; ++c) v.push_back("##" + std::string(1, c));
  for (const char* w : {"the", "un", "##aff", "##able", "play", "##ing", "é", "##é", "日", "本", "ß", "##ß", "ﬁ",
                        "straße", "hello", "world", "[unused0]"})
    v.push_back(w);
  return v;
}

const BertTokenizer& tokenizer_for(unsigned variant) {
  static std::unique_ptr<BertTokenizer> cache[8];
  auto& slot = cache[variant & 7];
  if (!slot) {
    TokenizerConfig c;
    c.flavor = (variant & 1) ? Flavor::slow : Flavor::fast;
    c.normalizer.lowercase = !(variant & 2);
    if (variant & 4) c.normalizer.strip_accents = false;
    c.max_input_chars_per_word = 20;
    c.model_max_length = 64;
    slot = std::make_unique<BertTokenizer>(Vocab(fuzz_vocab(), "fuzz vocab"), c);
  }
  return *slot;
}

}  // namespace

DISTILBERT_FUZZ_TARGET(tokenizer) {
  using namespace distilbert;
  fuzz::ByteReader in(data, size);
  const auto& tok = tokenizer_for(in.u8());
  EncodeOptions o;
  const std::uint8_t flags = in.u8();
  o.add_special_tokens = flags & 1;
  o.return_overflowing_tokens = flags & 2;
  o.truncation_side = (flags & 4) ? Side::left : Side::right;
  o.padding_side = (flags & 8) ? Side::left : Side::right;
  o.offsets = (flags & 16) ? OffsetUnit::chars : OffsetUnit::bytes;
  const bool with_pair = flags & 32;
  if (flags & 64) o.max_length = in.range(0, 80);
  if (flags & 128) o.pad_to_multiple_of = in.range(0, 9);
  o.truncation = static_cast<Truncation>(in.range(0, 3));
  o.padding = static_cast<Padding>(in.range(0, 2));
  o.stride = in.range(0, 8);
  const std::string text = in.string(4096);
  const std::string pair = with_pair ? in.string(4096) : std::string();
  const std::string rest = in.rest();

  Encoding e;
  bool encoded = false;
  fuzz::guarded("encode", [&] {
    e = with_pair ? tok.encode(text, std::string_view(pair), o) : tok.encode(text, std::nullopt, o);
    encoded = true;
  });
  if (encoded) {
    std::vector<Encoding> windows;
    flatten_overflowing(e, windows);
    for (const auto& w : windows) {
      const std::size_t n = w.ids.size();
      fuzz::require(w.attention_mask.size() == n && w.special_tokens_mask.size() == n && w.offsets.size() == n &&
                        w.word_ids.size() == n && w.sequence_ids.size() == n &&
                        (w.type_ids.empty() || w.type_ids.size() == n) && w.tokens.size() == n,
                    "per-token vectors have the same length");
      for (std::size_t i = 0; i < n; ++i) {
        fuzz::require(w.ids[i] >= 0 && static_cast<std::size_t>(w.ids[i]) < tok.vocab_size(), "id in vocabulary");
        const auto sid = w.sequence_ids[i];
        if (sid < 0 || o.offsets != OffsetUnit::bytes) continue;
        const std::string& src = sid == 0 ? text : pair;
        fuzz::require(w.offsets[i].begin <= w.offsets[i].end && w.offsets[i].end <= src.size(),
                      "byte offsets inside their text");
      }
      // The main encoding only: an overflowing window may be longer, as in HF (truncating a side to 0 tokens
      // moves that whole side into one window).
      if (&w == &windows.front() && o.truncation != Truncation::none && o.max_length && *o.max_length > 0 &&
          o.padding != Padding::max_length && !o.pad_to_multiple_of) {
        const std::size_t specials = o.add_special_tokens ? tok.post_processor().num_added(with_pair) : 0;
        if (*o.max_length >= specials)
          fuzz::require(w.attention_mask.size() <= *o.max_length,
                        "truncation respects max_length: " + std::to_string(w.attention_mask.size()) + " tokens > " +
                            std::to_string(*o.max_length) + " (strategy " + std::to_string(int(o.truncation)) +
                            ", stride " + std::to_string(o.stride) + ", pair " + std::to_string(with_pair) +
                            ", overflow " + std::to_string(o.return_overflowing_tokens) + ", padding " +
                            std::to_string(int(o.padding)) + ", specials " + std::to_string(specials) + ")");
      }
    }
    fuzz::guarded("decode(encode)", [&] { (void)tok.decode(e.ids, flags & 1); });
  }
  // Decode arbitrary ids, out-of-range and negative ones included.
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i + 1 < rest.size(); i += 2)
    ids.push_back(static_cast<std::int16_t>(static_cast<std::uint8_t>(rest[i]) | static_cast<std::uint8_t>(rest[i + 1]) << 8));
  fuzz::guarded("decode", [&] {
    (void)tok.decode(ids, rest.size() % 2 == 0);
    (void)tok.decode(ids, false, true);
  });
  return 0;
}
