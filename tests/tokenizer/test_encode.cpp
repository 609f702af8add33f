// encode(): offsets, word ids, special and added tokens, truncation, stride/overflow, padding, batches.
#include <thread>

#include "distilbert/core/error.h"
#include "tok_test_util.h"

using namespace tok_test;
using Strings = std::vector<std::string>;
using Ids = std::vector<std::int64_t>;

namespace {

std::vector<std::pair<std::size_t, std::size_t>> offs(const Encoding& e) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (const auto& o : e.offsets) out.emplace_back(o.begin, o.end);
  return out;
}

Encoding tokens_only(const BertTokenizer& tok, std::string_view text) {
  EncodeOptions o;
  o.add_special_tokens = false;
  return tok.encode(text, std::nullopt, o);
}

}  // namespace

TEST_CASE("encode: template, offsets into the original text, word ids", "[tokenizer][encode]") {
  const BertTokenizer tok = small_tokenizer();
  const std::string text = "The QUICK, caf\xC3\xA9!";  // "The QUICK, café!"
  const Encoding e = tok.encode(text);
  CHECK(e.tokens == Strings{"[CLS]", "the", "quick", ",", "cafe", "!", "[SEP]"});
  CHECK(e.special_tokens_mask == Ids{1, 0, 0, 0, 0, 0, 1});
  CHECK(e.attention_mask == Ids{1, 1, 1, 1, 1, 1, 1});
  CHECK(e.word_ids == Ids{-1, 0, 1, 2, 3, 4, -1});
  CHECK(e.sequence_ids == Ids{-1, 0, 0, 0, 0, 0, -1});
  CHECK(e.type_ids == Ids{0, 0, 0, 0, 0, 0, 0});  // BertTokenizer returns token_type_ids
  using P = std::pair<std::size_t, std::size_t>;
  CHECK(offs(e) == std::vector<P>{{0, 0}, {0, 3}, {4, 9}, {9, 10}, {11, 16}, {16, 17}, {0, 0}});
  CHECK(text.substr(11, 5) == "caf\xC3\xA9");

  EncodeOptions chars;
  chars.offsets = OffsetUnit::chars;
  const Encoding ec = tok.encode(text, std::nullopt, chars);
  CHECK(offs(ec) == std::vector<P>{{0, 0}, {0, 3}, {4, 9}, {9, 10}, {11, 15}, {15, 16}, {0, 0}});

  // Word pieces of one word share the word id; offsets split the word.
  const Encoding w = tokens_only(tok, "jumped runs");
  CHECK(w.tokens == Strings{"jump", "##ed", "run", "##s"});
  CHECK(w.word_ids == Ids{0, 0, 1, 1});
  CHECK(offs(w) == std::vector<P>{{0, 4}, {4, 6}, {7, 10}, {10, 11}});
}

TEST_CASE("encode: pairs get type ids 0/1 and sequence ids, DistilBERT drops type ids", "[tokenizer][encode]") {
  const BertTokenizer tok = small_tokenizer();
  const Encoding e = tok.encode("hello", std::string_view("the world"));
  CHECK(e.tokens == Strings{"[CLS]", "hello", "[SEP]", "the", "world", "[SEP]"});
  CHECK(e.type_ids == Ids{0, 0, 0, 1, 1, 1});
  CHECK(e.sequence_ids == Ids{-1, 0, -1, 1, 1, -1});
  CHECK(e.word_ids == Ids{-1, 0, -1, 0, 1, -1});
  CHECK((e.offsets[4].begin == 4 && e.offsets[4].end == 9));  // offsets into the second text

  TokenizerConfig cfg;
  cfg.tokenizer_class = "DistilBertTokenizer";
  const BertTokenizer distil = small_tokenizer(cfg);
  CHECK(distil.encode("hello", std::string_view("world")).type_ids.empty());
  EncodeOptions want;
  want.return_token_type_ids = true;
  CHECK(distil.encode("hello", std::string_view("world"), want).type_ids == Ids{0, 0, 0, 1, 1});
}

TEST_CASE("encode: special tokens in the text are kept whole, anywhere", "[tokenizer][encode]") {
  const BertTokenizer tok = small_tokenizer();
  const Encoding e = tok.encode("[CLS] hello [SEP] [MASK]");
  CHECK(e.tokens == Strings{"[CLS]", "[CLS]", "hello", "[SEP]", "[MASK]", "[SEP]"});
  CHECK(e.ids == Ids{2, 2, 20, 3, 4, 3});
  CHECK(e.special_tokens_mask == Ids{1, 0, 0, 0, 0, 1});  // only the template's specials
  CHECK(e.word_ids == Ids{-1, 0, 1, 2, 3, -1});
  const Encoding glued = tokens_only(tok, "a[MASK]b [mask]");
  CHECK(glued.tokens == Strings{"a", "[MASK]", "b", "[UNK]", "[UNK]", "[UNK]"});  // "[mask]" is not special
  CHECK((glued.offsets[1].begin == 1 && glued.offsets[1].end == 7));
}

