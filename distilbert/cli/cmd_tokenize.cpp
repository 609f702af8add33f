// `distilbert tokenize`: encode a file of texts with a tokenizer folder/file and write one JSON line per input:
//   {"line": L, "ids": [...], "tokens": [...], "offsets": [[b, e], ...], "type_ids": [...]}
// `line` is the 1-based line of the input where the text starts; type_ids only when the tokenizer returns them
// (BertTokenizer yes, DistilBertTokenizer no). Offsets are byte offsets into the text of the token's own
// sequence (code points with --char-offsets); specials have [0, 0].
// Inputs: plain text (one text per line; blank lines skipped), TSV / CSV with a header row (columns by name,
// --text-column / --pair-column) or JSONL (fields by name), chosen from the extension or --format.
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "distilbert/cli/commands.h"
#include "distilbert/core/error.h"
#include "distilbert/core/runtime.h"
#include "distilbert/core/text.h"
#include "distilbert/tasks/user_data.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/tokenizer/unicode.h"

namespace distilbert::cli {

namespace {

struct Input {
  std::string text;
  std::optional<std::string> pair;
  std::size_t line;
};

/// "text", "tsv", "csv" or "jsonl" for --format auto.
std::string detect(const std::string& path) {
  const std::string p = ascii_lower(path);
  if (ends_with(p, ".tsv") || ends_with(p, ".tab")) return "tsv";
  if (ends_with(p, ".csv")) return "csv";
  if (ends_with(p, ".jsonl") || ends_with(p, ".json") || ends_with(p, ".ndjson")) return "jsonl";
  return "text";
}

std::vector<Input> read_plain_text(const std::string& path, std::size_t& blank) {
  std::ifstream in(path, std::ios::binary);
  DISTILBERT_CHECK(in.good(), "input '", path, "': cannot open it");
  std::vector<Input> out;
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (n == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // byte-order mark
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t\v\f") == std::string::npos) {
      ++blank;
      continue;
    }
    out.push_back({line, std::nullopt, n});
  }
  DISTILBERT_CHECK(!in.bad(), "input '", path, "': read error");
  return out;
}

std::vector<Input> read_table(const std::string& path, const std::string& format, const std::string& text_column,
                              const std::optional<std::string>& pair_column, std::size_t& skipped,
                              std::vector<std::string>& messages) {
  tasks::UserDataOptions u;
  u.format = format == "tsv" ? tasks::DataFormat::Tsv : format == "csv" ? tasks::DataFormat::Csv : tasks::DataFormat::Jsonl;
  u.text_column = text_column;
  u.text_pair_column = pair_column;
  u.label_column = std::nullopt;
  u.read.policy = tasks::BadRowPolicy::Skip;  // empty texts etc. are reported, not fatal (outputs carry "line")
  u.read.max_messages = 5;
  tasks::ReadResult r = tasks::read_user_data(path, u);
  skipped = r.skipped;
  messages = std::move(r.messages);
  std::vector<Input> out;
  out.reserve(r.examples.size());
  for (tasks::Example& e : r.examples) out.push_back({std::move(e.text_a), std::move(e.text_b), e.line});
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  std::string fixed;
  if (!tokenizer::unicode::is_valid_utf8(s)) {
    fixed = tokenizer::unicode::sanitize_utf8(s);
    s = fixed;
  }
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void append_json(std::string& out, std::size_t line, const tokenizer::Encoding& e) {
  out += "{\"line\": ";
  out += std::to_string(line);
  out += ", \"ids\": [";
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(e.ids[i]);
  }
  out += "], \"tokens\": [";
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (i) out += ", ";
    append_json_string(out, e.tokens[i]);
  }
  out += "], \"offsets\": [";
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (i) out += ", ";
    out += '[';
    out += std::to_string(e.offsets[i].begin);
    out += ", ";
    out += std::to_string(e.offsets[i].end);
    out += ']';
  }
  out += ']';
  if (!e.type_ids.empty()) {
    out += ", \"type_ids\": [";
    for (std::size_t i = 0; i < e.type_ids.size(); ++i) {
      if (i) out += ", ";
      out += std::to_string(e.type_ids[i]);
    }
    out += ']';
  }
  out += "}\n";
}

