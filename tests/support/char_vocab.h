// A character-level WordPiece vocabulary of exactly 128 entries (the golden tiny models' vocab_size), so every ASCII
// word tokenises without [UNK]: specials, a-z, 0-9, their ## continuations, ASCII punctuation, [unusedN] padding.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace distilbert::testing {

inline void write_char_vocab(const std::filesystem::path& path) {
  std::vector<std::string> v = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (char c = 'a'; c <= 'z'; ++c) v.push_back(std::string(1, c));
  for (char c = '0'; c <= '9'; ++c) v.push_back(std::string(1, c));
  for (char c = 'a'; c <= 'z'; ++c) v.push_back("##" + std::string(1, c));
  for (char c = '0'; c <= '9'; ++c) v.push_back("##" + std::string(1, c));
  for (char c : std::string("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")) v.push_back(std::string(1, c));
  for (int i = 0; v.size() < 128; ++i) v.push_back("[unused" + std::to_string(i) + "]");
  std::ofstream out(path);
  for (const auto& t : v) out << t << "\n";
}

}  // namespace distilbert::testing