TEST_CASE("encode: added tokens with lstrip/rstrip/single_word/normalized and new ids", "[tokenizer][encode]") {
  std::vector<std::string> tokens;
  {
    std::istringstream in(small_vocab_text());
    std::string line;
    while (std::getline(in, line)) tokens.push_back(line);
  }
  const std::int64_t n = static_cast<std::int64_t>(tokens.size());
  std::vector<AddedToken> added = {
      {"[PAD]", 0}, {"[UNK]", 1}, {"[CLS]", 2}, {"[SEP]", 3},
      {"[MASK]", 4, false, /*lstrip*/ true, /*rstrip*/ false, false, true},
      {"<x>", n, /*single_word*/ true, false, false, false, true},
      {"Fox Jumped", n + 1, false, false, false, /*normalized*/ true, /*special*/ false},
      {"<r>", n + 2, false, false, /*rstrip*/ true, false, true},
  };
  const BertTokenizer tok(Vocab(tokens, "small"), TokenizerConfig{}, added);
  CHECK(tok.vocab_size() == tokens.size() + 3);
  CHECK(tok.token_to_id("<x>") == n);
  CHECK(tok.id_to_token(n + 1) == "fox jumped");  // HF: the normalised content for normalized tokens
  CHECK(tok.token_to_id("Fox Jumped") == n + 1);

  const Encoding m = tokens_only(tok, "a   [MASK] b");
  CHECK(m.tokens == Strings{"a", "   [MASK]", "b"});  // the token text is the matched span, as in HF
  CHECK((m.offsets[1].begin == 1 && m.offsets[1].end == 10));  // lstrip swallows the spaces

  const Encoding r = tokens_only(tok, "a <r>   b");
  CHECK(r.tokens == Strings{"a", "<r>   ", "b"});
  CHECK(r.ids == Ids{22, n + 2, 23});

  const Encoding sw = tokens_only(tok, "<x> a<x> <x>b <x>");
  CHECK(sw.ids == Ids{n, 22, 1, 1, 1, 1, 1, 1, 23, n});  // "a<x>" and "<x>b" are not single words
  CHECK(sw.tokens.front() == "<x>");

  const Encoding norm = tokens_only(tok, "The FOX   jumped? fox jumped");
  CHECK(norm.ids == Ids{5, 8, 31, 32, 1, n + 1});  // "FOX   jumped" normalises to "fox   jumped": no match
  CHECK(norm.tokens.back() == "fox jumped");
  CHECK(tok.decode(norm.ids, true, false) == "the fox jumped fox jumped");  // [UNK] skipped, the added token kept
}

TEST_CASE("truncation lengths: Rust and Python tie rules", "[tokenizer][truncation]") {
  // The table of tokenizers' truncate_encodings_longest_first test (budget 7).
  const std::vector<std::tuple<std::size_t, std::size_t, std::size_t, std::size_t>> rust = {
      {0, 0, 0, 0}, {0, 2, 0, 2}, {0, 4, 0, 4}, {0, 8, 0, 7}, {2, 0, 2, 0}, {2, 2, 2, 2}, {2, 4, 2, 4},
      {2, 8, 2, 5}, {4, 0, 4, 0}, {4, 2, 4, 2}, {4, 4, 3, 4}, {4, 8, 3, 4}, {8, 0, 7, 0}, {8, 2, 5, 2},
      {8, 4, 4, 3}, {8, 8, 3, 4}};
  for (const auto& [a, b, ea, eb] : rust) {
    INFO("lens " << a << "," << b);
    CHECK(truncation_lengths(a, b, 7, Truncation::longest_first, Flavor::fast) == std::make_pair(ea, eb));
  }
  // docs/TOKENIZER.md §3: lens (4,4), max 7 -> Rust (3,4), Python (4,3).
  CHECK(truncation_lengths(4, 4, 7, Truncation::longest_first, Flavor::slow) == std::make_pair<std::size_t, std::size_t>(4, 3));
  CHECK(truncation_lengths(8, 8, 7, Truncation::longest_first, Flavor::slow) == std::make_pair<std::size_t, std::size_t>(4, 3));
  CHECK(truncation_lengths(8, 4, 7, Truncation::longest_first, Flavor::slow) == std::make_pair<std::size_t, std::size_t>(4, 3));
  CHECK(truncation_lengths(2, 8, 7, Truncation::longest_first, Flavor::slow) == std::make_pair<std::size_t, std::size_t>(2, 5));
  CHECK(truncation_lengths(10, std::nullopt, 7, Truncation::longest_first, Flavor::fast).first == 7);
  CHECK(truncation_lengths(6, 5, 7, Truncation::only_first, Flavor::fast) == std::make_pair<std::size_t, std::size_t>(2, 5));
  CHECK(truncation_lengths(3, 9, 7, Truncation::only_second, Flavor::fast) == std::make_pair<std::size_t, std::size_t>(3, 4));
  CHECK(truncation_lengths(5, 5, 0, Truncation::only_first, Flavor::fast) == std::make_pair<std::size_t, std::size_t>(0, 0));
  CHECK_THROWS_WITH(truncation_lengths(2, 9, 7, Truncation::only_first, Flavor::fast),
                    Catch::Contains("only_first") && Catch::Contains("2 tokens"));
  CHECK_THROWS_WITH(truncation_lengths(9, std::nullopt, 7, Truncation::only_second, Flavor::fast),
                    Catch::Contains("no second sequence"));
}

