// Low-level record readers for delimited text files, shared by the GLUE and user-data readers:
//  * read_unquoted_records: one record per line, fields split on the delimiter with NO quote handling
//    (Python csv.QUOTE_NONE, as HF datasets reads the GLUE TSVs: a `"` is ordinary text);
//  * read_quoted_records: RFC 4180 (fields may be wrapped in "...", "" is an escaped quote, quoted fields
//    may span lines; a `"` inside an unquoted field is kept literally, as Python's csv and pandas do).
// Both strip a leading UTF-8 byte-order mark, accept \n, \r\n and lone \r line ends (Python's universal
// newlines), skip blank lines, and remember the 1-based line where each record starts.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "distilbert/tasks/example.h"

namespace distilbert::tasks {

/// One parsed record (row) and the 1-based line where it starts.
struct Record {
  std::vector<std::string> fields;
  std::size_t line = 0;
};

/// Read a whole file into memory; throws distilbert::Error naming the path when it cannot be opened.
std::string read_text_file(const std::string& path);

/// Split `text` (a whole file's contents) into unquoted records: one per non-blank line.
std::vector<Record> read_unquoted_records(const std::string& text, char delimiter);

/// Parse `text` as RFC 4180 records. Throws distilbert::Error "path:line:column: ..." for an unterminated
/// quoted field or a character other than the delimiter / line end right after a closing quote.
std::vector<Record> read_quoted_records(const std::string& text, char delimiter, const std::string& path);

/// Handle one malformed row according to options.policy: throw distilbert::Error(message) under Fail, or
/// count it in result.skipped (keeping the message while fewer than options.max_messages are kept) under Skip.
void report_bad_row(ReadResult& result, const ReadOptions& options, const std::string& message);

/// "path:line: " prefix for messages.
std::string where(const std::string& path, std::size_t line);

/// Quote a value for a message: 'text' with control characters escaped and long values shortened.
std::string quoted(const std::string& value);

/// True when `value` is empty or only ASCII whitespace.
bool is_blank(const std::string& value);

/// Parse a whole string (surrounding ASCII spaces allowed) as a decimal integer, as Python's int().
/// Returns false (leaving `out` unspecified) when it is not one.
bool parse_int(const std::string& value, long long& out);

/// Parse a whole string (surrounding ASCII spaces allowed) as a finite float, as Python's float().
bool parse_finite_double(const std::string& value, double& out);

}  // namespace distilbert::tasks
