// The published BERT WordPiece test vectors (transformers.js + bumblebee test suites) in
// ../shared/data/tokenizer/bert_wordpiece_test_vectors.json, checked against bert-base-uncased.
#include <fstream>
#include <nlohmann/json.hpp>

#include "tok_test_util.h"

using namespace tok_test;
using json = nlohmann::json;

namespace {

bool load_vectors(json& out) {
  const fs::path p = fs::path(DISTILBERT_SHARED_DATA) / "tokenizer" / "bert_wordpiece_test_vectors.json";
  if (!fs::is_regular_file(p)) {
    WARN("SKIPPED: " << p.string() << " is missing");
    return false;
  }
  std::ifstream in(p);
  out = json::parse(in);
  return true;
}

std::vector<std::int64_t> as_ids(const json& j) { return j.get<std::vector<std::int64_t>>(); }

void check_case(const BertTokenizer& tok, const json& c) {
  const std::string name = c.at("name").get<std::string>();
  const std::string text = c.at("text").get<std::string>();
  std::optional<std::string> pair;
  if (c.contains("text_pair")) pair = c.at("text_pair").get<std::string>();
  EncodeOptions opt;
  opt.return_token_type_ids = true;
  const Encoding e = tok.encode(text, pair ? std::optional<std::string_view>(*pair) : std::nullopt, opt);
  const auto expected_ids = as_ids(c.at("ids"));
  INFO("case " << name << ": " << token_diff(ids_to_tokens(tok, expected_ids), e.tokens));
  CHECK(e.ids == expected_ids);
  if (c.contains("tokens")) {
    std::vector<std::string> inner(e.tokens.begin() + 1, e.tokens.end() - 1);
    CHECK(inner == c.at("tokens").get<std::vector<std::string>>());
  }
  if (c.contains("token_type_ids")) CHECK(e.type_ids == as_ids(c.at("token_type_ids")));
}

}  // namespace

TEST_CASE("bert-base-uncased test vectors match exactly (tokenizer.json and vocab.txt)", "[tokenizer][vectors]") {
  if (!have_shared_uncased()) return;
  json vectors;
  if (!load_vectors(vectors)) return;
  std::size_t n = 0;
  for (const char* group : {"bert-base-uncased", "bert-base-uncased-pairs", "bert-base-uncased-special"}) {
    for (const json& c : vectors.at(group)) {
      check_case(uncased_json(), c);
      check_case(uncased_vocab(), c);
      ++n;
    }
  }
  CHECK(n == 30);
  // The Python (slow) flavour gives the same ids on all of them.
  const BertTokenizer slow = BertTokenizer::from_vocab_file(shared_uncased_dir() / "vocab.txt", std::nullopt, Flavor::slow);
  for (const char* group : {"bert-base-uncased", "bert-base-uncased-pairs", "bert-base-uncased-special"}) {
    for (const json& c : vectors.at(group)) check_case(slow, c);
  }
}

TEST_CASE("cased test vectors: normalisation half checked without the cased vocabulary", "[tokenizer][vectors]") {
  // bert-base-cased's vocab.txt is not in the shared data, so ids cannot be checked. What can be checked
  // without it: with do_lower_case=false and strip_accents unset, the normaliser must keep case and
  // accents, and the pre-tokenizer must produce words whose concatenated WordPiece pieces spell the
  // expected tokens (after removing "##" and mapping [UNK] to the word).
  json vectors;
  if (!load_vectors(vectors)) return;
  NormalizerOptions opts;
  opts.lowercase = false;
  const BertNormalizer norm(opts, Flavor::fast);
  for (const json& c : vectors.at("bert-base-cased")) {
    const std::string text = c.at("text").get<std::string>();
    const auto words = pre_tokenize_string(norm, text);
    std::string joined_words;
    for (const auto& w : words) joined_words += w;
    std::string joined_tokens;
    std::size_t unk = 0;
    for (const auto& t : c.at("tokens").get<std::vector<std::string>>()) {
      if (t == "[UNK]") {
        ++unk;
        continue;
      }
      joined_tokens += t.rfind("##", 0) == 0 ? t.substr(2) : t;
    }
    INFO("case " << c.at("name").get<std::string>());
    if (unk == 0) {
      CHECK(joined_words == joined_tokens);
    } else {
      // Every non-[UNK] piece appears, in order, in the words.
      std::size_t pos = 0;
      for (const auto& t : c.at("tokens").get<std::vector<std::string>>()) {
        if (t == "[UNK]") continue;
        const std::string piece = t.rfind("##", 0) == 0 ? t.substr(2) : t;
        const std::size_t found = joined_words.find(piece, pos);
        CHECK(found != std::string::npos);
        if (found != std::string::npos) pos = found + piece.size();
      }
    }
  }
}