TEST_CASE("truncation through encode: tie rule, max_length errors", "[tokenizer][truncation]") {
  const BertTokenizer tok = small_tokenizer();
  EncodeOptions o;
  o.truncation = Truncation::longest_first;
  o.max_length = 10;  // budget 7 for a pair
  const Encoding fast = tok.encode("a b c d", std::string_view("e f g h"), o);
  CHECK(fast.tokens == Strings{"[CLS]", "a", "b", "c", "[SEP]", "e", "f", "g", "h", "[SEP]"});
  o.truncation_rule = Flavor::slow;
  const Encoding slow = tok.encode("a b c d", std::string_view("e f g h"), o);
  CHECK(slow.tokens == Strings{"[CLS]", "a", "b", "c", "d", "[SEP]", "e", "f", "g", "[SEP]"});
  TokenizerConfig slow_cfg;
  slow_cfg.flavor = Flavor::slow;
  o.truncation_rule.reset();
  CHECK(small_tokenizer(slow_cfg).encode("a b c d", std::string_view("e f g h"), o).tokens == slow.tokens);

  o.max_length = 2;
  CHECK_THROWS_WITH(tok.encode("a", std::string_view("b"), o), Catch::Contains("max_length 2") && Catch::Contains("3 special"));
  o.max_length = 5;
  o.stride = 2;  // windows of 2 tokens for the pair: stride must be smaller
  CHECK_THROWS_WITH(tok.encode("a b c d", std::string_view("e f g h"), o), Catch::Contains("stride"));

  // model_max_length is the default max_length.
  TokenizerConfig cfg;
  cfg.model_max_length = 4;
  EncodeOptions t;
  t.truncation = Truncation::longest_first;
  CHECK(small_tokenizer(cfg).encode("a b c d e f").tokens.size() == 8);
  CHECK(small_tokenizer(cfg).encode("a b c d e f", std::nullopt, t).tokens == Strings{"[CLS]", "a", "b", "[SEP]"});
}

