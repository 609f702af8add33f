// Loading (vocab.txt, tokenizer.json, tokenizer_config.json, folders), saving, and clear errors on bad files.
#include <nlohmann/json.hpp>

#include "distilbert/core/error.h"
#include "tok_test_util.h"
#include "support/scratch_files.h"

using namespace tok_test;
using json = nlohmann::json;
using Strings = std::vector<std::string>;

namespace {

fs::path io_dir(const std::string& name) { return distilbert::testing::fresh_dir("tok_tests", name); }

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

const std::vector<std::string>& sample_texts() {
  static const std::vector<std::string> texts = {
      "Hello, World! [MASK] h\xC3\xA9llo \xE7\x94\x9F\xE6\xB4\xBB",
      "it 's a charming and often affecting journey . ",
      "",
      "The quick brown fox jumps over the lazy dog; unaffable \xF0\x9F\x98\x80",
  };
  return texts;
}

void check_same_encodings(const BertTokenizer& a, const BertTokenizer& b) {
  for (const auto& t : sample_texts()) {
    INFO(t);
    const Encoding ea = a.encode(t, std::string_view("pair text"));
    const Encoding eb = b.encode(t, std::string_view("pair text"));
    CHECK(ea.ids == eb.ids);
    CHECK(ea.type_ids == eb.type_ids);
    CHECK(ea.offsets == eb.offsets);
  }
}

}  // namespace

TEST_CASE("shared bert-base-uncased: tokenizer.json and vocab.txt load the same tokenizer", "[tokenizer][io]") {
  if (!have_shared_uncased()) return;
  const BertTokenizer& j = uncased_json();
  const BertTokenizer& v = uncased_vocab();
  CHECK(j.vocab_size() == 30522);
  CHECK(j.unk_id() == 100);
  CHECK(j.cls_id() == 101);
  CHECK(j.sep_id() == 102);
  CHECK(j.pad_id() == 0);
  CHECK(j.mask_id() == 103);
  CHECK(j.num_special_tokens_to_add(false) == 2);
  CHECK(j.num_special_tokens_to_add(true) == 3);
  CHECK(j.config().model_max_length == 512);
  CHECK(j.added_tokens().size() == 5);
  check_same_encodings(j, v);
  const BertTokenizer dir = BertTokenizer::from_pretrained(shared_uncased_dir());
  check_same_encodings(j, dir);
  // Our tokenizer.json is the same JSON document as the published one.
  std::ifstream in(shared_uncased_dir() / "tokenizer.json");
  const json original = json::parse(in);
  CHECK(json::parse(j.to_tokenizer_json()) == original);
  CHECK(json::parse(v.to_tokenizer_json()) == original);
}

