// SentencePieceTokenizer: a sentencepiece model behind the Tokenizer interface (specials, BERT template,
// offsets, word ids, truncation/padding, decode, files, load_tokenizer). The models are trained once per
// process from tests/data/tokenizer/tiny_corpus.txt (a few milliseconds).
#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "distilbert/core/error.h"
#include "distilbert/core/text.h"
#include "distilbert/tokenizer/sentencepiece_tokenizer.h"
#include "distilbert/tokenizer/trainer.h"
#include "tok_test_util.h"
#include "support/tiny_corpus.h"

using namespace tok_test;
using Catch::Matchers::Contains;

namespace {

using distilbert::testing::tiny_corpus_lines;

const SentencePieceTokenizer& unigram() {
  static const SentencePieceTokenizer tok = [] {
    TrainerOptions o;
    o.type = TokenizerType::unigram;
    o.vocab_size = 250;
    return train_sentencepiece(tiny_corpus_lines(), o);
  }();
  return tok;
}

const SentencePieceTokenizer& bpe_cased() {
  static const SentencePieceTokenizer tok = [] {
    TrainerOptions o;
    o.type = TokenizerType::bpe;
    o.vocab_size = 300;
    o.lowercase = false;
    return train_sentencepiece(tiny_corpus_lines(), o);
  }();
  return tok;
}

const std::string kSpace = "\xE2\x96\x81";

bool starts_with_space_mark(const std::string& piece) { return piece.compare(0, kSpace.size(), kSpace) == 0; }

/// Each piece's offsets cover the text it came from: the piece without its leading "▁" equals the covered
/// text without its leading spaces (ASCII text, case folded when the model lowercases).
void check_offsets(const Encoding& e, const std::string& text, bool lowercase) {
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (e.sequence_ids[i] != 0) continue;
    INFO("token " << i << " '" << e.tokens[i] << "' offsets " << e.offsets[i].begin << ".." << e.offsets[i].end);
    REQUIRE(e.offsets[i].begin <= e.offsets[i].end);
    REQUIRE(e.offsets[i].end <= text.size());
    std::string piece = e.tokens[i];
    if (starts_with_space_mark(piece)) piece.erase(0, kSpace.size());
    std::string covered = text.substr(e.offsets[i].begin, e.offsets[i].end - e.offsets[i].begin);
    covered.erase(0, covered.find_first_not_of(' ') == std::string::npos ? covered.size() : covered.find_first_not_of(' '));
    CHECK((lowercase ? distilbert::ascii_lower(covered) : covered) == piece);
  }
}

}  // namespace

TEST_CASE("sentencepiece: trained models hold [PAD] [UNK] [CLS] [SEP] [MASK] at ids 0..4", "[tokenizer][spm]") {
  for (const SentencePieceTokenizer* tok : {&unigram(), &bpe_cased()}) {
    const SpecialTokenIds s = tok->special_ids();
    CHECK(s.pad == 0);
    CHECK(s.unk == 1);
    CHECK(s.cls == 2);
    CHECK(s.sep == 3);
    CHECK(s.mask == 4);
    CHECK(tok->id_to_token(2) == "[CLS]");
    CHECK(tok->token_to_id("[MASK]") == 4);
    CHECK_FALSE(tok->token_to_id("no-such-piece-xyz").has_value());
    CHECK_FALSE(tok->id_to_token(-1).has_value());
    CHECK_FALSE(tok->id_to_token(static_cast<std::int64_t>(tok->vocab_size())).has_value());
  }
  CHECK(unigram().vocab_size() == 250);
  CHECK(unigram().model_type() == "unigram");
  CHECK(bpe_cased().vocab_size() == 300);
  CHECK(bpe_cased().model_type() == "bpe");
}

