// tests/data/tokenizer/cases.jsonl: real GLUE / WikiText-2 lines and hand-written edge cases, encoded by the
// Hugging Face `tokenizers` library (and compared with transformers.js) by scripts/tokenizer/make_cases.mjs.
#include <fstream>
#include <nlohmann/json.hpp>

#include "distilbert/core/error.h"
#include "tok_test_util.h"

using namespace tok_test;
using json = nlohmann::json;

namespace {

std::vector<json> load_cases() {
  const fs::path p = fs::path(DISTILBERT_SOURCE_DIR) / "tests" / "data" / "tokenizer" / "cases.jsonl";
  std::ifstream in(p);
  REQUIRE(in.good());
  std::vector<json> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) cases.push_back(json::parse(line));
  }
  return cases;
}

EncodeOptions options_of(const json& c) {
  EncodeOptions o;
  o.return_token_type_ids = true;
  o.offsets = OffsetUnit::chars;
  if (!c.contains("options")) return o;
  const json& j = c.at("options");
  if (j.contains("add_special_tokens")) o.add_special_tokens = j.at("add_special_tokens").get<bool>();
  if (j.contains("truncation")) {
    const std::string t = j.at("truncation").get<std::string>();
    o.truncation = t == "longest_first" ? Truncation::longest_first
                   : t == "only_first"  ? Truncation::only_first
                                        : Truncation::only_second;
  }
  if (j.contains("max_length")) o.max_length = j.at("max_length").get<std::size_t>();
  if (j.contains("stride")) o.stride = j.at("stride").get<std::size_t>();
  if (j.contains("overflow")) o.return_overflowing_tokens = j.at("overflow").get<bool>();
  if (j.contains("truncation_side")) o.truncation_side = j.at("truncation_side") == "left" ? Side::left : Side::right;
  if (j.contains("padding")) o.padding = j.at("padding") == "max_length" ? Padding::max_length : Padding::longest;
  if (j.contains("pad_to_multiple_of")) o.pad_to_multiple_of = j.at("pad_to_multiple_of").get<std::size_t>();
  if (j.contains("padding_side")) o.padding_side = j.at("padding_side") == "left" ? Side::left : Side::right;
  return o;
}

std::vector<std::int64_t> flat_offsets(const Encoding& e) {
  std::vector<std::int64_t> out;
  for (const Offset& o : e.offsets) {
    out.push_back(static_cast<std::int64_t>(o.begin));
    out.push_back(static_cast<std::int64_t>(o.end));
  }
  return out;
}

std::vector<std::int64_t> ints(const json& j) { return j.get<std::vector<std::int64_t>>(); }

// Compare one encoding with its reference record (fields present in the record only).
void compare(const BertTokenizer& tok, const Encoding& e, const json& ref, const std::string& what) {
  INFO(what << "\n" << token_diff(ids_to_tokens(tok, ints(ref.at("ids"))), e.tokens));
  REQUIRE(e.ids == ints(ref.at("ids")));
  CHECK(e.type_ids == ints(ref.at("type_ids")));
  if (ref.contains("attention_mask")) CHECK(e.attention_mask == ints(ref.at("attention_mask")));
  if (ref.contains("special_tokens_mask")) CHECK(e.special_tokens_mask == ints(ref.at("special_tokens_mask")));
  if (ref.contains("offsets")) CHECK(flat_offsets(e) == ints(ref.at("offsets")));
  if (ref.contains("word_ids")) CHECK(e.word_ids == ints(ref.at("word_ids")));
  if (ref.contains("tokens")) CHECK(e.tokens == ref.at("tokens").get<std::vector<std::string>>());
  if (ref.contains("overflowing")) {
    const json& ov = ref.at("overflowing");
    REQUIRE(e.overflowing.size() == ov.size());
    for (std::size_t i = 0; i < ov.size(); ++i) compare(tok, e.overflowing[i], ov[i], what + " overflow " + std::to_string(i));
  }
}

void run_case(const BertTokenizer& tok, const json& c, bool full) {
  const std::string id = c.at("id").get<std::string>();
  const std::string text = c.at("text").get<std::string>();
  std::optional<std::string> pair;
  if (c.contains("pair")) pair = c.at("pair").get<std::string>();
  const auto pair_view = pair ? std::optional<std::string_view>(*pair) : std::nullopt;
  const EncodeOptions opt = options_of(c);
  if (c.contains("error")) {
    INFO("case " << id << " should fail like the reference: " << c.at("error").get<std::string>());
    CHECK_THROWS_AS(tok.encode(text, pair_view, opt), distilbert::Error);
    return;
  }
  const Encoding e = tok.encode(text, pair_view, opt);
  if (!full) {
    INFO("case " << id << "\n" << token_diff(ids_to_tokens(tok, ints(c.at("ids"))), e.tokens));
    CHECK(e.ids == ints(c.at("ids")));
    return;
  }
  compare(tok, e, c, "case " + id);

  // Byte offsets map to the same character offsets.
  EncodeOptions bytes = opt;
  bytes.offsets = OffsetUnit::bytes;
  const Encoding eb = tok.encode(text, pair_view, bytes);
  const auto map_a = unicode::byte_to_char_index(text);
  const auto map_b = unicode::byte_to_char_index(pair.value_or(""));
  REQUIRE(eb.size() == e.size());
  for (std::size_t i = 0; i < eb.size(); ++i) {
    if (eb.sequence_ids[i] < 0) continue;
    const auto& map = eb.sequence_ids[i] == 0 ? map_a : map_b;
    CHECK(map[eb.offsets[i].begin] == e.offsets[i].begin);
    CHECK(map[eb.offsets[i].end] == e.offsets[i].end);
  }

  if (c.contains("decoded")) {
    const auto ids = ints(c.at("ids"));
    INFO("decode of case " << id);
    CHECK(tok.decode(ids, false, false) == c.at("decoded").get<std::string>());
    CHECK(tok.decode(ids, true, false) == c.at("decoded_skip_special").get<std::string>());
    if (c.contains("decoded_cleanup_tjs")) CHECK(tok.decode(ids, false, true) == c.at("decoded_cleanup_tjs").get<std::string>());
  }
  if (c.contains("tjs_ids")) {
    // Documented transformers.js divergence; make sure the reference really is the Rust behaviour.
    CHECK(e.ids != ints(c.at("tjs_ids")));
  }
}

}  // namespace

TEST_CASE("reference cases from HF tokenizers: ids, type ids, masks, offsets, word ids, overflow, decode",
          "[tokenizer][reference]") {
  if (!have_shared_uncased()) return;
  const auto cases = load_cases();
  REQUIRE(cases.size() > 300);
  std::size_t singles = 0, batches = 0;
  for (const json& c : cases) {
    if (c.contains("batch")) {
      const auto texts = c.at("batch").get<std::vector<std::string>>();
      EncodeOptions opt = options_of(c);
      for (std::size_t threads : {1, 2}) {
        const auto out = uncased_json().encode_batch(
            [&] {
              std::vector<TextInput> in;
              for (const auto& t : texts) in.push_back({t, std::nullopt});
              return in;
            }(),
            opt, threads);
        const json& refs = c.at("encodings");
        REQUIRE(out.size() == refs.size());
        for (std::size_t i = 0; i < out.size(); ++i) compare(uncased_json(), out[i], refs[i], "batch item " + std::to_string(i));
      }
      ++batches;
      continue;
    }
    run_case(uncased_json(), c, true);
    run_case(uncased_vocab(), c, false);
    ++singles;
  }
  CHECK(batches == 1);
  CHECK(singles > 300);
}
