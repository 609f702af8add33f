// Vocabulary training: the WordPiece trainer (HF WordPieceTrainer semantics, merges checked by hand on a tiny
// corpus), determinism, save/load, and a real-corpus run on WikiText-2; sentencepiece unigram/BPE training.
#include <chrono>
#include <map>
#include <set>
#include <tuple>

#include "distilbert/core/error.h"
#include "distilbert/tokenizer/trainer.h"
#include "tok_test_util.h"
#include "support/tiny_corpus.h"

using namespace tok_test;
using Catch::Matchers::Contains;

namespace {

using distilbert::testing::tiny_corpus_lines;

const std::vector<std::string> kHugCorpus = {"hug hug hug pug pun", "bun hugs hug", "The hugging pug"};

TrainerOptions wordpiece_options(std::size_t vocab_size, std::uint64_t min_frequency = 0) {
  TrainerOptions o;
  o.vocab_size = vocab_size;
  o.min_frequency = min_frequency;
  return o;
}

std::string strip_spaces(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c != ' ') out.push_back(c);
  }
  return out;
}

}  // namespace

TEST_CASE("trainer: word counts use BertNormalizer + BertPreTokenizer", "[tokenizer][trainer]") {
  const WordCounts counts = count_words({"Hello, HELLO world!\nhéllo\n\n  world"}, true, 2);
  const WordCounts expected = {{"hello", 3}, {"world", 2}, {"!", 1}, {",", 1}};
  CHECK(counts == expected);
  const WordCounts cased = count_words({"Hello hello"}, false, 1);
  CHECK(cased == WordCounts{{"Hello", 1}, {"hello", 1}});
}

TEST_CASE("trainer: WordPiece merges on a tiny corpus, checked by hand", "[tokenizer][trainer]") {
  // Words: hug x4, pug x2, bun, hugging, hugs, pun, the. Alphabet b e g h i n p s t u (ids 5..14), then the
  // "##" symbols by the number of distinct words each character continues (ties: code point): ##u 6 (all but
  // "the"), ##g 4, ##n 3, then ##e ##h ##i ##s with 1 each.
  // Pair counts: (##u,##g) 8 -> "##ug"; (h,##ug) 6 -> "hug"; then two pairs of count 2, (p,##ug) and
  // (##u,##n): p (11) < ##u (15) so "pug" first, then "##un"; then count-1 pairs by smallest ids:
  // (b,##un) (p,##un) (t,##h) (##g,##i) (##n,##g) (hug,##s) (hug,##gi) (th,##e) (huggi,##ng); (##h,##e) is
  // gone once "th" is merged.
  WordPieceTrainerStats stats;
  const auto vocab = train_wordpiece_vocab(count_words(kHugCorpus, true, 1), wordpiece_options(1000), &stats);
  const std::vector<std::string> expected = {
      "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",                // 0..4
      "b", "e", "g", "h", "i", "n", "p", "s", "t", "u",             // 5..14 alphabet
      "##u", "##g", "##n", "##e", "##h", "##i", "##s",              // 15..21
      "##ug", "hug", "pug", "##un", "bun", "pun", "th", "##gi", "##ng", "hugs", "huggi", "the", "hugging"};
  CHECK(vocab == expected);
  CHECK(stats.merges == 13);
  CHECK(stats.alphabet == 10);
  CHECK(stats.words == 7);
  REQUIRE(stats.first_merges.size() == 13);
  CHECK(stats.first_merges[0] == std::make_pair(std::string("##u"), std::string("##g")));
  CHECK(stats.first_merges[1] == std::make_pair(std::string("h"), std::string("##ug")));
  CHECK(stats.first_merges[12] == std::make_pair(std::string("huggi"), std::string("##ng")));

  // vocab_size stops the merges; min_frequency stops at the first pair seen fewer times.
  CHECK(train_wordpiece_vocab(count_words(kHugCorpus, true), wordpiece_options(25)) ==
        std::vector<std::string>(expected.begin(), expected.begin() + 25));
  CHECK(train_wordpiece_vocab(count_words(kHugCorpus, true), wordpiece_options(1000, 2)) ==
        std::vector<std::string>(expected.begin(), expected.begin() + 26));
  // limit_alphabet keeps the most frequent characters: g and u (10 uses each), h (7); p and n have 3.
  TrainerOptions limited = wordpiece_options(0);
  limited.limit_alphabet = 3;
  const auto small = train_wordpiece_vocab(count_words(kHugCorpus, true), limited);
  CHECK(std::vector<std::string>(small.begin() + 5, small.begin() + 8) == std::vector<std::string>{"g", "h", "u"});
}