TEST_CASE("sentencepiece: encode applies the BERT template with byte offsets and word ids", "[tokenizer][spm]") {
  const auto& tok = unigram();
  const std::string text = "The Teacher learns words quickly.";
  const Encoding e = tok.encode(text);
  const auto pieces = tok.tokenize(text);
  REQUIRE(e.size() == pieces.size() + 2);
  CHECK(e.ids.front() == 2);
  CHECK(e.ids.back() == 3);
  CHECK(e.tokens.front() == "[CLS]");
  CHECK(e.tokens.back() == "[SEP]");
  CHECK(std::vector<std::string>(e.tokens.begin() + 1, e.tokens.end() - 1) == pieces);
  CHECK(e.special_tokens_mask.front() == 1);
  CHECK(e.special_tokens_mask.back() == 1);
  CHECK(e.type_ids == std::vector<std::int64_t>(e.size(), 0));
  CHECK(e.attention_mask == std::vector<std::int64_t>(e.size(), 1));
  CHECK(e.offsets.front() == Offset{0, 0});
  check_offsets(e, text, true);
  // Word ids: a new word at every piece that starts with "▁".
  std::int64_t words = 0;
  for (std::size_t i = 1; i + 1 < e.size(); ++i) {
    if (i > 1 && starts_with_space_mark(e.tokens[i])) ++words;
    CHECK(e.word_ids[i] == words);
  }
  CHECK(words == 4);  // five words: "the", "teacher", "learns", "words", "quickly." (the full stop has no "▁")
  CHECK(e.word_ids.front() == -1);
  for (std::int64_t id : e.ids) CHECK(tok.id_to_token(id).has_value());
}

TEST_CASE("sentencepiece: cased BPE offsets point at the original bytes, also for non-ASCII text", "[tokenizer][spm]") {
  const auto& tok = bpe_cased();
  const std::string text = "Students distil Knowledge, Rome!";
  check_offsets(tok.encode(text), text, false);

  const std::string accents = "café naïve résumé";  // é = 2 bytes
  const Encoding bytes = tok.encode(accents);
  EncodeOptions chars;
  chars.offsets = OffsetUnit::chars;
  const Encoding cps = tok.encode(accents, std::nullopt, chars);
  REQUIRE(bytes.size() == cps.size());
  CHECK(bytes.offsets[bytes.size() - 2].end == accents.size());
  CHECK(cps.offsets[cps.size() - 2].end == 17);  // code points
  const auto map = unicode::byte_to_char_index(accents);
  for (std::size_t i = 1; i + 1 < bytes.size(); ++i) {
    CHECK(cps.offsets[i].begin == map[bytes.offsets[i].begin]);
    CHECK(cps.offsets[i].end == map[bytes.offsets[i].end]);
  }
}

TEST_CASE("sentencepiece: pairs get type ids 0/1 and [SEP] after each text", "[tokenizer][spm]") {
  const auto& tok = unigram();
  const Encoding e = tok.encode("the student", std::string_view("the teacher"));
  const auto a = tok.tokenize("the student");
  const auto b = tok.tokenize("the teacher");
  REQUIRE(e.size() == a.size() + b.size() + 3);
  CHECK(e.tokens[a.size() + 1] == "[SEP]");
  CHECK(e.tokens.back() == "[SEP]");
  for (std::size_t i = 0; i < e.size(); ++i) {
    const bool second = i > a.size() + 1;
    CHECK(e.type_ids[i] == (second ? 1 : 0));
  }
  CHECK(e.sequence_ids[1] == 0);
  CHECK(e.sequence_ids[a.size() + 2] == 1);
  CHECK(e.sequence_ids[a.size() + 1] == -1);
  // model_input_names without token_type_ids (DistilBERT) turns them off; so does the option.
  EncodeOptions no_types;
  no_types.return_token_type_ids = false;
  CHECK(tok.encode("the student", std::string_view("x"), no_types).type_ids.empty());
  EncodeOptions no_specials;
  no_specials.add_special_tokens = false;
  CHECK(tok.encode("the student", std::nullopt, no_specials).tokens == a);
}

