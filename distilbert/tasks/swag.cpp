// SWAG CSV reading and choice encoding; see swag.h.
#include "distilbert/tasks/swag.h"

#include <algorithm>

#include "distilbert/core/error.h"
#include "distilbert/tasks/delimited.h"

namespace distilbert::tasks {

ChoiceReadResult read_swag_file(const std::string& path, const ReadOptions& options) {
  const auto records = read_quoted_records(read_text_file(path), ',', path);
  DISTILBERT_CHECK(!records.empty(), "SWAG file '", path, "' is empty: expected a header line naming the columns");
  const auto& header = records[0].fields;
  auto find = [&](const std::string& name) -> long {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<long>(it - header.begin());
  };
  std::string names;
  for (std::size_t i = 0; i < header.size(); ++i) names += (i ? ", " : "") + header[i];
  auto require = [&](const std::string& name) {
    const long c = find(name);
    DISTILBERT_CHECK(
        c >= 0, where(path, records[0].line), "header: expected a column named '", name,
        "' (SWAG layout: ,video-id,fold-ind,startphrase,sent1,sent2,gold-source,ending0,...,ending3,label), found [",
        names, "]");
    return static_cast<std::size_t>(c);
  };
  const std::size_t c_sent1 = require("sent1"), c_sent2 = require("sent2");
  std::vector<std::size_t> c_endings = {require("ending0")};
  for (long c; (c = find("ending" + std::to_string(c_endings.size()))) >= 0;) c_endings.push_back(static_cast<std::size_t>(c));
  DISTILBERT_CHECK(c_endings.size() >= 2, where(path, records[0].line),
                   "header: expected at least two choices (ending0, ending1)");
  const long c_label = find("label");

  ChoiceReadResult result;
  result.num_choices = c_endings.size();
  result.has_labels = c_label >= 0;
  ReadResult bad;
  auto col = [&](std::size_t c) { return str_cat("column ", c + 1, " ('", header[c], "'): "); };
  for (std::size_t r = 1; r < records.size(); ++r) {
    const auto& f = records[r].fields;
    const std::string at = where(path, records[r].line);
    if (f.size() != header.size()) {
      report_bad_row(bad, options, str_cat(at, "expected ", header.size(), " columns (", names, "), found ", f.size()));
      continue;
    }
    ChoiceExample ex;
    ex.line = records[r].line;
    ex.context = f[c_sent1];
    ex.start = f[c_sent2];
    if (is_blank(ex.context)) {
      report_bad_row(bad, options, str_cat(at, col(c_sent1), "expected a context sentence, found empty"));
      continue;
    }
    bool ok = true;
    for (std::size_t c : c_endings) {
      if (is_blank(f[c])) {
        report_bad_row(bad, options, str_cat(at, col(c), "expected an ending, found empty"));
        ok = false;
        break;
      }
      ex.endings.push_back(f[c]);
    }
    if (!ok) continue;
    if (c_label >= 0) {
      const auto& v = f[static_cast<std::size_t>(c_label)];
      long long label = -1;
      if (!parse_int(v, label) || label < 0 || label >= static_cast<long long>(c_endings.size())) {
        report_bad_row(bad, options, str_cat(at, col(static_cast<std::size_t>(c_label)), "expected a choice 0 .. ",
                                             c_endings.size() - 1, ", found ", tasks::quoted(v)));
        continue;
      }
      ex.label = static_cast<int>(label);
    }
    result.examples.push_back(std::move(ex));
  }
  result.skipped = bad.skipped;
  result.messages = std::move(bad.messages);
  return result;
}

std::vector<ChoiceFeature> encode_choice_examples(const tokenizer::Tokenizer& tok,
                                                  const std::vector<ChoiceExample>& examples, std::size_t max_seq_len,
                                                  bool token_type_ids) {
  std::vector<std::string> seconds;
  for (const auto& e : examples)
    for (const auto& ending : e.endings) seconds.push_back(e.start + " " + ending);  // run_swag: f"{header} {end}"
  std::vector<tokenizer::TextInput> inputs;
  inputs.reserve(seconds.size());
  std::size_t k = 0;
  for (const auto& e : examples)
    for (std::size_t c = 0; c < e.endings.size(); ++c) inputs.push_back({e.context, std::string_view(seconds[k++])});
  tokenizer::EncodeOptions eo;
  eo.truncation = tokenizer::Truncation::longest_first;
  eo.max_length = max_seq_len;
  eo.return_token_type_ids = token_type_ids;
  auto encs = tok.encode_batch(inputs, eo);
  std::vector<ChoiceFeature> out(examples.size());
  k = 0;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    out[i].label = examples[i].label;
    for (std::size_t c = 0; c < examples[i].endings.size(); ++c, ++k) {
      out[i].ids.push_back(std::move(encs[k].ids));
      out[i].type_ids.push_back(std::move(encs[k].type_ids));
    }
  }
  return out;
}

}  // namespace distilbert::tasks
