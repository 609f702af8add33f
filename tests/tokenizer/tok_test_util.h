// Helpers shared by the tokenizer tests.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "distilbert/tokenizer/bert_tokenizer.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "test_paths.h"

namespace tok_test {

namespace fs = std::filesystem;
using namespace distilbert::tokenizer;

inline fs::path shared_uncased_dir() { return fs::path(DISTILBERT_SHARED_DATA) / "bert-base-uncased"; }

/// True when the shared bert-base-uncased folder is there; otherwise WARNs (Catch2 2.x has no SKIP) so the
/// caller can `return`.
inline bool have_shared_uncased() {
  const fs::path dir = shared_uncased_dir();
  if (fs::is_regular_file(dir / "vocab.txt") && fs::is_regular_file(dir / "tokenizer.json")) return true;
  WARN("SKIPPED: shared data " << dir.string()
                               << " is missing (vocab.txt, tokenizer.json of bert-base-uncased; download them from "
                                  "https://huggingface.co/bert-base-uncased)");
  return false;
}

/// bert-base-uncased loaded once per process from tokenizer.json (fast flavour).
inline const BertTokenizer& uncased_json() {
  static const BertTokenizer tok = BertTokenizer::from_tokenizer_json(shared_uncased_dir() / "tokenizer.json",
                                                                      shared_uncased_dir() / "tokenizer_config.json");
  return tok;
}

/// bert-base-uncased loaded once per process from vocab.txt (fast flavour).
inline const BertTokenizer& uncased_vocab() {
  static const BertTokenizer tok = BertTokenizer::from_vocab_file(shared_uncased_dir() / "vocab.txt",
                                                                  shared_uncased_dir() / "tokenizer_config.json");
  return tok;
}

/// A readable diff of two token sequences: the first mismatch position and the tokens around it.
inline std::string token_diff(const std::vector<std::string>& expected, const std::vector<std::string>& actual) {
  std::size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  std::ostringstream os;
  os << "first difference at token " << i << " (expected " << expected.size() << " tokens, got " << actual.size()
     << ")\n";
  const std::size_t from = i >= 3 ? i - 3 : 0;
  os << "  expected:";
  for (std::size_t k = from; k < std::min(expected.size(), i + 6); ++k) os << " [" << expected[k] << "]";
  os << "\n  actual:  ";
  for (std::size_t k = from; k < std::min(actual.size(), i + 6); ++k) os << " [" << actual[k] << "]";
  return os.str();
}

/// Tokens for ids using the tokenizer (for diffs when only ids are known).
inline std::vector<std::string> ids_to_tokens(const BertTokenizer& tok, const std::vector<std::int64_t>& ids) {
  std::vector<std::string> out;
  for (auto id : ids) out.push_back(tok.id_to_token(id).value_or("<" + std::to_string(id) + ">"));
  return out;
}

/// A small hand-made vocabulary in a temp folder (for tests that must not depend on shared data).
inline fs::path write_temp_file(const std::string& name, const std::string& content) {
  const fs::path dir = fs::temp_directory_path() / "distilbert_tok_tests";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

inline std::string small_vocab_text() {
  return "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nquick\nbrown\nfox\nun\n##aff\n##able\n##ing\nrun\n##n\n!\n,\n.\n"
         "'\ns\nhello\nworld\na\nb\nc\nd\ne\nf\ng\nh\n##s\njump\n##ed\nover\nlazy\ndog\ncafe\n##e\n中\n文\n";
}

inline BertTokenizer small_tokenizer(TokenizerConfig config = {}) {
  std::vector<std::string> tokens;
  std::istringstream in(small_vocab_text());
  std::string line;
  while (std::getline(in, line)) tokens.push_back(line);
  return BertTokenizer(Vocab(tokens, "small test vocab"), config);
}

}  // namespace tok_test