Command add_tokenize_command(CLI::App& app) {
  struct Opts {
    std::string tokenizer, input, output, format = "auto", text_column = "text";
    std::optional<std::string> pair_column;
    std::size_t max_length = 0;
    int threads = 0;
    bool char_offsets = false, no_special = false, quiet = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("tokenize", "Encode texts with a tokenizer and write one JSON line per input "
                                             "(ids, tokens, offsets, type_ids)");
  cmd->add_option("--tokenizer", o->tokenizer,
                  "Tokenizer folder (tokenizer.json / vocab.txt / spiece.model) or file (.json, .txt, .model)")
      ->required();
  cmd->add_option("--input", o->input, "Plain text (one text per line), .tsv / .csv with a header row, or .jsonl")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--format", o->format, "auto (from the extension), text, tsv, csv or jsonl")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "text", "tsv", "csv", "jsonl"}));
  cmd->add_option("--text-column", o->text_column, "TSV/CSV column or JSONL field with the text")->capture_default_str();
  cmd->add_option("--pair-column", o->pair_column, "TSV/CSV column or JSONL field with the second text of a pair");
  cmd->add_option("--max-length", o->max_length,
                  "Truncate (longest_first) to this many tokens, specials included (default: no truncation)");
  cmd->add_option("--output", o->output, "Write the JSON lines here (default: stdout)");
  cmd->add_option("--threads", o->threads, "Encoding threads (0: all CPUs)")->capture_default_str();
  cmd->add_flag("--char-offsets", o->char_offsets, "Offsets in code points instead of bytes");
  cmd->add_flag("--no-special-tokens", o->no_special, "Do not add [CLS] / [SEP]");
  cmd->add_flag("--quiet", o->quiet, "No summary on stderr");
  return {cmd, [o] {
            namespace tk = tokenizer;
            const auto t0 = std::chrono::steady_clock::now();
            const auto tok = tk::load_tokenizer(o->tokenizer);
            const std::string format = o->format == "auto" ? detect(o->input) : o->format;
            std::vector<Input> inputs;
            std::size_t skipped = 0;
            std::vector<std::string> messages;
            if (format == "text") {
              DISTILBERT_CHECK(!o->pair_column, "--pair-column needs a TSV, CSV or JSONL input with named columns; '",
                               o->input, "' is read as plain text (one text per line; use --format to override)");
              inputs = read_plain_text(o->input, skipped);
            } else {
              inputs = read_table(o->input, format, o->text_column, o->pair_column, skipped, messages);
            }
            if (skipped && !o->quiet) {
              std::cerr << "[tokenize] warning: skipped " << skipped
                        << (format == "text" ? " blank line(s)" : " row(s) without text") << "\n";
              for (const auto& m : messages) std::cerr << "[tokenize]   " << m << "\n";
            }
            DISTILBERT_CHECK(!inputs.empty(), "input '", o->input, "' holds no texts",
                             messages.empty() ? std::string() : " (" + messages.front() + ")");

            tk::EncodeOptions eo;
            eo.add_special_tokens = !o->no_special;
            if (o->max_length > 0) {
              eo.truncation = tk::Truncation::longest_first;
              eo.max_length = o->max_length;
            }
            if (o->char_offsets) eo.offsets = tk::OffsetUnit::chars;
            const std::size_t threads = static_cast<std::size_t>(o->threads > 0 ? o->threads : available_cpus());
            tk::ThreadPool pool(threads);

            std::ofstream file;
            if (!o->output.empty()) {
              file.open(o->output, std::ios::binary | std::ios::trunc);
              DISTILBERT_CHECK(file.good(), "cannot write '", o->output, "'");
            }
            std::ostream& out = o->output.empty() ? std::cout : file;
            const auto t1 = std::chrono::steady_clock::now();
            constexpr std::size_t kChunk = 16384;
            std::size_t bytes = 0, tokens = 0;
            std::string buffer;
            std::vector<tk::TextInput> batch;
            for (std::size_t begin = 0; begin < inputs.size(); begin += kChunk) {
              const std::size_t end = std::min(inputs.size(), begin + kChunk);
              batch.clear();
              for (std::size_t i = begin; i < end; ++i) {
                batch.push_back({inputs[i].text, inputs[i].pair ? std::optional<std::string_view>(*inputs[i].pair)
                                                                 : std::nullopt});
                bytes += inputs[i].text.size() + (inputs[i].pair ? inputs[i].pair->size() : 0);
              }
              const auto encodings = tok->encode_batch(batch, eo, &pool);
              buffer.clear();
              for (std::size_t i = 0; i < encodings.size(); ++i) {
                tokens += encodings[i].size();
                append_json(buffer, inputs[begin + i].line, encodings[i]);
              }
              out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            }
            out.flush();
            DISTILBERT_CHECK(out.good(), "error while writing ",
                             o->output.empty() ? std::string("stdout") : "'" + o->output + "'");
            const auto t2 = std::chrono::steady_clock::now();
            if (!o->quiet) {
              const double s = std::chrono::duration<double>(t2 - t1).count();
              char buf[256];
              std::snprintf(buf, sizeof(buf),
                            "%zu input(s), %zu tokens, %.3f MB of text: encoded and written in %.3f s (%.1f MB/s, "
                            "%zu thread(s)); loading and reading took %.3f s",
                            inputs.size(), tokens, bytes / 1e6, s, bytes / 1e6 / std::max(s, 1e-9), pool.size(),
                            std::chrono::duration<double>(t1 - t0).count());
              std::cerr << "[tokenize] " << buf << "\n";
            }
            return 0;
          }};
}

}  // namespace

DISTILBERT_REGISTER_COMMAND("tokenize", add_tokenize_command);

}  // namespace distilbert::cli
