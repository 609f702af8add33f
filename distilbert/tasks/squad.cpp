// SQuAD reading, windowing and answer decoding; see squad.h.
#include "distilbert/tasks/squad.h"

#include <algorithm>
#include <iterator>
#include <numeric>
#include <optional>

#include <nlohmann/json.hpp>

#include "distilbert/core/error.h"
#include "distilbert/tasks/delimited.h"
#include "distilbert/core/json_error.h"

namespace distilbert::tasks {

namespace {

using json = nlohmann::json;

// The key under which the reader stores each JSON object's first line (no SQuAD key starts with a control char).
const char* const kLineKey = "\x01line";

/// A char iterator that counts the newlines it steps over, so that the parser callback knows the current line.
class LineCountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;
  LineCountingIterator(const char* p, std::size_t* line) : p_(p), line_(line) {}
  reference operator*() const { return *p_; }
  LineCountingIterator& operator++() {
    if (*p_ == '\n') ++*line_;
    ++p_;
    return *this;
  }
  LineCountingIterator operator++(int) {
    auto copy = *this;
    ++*this;
    return copy;
  }
  bool operator==(const LineCountingIterator& o) const { return p_ == o.p_; }
  bool operator!=(const LineCountingIterator& o) const { return p_ != o.p_; }

 private:
  const char* p_;
  std::size_t* line_;
};

/// Parse `text`, adding kLineKey (the line of its '{') to every object.
json parse_with_lines(const std::string& text, const std::string& path) {
  std::size_t line = 1;
  std::vector<std::size_t> open;
  json::parser_callback_t cb = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open.push_back(line);  // the lexer has just read the '{' (it never reads ahead of a structural char)
    } else if (event == json::parse_event_t::object_end) {
      parsed[kLineKey] = open.back();
      open.pop_back();
    }
    return true;
  };
  try {
    return json::parse(LineCountingIterator(text.data(), &line),
                       LineCountingIterator(text.data() + text.size(), &line), cb);
  } catch (const json::exception& e) {
    fail("SQuAD file '", path, "': invalid JSON: ", json_error_text(e));
  }
}

std::size_t line_of(const json& object) {
  return object.is_object() && object.contains(kLineKey) ? object[kLineKey].get<std::size_t>() : 0;
}

/// Byte offset of every code point of UTF-8 `s`, plus s.size() at the end (index = Python's str index).
std::vector<std::size_t> code_point_offsets(const std::string& s) {
  std::vector<std::size_t> out;
  out.reserve(s.size() + 1);
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  out.push_back(s.size());
  return out;
}

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