TEST_CASE("trainer: a merge inside a repeated pair updates the counts like word.rs", "[tokenizer][trainer]") {
  // "aaaa": (a,##a) 1, (##a,##a) 2 overlapping. Merging (##a,##a) turns a ##a ##a ##a into a ##aa ##a.
  const auto vocab = train_wordpiece_vocab({{"aaaa", 5}}, wordpiece_options(100));
  const std::vector<std::string> expected = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "##a",
                                             "##aa", "aaa", "aaaa"};
  CHECK(vocab == expected);
}

TEST_CASE("trainer: the incremental pair counts give the merges of a naive full recount", "[tokenizer][trainer]") {
  // Reference: recount every pair over all words before each merge, take the highest count (ties: the
  // smallest (left id, right id)), merge it everywhere. Same initial ids as the trainer: specials, the alphabet in
  // code point order, the "##c" symbols by the number of distinct words they continue.
  const WordCounts counts = count_words(tiny_corpus_lines(), true, 1);
  TrainerOptions o = wordpiece_options(100000, 1);
  const auto trained = train_wordpiece_vocab(counts, o);

  std::vector<std::string> vocab(o.special_tokens);
  std::map<std::string, std::uint32_t> ids;
  for (std::uint32_t i = 0; i < vocab.size(); ++i) ids[vocab[i]] = i;
  auto add = [&](const std::string& t) {
    const auto it = ids.find(t);
    if (it != ids.end()) return it->second;
    vocab.push_back(t);
    return ids[t] = static_cast<std::uint32_t>(vocab.size() - 1);
  };
  std::vector<std::vector<std::string>> chars;
  std::set<std::string> alphabet;
  for (const auto& [w, c] : counts) {
    std::vector<unicode::DecodedChar> d;
    unicode::decode_utf8(w, d);
    chars.emplace_back();
    for (const auto& ch : d) {
      std::string s;
      unicode::append_utf8(ch.cp, s);
      chars.back().push_back(s);
      alphabet.insert(s);
    }
  }
  std::vector<std::pair<char32_t, std::string>> by_cp;
  for (const auto& s : alphabet) {
    std::vector<unicode::DecodedChar> d;
    unicode::decode_utf8(s, d);
    by_cp.emplace_back(d[0].cp, s);
  }
  std::sort(by_cp.begin(), by_cp.end());
  for (const auto& [cp, s] : by_cp) add(s);
  // "##c" symbols: by the number of distinct words c continues, then code point.
  std::map<std::string, std::uint64_t> inside;
  for (const auto& cs : chars) {
    const std::set<std::string> continued(cs.begin() + (cs.empty() ? 0 : 1), cs.end());
    for (const auto& c : continued) ++inside[c];
  }
  std::vector<std::tuple<std::uint64_t, char32_t, std::string>> cont;
  for (const auto& [cp, s] : by_cp)
    if (inside.count(s)) cont.emplace_back(inside[s], cp, s);
  std::sort(cont.begin(), cont.end(), [](const auto& x, const auto& y) {
    return std::get<0>(x) != std::get<0>(y) ? std::get<0>(x) > std::get<0>(y) : std::get<1>(x) < std::get<1>(y);
  });
  for (const auto& [n, cp, s] : cont) add("##" + s);
  std::vector<std::vector<std::uint32_t>> words;
  for (const auto& cs : chars) {
    words.emplace_back();
    for (std::size_t i = 0; i < cs.size(); ++i) words.back().push_back(add(i ? "##" + cs[i] : cs[i]));
  }
  while (true) {
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t> pairs;
    for (std::size_t w = 0; w < words.size(); ++w) {
      for (std::size_t i = 0; i + 1 < words[w].size(); ++i) pairs[{words[w][i], words[w][i + 1]}] += counts[w].second;
    }
    if (pairs.empty()) break;
    auto best = pairs.begin();
    for (auto it = pairs.begin(); it != pairs.end(); ++it) {
      if (it->second > best->second) best = it;  // std::map order: the first of equal counts is the smallest pair
    }
    const auto [a, b] = best->first;
    std::string right = vocab[b];
    if (right.rfind("##", 0) == 0) right.erase(0, 2);
    const std::uint32_t id = add(vocab[a] + right);
    for (auto& s : words) {
      for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        if (s[i] == a && s[i + 1] == b) {
          s[i] = id;
          s.erase(s.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        }
      }
    }
  }
  CHECK(trained.size() > 1000);
  CHECK(trained == vocab);
}

