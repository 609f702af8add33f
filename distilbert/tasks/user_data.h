// Reader for users' own sentence(-pair) classification / regression data: CSV (RFC 4180 quoting, header
// row), TSV (header row, no quoting: a `"` is text, as in GLUE) or JSON Lines (one object per line), with
// named text / text-pair / label columns. Class labels are names mapped to ids through a given label list,
// or through the sorted set of labels found in the file (numerically when all are integers, else bytewise,
// as run_glue's `label_list.sort()`); regression labels are floats.
// Pass the train file's label_names when reading its dev/test files so the ids agree.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "distilbert/tasks/example.h"

namespace distilbert::tasks {

enum class DataFormat {
  Auto,   ///< from the extension: .csv, .tsv / .tab, .jsonl / .json / .ndjson
  Csv,
  Tsv,
  Jsonl,
};

struct UserDataOptions {
  DataFormat format = DataFormat::Auto;
  std::string text_column = "text";
  std::optional<std::string> text_pair_column;           ///< set for sentence-pair data
  std::optional<std::string> label_column = "label";     ///< nullopt: unlabeled (prediction) data
  std::optional<std::string> id_column;                  ///< copied into Example::guid (else the row ordinal)
  std::optional<std::vector<std::string>> label_names;   ///< id -> name; nullopt: discover from the file
  bool regression = false;                               ///< labels are floats (Example::score)
  ReadOptions read;                                      ///< bad-row policy
};

/// Format chosen for `path` under DataFormat::Auto; throws distilbert::Error for an unknown extension.
DataFormat detect_format(const std::string& path);

/// Read a user data file. Missing columns in the header (CSV/TSV) are an Error; rows with a wrong column
/// count, an empty text, an unknown label (when label_names is given), a bad number or invalid JSON are
/// malformed rows handled by options.read.policy, with messages "file:line: ...".
ReadResult read_user_data(const std::string& path, const UserDataOptions& options = {});

}  // namespace distilbert::tasks
