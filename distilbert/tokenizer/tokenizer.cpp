// Tokenizer loading and fingerprints; see tokenizer.h.
#include "distilbert/tokenizer/tokenizer.h"

#include <cstdio>

#include "distilbert/core/error.h"
#include "distilbert/tokenizer/bert_tokenizer.h"
#include "distilbert/tokenizer/sentencepiece_tokenizer.h"

namespace distilbert::tokenizer {

namespace fs = std::filesystem;

std::string fnv1a_hex(std::string_view data) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

bool has_tokenizer(const fs::path& dir) {
  return fs::exists(dir / "tokenizer.json") || fs::exists(dir / "vocab.txt") || fs::exists(dir / "spiece.model");
}

std::shared_ptr<Tokenizer> load_tokenizer(const fs::path& path) {
  if (fs::is_directory(path)) {
    if (fs::exists(path / "tokenizer.json") || fs::exists(path / "vocab.txt")) {
      return std::make_shared<BertTokenizer>(BertTokenizer::from_pretrained(path));
    }
    DISTILBERT_CHECK(SentencePieceTokenizer::find_model_file(path).has_value(), "folder '", path.string(),
                     "' has no tokenizer (expected tokenizer.json, vocab.txt or spiece.model)");
    return std::make_shared<SentencePieceTokenizer>(SentencePieceTokenizer::from_pretrained(path));
  }
  DISTILBERT_CHECK(fs::exists(path), "tokenizer '", path.string(), "' does not exist");
  const std::string name = path.filename().string();
  if (path.extension() == ".json") return std::make_shared<BertTokenizer>(BertTokenizer::from_tokenizer_json(path));
  if (path.extension() == ".txt") return std::make_shared<BertTokenizer>(BertTokenizer::from_vocab_file(path));
  if (path.extension() == ".model") {
    return std::make_shared<SentencePieceTokenizer>(SentencePieceTokenizer::from_file(path));
  }
  fail("tokenizer '", path.string(), "': expected a folder, a tokenizer.json, a vocab.txt or a sentencepiece .model, "
       "found '", name, "'");
}

SpecialTokenIds BertTokenizer::special_ids() const {
  SpecialTokenIds s;
  s.unk = unk_id();
  s.pad = pad_id().value_or(-1);
  s.cls = cls_id().value_or(-1);
  s.sep = sep_id().value_or(-1);
  s.mask = mask_id().value_or(-1);
  return s;
}

std::string BertTokenizer::fingerprint() const {
  // tokenizer.json holds the vocabulary, normaliser, specials and template; the flavour changes ids too.
  return fnv1a_hex(to_tokenizer_json(false) + (config_.flavor == Flavor::slow ? "|slow" : "|fast"));
}

}  // namespace distilbert::tokenizer
