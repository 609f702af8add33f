// CoNLL-2003 reading and first-sub-word label alignment; see conll.h.
#include "distilbert/tasks/conll.h"

#include <algorithm>
#include <set>

#include "distilbert/core/error.h"
#include "distilbert/core/text.h"
#include "distilbert/tasks/delimited.h"

namespace distilbert::tasks {

const std::vector<std::string>& conll2003_ner_labels() {
  static const std::vector<std::string> labels = {"O",     "B-PER", "I-PER",  "B-ORG", "I-ORG",
                                                  "B-LOC", "I-LOC", "B-MISC", "I-MISC"};
  return labels;
}

namespace {

struct RawSentence {
  std::vector<std::string> words, tags;
  std::vector<std::size_t> lines;
  std::string error;  // first problem found, "" when well formed
};

std::vector<std::string> split_columns(const std::string& line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t j = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > j) out.push_back(line.substr(j, i - j));
  }
  return out;
}

}  // namespace

TokenReadResult read_conll_file(const std::string& path, const ConllReadOptions& options) {
  const std::string text = read_text_file(path);
  std::vector<RawSentence> raw;
  RawSentence current;
  std::size_t columns = options.columns;
  auto end_sentence = [&] {
    if (!current.words.empty() || !current.error.empty()) raw.push_back(std::move(current));
    current = RawSentence{};
  };
  std::size_t line_no = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    if (line.rfind("-DOCSTART-", 0) == 0 || is_blank(line)) {
      end_sentence();
      continue;
    }
    const auto cols = split_columns(line);
    if (columns == 0) columns = std::max<std::size_t>(cols.size(), 2);
    if (current.words.empty() && current.error.empty()) current.lines.push_back(line_no);
    if (!current.error.empty()) continue;
    if (cols.size() != columns) {
      current.error = str_cat(where(path, line_no), "expected ", columns, " columns (word ... tag",
                              columns == 4 ? ": word POS chunk NER" : "", "), found ", cols.size(), " in ",
                              tasks::quoted(line));
      continue;
    }
    current.words.push_back(cols.front());
    current.tags.push_back(cols.back());
    current.lines.push_back(line_no);
  }
  end_sentence();

  TokenReadResult result;
  ReadResult bad;
  std::vector<std::string> names;
  if (options.label_names) {
    names = *options.label_names;
  } else {
    std::set<std::string> found;
    for (const auto& s : raw)
      if (s.error.empty()) found.insert(s.tags.begin(), s.tags.end());
    names.assign(found.begin(), found.end());  // bytewise sorted, as run_ner's label_list.sort()
  }
  for (auto& s : raw) {
    if (!s.error.empty()) {
      report_bad_row(bad, options.read, s.error);
      continue;
    }
    TokenExample ex;
    ex.line = s.lines.front();
    bool ok = true;
    for (std::size_t k = 0; k < s.tags.size(); ++k) {
      const auto it = std::find(names.begin(), names.end(), s.tags[k]);
      if (it == names.end()) {
        report_bad_row(bad, options.read,
                       str_cat(where(path, s.lines[k + 1]), "expected a tag among [", join(names), "], found ",
                               tasks::quoted(s.tags[k])));
        ok = false;
        break;
      }
      ex.tags.push_back(static_cast<int>(it - names.begin()));
    }
    if (!ok) continue;
    ex.words = std::move(s.words);
    result.sentences.push_back(std::move(ex));
  }
  result.label_names = std::move(names);
  result.skipped = bad.skipped;
  result.messages = std::move(bad.messages);
  return result;
}

std::vector<TokenFeature> encode_token_examples(const tokenizer::Tokenizer& tok,
                                                const std::vector<TokenExample>& sentences, std::size_t max_seq_len,
                                                bool token_type_ids) {
  // The words joined by single spaces: the pre-tokeniser splits on spaces, so no token spans two words and each
  // token's offset tells its word (what is_split_into_words gives in HF).
  std::vector<std::string> texts(sentences.size());
  std::vector<std::vector<std::size_t>> starts(sentences.size());  // byte offset of each word in its text
  std::vector<tokenizer::TextInput> inputs;
  inputs.reserve(sentences.size());
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    for (const auto& w : sentences[i].words) {
      if (!texts[i].empty()) texts[i] += ' ';
      starts[i].push_back(texts[i].size());
      texts[i] += w;
    }
    inputs.push_back({texts[i], std::nullopt});
  }
  tokenizer::EncodeOptions eo;
  eo.truncation = tokenizer::Truncation::longest_first;
  eo.max_length = max_seq_len;
  eo.return_token_type_ids = token_type_ids;
  eo.offsets = tokenizer::OffsetUnit::bytes;
  auto encs = tok.encode_batch(inputs, eo);
  std::vector<TokenFeature> out(sentences.size());
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    auto& e = encs[i];
    auto& f = out[i];
    f.ids = std::move(e.ids);
    f.type_ids = std::move(e.type_ids);
    f.labels.assign(f.ids.size(), -100);
    f.word_tokens.assign(sentences[i].words.size(), -1);
    for (std::size_t t = 0; t < f.ids.size(); ++t) {
      if (e.sequence_ids[t] != 0) continue;  // [CLS], [SEP]
      const auto& st = starts[i];
      // The word whose start is the last one at or before the token's start.
      const std::size_t w =
          static_cast<std::size_t>(std::upper_bound(st.begin(), st.end(), e.offsets[t].begin) - st.begin()) - 1;
      if (f.word_tokens[w] >= 0) continue;  // not the first sub-word
      f.word_tokens[w] = static_cast<std::int64_t>(t);
      f.labels[t] = sentences[i].tags[w];
    }
  }
  return out;
}

std::vector<std::string> word_predictions(const TokenFeature& feature, const std::vector<std::int64_t>& token_predictions,
                                          const std::vector<std::string>& label_names) {
  std::vector<std::string> out;
  out.reserve(feature.word_tokens.size());
  for (const std::int64_t t : feature.word_tokens) {
    if (t < 0) {
      out.emplace_back("O");
      continue;
    }
    DISTILBERT_CHECK(static_cast<std::size_t>(t) < token_predictions.size(), "word_predictions: token ", t, " of ",
                     token_predictions.size(), " predicted");
    const std::int64_t id = token_predictions[static_cast<std::size_t>(t)];
    DISTILBERT_CHECK(id >= 0 && static_cast<std::size_t>(id) < label_names.size(), "word_predictions: tag id ", id,
                     " outside the ", label_names.size(), " labels");
    out.push_back(label_names[static_cast<std::size_t>(id)]);
  }
  return out;
}

}  // namespace distilbert::tasks
