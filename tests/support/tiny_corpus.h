// The lines of tests/data/tokenizer/tiny_corpus.txt, the small corpus the tokenizer trainers are tested on.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_paths.h"

namespace distilbert::testing {

inline std::vector<std::string> tiny_corpus_lines() {
  std::ifstream in(std::filesystem::path(DISTILBERT_SOURCE_DIR) / "tests/data/tokenizer/tiny_corpus.txt");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  REQUIRE(lines.size() >= 50);
  return lines;
}

}  // namespace distilbert::testing
