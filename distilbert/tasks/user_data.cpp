// Users' own CSV / TSV / JSONL data: header-named columns, label discovery or mapping, float regression
// labels, malformed-row reporting with file:line(:column) and expected vs found.
#include "distilbert/tasks/user_data.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "distilbert/core/error.h"
#include "distilbert/core/text.h"
#include "distilbert/tasks/delimited.h"
#include "distilbert/core/json_error.h"

namespace distilbert::tasks {

namespace {

/// A row before label ids are assigned.
struct RawRow {
  Example example;
  std::string label;  // class label name (classification)
};

std::string extension_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  return ascii_lower(path.substr(dot + 1));
}

/// Sort label names as run_glue's label_list.sort(): numbers numerically when all are integers.
void sort_labels(std::vector<std::string>& names) {
  long long unused = 0;
  const bool numeric = std::all_of(names.begin(), names.end(), [&](const std::string& n) { return parse_int(n, unused); });
  if (numeric) {
    std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      long long x = 0, y = 0;
      parse_int(a, x);
      parse_int(b, y);
      return x < y;
    });
  } else {
    std::sort(names.begin(), names.end());
  }
}

const char* json_type(const nlohmann::json& v) { return v.type_name(); }

/// Shared per-row checks and label handling for all formats. Returns false when the row was reported.
bool finish_row(RawRow& row, const std::string& at_label, const std::string& label_value, bool has_label,
                const UserDataOptions& options, ReadResult& result) {
  if (!has_label) return true;
  if (options.regression) {
    double v = 0;
    if (!parse_finite_double(label_value, v)) {
      report_bad_row(result, options.read,
                     str_cat(at_label, "expected a number (regression label), found ", quoted(label_value)));
      return false;
    }
    row.example.score = static_cast<float>(v);
    return true;
  }
  if (is_blank(label_value)) {
    report_bad_row(result, options.read, str_cat(at_label, "expected a label, found empty"));
    return false;
  }
  if (options.label_names) {
    const auto& names = *options.label_names;
    const auto it = std::find(names.begin(), names.end(), label_value);
    if (it == names.end()) {
      report_bad_row(result, options.read,
                     str_cat(at_label, "expected one of the labels [", join(names), "], found ", quoted(label_value)));
      return false;
    }
    row.example.label = static_cast<int>(it - names.begin());
  }
  row.label = label_value;
  return true;
}

void read_delimited(const std::string& path, char delimiter, bool quoting, const UserDataOptions& options,
                    ReadResult& result, std::vector<RawRow>& rows) {
  const std::string text = read_text_file(path);
  const std::vector<Record> records =
      quoting ? read_quoted_records(text, delimiter, path) : read_unquoted_records(text, delimiter);
  DISTILBERT_CHECK(!records.empty(), "data file '", path, "' is empty: expected a header line naming the columns");
  const auto& header = records[0].fields;
  auto column = [&](const std::string& name) -> long {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      fail(where(path, records[0].line), "header: expected a column named '", name, "', found columns [",
           join(header), "] (choose the columns with --text-column / --text-pair-column / --label-column)");
    }
    return static_cast<long>(it - header.begin());
  };
  const long col_a = column(options.text_column);
  const long col_b = options.text_pair_column ? column(*options.text_pair_column) : -1;
  const long col_label = options.label_column ? column(*options.label_column) : -1;
  const long col_id = options.id_column ? column(*options.id_column) : -1;
  auto ref = [&](long c) { return str_cat("column ", c + 1, " ('", header[static_cast<std::size_t>(c)], "'): "); };
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& f = records[r].fields;
    const std::string at = where(path, records[r].line);
    if (f.size() != header.size()) {
      report_bad_row(result, options.read, str_cat(at, "expected ", header.size(), " columns (", join(header),
                                                   "), found ", f.size(),
                                                   quoting ? "" : " (this TSV reader does not handle quoting)"));
      continue;
    }
    RawRow row;
    row.example.line = records[r].line;
    row.example.guid = col_id >= 0 ? f[static_cast<std::size_t>(col_id)] : std::to_string(r - 1);
    row.example.text_a = f[static_cast<std::size_t>(col_a)];
    if (is_blank(row.example.text_a)) {
      report_bad_row(result, options.read, str_cat(at, ref(col_a), "expected a text, found empty"));
      continue;
    }
    if (col_b >= 0) {
      row.example.text_b = f[static_cast<std::size_t>(col_b)];
      if (is_blank(*row.example.text_b)) {
        report_bad_row(result, options.read, str_cat(at, ref(col_b), "expected a text, found empty"));
        continue;
      }
    }
    const std::string label = col_label >= 0 ? f[static_cast<std::size_t>(col_label)] : "";
    if (finish_row(row, col_label >= 0 ? at + ref(col_label) : at, label, col_label >= 0, options, result)) {
      rows.push_back(std::move(row));
    }
  }
}

