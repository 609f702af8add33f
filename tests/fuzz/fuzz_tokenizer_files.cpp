// Fuzz target: the tokenizer file readers. Byte 0 picks the reader: tokenizer.json text
// (BertTokenizer::from_tokenizer_json_string), a vocab.txt file (BertTokenizer::from_vocab_file), a vocab.txt plus
// a tokenizer_config.json (split at the first NUL byte), or a protobuf message through the wire walker the
// SentencePiece reader uses. A tokenizer that loads must encode and decode a fixed text, and its saved
// tokenizer.json must load again with the same fingerprint.
#include <string>
#include <string_view>

#include "distilbert/tokenizer/bert_tokenizer.h"
#include "distilbert/tokenizer/protobuf_wire.h"
#include "fuzz_target.h"

namespace {

void exercise(const distilbert::tokenizer::BertTokenizer& tok) {
  using namespace distilbert;
  const auto e = tok.encode("Hello, world! straße 日本 unaffable", std::string_view("a pair"));
  for (auto id : e.ids)
    fuzz::require(id >= 0 && static_cast<std::size_t>(id) < tok.vocab_size() + 1024, "encoded id plausible");
  (void)tok.decode(e.ids, true);
  const std::string saved = tok.to_tokenizer_json();
  std::string fp;
  try {
    fp = tokenizer::BertTokenizer::from_tokenizer_json_string(saved, "saved tokenizer.json").fingerprint();
  } catch (const std::exception& ex) {
    fuzz::report(std::string("a loaded tokenizer's own tokenizer.json does not load: ") + ex.what());
  }
  fuzz::require(fp == tok.fingerprint(), "saved tokenizer.json keeps the fingerprint");
}

}  // namespace

DISTILBERT_FUZZ_TARGET(tokenizer_files) {
  using namespace distilbert;
  if (size == 0) return 0;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      fuzz::guarded("from_tokenizer_json_string", [&] {
        exercise(tokenizer::BertTokenizer::from_tokenizer_json_string(body, "fuzz/tokenizer.json"));
      });
      break;
    case 1: {
      const std::string path = fuzz::scratch_dir() + "/vocab.txt";
      fuzz::write_bytes(path, body.data(), body.size());
      fuzz::guarded("from_vocab_file", [&] { exercise(tokenizer::BertTokenizer::from_vocab_file(path)); });
      break;
    }
    case 2: {
      const auto nul = body.find('\0');
      const std::string vocab = body.substr(0, nul), config = nul == std::string::npos ? "" : body.substr(nul + 1);
      const std::string vpath = fuzz::scratch_dir() + "/vocab.txt", cpath = fuzz::scratch_dir() + "/tokenizer_config.json";
      fuzz::write_bytes(vpath, vocab.data(), vocab.size());
      fuzz::write_bytes(cpath, config.data(), config.size());
      fuzz::guarded("from_vocab_file+config", [&] { exercise(tokenizer::BertTokenizer::from_vocab_file(vpath, cpath)); });
      break;
    }
    default: {
      std::size_t total = 0;
      const bool ok = tokenizer::protobuf_wire::for_each_field(body, [&](const tokenizer::protobuf_wire::Field& f) {
        fuzz::require(f.raw.data() >= body.data() && f.raw.data() + f.raw.size() <= body.data() + body.size(),
                      "field inside the message");
        total += f.raw.size();
      });
      fuzz::require(!ok || total == body.size(), "a well-formed message is covered by its fields");
      break;
    }
  }
  return 0;
}
