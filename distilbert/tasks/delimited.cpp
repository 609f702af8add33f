// Record readers for delimited text (unquoted TSV as in GLUE, RFC 4180 CSV) and the small helpers the task
// readers share: bad-row reporting, message formatting, and strict number parsing.
#include "distilbert/tasks/delimited.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "distilbert/core/error.h"

namespace distilbert::tasks {

namespace {

/// Offset just past a UTF-8 byte-order mark at the start of text, or 0.
std::size_t skip_bom(const std::string& text) {
  return text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
}

std::string trim_spaces(const std::string& value) {
  const char* spaces = " \t\n\r\f\v";
  const auto begin = value.find_first_not_of(spaces);
  if (begin == std::string::npos) return "";
  const auto end = value.find_last_not_of(spaces);
  return value.substr(begin, end - begin + 1);
}

bool record_is_blank(const Record& record) {
  return record.fields.size() == 1 && record.fields[0].empty();
}

}  // namespace

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DISTILBERT_CHECK(static_cast<bool>(in), "cannot open data file '", path, "': no such file or not readable");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  DISTILBERT_CHECK(!in.bad(), "error while reading data file '", path, "'");
  return buffer.str();
}

std::vector<Record> read_unquoted_records(const std::string& text, char delimiter) {
  std::vector<Record> records;
  Record current;
  current.line = 1;
  current.fields.emplace_back();
  std::size_t line = 1;
  auto finish = [&]() {
    if (!record_is_blank(current)) records.push_back(std::move(current));
    current = Record{};
    current.line = line;
    current.fields.emplace_back();
  };
  for (std::size_t i = skip_bom(text); i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      finish();
    } else if (c == delimiter) {
      current.fields.emplace_back();
    } else {
      current.fields.back().push_back(c);
    }
  }
  finish();
  return records;
}

std::vector<Record> read_quoted_records(const std::string& text, char delimiter, const std::string& path) {
  std::vector<Record> records;
  Record current;
  std::string field;
  std::size_t line = 1, column = 1;  // position of the character being read (column counts bytes)
  std::size_t i = skip_bom(text);
  bool record_open = false;
  auto end_field = [&]() {
    current.fields.push_back(std::move(field));
    field.clear();
  };
  auto end_record = [&]() {
    end_field();
    if (!record_is_blank(current)) records.push_back(std::move(current));
    current = Record{};
    record_open = false;
  };
  auto newline_at = [&](std::size_t k) { return text[k] == '\n' || text[k] == '\r'; };
  auto consume_newline = [&]() {  // text[i] is \n or \r
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    ++i;
    ++line;
    column = 1;
  };
  while (i < text.size()) {
    if (!record_open) {
      current.line = line;
      record_open = true;
    }
    const bool field_start = field.empty();
    if (field_start && text[i] == '"') {
      // Quoted field: runs to the next lone quote; "" is a literal quote; newlines are kept.
      const std::size_t open_line = line, open_column = column;
      ++i;
      ++column;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            column += 2;
            continue;
          }
          ++i;
          ++column;
          closed = true;
          break;
        }
        if (newline_at(i)) {
          const bool crlf = text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n';
          field += crlf ? "\r\n" : std::string(1, text[i]);
          consume_newline();
          continue;
        }
        field.push_back(text[i]);
        ++i;
        ++column;
      }
      DISTILBERT_CHECK(closed, path, ":", open_line, ":", open_column,
                       ": unterminated quoted field: expected a closing '\"' before the end of the file");
      if (i < text.size() && !newline_at(i) && text[i] != delimiter) {
        fail(path, ":", line, ":", column, ": expected the delimiter '", std::string(1, delimiter),
             "' or a line end after a closing quote, found ", quoted(std::string(1, text[i])),
             " (quote fields that contain quotes as \"a \"\"quoted\"\" word\")");
      }
      if (i >= text.size()) break;
      if (newline_at(i)) {
        consume_newline();
        end_record();
      } else {  // delimiter
        end_field();
        ++i;
        ++column;
        if (i >= text.size()) break;
      }
      continue;
    }
    if (newline_at(i)) {
      consume_newline();
      end_record();
    } else if (text[i] == delimiter) {
      end_field();
      ++i;
      ++column;
    } else {
      field.push_back(text[i]);
      ++i;
      ++column;
    }
  }
  if (record_open) end_record();
  return records;
}

void report_bad_row(ReadResult& result, const ReadOptions& options, const std::string& message) {
  if (options.policy == BadRowPolicy::Fail) {
    fail(message, " (use the Skip bad-row policy to drop such rows and count them)");
  }
  ++result.skipped;
  if (result.messages.size() < options.max_messages) result.messages.push_back(message);
}

std::string where(const std::string& path, std::size_t line) { return str_cat(path, ":", line, ": "); }

std::string quoted(const std::string& value) {
  constexpr std::size_t kMax = 80;
  std::string out = "'";
  for (std::size_t i = 0; i < value.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (value.size() > kMax) out += "...";
  return out + "'";
}

bool is_blank(const std::string& value) { return trim_spaces(value).empty(); }

bool parse_int(const std::string& value, long long& out) {
  const std::string s = trim_spaces(value);
  if (s.empty()) return false;
  std::size_t k = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (k == s.size()) return false;
  for (std::size_t j = k; j < s.size(); ++j) {
    if (s[j] < '0' || s[j] > '9') return false;
  }
  errno = 0;
  out = std::strtoll(s.c_str(), nullptr, 10);
  return errno == 0;
}

bool parse_finite_double(const std::string& value, double& out) {
  const std::string s = trim_spaces(value);
  if (s.empty()) return false;
  for (char c : s) {  // decimal notation only (no hex floats, no inf/nan)
    if (!((c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-' || c == 'e' || c == 'E')) return false;
  }
  char* end = nullptr;
  errno = 0;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && errno == 0 && std::isfinite(out);
}

}  // namespace distilbert::tasks
