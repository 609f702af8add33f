// Unigram / BPE vocabulary training with the sentencepiece C++ trainer; see trainer.h.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <unordered_map>

#include "distilbert/core/error.h"
#include "distilbert/tokenizer/protobuf_wire.h"
#include "distilbert/tokenizer/sentencepiece_runtime.h"
#include "distilbert/tokenizer/trainer.h"

namespace distilbert::tokenizer {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

/// sentencepiece's thread count: fixed, so that unigram training (whose E-step sums per-thread partial
/// results) gives the same model on every machine.
constexpr int kSentencePieceThreads = 8;
/// Lines longer than this (bytes) are left out (sentencepiece would skip them with a log line).
constexpr std::size_t kMaxSentenceBytes = 1u << 16;

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n\v\f") == std::string_view::npos;
}

// ---- removing the temporary input path from the model (so that the same text gives the same bytes) ---------

/// The protobuf message `msg` with `fn(field, payload, replaced, replace)` deciding per field: return false to drop
/// the field, or set `replace` and fill `replaced` (length-delimited fields only). False if `msg` is malformed.
template <typename Fn>
bool rewrite_message(std::string_view msg, std::string& out, Fn&& fn) {
  return protobuf_wire::for_each_field(msg, [&](const protobuf_wire::Field& f) {
    std::string replaced;
    bool replace = false;
    if (!fn(f, replaced, replace)) return;
    if (!replace) {
      out.append(f.raw);
    } else {
      protobuf_wire::write_varint((f.number << 3) | static_cast<std::uint64_t>(f.wire), out);
      protobuf_wire::write_varint(replaced.size(), out);
      out += replaced;
    }
  });
}

/// ModelProto.trainer_spec (field 2) without its `input` (field 1, the temporary file's path).
std::string drop_trainer_input(const std::string& model) {
  std::string out;
  bool inner_ok = true;
  const bool ok = rewrite_message(model, out, [&](const protobuf_wire::Field& f, std::string& replaced, bool& replace) {
    if (f.number != 2 || f.wire != 2) return true;
    replace = true;
    inner_ok = rewrite_message(f.bytes, replaced, [](const protobuf_wire::Field& g, std::string&, bool&) {
      return !(g.number == 1 && g.wire == 2);
    });
    return true;
  });
  DISTILBERT_CHECK(ok && inner_ok, "train-tokenizer: sentencepiece returned a malformed model");
  return out;
}

/// Writes the non-blank lines of texts or files (without "\r"; lines over kMaxSentenceBytes left out) to
/// the temporary file sentencepiece trains on, counting them.
class LineWriter {
 public:
  explicit LineWriter(std::function<void(const std::string&)> log) : log_(std::move(log)) {
    std::string pattern = (fs::temp_directory_path() / "distilbert-spm-XXXXXX").string();
    DISTILBERT_CHECK(pattern.find(',') == std::string::npos, "train-tokenizer: the temporary folder '",
                     fs::temp_directory_path().string(),
                     "' has a comma in its path, which sentencepiece cannot take (set TMPDIR)");
    const int fd = ::mkstemp(pattern.data());
    DISTILBERT_CHECK(fd >= 0, "train-tokenizer: cannot create a temporary file in ",
                     fs::temp_directory_path().string());
    ::close(fd);
    path_ = pattern;
    out_.open(path_, std::ios::binary | std::ios::trunc);
    DISTILBERT_CHECK(out_.good(), "train-tokenizer: cannot write the temporary file ", path_.string());
    last_log_ = Clock::now();
  }
  ~LineWriter() {
    std::error_code ec;
    fs::remove(path_, ec);
  }

  void add_text(std::string_view text) {
    std::size_t pos = 0;
    while (pos <= text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      add_line(text.substr(pos, end - pos));
      pos = end + 1;
    }
  }

  void add_files(const std::vector<fs::path>& files) {
    std::uint64_t total = 0, done = 0;
    for (const fs::path& f : files) {
      DISTILBERT_CHECK(fs::is_regular_file(f), "training input ", f.string(), ": not found (or not a regular file)");
      total += fs::file_size(f);
    }
    std::string line;
    for (const fs::path& f : files) {
      std::ifstream in(f, std::ios::binary);
      DISTILBERT_CHECK(in.good(), "training input ", f.string(), ": cannot open it");
      while (std::getline(in, line)) {
        done += line.size() + 1;
        add_line(line);
        if (log_ && (lines_ & 1023) == 0 && std::chrono::duration<double>(Clock::now() - last_log_).count() >= 1.0) {
          char buf[96];
          std::snprintf(buf, sizeof(buf), "reading lines: %.1f MB / %.1f MB", done / 1e6, total / 1e6);
          log_(buf);
          last_log_ = Clock::now();
        }
      }
      DISTILBERT_CHECK(!in.bad(), "training input ", f.string(), ": read error");
    }
  }

  /// Close the file; its path.
  const fs::path& finish() {
    out_.close();
    DISTILBERT_CHECK(out_.good(), "train-tokenizer: error while writing the temporary file ", path_.string());
    return path_;
  }