/// A string member, or nullopt when absent or not a string.
std::optional<std::string> string_member(const json& object, const char* key) {
  const json* v = member(object, key);
  if (!v || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

}  // namespace

QaReadResult read_squad_file(const std::string& path, const ReadOptions& options) {
  const json root = parse_with_lines(read_text_file(path), path);
  const json* data = member(root, "data");
  DISTILBERT_CHECK(data && data->is_array(), "SQuAD file '", path,
                   "': expected an object with a \"data\" array (the SQuAD v1.1 / v2.0 layout), found ",
                   data ? data->type_name() : "no \"data\" key");
  QaReadResult result;
  result.version_2 = string_member(root, "version").value_or("") == "v2.0";
  ReadResult bad;  // collects the skip messages
  for (const auto& article : *data) {
    const std::string title = string_member(article, "title").value_or("");
    const json* paragraphs = member(article, "paragraphs");
    DISTILBERT_CHECK(paragraphs && paragraphs->is_array(), where(path, line_of(article)),
                     "article: expected a \"paragraphs\" array");
    for (const auto& paragraph : *paragraphs) {
      const json* qas = member(paragraph, "qas");
      DISTILBERT_CHECK(qas && qas->is_array(), where(path, line_of(paragraph)), "paragraph: expected a \"qas\" array");
      const auto context = string_member(paragraph, "context");
      if (!context || is_blank(*context)) {
        report_bad_row(bad, options,
                       str_cat(where(path, line_of(paragraph)), "paragraph: expected a non-empty \"context\" string (",
                               qas->size(), " question(s) dropped)"));
        continue;
      }
      const auto chars = code_point_offsets(*context);
      for (const auto& qa : *qas) {
        QaExample ex;
        ex.line = line_of(qa);
        ex.title = title;
        ex.context = *context;
        const std::string at = where(path, ex.line);
        const auto id = string_member(qa, "id");
        if (!id || id->empty()) {
          report_bad_row(bad, options, str_cat(at, "question: expected a non-empty \"id\" string"));
          continue;
        }
        ex.id = *id;
        const std::string q_at = str_cat(at, "question '", ex.id, "': ");
        const auto question = string_member(qa, "question");
        if (!question || is_blank(*question)) {
          report_bad_row(bad, options, str_cat(q_at, "expected a non-empty \"question\" string"));
          continue;
        }
        ex.question = *question;
        const json* imp = member(qa, "is_impossible");
        const bool impossible = imp && imp->is_boolean() && imp->get<bool>();
        if (imp) result.version_2 = true;
        const json* answers = member(qa, "answers");
        if (answers && !answers->is_array()) {
          report_bad_row(bad, options, str_cat(q_at, "expected \"answers\" to be an array, found ", answers->type_name()));
          continue;
        }
        bool ok = true;
        if (!impossible && answers) {
          for (const auto& a : *answers) {
            const auto text = string_member(a, "text");
            const json* start = member(a, "answer_start");
            if (!text || text->empty() || !start || !start->is_number_integer() || start->get<long long>() < 0) {
              report_bad_row(bad, options,
                             str_cat(where(path, line_of(a)), "question '", ex.id,
                                     "': expected an answer {\"text\": non-empty string, \"answer_start\": integer >= 0}"));
              ok = false;
              break;
            }
            const auto c = static_cast<std::size_t>(start->get<long long>());
            // answer_start counts code points; the answer must be exactly there.
            const std::size_t b = c < chars.size() ? chars[c] : std::string::npos;
            if (b == std::string::npos || ex.context.compare(b, text->size(), *text) != 0) {
              report_bad_row(bad, options,
                             str_cat(where(path, line_of(a)), "question '", ex.id, "': answer ", tasks::quoted(*text),
                                     " is not at answer_start ", c, " of the context (found ",
                                     b == std::string::npos ? std::string("the end of the context")
                                                            : tasks::quoted(ex.context.substr(b, text->size())),
                                     ")"));
              ok = false;
              break;
            }
            ex.answers.push_back({*text, b});
          }
        }
        if (!ok) continue;
        if (!impossible && ex.answers.empty()) {
          report_bad_row(bad, options,
                         str_cat(q_at, "expected at least one answer (or \"is_impossible\": true, SQuAD v2.0)"));
          continue;
        }
        result.examples.push_back(std::move(ex));
      }
    }
  }
  result.skipped = bad.skipped;
  result.messages = std::move(bad.messages);
  return result;
}

std::vector<QaFeature> prepare_qa_features(const tokenizer::Tokenizer& tok, const std::vector<QaExample>& examples,
                                           const QaFeatureOptions& o) {
  DISTILBERT_CHECK(o.max_seq_len > o.max_query_len + 3 + o.doc_stride, "question answering: max_seq_len (",
                   o.max_seq_len, ") must exceed max_query_len (", o.max_query_len,
                   ") + 3 special tokens + doc_stride (", o.doc_stride,
                   ") so that every window moves forward through the context");
  // 1. Questions longer than max_query_len tokens are cut after that token (run_squad.py's max_query_length;
  //    run_qa.py keeps them whole and fails when no context fits).
  std::vector<tokenizer::TextInput> questions;
  questions.reserve(examples.size());
  for (const auto& e : examples) questions.push_back({e.question, std::nullopt});
  tokenizer::EncodeOptions qo;
  qo.add_special_tokens = false;
  const auto q_enc = tok.encode_batch(questions, qo);
  std::vector<std::string> cut(examples.size());
  std::vector<tokenizer::TextInput> inputs;
  inputs.reserve(examples.size());
  for (std::size_t i = 0; i < examples.size(); ++i) {
    std::string_view q = examples[i].question;
    if (q_enc[i].size() > o.max_query_len) {
      cut[i] = examples[i].question.substr(0, q_enc[i].offsets[o.max_query_len - 1].end);
      q = cut[i];
    }
    inputs.push_back({q, std::string_view(examples[i].context)});
  }
  // 2. [CLS] question [SEP] context window [SEP], windows overlapping by doc_stride tokens.
  tokenizer::EncodeOptions eo;
  eo.truncation = tokenizer::Truncation::only_second;
  eo.max_length = o.max_seq_len;
  eo.stride = o.doc_stride;
  eo.return_overflowing_tokens = true;
  eo.return_token_type_ids = o.token_type_ids;
  eo.offsets = tokenizer::OffsetUnit::bytes;
  const auto encs = tok.encode_batch(inputs, eo);
  const std::int64_t cls_id = tok.special_ids().cls;
  std::vector<QaFeature> features;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    std::vector<tokenizer::Encoding> windows;
    tokenizer::flatten_overflowing(encs[i], windows);
    const auto& ex = examples[i];
    for (auto& w : windows) {
      QaFeature f;
      f.example = i;
      f.ids = std::move(w.ids);
      f.type_ids = std::move(w.type_ids);
      f.offsets = std::move(w.offsets);
      f.is_context.resize(f.ids.size());
      for (std::size_t t = 0; t < f.ids.size(); ++t) f.is_context[t] = w.sequence_ids[t] == 1;
      // Labels from the first answer, as prepare_train_features.
      const auto cls = std::find(f.ids.begin(), f.ids.end(), cls_id);
      const std::int64_t cls_index = cls == f.ids.end() ? 0 : cls - f.ids.begin();
      f.start_position = f.end_position = cls_index;
      const auto first = std::find(f.is_context.begin(), f.is_context.end(), 1);
      if (!ex.answers.empty() && first != f.is_context.end()) {
        const std::size_t start_char = ex.answers[0].start;
        const std::size_t end_char = start_char + ex.answers[0].text.size();
        std::size_t s = static_cast<std::size_t>(first - f.is_context.begin());
        std::size_t e = f.ids.size() - 1;
        while (!f.is_context[e]) --e;
        if (f.offsets[s].begin <= start_char && f.offsets[e].end >= end_char) {
          // The scan stops at the window's last context token (run_qa.py's loop can run on past [SEP] into
          // padding when an answer starts in the window's last token).
          const std::size_t last = e;
          while (s <= last && f.offsets[s].begin <= start_char) ++s;
          f.start_position = static_cast<std::int64_t>(s) - 1;
          while (e > 0 && f.is_context[e] && f.offsets[e].end >= end_char) --e;
          f.end_position = static_cast<std::int64_t>(e) + 1;
        }
      }
      features.push_back(std::move(f));
    }
  }
  return features;
}