TEST_CASE("sentencepiece: truncation with stride, overflowing windows and padding", "[tokenizer][spm]") {
  const auto& tok = unigram();
  const std::string text = "the quick brown fox jumps over the lazy dog near the river bank again and again";
  const auto pieces = tok.tokenize(text);
  REQUIRE(pieces.size() > 12);
  EncodeOptions o;
  o.truncation = Truncation::longest_first;
  o.max_length = 8;
  o.stride = 2;
  o.return_overflowing_tokens = true;
  const Encoding e = tok.encode(text, std::nullopt, o);
  REQUIRE(e.size() == 8);
  CHECK(std::vector<std::string>(e.tokens.begin() + 1, e.tokens.end() - 1) ==
        std::vector<std::string>(pieces.begin(), pieces.begin() + 6));
  REQUIRE(!e.overflowing.empty());
  // Window k starts 4 pieces (6 - stride) after window k-1.
  for (std::size_t k = 0; k < e.overflowing.size(); ++k) {
    const Encoding& w = e.overflowing[k];
    CHECK(w.tokens.front() == "[CLS]");
    CHECK(w.tokens[1] == pieces[4 * (k + 1)]);
  }
  // Padding to max_length: [PAD] = 0, attention 0, special mask 1.
  EncodeOptions p;
  p.padding = Padding::max_length;
  p.max_length = 16;
  const Encoding padded = tok.encode("the dog", std::nullopt, p);
  REQUIRE(padded.size() == 16);
  CHECK(padded.ids.back() == 0);
  CHECK(padded.tokens.back() == "[PAD]");
  CHECK(padded.attention_mask.back() == 0);
  CHECK(padded.special_tokens_mask.back() == 1);
  // Pair truncation follows the Rust longest_first rule.
  EncodeOptions pair_trunc;
  pair_trunc.truncation = Truncation::longest_first;
  pair_trunc.max_length = 9;
  const Encoding pe = tok.encode(text, std::string_view("the dog"), pair_trunc);
  CHECK(pe.size() == 9);
}

TEST_CASE("sentencepiece: encode_batch equals encode whatever the thread count, padding longest", "[tokenizer][spm]") {
  const auto& tok = unigram();
  const auto lines = tiny_corpus_lines();
  std::vector<TextInput> inputs;
  for (std::size_t i = 0; i + 1 < lines.size(); i += 2) inputs.push_back({lines[i], std::string_view(lines[i + 1])});
  inputs.push_back({lines[0], std::nullopt});
  const auto one = tok.encode_batch(inputs, {}, 1);
  const auto four = tok.encode_batch(inputs, {}, 4);
  REQUIRE(one.size() == inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Encoding single = tok.encode(inputs[i].text, inputs[i].pair);
    CHECK(one[i].ids == single.ids);
    CHECK(four[i].ids == single.ids);
    CHECK(four[i].offsets == single.offsets);
  }
  EncodeOptions longest;
  longest.padding = Padding::longest;
  longest.pad_to_multiple_of = 8;
  const auto padded = tok.encode_batch(inputs, longest, 2);
  std::size_t max_len = 0;
  for (const auto& e : one) max_len = std::max(max_len, e.size());
  for (const auto& e : padded) {
    CHECK(e.size() == (max_len + 7) / 8 * 8);
    CHECK(e.type_ids.size() == e.size());
  }
}

TEST_CASE("sentencepiece: specials typed in the text, unknown characters, invalid UTF-8", "[tokenizer][spm]") {
  const auto& tok = unigram();
  EncodeOptions raw;
  raw.add_special_tokens = false;
  const Encoding e = tok.encode("the [MASK] sat", std::nullopt, raw);
  CHECK(std::count(e.ids.begin(), e.ids.end(), 4) == 1);
  // The mask is a word of its own.
  const auto it = std::find(e.ids.begin(), e.ids.end(), 4);
  const std::size_t k = static_cast<std::size_t>(it - e.ids.begin());
  REQUIRE(k + 1 < e.size());
  CHECK(e.word_ids[k + 1] == e.word_ids[k] + 1);
  CHECK(e.offsets[k] == Offset{4, 10});

  // Characters the model never saw become [UNK] (id 1).
  const Encoding unk = tok.encode("\xE4\xB8\xAD\xE6\x96\x87", std::nullopt, raw);  // 中文
  CHECK(std::find(unk.ids.begin(), unk.ids.end(), 1) != unk.ids.end());
  // Invalid UTF-8 never throws; offsets stay inside the input.
  const std::string bad = "ab\xFF\xFE cd";
  const Encoding b = tok.encode(bad);
  for (const Offset& o : b.offsets) CHECK(o.end <= bad.size());
  CHECK(tok.encode("").size() == 2);
}

TEST_CASE("sentencepiece: decode restores the (normalised) text, specials as in AlbertTokenizer", "[tokenizer][spm]") {
  const auto& tok = unigram();
  for (const std::string& line : tiny_corpus_lines()) {
    const Encoding e = tok.encode(line);
    const std::string back = tok.decode(e.ids, true);
    if (std::find(e.ids.begin(), e.ids.end(), 1) != e.ids.end()) continue;  // lines with [UNK]
    CHECK(back == distilbert::ascii_lower(line));
  }
  const Encoding e = tok.encode("the dog");
  CHECK(tok.decode(e.ids) == "[CLS] the dog[SEP]");
  CHECK(tok.decode(e.ids, true) == "the dog");
  CHECK(tok.decode({2, 4, 3}) == "[CLS][MASK][SEP]");
  CHECK(tok.decode({-5, 100000}).empty());  // unknown ids are skipped
  const SentencePieceTokenizer& cased = bpe_cased();
  CHECK(cased.decode(cased.encode("Hello World").ids, true) == "Hello World");
}