TEST_CASE("save_pretrained -> load round trip for both file forms", "[tokenizer][io]") {
  TokenizerConfig cfg;
  cfg.tokenizer_class = "DistilBertTokenizer";
  cfg.model_max_length = 128;
  cfg.normalizer.strip_accents = false;
  const BertTokenizer tok = have_shared_uncased()
                                ? BertTokenizer(uncased_json().vocab(), cfg)
                                : small_tokenizer(cfg);
  const fs::path dir = io_dir("saved");
  tok.save_pretrained(dir);
  for (const char* f : {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    CHECK(fs::is_regular_file(dir / f));
  }
  const json cfg_json = read_json(dir / "tokenizer_config.json");
  CHECK(cfg_json.at("tokenizer_class") == "DistilBertTokenizer");
  CHECK(cfg_json.at("do_lower_case") == true);
  CHECK(cfg_json.at("strip_accents") == false);
  CHECK(cfg_json.at("model_max_length") == 128);
  CHECK(cfg_json.at("cls_token") == "[CLS]");
  const json specials = read_json(dir / "special_tokens_map.json");
  CHECK(specials == json{{"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"},
                         {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}});
  const json tj = read_json(dir / "tokenizer.json");
  CHECK(tj.at("model").at("type") == "WordPiece");
  CHECK(tj.at("normalizer").at("strip_accents") == false);
  CHECK(tj.at("post_processor").at("type") == "TemplateProcessing");

  const BertTokenizer from_json = BertTokenizer::from_pretrained(dir);
  const BertTokenizer from_vocab = BertTokenizer::from_vocab_file(dir / "vocab.txt", dir / "tokenizer_config.json");
  for (const BertTokenizer* t : {&from_json, &from_vocab}) {
    CHECK(t->config().tokenizer_class == "DistilBertTokenizer");
    CHECK(t->config().model_max_length == 128);
    CHECK(t->config().normalizer.strip_accents == std::optional<bool>(false));
    CHECK_FALSE(t->config().returns_token_type_ids());
    CHECK(t->vocab().tokens() == tok.vocab().tokens());
    check_same_encodings(tok, *t);
  }
  // Accents are kept (strip_accents=false) after the round trip.
  CHECK(from_json.tokenize("caf\xC3\xA9") == tok.tokenize("caf\xC3\xA9"));
  CHECK(from_json.to_tokenizer_json() == tok.to_tokenizer_json());

  // The shared tokenizer saved as is (scripts/tokenizer/make_cases.mjs --check-saved loads both folders
  // with HF tokenizers and transformers.js).
  if (have_shared_uncased()) {
    const fs::path plain = io_dir("saved_default");
    uncased_json().save_pretrained(plain);
    check_same_encodings(uncased_json(), BertTokenizer::from_pretrained(plain));
  }

  // A folder with only vocab.txt (+ config) loads through from_pretrained too.
  const fs::path only_vocab = io_dir("only_vocab");
  fs::copy_file(dir / "vocab.txt", only_vocab / "vocab.txt");
  fs::copy_file(dir / "tokenizer_config.json", only_vocab / "tokenizer_config.json");
  check_same_encodings(tok, BertTokenizer::from_pretrained(only_vocab));
}

TEST_CASE("tokenizer_config.json options are applied to vocab.txt", "[tokenizer][io]") {
  const fs::path dir = io_dir("config_opts");
  std::ofstream(dir / "vocab.txt") << small_vocab_text() << "Hello\n##llo\nH\n";
  std::ofstream(dir / "tokenizer_config.json")
      << R"({"do_lower_case": false, "tokenize_chinese_chars": false, "model_max_length": 1e30,
             "tokenizer_class": "BertTokenizerFast", "clean_up_tokenization_spaces": false,
             "unk_token": {"content": "[UNK]", "__type": "AddedToken"}})";
  const BertTokenizer tok = BertTokenizer::from_pretrained(dir);
  CHECK_FALSE(tok.config().normalizer.lowercase);
  CHECK_FALSE(tok.config().normalizer.handle_chinese_chars);
  CHECK(tok.config().model_max_length == std::numeric_limits<std::size_t>::max());
  CHECK(tok.config().tokenizer_class == "BertTokenizer");
  CHECK_FALSE(tok.config().clean_up_tokenization_spaces);
  CHECK(tok.tokenize("Hello hello") == Strings{"Hello", "hello"});
  CHECK(tok.tokenize("\xE4\xB8\xAD\xE6\x96\x87") == Strings{"[UNK]"});  // 中文 stays one word
}