void read_jsonl(const std::string& path, const UserDataOptions& options, ReadResult& result,
                std::vector<RawRow>& rows) {
  const std::vector<Record> lines = read_unquoted_records(read_text_file(path), '\n');
  std::size_t ordinal = 0;
  for (const auto& rec : lines) {
    const std::string& line = rec.fields[0];
    const std::string at = where(path, rec.line);
    if (is_blank(line)) continue;
    nlohmann::json obj;
    try {
      obj = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      report_bad_row(result, options.read,
                     str_cat(path, ":", rec.line, ":", e.byte, ": expected a JSON object, found invalid JSON (",
                             json_error_text(e), ")"));
      continue;
    } catch (const nlohmann::json::exception& e) {  // out_of_range for a number like 1e99999 (found by fuzzing)
      report_bad_row(result, options.read, str_cat(at, "expected a JSON object, found unusable JSON (", json_error_text(e), ")"));
      continue;
    }
    if (!obj.is_object()) {
      report_bad_row(result, options.read, str_cat(at, "expected a JSON object, found a ", json_type(obj)));
      continue;
    }
    auto text = [&](const std::string& key, std::string& out) {
      const auto it = obj.find(key);
      if (it == obj.end() || !it->is_string()) {
        report_bad_row(result, options.read,
                       str_cat(at, "key '", key, "': expected a string, found ",
                               it == obj.end() ? std::string("no such key") : std::string(json_type(*it))));
        return false;
      }
      out = it->get<std::string>();
      if (is_blank(out)) {
        report_bad_row(result, options.read, str_cat(at, "key '", key, "': expected a text, found empty"));
        return false;
      }
      return true;
    };
    RawRow row;
    row.example.line = rec.line;
    row.example.guid = std::to_string(ordinal++);
    if (!text(options.text_column, row.example.text_a)) continue;
    if (options.text_pair_column) {
      std::string b;
      if (!text(*options.text_pair_column, b)) continue;
      row.example.text_b = std::move(b);
    }
    if (options.id_column) {
      const auto it = obj.find(*options.id_column);
      if (it != obj.end()) row.example.guid = it->is_string() ? it->get<std::string>() : it->dump();
    }
    std::string label;
    if (options.label_column) {
      const auto it = obj.find(*options.label_column);
      const std::string at_label = str_cat(at, "key '", *options.label_column, "': ");
      if (it == obj.end() || it->is_null()) {
        report_bad_row(result, options.read, str_cat(at_label, "expected a label, found ",
                                                     it == obj.end() ? "no such key" : "null"));
        continue;
      }
      if (it->is_string()) {
        label = it->get<std::string>();
      } else if (it->is_number_integer() || it->is_boolean()) {
        label = it->dump();
      } else if (it->is_number_float()) {
        const double v = it->get<double>();
        if (!options.regression && v != std::floor(v)) {
          report_bad_row(result, options.read,
                         str_cat(at_label, "expected a class label (string or integer), found ", it->dump(),
                                 " (set regression for float targets)"));
          continue;
        }
        // Beyond 2^53 a double is no exact integer, and the cast to long long would be undefined past 2^63
        // (found by fuzzing: a JSONL label of 4.3e19).
        if (!options.regression && std::fabs(v) > 9007199254740992.0) {
          report_bad_row(result, options.read,
                         str_cat(at_label, "expected a class label (string or integer), found ", it->dump(),
                                 " (too large to be a class id)"));
          continue;
        }
        label = options.regression ? it->dump() : std::to_string(static_cast<long long>(v));
      } else {
        report_bad_row(result, options.read, str_cat(at_label, "expected a label, found a ", json_type(*it)));
        continue;
      }
      if (!finish_row(row, at_label, label, true, options, result)) continue;
    }
    rows.push_back(std::move(row));
  }
}

}  // namespace

DataFormat detect_format(const std::string& path) {
  const std::string ext = extension_of(path);
  if (ext == "csv") return DataFormat::Csv;
  if (ext == "tsv" || ext == "tab") return DataFormat::Tsv;
  if (ext == "jsonl" || ext == "json" || ext == "ndjson") return DataFormat::Jsonl;
  fail("cannot tell the format of data file '", path, "' from its extension '", ext,
       "': expected .csv, .tsv or .jsonl (or give the format explicitly)");
}

ReadResult read_user_data(const std::string& path, const UserDataOptions& options) {
  const DataFormat format = options.format == DataFormat::Auto ? detect_format(path) : options.format;
  DISTILBERT_CHECK(!options.regression || !options.label_names, "regression data cannot have label names (file '", path,
                   "')");
  ReadResult result;
  result.is_regression = options.regression;
  result.has_labels = options.label_column.has_value();
  std::vector<RawRow> rows;
  if (format == DataFormat::Jsonl) {
    read_jsonl(path, options, result, rows);
  } else {
    read_delimited(path, format == DataFormat::Csv ? ',' : '\t', format == DataFormat::Csv, options, result, rows);
  }
  if (result.has_labels && !options.regression) {
    if (options.label_names) {
      result.label_names = *options.label_names;
    } else {
      std::map<std::string, int> seen;
      for (const auto& row : rows) seen.emplace(row.label, 0);
      for (const auto& kv : seen) result.label_names.push_back(kv.first);
      sort_labels(result.label_names);
      for (std::size_t i = 0; i < result.label_names.size(); ++i) seen[result.label_names[i]] = static_cast<int>(i);
      for (auto& row : rows) row.example.label = seen.at(row.label);
    }
  }
  result.examples.reserve(rows.size());
  for (auto& row : rows) result.examples.push_back(std::move(row.example));
  return result;
}

}  // namespace distilbert::tasks