TEST_CASE("stride and overflowing windows", "[tokenizer][truncation]") {
  const BertTokenizer tok = small_tokenizer();
  EncodeOptions o;
  o.truncation = Truncation::longest_first;
  o.max_length = 6;
  o.stride = 1;
  o.return_overflowing_tokens = true;
  const Encoding e = tok.encode("a b c d e f g h", std::nullopt, o);
  CHECK(e.tokens == Strings{"[CLS]", "a", "b", "c", "d", "[SEP]"});
  REQUIRE(e.overflowing.size() == 2);
  CHECK(e.overflowing[0].tokens == Strings{"[CLS]", "d", "e", "f", "g", "[SEP]"});
  CHECK(e.overflowing[1].tokens == Strings{"[CLS]", "g", "h", "[SEP]"});
  CHECK(e.overflowing[1].word_ids == Ids{-1, 6, 7, -1});
  std::vector<Encoding> flat;
  std::vector<std::size_t> mapping;
  flatten_overflowing(e, flat, &mapping, 7);
  CHECK(flat.size() == 3);
  CHECK(mapping == std::vector<std::size_t>{7, 7, 7});

  o.return_overflowing_tokens = false;
  CHECK(tok.encode("a b c d e f g h", std::nullopt, o).overflowing.empty());

  o.return_overflowing_tokens = true;
  o.truncation_side = Side::left;
  const Encoding l = tok.encode("a b c d e f g h", std::nullopt, o);
  CHECK(l.tokens == Strings{"[CLS]", "e", "f", "g", "h", "[SEP]"});
  REQUIRE(l.overflowing.size() == 2);
  CHECK(l.overflowing[0].tokens == Strings{"[CLS]", "b", "c", "d", "e", "[SEP]"});
  CHECK(l.overflowing[1].tokens == Strings{"[CLS]", "a", "b", "[SEP]"});

  // Pair, both sides overflowing: HF's order (A windows x [B, B windows], then A x B windows).
  EncodeOptions p;
  p.truncation = Truncation::longest_first;
  p.max_length = 7;
  p.stride = 0;
  p.return_overflowing_tokens = true;
  const Encoding pe = tok.encode("a b c d", std::string_view("e f g h"), p);
  CHECK(pe.tokens == Strings{"[CLS]", "a", "b", "[SEP]", "e", "f", "[SEP]"});
  REQUIRE(pe.overflowing.size() == 3);
  CHECK(pe.overflowing[0].tokens == Strings{"[CLS]", "c", "d", "[SEP]", "e", "f", "[SEP]"});
  CHECK(pe.overflowing[1].tokens == Strings{"[CLS]", "c", "d", "[SEP]", "g", "h", "[SEP]"});
  CHECK(pe.overflowing[2].tokens == Strings{"[CLS]", "a", "b", "[SEP]", "g", "h", "[SEP]"});
  CHECK(pe.overflowing[1].type_ids == Ids{0, 0, 0, 0, 1, 1, 1});
}

TEST_CASE("stride windows match the Hugging Face course example", "[tokenizer][truncation]") {
  if (!have_shared_uncased()) return;
  // huggingface.co/learn chapter 6 ("Fast tokenizers in the QA pipeline"): max_length=6, stride=2.
  EncodeOptions o;
  o.truncation = Truncation::longest_first;
  o.max_length = 6;
  o.stride = 2;
  o.return_overflowing_tokens = true;
  const Encoding e =
      uncased_json().encode("This sentence is not too long but we are going to split it anyway.", std::nullopt, o);
  std::vector<Encoding> windows;
  flatten_overflowing(e, windows);
  Strings decoded;
  for (const auto& w : windows) decoded.push_back(uncased_json().decode(w.ids));
  CHECK(decoded == Strings{"[CLS] this sentence is not [SEP]", "[CLS] is not too long [SEP]",
                           "[CLS] too long but we [SEP]", "[CLS] but we are going [SEP]",
                           "[CLS] are going to split [SEP]", "[CLS] to split it anyway [SEP]",
                           "[CLS] it anyway. [SEP]"});
}

TEST_CASE("padding: longest, max_length, multiple of, left side, batches", "[tokenizer][padding]") {
  const BertTokenizer tok = small_tokenizer();
  EncodeOptions o;
  o.padding = Padding::max_length;
  o.max_length = 6;
  const Encoding e = tok.encode("hello", std::nullopt, o);
  CHECK(e.tokens == Strings{"[CLS]", "hello", "[SEP]", "[PAD]", "[PAD]", "[PAD]"});
  CHECK(e.ids == Ids{2, 20, 3, 0, 0, 0});
  CHECK(e.attention_mask == Ids{1, 1, 1, 0, 0, 0});
  CHECK(e.special_tokens_mask == Ids{1, 0, 1, 1, 1, 1});
  CHECK(e.type_ids == Ids{0, 0, 0, 0, 0, 0});
  CHECK(e.word_ids == Ids{-1, 0, -1, -1, -1, -1});

  o.padding_side = Side::left;
  CHECK(tok.encode("hello", std::nullopt, o).ids == Ids{0, 0, 0, 2, 20, 3});

  EncodeOptions m;
  m.padding = Padding::longest;
  m.pad_to_multiple_of = 4;
  CHECK(tok.encode("hello world", std::nullopt, m).size() == 4);
  CHECK(tok.encode("hello world the", std::nullopt, m).size() == 8);
  m.pad_to_multiple_of.reset();
  CHECK(tok.encode("hello world the", std::nullopt, m).size() == 5);

  // Longer than max_length without truncation: left alone.
  CHECK(tok.encode("a b c d e f g", std::nullopt, o).size() == 9);

  // Batch: pad to the longest item.
  EncodeOptions b;
  b.padding = Padding::longest;
  const auto batch = tok.encode_batch(std::vector<std::string>{"a", "a b c d", "a b"}, b);
  REQUIRE(batch.size() == 3);
  for (const auto& x : batch) CHECK(x.size() == 6);
  CHECK(batch[0].attention_mask == Ids{1, 1, 1, 0, 0, 0});

  // Missing pad token: clear error.
  std::vector<std::string> no_pad = {"[UNK]", "[CLS]", "[SEP]", "a"};
  const BertTokenizer np(Vocab(no_pad, "no pad"));
  CHECK_THROWS_WITH(np.encode("a", std::nullopt, o), Catch::Contains("pad token '[PAD]'"));
}