  std::size_t lines() const { return lines_; }
  std::size_t long_lines() const { return long_lines_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  void add_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (is_blank(line)) return;
    if (line.size() > kMaxSentenceBytes) {
      ++long_lines_;
      return;
    }
    ++lines_;
    bytes_ += line.size();
    out_.write(line.data(), static_cast<std::streamsize>(line.size()));
    out_.put('\n');
  }

  std::function<void(const std::string&)> log_;
  fs::path path_;
  std::ofstream out_;
  std::size_t lines_ = 0, long_lines_ = 0;
  std::uint64_t bytes_ = 0;
  Clock::time_point last_log_;
};

SentencePieceTokenizer train(LineWriter& lines, const TrainerOptions& options) {
  DISTILBERT_CHECK(options.type == TokenizerType::unigram || options.type == TokenizerType::bpe,
                   "train_sentencepiece: type must be unigram or bpe, found ", tokenizer_type_name(options.type));
  DISTILBERT_CHECK(options.vocab_size > options.special_tokens.size(), "train-tokenizer: vocab size ",
                   options.vocab_size, " leaves no room beside the ", options.special_tokens.size(), " special tokens");
  DISTILBERT_CHECK(lines.lines() > 0, "train-tokenizer: the input has no non-blank lines to train on");
  const auto& specials = options.special_tokens;
  for (const char* required : {"[UNK]", "[CLS]", "[SEP]"}) {
    DISTILBERT_CHECK(std::find(specials.begin(), specials.end(), required) != specials.end(),
                     "train-tokenizer: the special tokens must include ", required);
  }
  std::string user_defined;
  std::size_t unk_index = 0;
  for (std::size_t i = 0; i < specials.size(); ++i) {
    DISTILBERT_CHECK(specials[i].find(',') == std::string::npos && !specials[i].empty(),
                     "train-tokenizer: special token '", specials[i],
                     "' cannot be passed to sentencepiece (empty or contains a comma)");
    if (specials[i] == "[UNK]") {
      unk_index = i;
      continue;
    }
    if (!user_defined.empty()) user_defined += ',';
    user_defined += specials[i];
  }
  // [UNK] is the model's unknown piece at its index; the other specials are user-defined symbols, which
  // sentencepiece places at the free ids from 0 in the order given: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4.
  const fs::path& input = lines.finish();
  const std::unordered_map<std::string, std::string> args = {
      {"input", input.string()},
      {"model_type", tokenizer_type_name(options.type)},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"normalization_rule_name", options.lowercase ? "nmt_nfkc_cf" : "nmt_nfkc"},
      {"unk_id", std::to_string(unk_index)},
      {"unk_piece", "[UNK]"},
      {"bos_id", "-1"},
      {"eos_id", "-1"},
      {"pad_id", "-1"},
      {"user_defined_symbols", user_defined},
      {"hard_vocab_limit", "false"},
      {"max_sentence_length", std::to_string(kMaxSentenceBytes)},
      {"input_sentence_size", "0"},
      {"num_threads", std::to_string(kSentencePieceThreads)},
      {"minloglevel", options.verbose ? "0" : "1"},
  };
  const auto t0 = Clock::now();
  if (options.log) {
    char buf[200];
    std::snprintf(buf, sizeof(buf), "training a %s model with sentencepiece on %zu lines (%.1f MB)%s",
                  tokenizer_type_name(options.type).c_str(), lines.lines(), lines.bytes() / 1e6,
                  options.verbose || lines.bytes() < 1000000 ? "" : "; about 20-30 s per 10 MB, --verbose shows its log");
    options.log(buf);
  }
  std::string proto = drop_trainer_input(spm::train(args));
  SentencePieceConfig config;
  config.model_max_length = options.model_max_length;
  SentencePieceTokenizer tok(std::move(proto), config, "trained sentencepiece model");
  if (options.log) {
    char buf[256];
    std::snprintf(buf, sizeof(buf), "%s: %zu lines (%.1f MB) -> vocabulary of %zu in %.2f s",
                  tokenizer_type_name(options.type).c_str(), lines.lines(), lines.bytes() / 1e6, tok.vocab_size(),
                  std::chrono::duration<double>(Clock::now() - t0).count());
    options.log(buf);
    if (lines.long_lines()) {
      options.log("warning: " + std::to_string(lines.long_lines()) + " lines longer than " +
                  std::to_string(kMaxSentenceBytes) + " bytes were left out");
    }
    if (tok.vocab_size() < options.vocab_size) {
      options.log("warning: the vocabulary has " + std::to_string(tok.vocab_size()) + " pieces, fewer than the " +
                  std::to_string(options.vocab_size) + " asked for (the text is too small for more)");
    }
  }
  return tok;
}

}  // namespace

SentencePieceTokenizer train_sentencepiece(const std::vector<std::string>& texts, const TrainerOptions& options) {
  LineWriter lines(options.log);
  for (const std::string& t : texts) lines.add_text(t);
  return train(lines, options);
}

SentencePieceTokenizer train_sentencepiece_files(const std::vector<fs::path>& files, const TrainerOptions& options) {
  DISTILBERT_CHECK(!files.empty(), "train-tokenizer: no input files");
  LineWriter lines(options.log);
  lines.add_files(files);
  return train(lines, options);
}

}  // namespace distilbert::tokenizer