TEST_CASE("trainer: WordPiece training is deterministic and independent of the thread count", "[tokenizer][trainer]") {
  const auto lines = tiny_corpus_lines();
  TrainerOptions o = wordpiece_options(400, 1);
  o.num_threads = 1;
  const BertTokenizer a = train_wordpiece(lines, o);
  o.num_threads = 4;
  const BertTokenizer b = train_wordpiece(lines, o);
  CHECK(a.vocab().tokens() == b.vocab().tokens());
  CHECK(a.fingerprint() == b.fingerprint());
  CHECK(a.vocab_size() == 400);
}

TEST_CASE("trainer: a trained WordPiece tokenizer saves, reloads and encodes its text", "[tokenizer][trainer]") {
  const auto lines = tiny_corpus_lines();
  TrainerOptions o = wordpiece_options(500, 1);
  const BertTokenizer tok = train_wordpiece(lines, o);
  const SpecialTokenIds s = tok.special_ids();
  CHECK(s.pad == 0);
  CHECK(s.unk == 1);
  CHECK(s.cls == 2);
  CHECK(s.sep == 3);
  CHECK(s.mask == 4);
  const fs::path dir = fs::temp_directory_path() / "distilbert_tok_tests" / "trained_wordpiece";
  fs::remove_all(dir);
  tok.save_pretrained(dir);
  for (const char* f : {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    CHECK(fs::is_regular_file(dir / f));
  }
  const auto loaded = load_tokenizer(dir);
  CHECK(loaded->fingerprint() == tok.fingerprint());
  CHECK(BertTokenizer::from_vocab_file(dir / "vocab.txt", dir / "tokenizer_config.json").fingerprint() ==
        tok.fingerprint());
  for (const std::string& line : lines) {
    const Encoding e = loaded->encode(line);
    CHECK(std::count(e.ids.begin(), e.ids.end(), 1) == 0);  // every character was in the training text
    CHECK(strip_spaces(loaded->decode(e.ids, true, false)) ==
          strip_spaces(tok.normalizer().normalize_string(line)));
  }
  // Cased training keeps capitals and accents.
  TrainerOptions cased = o;
  cased.lowercase = false;
  const BertTokenizer ct = train_wordpiece(lines, cased);
  CHECK(ct.token_to_id("T").has_value());
  CHECK(ct.token_to_id("é").has_value());
  CHECK_FALSE(tok.token_to_id("T").has_value());
  CHECK_FALSE(tok.token_to_id("é").has_value());
  fs::remove_all(dir);
}

TEST_CASE("trainer: option errors name the problem", "[tokenizer][trainer]") {
  CHECK_THROWS_WITH(parse_tokenizer_type("sentencepiece"), Contains("wordpiece, unigram, bpe"));
  TrainerOptions o;
  o.special_tokens = {"[PAD]", "[CLS]", "[SEP]"};
  CHECK_THROWS_WITH(train_wordpiece({"a b"}, o), Contains("[UNK]"));
  CHECK_THROWS_WITH(train_wordpiece_files({"/nonexistent/corpus.txt"}, TrainerOptions{}),
                    Contains("/nonexistent/corpus.txt"));
  TrainerOptions spm;
  spm.type = TokenizerType::unigram;
  CHECK_THROWS_WITH(train_sentencepiece({"", "  "}, spm), Contains("no non-blank lines"));
}

TEST_CASE("trainer: sentencepiece unigram and BPE are deterministic and hold the specials", "[tokenizer][trainer][spm]") {
  const auto lines = tiny_corpus_lines();
  for (const TokenizerType type : {TokenizerType::unigram, TokenizerType::bpe}) {
    TrainerOptions o;
    o.type = type;
    o.vocab_size = 200;
    const SentencePieceTokenizer a = train_sentencepiece(lines, o);
    const SentencePieceTokenizer b = train_sentencepiece(lines, o);
    INFO(tokenizer_type_name(type));
    CHECK(a.model_bytes() == b.model_bytes());
    CHECK(a.vocab_size() == 200);
    for (std::int64_t i = 0; i < 5; ++i) CHECK(a.id_to_token(i) == o.special_tokens[static_cast<std::size_t>(i)]);
    CHECK(a.model_type() == tokenizer_type_name(type));
  }
}

TEST_CASE("trainer: WordPiece on WikiText-2 valid: size, specials, [UNK] rate, round trip", "[tokenizer][trainer][real]") {
  const fs::path file = fs::path(DISTILBERT_SHARED_DATA) / "text/wikitext-2/valid.txt";
  if (!fs::is_regular_file(file)) {
    WARN("SKIPPED: " << file.string() << " is missing (WikiText-2 from https://huggingface.co/datasets/wikitext)");
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  TrainerOptions o = wordpiece_options(8000, 2);
  const BertTokenizer tok = train_wordpiece_files({file}, o);
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO("training took " << train_s << " s");
  CHECK(train_s < 10.0);
  CHECK(tok.vocab_size() == 8000);
  const std::vector<std::string> specials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (std::size_t i = 0; i < specials.size(); ++i) CHECK(tok.vocab().token(static_cast<std::int64_t>(i)) == specials[i]);

  std::ifstream in(file);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(' ') != std::string::npos) lines.push_back(line);
  }
  std::vector<TextInput> inputs;
  for (const auto& l : lines) inputs.push_back({l, std::nullopt});
  EncodeOptions raw;
  raw.add_special_tokens = false;
  const auto encodings = tok.encode_batch(inputs, raw);
  std::size_t tokens = 0, unknown = 0;
  for (const auto& e : encodings) {
    tokens += e.size();
    unknown += static_cast<std::size_t>(std::count(e.ids.begin(), e.ids.end(), tok.unk_id()));
  }
  INFO(unknown << " [UNK] of " << tokens << " tokens");
  CHECK(tokens > 200000);
  CHECK(static_cast<double>(unknown) < 0.001 * static_cast<double>(tokens));
  for (std::size_t i = 0; i < lines.size(); i += lines.size() / 7) {
    const Encoding& e = encodings[i];
    if (std::count(e.ids.begin(), e.ids.end(), tok.unk_id())) continue;
    INFO(lines[i]);
    CHECK(strip_spaces(tok.decode(e.ids, true, false)) == strip_spaces(tok.normalizer().normalize_string(lines[i])));
  }
}
