// Vocab and WordPiece.
#include <set>

#include "distilbert/core/error.h"
#include "tok_test_util.h"

using namespace tok_test;
using Strings = std::vector<std::string>;

namespace {

WordPiece make_wordpiece(Strings tokens, WordPieceOptions o = {}) {
  return WordPiece(Vocab(std::move(tokens), "test vocab"), std::move(o));
}

}  // namespace

TEST_CASE("WordPiece: greedy longest match with ## continuation", "[tokenizer][wordpiece]") {
  const WordPiece wp = make_wordpiece({"[UNK]", "un", "##aff", "##able", "##a", "a", "run", "##n", "##ning", "##ing", "unaff"});
  CHECK(wp.tokenize("unaffable") == Strings{"unaff", "##able"});  // longest first piece wins
  CHECK(wp.tokenize("running") == Strings{"run", "##ning"});
  CHECK(wp.tokenize("a") == Strings{"a"});
  CHECK(wp.tokenize("xyz") == Strings{"[UNK]"});
  CHECK(wp.tokenize("runx") == Strings{"[UNK]"});  // no piece for "x": the whole word is one [UNK]
  const WordPiece docstring = make_wordpiece({"[UNK]", "un", "##aff", "##able"});
  CHECK(docstring.tokenize("unaffable") == Strings{"un", "##aff", "##able"});
}

TEST_CASE("WordPiece: max_input_chars_per_word counts code points", "[tokenizer][wordpiece]") {
  const WordPiece wp = make_wordpiece({"[UNK]", "a", "##a", "\xE4\xB8\xAD", "##\xE4\xB8\xAD"});
  CHECK(wp.tokenize(std::string(100, 'a')).size() == 100);
  CHECK(wp.tokenize(std::string(101, 'a')) == Strings{"[UNK]"});
  std::string zh100, zh101;
  for (int i = 0; i < 100; ++i) zh100 += "\xE4\xB8\xAD";  // 300 bytes, 100 chars
  zh101 = zh100 + "\xE4\xB8\xAD";
  CHECK(wp.tokenize(zh100).size() == 100);
  CHECK(wp.tokenize(zh101) == Strings{"[UNK]"});
  WordPieceOptions small;
  small.max_input_chars_per_word = 3;
  const WordPiece wp3 = make_wordpiece({"[UNK]", "a", "##a"}, small);
  CHECK(wp3.tokenize("aaa").size() == 3);
  CHECK(wp3.tokenize("aaaa") == Strings{"[UNK]"});
}

TEST_CASE("Vocab: lookups, duplicates, missing unk, vocab.txt reading", "[tokenizer][wordpiece]") {
  const Vocab v({"[PAD]", "hello", "##lo"}, "v");
  CHECK(v.find("hello") == 1);
  CHECK_FALSE(v.find("nope").has_value());
  CHECK(v.token(2) == "##lo");
  CHECK_THROWS_AS(v.token(3), distilbert::Error);
  CHECK(v.max_token_chars() == 5);
  const Vocab copy = v;  // copies rebuild the string_view index
  CHECK(copy.find("##lo") == 2);

  CHECK_THROWS_WITH(Vocab(Strings{"a", "b", "a"}, "dup vocab"),
                    Catch::Contains("dup vocab") && Catch::Contains("duplicate token 'a'"));
  CHECK_THROWS_WITH(make_wordpiece({"a", "b"}), Catch::Contains("[UNK]"));

  const auto path = write_temp_file("crlf_vocab.txt", "[UNK]\r\nhello\r\n##lo\r\n");
  const Vocab f = Vocab::from_file(path);
  CHECK(f.size() == 3);
  CHECK(f.find("hello") == 1);
  CHECK_THROWS_WITH(Vocab::from_file(path.parent_path() / "missing_vocab.txt"),
                    Catch::Contains("missing_vocab.txt") && Catch::Contains("cannot open"));
  const auto dup = write_temp_file("dup_vocab.txt", "[UNK]\nx\ny\nx\n");
  CHECK_THROWS_WITH(Vocab::from_file(dup), Catch::Contains("dup_vocab.txt") && Catch::Contains("duplicate token 'x'"));
  const auto empty = write_temp_file("empty_vocab.txt", "");
  CHECK_THROWS_WITH(Vocab::from_file(empty), Catch::Contains("empty"));
}

TEST_CASE("bert-base-uncased vocab.txt: size and special ids", "[tokenizer][wordpiece]") {
  if (!have_shared_uncased()) return;
  const Vocab v = Vocab::from_file(shared_uncased_dir() / "vocab.txt");
  CHECK(v.size() == 30522);
  CHECK(v.find("[PAD]") == 0);
  CHECK(v.find("[UNK]") == 100);
  CHECK(v.find("[CLS]") == 101);
  CHECK(v.find("[SEP]") == 102);
  CHECK(v.find("[MASK]") == 103);
  const WordPiece wp(v, {});
  CHECK(wp.tokenize("unaffable") == Strings{"una", "##ffa", "##ble"});  // as HF tokenizers gives
  CHECK(wp.tokenize("tokenization") == Strings{"token", "##ization"});
}

namespace {

// Greedy longest-match-first WordPiece written the plain way (build "##" + piece, look it up in a std::set),
// over bytes; for checking the hashed, prefix-free implementation on ASCII words.
Strings reference_wordpiece(const std::set<std::string>& vocab, const std::string& word) {
  Strings out;
  std::size_t start = 0;
  while (start < word.size()) {
    std::size_t end = word.size();
    std::string found;
    for (; end > start; --end) {
      const std::string piece = (start > 0 ? "##" : "") + word.substr(start, end - start);
      if (vocab.count(piece)) {
        found = piece;
        break;
      }
    }
    if (found.empty()) return {"[UNK]"};
    out.push_back(found);
    start = end;
  }
  return out;
}

}  // namespace

TEST_CASE("WordPiece: keys of every length around the inline/padded-load boundaries match a plain reference",
          "[tokenizer][wordpiece]") {
  // Tokens of 1..20 bytes (the hash slots keep 11 bytes inline and build keys from 8 + 4 byte loads), words
  // that share long prefixes with them, continuation pieces of the same lengths, and a token that itself
  // starts with "##" reached as a first piece.
  Strings tokens = {"[UNK]"};
  const std::string letters = "abcdefghijklmnopqrstuvwxyz";
  for (std::size_t len = 1; len <= 20; ++len) {
    tokens.push_back(letters.substr(0, len));
    tokens.push_back("##" + letters.substr(len % 7, len));
    tokens.push_back(letters.substr(0, len - 1) + "Z");
  }
  tokens.push_back("##");
  const std::set<std::string> vocab(tokens.begin(), tokens.end());
  const WordPiece wp = make_wordpiece(tokens);
  for (const std::string& t : tokens) CHECK(wp.vocab().find(t).has_value());
  CHECK_FALSE(wp.vocab().find("abcdefghijk" + std::string(1, '\0')).has_value());
  CHECK_FALSE(wp.vocab().find("abcdefghijkX").has_value());
  std::vector<std::string> words;
  for (std::size_t a = 1; a <= 20; ++a) {
    for (std::size_t b = 0; b <= 12; ++b) {
      words.push_back(letters.substr(0, a) + letters.substr(b % 7, b));
      words.push_back(letters.substr(0, a) + "Z" + letters.substr(0, b));
      words.push_back("##" + letters.substr(b % 7, a));
    }
  }
  for (const std::string& w : words) {
    INFO(w);
    CHECK(wp.tokenize(w) == reference_wordpiece(vocab, w));
  }
}
