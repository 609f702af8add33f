// Helpers for the data pipeline tests: temp folders, stores made from hand-written id lists, the shared data paths.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "distilbert/data/token_store.h"
#include "test_paths.h"

namespace distilbert::testing {

/// A fresh folder under /tmp/distilbert_data_tests/<pid>/ (per process: ctest runs test cases, and other checkouts
/// run the same tests, concurrently); the process's folder is removed at exit.
inline std::string data_temp_dir(const std::string& name) {
  struct Root {
    std::filesystem::path path = std::filesystem::temp_directory_path() / "distilbert_data_tests" /
                                 std::to_string(::getpid());
    ~Root() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static Root root;
  auto dir = root.path / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

/// Specials of a small test vocabulary: pad 0, unk 1, cls 2, sep 3, mask 4.
inline tokenizer::SpecialTokenIds test_specials() {
  tokenizer::SpecialTokenIds s;
  s.pad = 0;
  s.unk = 1;
  s.cls = 2;
  s.sep = 3;
  s.mask = 4;
  return s;
}

/// Write a store from id lists (specials as test_specials()).
inline std::string write_test_store(const std::string& prefix, const std::vector<std::vector<std::int64_t>>& seqs,
                                    std::int64_t vocab = 1000, const std::string& fingerprint = "00000000000000aa") {
  data::TokenStoreWriter w(prefix, vocab, fingerprint, test_specials());
  for (const auto& s : seqs) w.add(s);
  w.finish();
  return prefix;
}

/// [CLS] body... [SEP] with body ids counting up from `first`.
inline std::vector<std::int64_t> test_sequence(std::size_t length, std::int64_t first = 10, std::int64_t vocab = 1000) {
  std::vector<std::int64_t> s(length);
  for (std::size_t i = 0; i < length; ++i) s[i] = 5 + (first + static_cast<std::int64_t>(i)) % (vocab - 5);
  s.front() = 2;
  s.back() = 3;
  return s;
}

inline std::string shared_data() { return DISTILBERT_SHARED_DATA; }
inline std::string bert_tokenizer_dir() { return shared_data() + "/bert-base-uncased"; }
inline std::string wikitext_valid() { return shared_data() + "/text/wikitext-2/valid.txt"; }
inline bool have_real_text() {
  return std::filesystem::exists(bert_tokenizer_dir() + "/vocab.txt") && std::filesystem::exists(wikitext_valid());
}

inline std::vector<std::string> read_lines(const std::string& path, std::size_t max_lines) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (out.size() < max_lines && std::getline(in, line)) out.push_back(line);
  return out;
}

}  // namespace distilbert::testing