TEST_CASE("sentencepiece: save_pretrained -> load_tokenizer round trip", "[tokenizer][spm]") {
  const auto& tok = unigram();
  const fs::path dir = fs::temp_directory_path() / "distilbert_tok_tests" / "spm_saved";
  fs::remove_all(dir);
  tok.save_pretrained(dir);
  REQUIRE(fs::is_regular_file(dir / "spiece.model"));
  REQUIRE(fs::is_regular_file(dir / "tokenizer_config.json"));
  REQUIRE(fs::is_regular_file(dir / "special_tokens_map.json"));
  CHECK_FALSE(fs::exists(dir / "vocab.txt"));
  const auto cfg = nlohmann::json::parse(std::ifstream(dir / "tokenizer_config.json"));
  CHECK(cfg.at("sentencepiece_model") == "spiece.model");
  CHECK(cfg.at("tokenizer_class") == "AlbertTokenizer");
  CHECK(cfg.at("cls_token") == "[CLS]");
  CHECK(cfg.at("sentencepiece_model_type") == "unigram");
  CHECK(has_tokenizer(dir));

  const auto loaded = load_tokenizer(dir);
  REQUIRE(dynamic_cast<const SentencePieceTokenizer*>(loaded.get()) != nullptr);
  CHECK(loaded->fingerprint() == tok.fingerprint());
  CHECK(loaded->vocab_size() == tok.vocab_size());
  const std::string text = "Students distil the knowledge of a teacher.";
  CHECK(loaded->encode(text).ids == tok.encode(text).ids);
  CHECK(load_tokenizer(dir / "spiece.model")->encode(text).ids == tok.encode(text).ids);

  // model_input_names without token_type_ids (a DistilBERT model folder) is honoured.
  nlohmann::json c2 = cfg;
  c2["model_input_names"] = {"input_ids", "attention_mask"};
  std::ofstream(dir / "tokenizer_config.json") << c2.dump();
  CHECK(load_tokenizer(dir)->encode(text).type_ids.empty());
  fs::remove_all(dir);
}

TEST_CASE("sentencepiece: fingerprint depends on the model and the specials", "[tokenizer][spm]") {
  CHECK(unigram().fingerprint().size() == 16);
  CHECK(unigram().fingerprint() != bpe_cased().fingerprint());
  SentencePieceConfig c;
  c.mask_token = "[PAD]";  // a different special mapping changes the ids a pipeline uses
  const SentencePieceTokenizer other(unigram().model_bytes(), c);
  CHECK(other.special_ids().mask == 0);
  CHECK(other.fingerprint() != unigram().fingerprint());
  CHECK(SentencePieceTokenizer(unigram().model_bytes()).fingerprint() == unigram().fingerprint());
}

TEST_CASE("sentencepiece: clear errors for bad models and missing specials", "[tokenizer][spm]") {
  CHECK_THROWS_WITH(SentencePieceTokenizer("not a model", {}, "junk.model"), Contains("junk.model") && Contains("not a sentencepiece model"));
  SentencePieceConfig c;
  c.cls_token = "<s>";
  CHECK_THROWS_WITH(SentencePieceTokenizer(unigram().model_bytes(), c, "m.model"),
                    Contains("m.model") && Contains("cls_token '<s>'") && Contains("user_defined_symbols"));
  CHECK_THROWS_WITH(load_tokenizer(fs::path(DISTILBERT_SOURCE_DIR) / "tests/data/tokenizer/missing.model"),
                    Contains("missing.model"));
  // Without a pad piece, padding fails with a message naming it.
  SentencePieceConfig no_pad;
  no_pad.pad_token = "<pad-missing>";
  const SentencePieceTokenizer tok(unigram().model_bytes(), no_pad, "m.model");
  CHECK(tok.special_ids().pad == -1);
  EncodeOptions p;
  p.padding = Padding::max_length;
  p.max_length = 10;
  CHECK_THROWS_WITH(tok.encode("the", std::nullopt, p), Contains("pad piece '<pad-missing>'"));
}