TEST_CASE("bad tokenizer files give clear errors", "[tokenizer][io]") {
  const fs::path dir = io_dir("bad");
  // vocab.txt problems
  CHECK_THROWS_WITH(BertTokenizer::from_vocab_file(dir / "nope.txt"), Catch::Contains("nope.txt") && Catch::Contains("cannot open"));
  std::ofstream(dir / "no_unk.txt") << "[PAD]\n[CLS]\n[SEP]\nhello\n";
  CHECK_THROWS_WITH(BertTokenizer::from_vocab_file(dir / "no_unk.txt"),
                    Catch::Contains("no_unk.txt") && Catch::Contains("'[UNK]' is missing"));
  std::ofstream(dir / "no_cls.txt") << "[PAD]\n[UNK]\n[SEP]\nhello\n";
  CHECK_THROWS_WITH(BertTokenizer::from_vocab_file(dir / "no_cls.txt"), Catch::Contains("'[CLS]' is missing"));
  std::ofstream(dir / "dup.txt") << "[UNK]\n[CLS]\n[SEP]\nhello\nhello\n";
  CHECK_THROWS_WITH(BertTokenizer::from_vocab_file(dir / "dup.txt"),
                    Catch::Contains("dup.txt") && Catch::Contains("duplicate token 'hello' at id 4"));

  // tokenizer.json problems
  auto from_json = [](const std::string& text) { return BertTokenizer::from_tokenizer_json_string(text, "t.json"); };
  CHECK_THROWS_WITH(from_json("{not json"), Catch::Contains("t.json") && Catch::Contains("invalid JSON"));
  CHECK_THROWS_WITH(from_json("[]"), Catch::Contains("top level"));
  CHECK_THROWS_WITH(from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0}}})"),
                    Catch::Contains("unsupported model type 'BPE'") && Catch::Contains("model.type"));
  const std::string vocab = R"("vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "a": 3})";
  const std::string pre = R"("pre_tokenizer": {"type": "BertPreTokenizer"})";
  CHECK_THROWS_WITH(from_json(R"({"model": {"type": "WordPiece", "unk_token": "[X]", )" + vocab + "}, " + pre + "}"),
                    Catch::Contains("model.unk_token '[X]'"));
  CHECK_THROWS_WITH(from_json(R"({"model": {"type": "WordPiece", "vocab": {"a": 0, "b": 0}}})"),
                    Catch::Contains("id 0 is used by both"));
  CHECK_THROWS_WITH(from_json(R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "b": 5}}})"),
                    Catch::Contains("model.vocab['b'] = 5"));
  CHECK_THROWS_WITH(from_json(R"({"model": {"type": "WordPiece", )" + vocab + R"(}, "normalizer": {"type": "NFKC"}, )" + pre + "}"),
                    Catch::Contains("unsupported normalizer type 'NFKC'"));
  CHECK_THROWS_WITH(from_json(R"({"model": {"type": "WordPiece", )" + vocab + R"(}, "pre_tokenizer": {"type": "Whitespace"}})"),
                    Catch::Contains("unsupported pre_tokenizer type 'Whitespace'"));
  CHECK_THROWS_WITH(from_json(R"({"model": {"type": "WordPiece", )" + vocab + "}, " + pre +
                              R"(, "normalizer": {"type": "BertNormalizer", "lowercase": "yes"}})"),
                    Catch::Contains("normalizer.lowercase must be true or false"));

  // Minimal valid file: null normalizer / post_processor / decoder.
  const BertTokenizer minimal = from_json(R"({"model": {"type": "WordPiece", )" + vocab + "}, " + pre +
                                          R"(, "normalizer": null, "post_processor": null, "decoder": null})");
  const Encoding e = minimal.encode("a A", std::string_view("a"));
  CHECK(e.tokens == Strings{"a", "[UNK]", "a"});  // no lowercasing, no special tokens
  CHECK(e.type_ids == std::vector<std::int64_t>{0, 0, 1});
  CHECK(minimal.decode({3, 3}) == "a a");

  // Folder without tokenizer files.
  CHECK_THROWS_WITH(BertTokenizer::from_pretrained(dir / "empty_sub"), Catch::Contains("not a directory"));
  fs::create_directories(dir / "empty_sub");
  CHECK_THROWS_WITH(BertTokenizer::from_pretrained(dir / "empty_sub"), Catch::Contains("neither tokenizer.json nor vocab.txt"));
  // Bad tokenizer_config.json
  std::ofstream(dir / "vocab.txt") << small_vocab_text();
  std::ofstream(dir / "tokenizer_config.json") << R"({"tokenizer_class": "GPT2Tokenizer"})";
  CHECK_THROWS_WITH(BertTokenizer::from_pretrained(dir), Catch::Contains("tokenizer_config.json") &&
                                                             Catch::Contains("unsupported tokenizer_class 'GPT2Tokenizer'"));
  std::ofstream(dir / "tokenizer_config.json") << R"({"do_lower_case": 1})";
  CHECK_THROWS_WITH(BertTokenizer::from_pretrained(dir), Catch::Contains("do_lower_case must be true or false"));
}