namespace {

/// numpy's argsort(x)[-1 : -n - 1 : -1] with a stable sort: the n largest, ties by higher index first.
std::vector<std::size_t> top_indexes(const float* x, std::size_t len, std::size_t n) {
  std::vector<std::size_t> idx(len);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::reverse(idx.begin(), idx.end());
  if (idx.size() > n) idx.resize(n);
  return idx;
}

struct Candidate {
  std::size_t begin = 0, end = 0;  // byte offsets into the context; (0, 0) = the null answer
  double score = 0, start_logit = 0, end_logit = 0;
  bool null = false;
};

}  // namespace

std::vector<std::string> postprocess_qa_predictions(const std::vector<QaExample>& examples,
                                                    const std::vector<QaFeature>& features,
                                                    const std::vector<std::vector<float>>& start_logits,
                                                    const std::vector<std::vector<float>>& end_logits,
                                                    const QaPostprocessOptions& o) {
  DISTILBERT_CHECK(start_logits.size() == features.size() && end_logits.size() == features.size(),
                   "question answering post-processing: expected one row of start and end logits per feature (",
                   features.size(), "), found ", start_logits.size(), " and ", end_logits.size());
  std::vector<std::vector<std::size_t>> per_example(examples.size());
  for (std::size_t f = 0; f < features.size(); ++f) {
    DISTILBERT_CHECK(features[f].example < examples.size(), "question answering post-processing: feature ", f,
                     " refers to example ", features[f].example, " of ", examples.size());
    DISTILBERT_CHECK(start_logits[f].size() >= features[f].ids.size() && end_logits[f].size() >= features[f].ids.size(),
                     "question answering post-processing: feature ", f, " has ", features[f].ids.size(),
                     " tokens but fewer logits");
    per_example[features[f].example].push_back(f);
  }
  std::vector<std::string> answers(examples.size());
  for (std::size_t e = 0; e < examples.size(); ++e) {
    std::optional<Candidate> min_null;
    std::vector<Candidate> prelim;
    for (std::size_t f : per_example[e]) {
      const auto& feat = features[f];
      const float* sl = start_logits[f].data();
      const float* el = end_logits[f].data();
      const std::size_t len = feat.ids.size();
      // The null answer points at [CLS] (position 0), as utils_qa.py.
      const double null_score = static_cast<double>(sl[0]) + el[0];
      if (!min_null || min_null->score > null_score) min_null = Candidate{0, 0, null_score, sl[0], el[0], true};
      const auto starts = top_indexes(sl, len, o.n_best_size);
      const auto ends = top_indexes(el, len, o.n_best_size);
      for (std::size_t s : starts) {
        for (std::size_t t : ends) {
          if (!feat.is_context[s] || !feat.is_context[t]) continue;  // offsets outside the context are None
          if (t < s || t - s + 1 > o.max_answer_length) continue;
          prelim.push_back(Candidate{feat.offsets[s].begin, feat.offsets[t].end,
                                     static_cast<double>(sl[s]) + el[t], sl[s], el[t], false});
        }
      }
    }
    if (o.version_2_with_negative && min_null) prelim.push_back(*min_null);
    std::stable_sort(prelim.begin(), prelim.end(),
                     [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    if (prelim.size() > o.n_best_size) prelim.resize(o.n_best_size);
    if (o.version_2_with_negative && min_null &&
        std::none_of(prelim.begin(), prelim.end(), [](const Candidate& c) { return c.begin == 0 && c.end == 0; }))
      prelim.push_back(*min_null);
    const std::string& context = examples[e].context;
    auto text_of = [&](const Candidate& c) { return context.substr(c.begin, c.end - c.begin); };
    // utils_qa.py puts a placeholder "empty" (score and logits 0) first when nothing, or only the null answer,
    // survived; v1 then answers "empty", v2 compares the null score with that placeholder's 0.
    if (prelim.empty() || (prelim.size() == 1 && text_of(prelim[0]).empty())) {
      const double score_diff = min_null ? min_null->score : 0.0;
      answers[e] = o.version_2_with_negative && score_diff > o.null_score_diff_threshold ? "" : "empty";
      continue;
    }
    if (!o.version_2_with_negative) {
      answers[e] = text_of(prelim[0]);
      continue;
    }
    std::size_t i = 0;
    while (text_of(prelim[i]).empty()) ++i;  // at most one candidate (the null one) is empty: i < size
    const double score_diff = min_null->score - prelim[i].start_logit - prelim[i].end_logit;
    answers[e] = score_diff > o.null_score_diff_threshold ? "" : text_of(prelim[i]);
  }
  return answers;
}

}  // namespace distilbert::tasks
