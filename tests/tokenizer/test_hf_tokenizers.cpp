// Our WordPiece tokenizer against Hugging Face's own, run at test time from the project's Python environment
// (tests/py/hf_tokenize.py): HF `tokenizers` (the fast Rust tokenizer) for ids, token type ids and character
// offsets, and transformers' slow BertTokenizer for ids and type ids, on real corpora (every non-blank line of
// WikiText-2 valid, SST-2 dev sentences, MRPC / RTE / STS-B dev pairs) and hand-made hard inputs (accents, CJK,
// emoji, control characters, very long words, whitespace), untruncated and with longest_first truncation.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "support/python_env.h"
#include "support/scratch_files.h"
#include "tok_test_util.h"

using namespace tok_test;
using json = nlohmann::json;

namespace {

struct Input {
  std::string text;
  std::optional<std::string> pair;
  std::size_t max_length = 0;  // 0: no truncation
  std::string source;
};

/// Columns `a` (and `b` when >= 0) of a GLUE TSV after its header.
void add_tsv(std::vector<Input>& out, const fs::path& file, int a, int b, std::size_t max_length) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) cols.push_back(c);
    if (static_cast<int>(cols.size()) <= std::max(a, b)) continue;
    Input x{cols[static_cast<size_t>(a)], std::nullopt, max_length, file.string()};
    if (b >= 0) x.pair = cols[static_cast<size_t>(b)];
    out.push_back(x);
  }
}

std::vector<Input> inputs() {
  const fs::path glue = fs::path(DISTILBERT_SHARED_DATA) / "glue";
  std::vector<Input> v;
  {
    std::ifstream in(fs::path(DISTILBERT_SHARED_DATA) / "text" / "wikitext-2" / "valid.txt");
    for (std::string line; std::getline(in, line);)
      if (line.find_first_not_of(" \t") != std::string::npos) v.push_back({line, std::nullopt, 0, "wikitext-2"});
  }
  add_tsv(v, glue / "SST-2" / "dev.tsv", 0, -1, 0);
  add_tsv(v, glue / "SST-2" / "dev.tsv", 0, -1, 12);
  add_tsv(v, glue / "MRPC" / "dev.tsv", 3, 4, 0);
  add_tsv(v, glue / "MRPC" / "dev.tsv", 3, 4, 32);
  add_tsv(v, glue / "RTE" / "dev.tsv", 1, 2, 64);
  add_tsv(v, glue / "STS-B" / "dev.tsv", 7, 8, 24);
  const std::string long_word(300, 'x');
  for (const std::string& t : {std::string("Héllo Wörld Ångström naïve café"), std::string("東京は日本の首都です。中文分词"),
                               std::string("emoji 😀👍🏽 and 🇫🇷 flags"), std::string("tab\tnew\nline\rcarriage\x01\x07 ctrl"),
                               std::string("non\u00a0breaking\u2009thin\u3000ideographic spaces"),
                               std::string("ﬁnancial ＦＵＬＬＷＩＤＴＨ ｶﾀｶﾅ"), std::string("ΟΔΟΣ Straße İstanbul"),
                               "a" + long_word + " word", std::string("don't stop-believing... (it's) $3.50 & 100%"),
                               std::string("   "), std::string("")}) {
    v.push_back({t, std::nullopt, 0, "hard"});
    v.push_back({t, std::string("second sentence ") + t, 16, "hard"});
  }
  return v;
}

}  // namespace

TEST_CASE("WordPiece equals HF tokenizers and transformers' slow BertTokenizer on real corpora", "[hf][tokenizer]") {
  if (!have_shared_uncased()) return;
  if (!distilbert::testing::require_python("tokenizers transformers", "the HF tokenizer comparison")) return;
  const auto cases = inputs();
  REQUIRE(cases.size() > 4000);
  const fs::path dir = distilbert::testing::scratch_dir("hf_tokenize");
  {
    std::ofstream out(dir / "in.jsonl");
    for (const auto& c : cases) {
      json j = {{"text", c.text}};
      if (c.pair) j["pair"] = *c.pair;
      if (c.max_length) j["max_length"] = c.max_length;
      out << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    }
  }
  const auto r = distilbert::testing::run_python(
      "hf_tokenize.py", "'" + shared_uncased_dir().string() + "' '" + (dir / "in.jsonl").string() + "' '" +
                            (dir / "out.jsonl").string() + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::ifstream in(dir / "out.jsonl");
  const BertTokenizer& fast = uncased_json();
  const BertTokenizer slow = BertTokenizer::from_vocab_file(shared_uncased_dir() / "vocab.txt",
                                                            shared_uncased_dir() / "tokenizer_config.json", Flavor::slow);
  std::size_t n = 0, fast_diff = 0, slow_diff = 0, tokens = 0;
  std::string line;
  for (const auto& c : cases) {
    REQUIRE(std::getline(in, line));
    const json ref = json::parse(line);
    EncodeOptions o;
    o.return_token_type_ids = true;
    o.offsets = OffsetUnit::chars;
    if (c.max_length) o.truncation = Truncation::longest_first, o.max_length = c.max_length;
    const std::optional<std::string_view> pair = c.pair ? std::optional<std::string_view>(*c.pair) : std::nullopt;
    const Encoding e = fast.encode(c.text, pair, o);
    std::vector<std::vector<std::size_t>> offsets;
    for (const auto& off : e.offsets) offsets.push_back({off.begin, off.end});
    const bool fast_ok = ref["fast"]["ids"] == json(e.ids) && ref["fast"]["type_ids"] == json(e.type_ids) &&
                         ref["fast"]["offsets"] == json(offsets);
    const Encoding s = slow.encode(c.text, pair, o);
    const bool slow_ok = ref["slow"]["ids"] == json(s.ids) && ref["slow"]["type_ids"] == json(s.type_ids);
    if (!fast_ok && fast_diff++ < 5)
      UNSCOPED_INFO("fast differs (" << c.source << "): " << json(c.text).dump() << "\n  HF   " << ref["fast"].dump()
                                     << "\n  ours " << json({{"ids", e.ids}, {"offsets", offsets}}).dump());
    if (!slow_ok && slow_diff++ < 5)
      UNSCOPED_INFO("slow differs (" << c.source << "): " << json(c.text).dump() << "\n  HF   " << ref["slow"].dump()
                                     << "\n  ours " << json(s.ids).dump());
    ++n;
    tokens += e.ids.size();
  }
  std::cout << "[tokenizer] against HF: " << n << " inputs, " << tokens << " tokens; fast differs on " << fast_diff
            << ", slow on " << slow_diff << "\n";
  CHECK(fast_diff == 0);
  CHECK(slow_diff == 0);
}
