// decode(): WordPiece decoder, clean-up rules, special tokens, slow flavour.
#include "tok_test_util.h"

using namespace tok_test;
using Ids = std::vector<std::int64_t>;

TEST_CASE("decode: ## merging, per-token and whole-string clean-up", "[tokenizer][decode]") {
  const BertTokenizer tok = small_tokenizer();
  // [CLS] the quick brown fox jump ##ed ! [SEP]
  const Ids ids = {2, 5, 6, 7, 8, 31, 32, 15, 3};
  CHECK(tok.decode(ids) == "[CLS] the quick brown fox jumped! [SEP]");
  CHECK(tok.decode(ids, true) == "the quick brown fox jumped!");
  // "un ##aff ##able , a ' s" : per-token clean-up removes " ," ; " ' " needs the whole-string pass.
  const Ids apos = {9, 10, 11, 16, 22, 18, 19};
  CHECK(tok.decode(apos, false, false) == "unaffable, a ' s");
  CHECK(tok.decode(apos, false, true) == "unaffable, a's");
  // A leading continuation piece keeps its ##, like HF.
  CHECK(tok.decode(Ids{10, 11}) == "##affable");
  // Unknown ids are skipped.
  CHECK(tok.decode(Ids{5, 999999, -3, 6}) == "the quick");
  CHECK(tok.decode(Ids{}).empty());
  CHECK(clean_up_tokenization("a . b , c ' d don 't I 'm it 's we 've they 're can n't") ==
        "a. b, c'd don 't I'm it's we've they're cann't");

  TokenizerConfig no_cleanup;
  no_cleanup.decoder_cleanup = false;
  CHECK(small_tokenizer(no_cleanup).decode(ids, false, false) == "[CLS] the quick brown fox jumped ! [SEP]");
}

TEST_CASE("decode: slow flavour follows the Python BertTokenizer", "[tokenizer][decode]") {
  TokenizerConfig cfg;
  cfg.flavor = Flavor::slow;
  const BertTokenizer tok = small_tokenizer(cfg);
  CHECK(tok.decode(Ids{2, 5, 6, 31, 32, 15, 3}, false, false) == "[CLS] the quick jumped ! [SEP]");
  CHECK(tok.decode(Ids{2, 5, 6, 31, 32, 15, 3}, true, true) == "the quick jumped!");
  CHECK(tok.decode(Ids{2, 10, 11, 3}, false, false) == "[CLS] ##affable [SEP]");
}

TEST_CASE("decode round trip on real text", "[tokenizer][decode]") {
  if (!have_shared_uncased()) return;
  const BertTokenizer& tok = uncased_json();
  const std::string text = "Hello, World! It's a test of the tokenizer's decode() function.";
  const Encoding e = tok.encode(text);
  CHECK(tok.decode(e.ids, true) == "hello, world! it's a test of the tokenizer's decode ( ) function.");
  CHECK(tok.decode(e.ids, true, false) == "hello, world! it ' s a test of the tokenizer ' s decode ( ) function.");
}