TEST_CASE("invalid UTF-8 never crashes, offsets stay inside the input", "[tokenizer][encode]") {
  const BertTokenizer tok = small_tokenizer();
  const Encoding e = tokens_only(tok, "hel\xFFlo wor\xC3ld");
  CHECK(e.tokens == Strings{"hello", "world"});  // U+FFFD is dropped by clean_text
  CHECK((e.offsets[0].begin == 0 && e.offsets[0].end == 6));
  CHECK((e.offsets[1].begin == 7 && e.offsets[1].end == 13));

  std::uint32_t state = 99;
  for (int round = 0; round < 300; ++round) {
    std::string s;
    for (int k = 0; k < 60; ++k) {
      state = state * 1664525u + 1013904223u;
      const unsigned char byte = static_cast<unsigned char>(state >> 24);
      s.push_back(static_cast<char>(byte % 3 == 0 ? ' ' : byte));
    }
    Encoding r;
    REQUIRE_NOTHROW(r = tok.encode(s, std::string_view(s)));
    for (std::size_t i = 0; i < r.size(); ++i) {
      REQUIRE(r.offsets[i].begin <= r.offsets[i].end);
      REQUIRE(r.offsets[i].end <= s.size());
    }
    EncodeOptions chars;
    chars.offsets = OffsetUnit::chars;
    REQUIRE_NOTHROW(tok.encode(s, std::nullopt, chars));
  }
}

TEST_CASE("encode_batch is deterministic across thread counts and concurrent callers", "[tokenizer][batch]") {
  if (!have_shared_uncased()) return;
  const BertTokenizer& tok = uncased_json();
  std::vector<std::string> texts;
  {
    std::ifstream in(fs::path(DISTILBERT_SHARED_DATA) / "glue" / "SST-2" / "dev.tsv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line) && texts.size() < 300) texts.push_back(line.substr(0, line.find('\t')));
  }
  std::vector<TextInput> inputs;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    inputs.push_back({texts[i], i % 3 == 0 ? std::optional<std::string_view>(texts[(i + 1) % texts.size()]) : std::nullopt});
  }
  EncodeOptions o;
  o.padding = Padding::longest;
  o.truncation = Truncation::longest_first;
  o.max_length = 48;
  o.stride = 8;
  o.return_overflowing_tokens = true;
  const auto one = tok.encode_batch(inputs, o, std::size_t{1});
  const auto two = tok.encode_batch(inputs, o, std::size_t{2});
  const auto four = tok.encode_batch(inputs, o, std::size_t{4});
  const auto shared = tok.encode_batch(inputs, o);
  REQUIRE(one.size() == inputs.size());
  auto same = [](const std::vector<Encoding>& a, const std::vector<Encoding>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].ids != b[i].ids || a[i].attention_mask != b[i].attention_mask || a[i].offsets != b[i].offsets ||
          a[i].overflowing.size() != b[i].overflowing.size()) {
        return false;
      }
      for (std::size_t k = 0; k < a[i].overflowing.size(); ++k) {
        if (a[i].overflowing[k].ids != b[i].overflowing[k].ids) return false;
      }
    }
    return true;
  };
  CHECK(same(one, two));
  CHECK(same(one, four));
  CHECK(same(one, shared));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Encoding single = tok.encode(inputs[i].text, inputs[i].pair, [&] {
      EncodeOptions s = o;
      s.padding = Padding::none;
      return s;
    }());
    const std::size_t n = single.size();
    REQUIRE(one[i].size() >= n);
    CHECK(std::vector<std::int64_t>(one[i].ids.begin(), one[i].ids.begin() + static_cast<std::ptrdiff_t>(n)) == single.ids);
  }

  // Concurrent encode() calls on one tokenizer.
  std::vector<std::vector<Ids>> results(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (const auto& text : texts) results[t].push_back(tok.encode(text).ids);
    });
  }
  for (auto& th : threads) th.join();
  for (std::size_t t = 1; t < 4; ++t) CHECK(results[t] == results[0]);
}
