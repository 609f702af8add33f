// The fine-tuning task families beyond sentence classification, plugged into finetune.cpp's loop
// (finetune_task.h):
//  * squad / squad_v2: SQuAD JSON -> question/context windows (tasks/squad.h) -> ...ForQuestionAnswering; dev
//    answers decoded over every window of a question and scored with the official EM / F1 (percent, as HF's
//    squad / squad_v2 metrics). Distillation: the mean of the start and end KL(T) x T^2, over real tokens
//    (run_squad_w_distillation.py);
//  * conll2003 / ner: CoNLL-format sentences (tasks/conll.h) -> ...ForTokenClassification with tags on first
//    sub-words; dev scored with seqeval on the words (precision, recall, f1, accuracy, as run_ner.py's
//    compute_metrics). A word truncated away is predicted "O" (run_ner drops it from both sides). Distillation:
//    KL(T) x T^2 over the labelled (first sub-word) tokens;
//  * swag: SWAG CSV (tasks/swag.h) -> ...ForMultipleChoice over (B, C, T); accuracy. Distillation: KL(T) x T^2
//    over the choices.
#include <filesystem>
#include <iostream>
#include <numeric>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/tasks/conll.h"
#include "distilbert/tasks/metrics.h"
#include "distilbert/tasks/squad.h"
#include "distilbert/tasks/swag.h"
#include "distilbert/train/distill_loss.h"
#include "distilbert/train/finetune_task.h"
#include "distilbert/train/precision.h"

namespace distilbert {

namespace fs = std::filesystem;

ModelInputs pad_batch(const std::vector<const std::vector<int64_t>*>& ids,
                      const std::vector<const std::vector<int64_t>*>& types, int64_t pad_id, torch::Device device) {
  size_t T = 0;
  for (const auto* row : ids) T = std::max(T, row->size());
  const int64_t B = static_cast<int64_t>(ids.size());
  auto in_ids = torch::full({B, static_cast<int64_t>(T)}, pad_id, torch::kLong);
  auto mask = torch::zeros({B, static_cast<int64_t>(T)}, torch::kLong);
  auto in_types = torch::zeros({B, static_cast<int64_t>(T)}, torch::kLong);
  auto ia = in_ids.accessor<int64_t, 2>(), ma = mask.accessor<int64_t, 2>(), ta = in_types.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& row = *ids[static_cast<size_t>(b)];
    for (size_t t = 0; t < row.size(); ++t) {
      ia[b][static_cast<int64_t>(t)] = row[t];
      ma[b][static_cast<int64_t>(t)] = 1;
      if (!types.empty()) ta[b][static_cast<int64_t>(t)] = (*types[static_cast<size_t>(b)])[t];
    }
  }
  ModelInputs in;
  in.input_ids = in_ids.to(device);
  in.attention_mask = mask.to(device);
  if (!types.empty()) in.token_type_ids = in_types.to(device);
  return in;
}

// Batches of `n` units in order, `size` at a time.
std::vector<std::vector<size_t>> eval_batches(size_t n, int64_t size) {
  std::vector<std::vector<size_t>> out;
  for (size_t begin = 0; begin < n; begin += static_cast<size_t>(size)) {
    std::vector<size_t> idx(std::min(n - begin, static_cast<size_t>(size)));
    std::iota(idx.begin(), idx.end(), begin);
    out.push_back(std::move(idx));
  }
  return out;
}

namespace {

/// train_file / dev_file when given, else data_dir's file of the published layout.
std::string data_file(const FinetuneRecipe& r, const std::string& given, const std::string& name) {
  return given.empty() ? (fs::path(r.data_dir) / name).string() : given;
}

/// The padded batch of features `idx` (QA windows, token-classification sentences: anything with ids and type_ids).
template <class Feature>
ModelInputs collate_features(const std::vector<Feature>& f, const std::vector<size_t>& idx, int64_t pad_id,
                             torch::Device device) {
  std::vector<const std::vector<int64_t>*> ids, types;
  for (size_t i : idx) {
    ids.push_back(&f[i].ids);
    if (!f[i].type_ids.empty()) types.push_back(&f[i].type_ids);
  }
  return pad_batch(ids, types, pad_id, device);
}

template <class T>
void limit(std::vector<T>& v, int64_t n) {
  if (n > 0 && static_cast<int64_t>(v.size()) > n) v.resize(static_cast<size_t>(n));
}

void report(const std::string& file, size_t skipped, const std::vector<std::string>& messages) {
  if (skipped) std::cerr << "[finetune] " << file << ": skipped " << skipped << " malformed row(s)\n";
  for (const auto& m : messages) std::cerr << "  " << m << "\n";
}

tasks::ReadOptions read_options(const FinetuneRecipe& r) {
  tasks::ReadOptions ro;
  ro.policy = r.bad_rows == "skip" ? tasks::BadRowPolicy::Skip : tasks::BadRowPolicy::Fail;
  return ro;
}


/// Evaluation mode for the lifetime of the guard (no gradients, dropout off), then back to training.
struct EvalGuard {
  explicit EvalGuard(PretrainedModel& m) : model(m) { model.eval(); }
  ~EvalGuard() { model.train(); }
  PretrainedModel& model;
  torch::NoGradGuard no_grad;
};

// ---- question answering -----------------------------------------------------------------------------------------

class QuestionAnsweringTask : public FinetuneTask {
 public:
  QuestionAnsweringTask(const FinetuneRecipe& r, bool need_train) : r_(r), v2_(r.task == "squad_v2") {
    const auto ro = read_options(r);
    const std::string suffix = v2_ ? "v2.0.json" : "v1.1.json";
    auto read = [&](const std::string& path) {
      auto res = tasks::read_squad_file(path, ro);
      report(path, res.skipped, res.messages);
      DISTILBERT_CHECK(v2_ || !res.version_2, "task squad (SQuAD v1.1) cannot score '", path,
                       "': it has unanswerable (is_impossible) questions; use task squad_v2");
      return std::move(res.examples);
    };
    if (need_train) {
      const auto path = data_file(r, r.train_file, "train-" + suffix);
      train_ = read(path);
      limit(train_, r.limit_train);
      DISTILBERT_CHECK(!train_.empty(), "task '", r.task, "': no training questions in '", path, "'");
    }
    const auto dev = data_file(r, r.dev_file, "dev-" + suffix);
    dev_ = read(dev);
    limit(dev_, r.limit_eval);
    DISTILBERT_CHECK(!dev_.empty(), "task '", r.task, "': no evaluation questions in '", dev, "'");
  }
  Head head() const override { return Head::QuestionAnswering; }
  int64_t num_labels() const override { return 2; }  // start, end
  void configure(ModelConfig& c) const override {
    c.id2label.clear();
    c.extra["finetuning_task"] = r_.task;
  }
  void encode(const tokenizer::Tokenizer& tok, bool train_types, bool eval_types) override {
    tasks::QaFeatureOptions o;
    o.max_seq_len = static_cast<size_t>(r_.max_seq_len);
    o.doc_stride = static_cast<size_t>(r_.doc_stride);
    o.max_query_len = static_cast<size_t>(r_.max_query_len);
    o.token_type_ids = train_types;
    train_features_ = tasks::prepare_qa_features(tok, train_, o);
    o.token_type_ids = eval_types;
    dev_features_ = tasks::prepare_qa_features(tok, dev_, o);
  }
  int64_t train_size() const override { return static_cast<int64_t>(train_features_.size()); }
  ModelInputs train_batch(const std::vector<size_t>& idx, int64_t pad_id, torch::Device device) const override {
    auto in = collate_features(train_features_, idx, pad_id, device);
    std::vector<int64_t> starts, ends;
    for (size_t i : idx) {
      starts.push_back(train_features_[i].start_position);
      ends.push_back(train_features_[i].end_position);
    }
    in.start_positions = torch::tensor(starts).to(device);
    in.end_positions = torch::tensor(ends).to(device);
    return in;
  }
  torch::Tensor distill_loss(const ModelOutput& s, const ModelOutput& t, const ModelInputs& batch,
                             double T) const override {
    // Padding positions get a logit of -1e9 on both sides: probability 0, so they add nothing to the KL (the
    // reference pads every window to max_seq_len and keeps those positions; with dynamic padding they would make
    // the loss depend on the batch's longest window).
    const auto pad = batch.attention_mask.eq(0);
    auto kl = [&](const torch::Tensor& a, const torch::Tensor& b) {
      return soft_target_kl(a.to(torch::kFloat).masked_fill(pad, -1e9), b.to(torch::kFloat).masked_fill(pad, -1e9), T);
    };
    return (kl(s.start_logits, t.start_logits) + kl(s.end_logits, t.end_logits)) / 2;
  }
  std::string distill_description(double T) const override {
    return "(KL(start, T=" + std::to_string(T) + ") + KL(end)) / 2 x T^2";
  }
  std::map<std::string, double> evaluate(PretrainedModel& model, const FinetuneRecipe& r, torch::Device device,
                                         int64_t pad_id) const override {
    std::vector<std::vector<float>> starts(dev_features_.size()), ends(dev_features_.size());
    {
      EvalGuard guard(model);
      for (const auto& idx : eval_batches(dev_features_.size(), r.eval_batch_size)) {
        AutocastScope autocast(r.precision, device);
        const auto out = model.forward(collate_features(dev_features_, idx, pad_id, device));
        const auto sl = out.start_logits.to(torch::kCPU, torch::kFloat).contiguous();
        const auto el = out.end_logits.to(torch::kCPU, torch::kFloat).contiguous();
        for (size_t b = 0; b < idx.size(); ++b) {
          const auto len = static_cast<int64_t>(dev_features_[idx[b]].ids.size());
          const float* sp = sl[static_cast<int64_t>(b)].data_ptr<float>();
          const float* ep = el[static_cast<int64_t>(b)].data_ptr<float>();
          starts[idx[b]].assign(sp, sp + len);
          ends[idx[b]].assign(ep, ep + len);
        }
      }
    }
    tasks::QaPostprocessOptions po;
    po.n_best_size = static_cast<size_t>(r.n_best_size);
    po.max_answer_length = static_cast<size_t>(r.max_answer_len);
    po.version_2_with_negative = v2_;
    po.null_score_diff_threshold = r.null_score_diff_threshold;
    const auto predictions = tasks::postprocess_qa_predictions(dev_, dev_features_, starts, ends, po);
    std::vector<std::vector<std::string>> golds;
    for (const auto& e : dev_) {
      golds.emplace_back();
      for (const auto& a : e.answers) golds.back().push_back(a.text);
    }
    if (!v2_) {
      const auto sc = tasks::squad_v1_evaluate(predictions, golds);
      return {{"exact_match", sc.exact_match}, {"f1", sc.f1}};
    }
    const auto sc = tasks::squad_v2_evaluate(predictions, golds);
    std::map<std::string, double> m = {{"exact_match", sc.exact_match}, {"f1", sc.f1}};
    if (sc.has_ans_total) m["HasAns_exact"] = sc.has_ans_exact, m["HasAns_f1"] = sc.has_ans_f1;
    if (sc.no_ans_total) m["NoAns_exact"] = sc.no_ans_exact, m["NoAns_f1"] = sc.no_ans_f1;
    return m;
  }
  std::string main_metric() const override { return "f1"; }

 private:
  const FinetuneRecipe& r_;
  bool v2_;
  std::vector<tasks::QaExample> train_, dev_;
  std::vector<tasks::QaFeature> train_features_, dev_features_;
};

// ---- token classification ---------------------------------------------------------------------------------------

class TokenClassificationTask : public FinetuneTask {
 public:
  TokenClassificationTask(const FinetuneRecipe& r, bool need_train) : r_(r) {
    tasks::ConllReadOptions co;
    co.read = read_options(r);
    if (r.task == "conll2003") {
      co.label_names = tasks::conll2003_ner_labels();
      co.columns = 4;
    } else if (!r.label_names.empty()) {
      co.label_names = r.label_names;
    }
    const auto train_path = data_file(r, r.train_file, "train.txt");
    // The tags are discovered in the train file when not given (also for evaluation, so that the ids agree).
    if (need_train || !co.label_names) {
      auto res = tasks::read_conll_file(train_path, co);
      report(train_path, res.skipped, res.messages);
      labels_ = res.label_names;
      train_ = std::move(res.sentences);
      limit(train_, r.limit_train);
      DISTILBERT_CHECK(!need_train || !train_.empty(), "task '", r.task, "': no training sentences in '", train_path,
                       "'");
    }
    if (co.label_names) labels_ = *co.label_names;
    co.label_names = labels_;
    const auto dev_path = data_file(r, r.dev_file, "valid.txt");
    auto dev = tasks::read_conll_file(dev_path, co);
    report(dev_path, dev.skipped, dev.messages);
    dev_ = std::move(dev.sentences);
    limit(dev_, r.limit_eval);
    DISTILBERT_CHECK(!dev_.empty(), "task '", r.task, "': no evaluation sentences in '", dev_path, "'");
    DISTILBERT_CHECK(labels_.size() >= 2, "task '", r.task, "': expected at least two tags, found ", labels_.size());
  }
  Head head() const override { return Head::TokenClassification; }
  int64_t num_labels() const override { return static_cast<int64_t>(labels_.size()); }
  void configure(ModelConfig& c) const override {
    c.id2label.clear();
    for (size_t i = 0; i < labels_.size(); ++i) c.id2label[static_cast<int64_t>(i)] = labels_[i];
    c.extra["finetuning_task"] = "ner";
  }
  void encode(const tokenizer::Tokenizer& tok, bool train_types, bool eval_types) override {
    train_features_ = tasks::encode_token_examples(tok, train_, static_cast<size_t>(r_.max_seq_len), train_types);
    dev_features_ = tasks::encode_token_examples(tok, dev_, static_cast<size_t>(r_.max_seq_len), eval_types);
  }
  int64_t train_size() const override { return static_cast<int64_t>(train_features_.size()); }
  ModelInputs train_batch(const std::vector<size_t>& idx, int64_t pad_id, torch::Device device) const override {
    auto in = collate_features(train_features_, idx, pad_id, device);
    auto labels = torch::full(in.input_ids.sizes(), -100, torch::kLong);
    auto la = labels.accessor<int64_t, 2>();
    for (size_t b = 0; b < idx.size(); ++b) {
      const auto& l = train_features_[idx[b]].labels;
      for (size_t t = 0; t < l.size(); ++t) la[static_cast<int64_t>(b)][static_cast<int64_t>(t)] = l[t];
    }
    in.labels = labels.to(device);
    return in;
  }
  torch::Tensor distill_loss(const ModelOutput& s, const ModelOutput& t, const ModelInputs& batch,
                             double T) const override {
    const auto rows = batch.labels.ne(-100);  // (B, T): the first sub-word of each word, the tokens scored
    if (rows.sum().item<int64_t>() == 0) return torch::zeros({}, s.logits.options().dtype(torch::kFloat));
    return soft_target_kl(s.logits.to(torch::kFloat).index({rows}), t.logits.to(torch::kFloat).index({rows}), T);
  }
  std::string distill_description(double T) const override {
    return "KL(T=" + std::to_string(T) + ") x T^2 over the words' first sub-words";
  }
  std::map<std::string, double> evaluate(PretrainedModel& model, const FinetuneRecipe& r, torch::Device device,
                                         int64_t pad_id) const override {
    std::vector<std::vector<std::string>> preds(dev_.size()), refs(dev_.size());
    {
      EvalGuard guard(model);
      for (const auto& idx : eval_batches(dev_features_.size(), r.eval_batch_size)) {
        AutocastScope autocast(r.precision, device);
        const auto logits = model.forward(collate_features(dev_features_, idx, pad_id, device)).logits;
        const auto best = logits.argmax(-1).to(torch::kCPU).contiguous();
        for (size_t b = 0; b < idx.size(); ++b) {
          const size_t i = idx[b];
          const int64_t* row = best[static_cast<int64_t>(b)].data_ptr<int64_t>();
          preds[i] = tasks::word_predictions(dev_features_[i], std::vector<int64_t>(row, row + best.size(1)), labels_);
          for (int tag : dev_[i].tags) refs[i].push_back(labels_[static_cast<size_t>(tag)]);
        }
      }
    }
    const auto sc = tasks::seqeval(preds, refs);
    return {{"precision", sc.overall.precision}, {"recall", sc.overall.recall}, {"f1", sc.overall.f1},
            {"accuracy", sc.accuracy}};
  }
  std::string main_metric() const override { return "f1"; }

 private:
  const FinetuneRecipe& r_;
  std::vector<std::string> labels_;
  std::vector<tasks::TokenExample> train_, dev_;
  std::vector<tasks::TokenFeature> train_features_, dev_features_;
};

// ---- multiple choice --------------------------------------------------------------------------------------------

class MultipleChoiceTask : public FinetuneTask {
 public:
  MultipleChoiceTask(const FinetuneRecipe& r, bool need_train) : r_(r) {
    const auto ro = read_options(r);
    auto read = [&](const std::string& path) {
      auto res = tasks::read_swag_file(path, ro);
      report(path, res.skipped, res.messages);
      DISTILBERT_CHECK(res.has_labels, "task '", r.task, "': '", path,
                       "' has no label column (an unlabeled test file?)");
      DISTILBERT_CHECK(choices_ == 0 || choices_ == res.num_choices, "task '", r.task, "': '", path, "' has ",
                       res.num_choices, " endings per example but the train file has ", choices_);
      choices_ = res.num_choices;
      return std::move(res.examples);
    };
    if (need_train) {
      const auto path = data_file(r, r.train_file, "train.csv");
      train_ = read(path);
      limit(train_, r.limit_train);
      DISTILBERT_CHECK(!train_.empty(), "task '", r.task, "': no training examples in '", path, "'");
    }
    const auto dev = data_file(r, r.dev_file, "val.csv");
    dev_ = read(dev);
    limit(dev_, r.limit_eval);
    DISTILBERT_CHECK(!dev_.empty(), "task '", r.task, "': no evaluation examples in '", dev, "'");
  }
  Head head() const override { return Head::MultipleChoice; }
  // HF's default: the multiple-choice head has one output per choice whatever num_labels says.
  int64_t num_labels() const override { return 2; }
  void configure(ModelConfig& c) const override {
    c.id2label.clear();
    c.extra["finetuning_task"] = r_.task;
  }
  void encode(const tokenizer::Tokenizer& tok, bool train_types, bool eval_types) override {
    train_features_ = tasks::encode_choice_examples(tok, train_, static_cast<size_t>(r_.max_seq_len), train_types);
    dev_features_ = tasks::encode_choice_examples(tok, dev_, static_cast<size_t>(r_.max_seq_len), eval_types);
  }
  int64_t train_size() const override { return static_cast<int64_t>(train_features_.size()); }
  ModelInputs train_batch(const std::vector<size_t>& idx, int64_t pad_id, torch::Device device) const override {
    auto in = collate(train_features_, idx, pad_id, device);
    std::vector<int64_t> labels;
    for (size_t i : idx) labels.push_back(train_features_[i].label);
    in.labels = torch::tensor(labels).to(device);
    return in;
  }
  torch::Tensor distill_loss(const ModelOutput& s, const ModelOutput& t, const ModelInputs&, double T) const override {
    return soft_target_kl(s.logits.to(torch::kFloat), t.logits.to(torch::kFloat), T);  // (B, C)
  }
  std::string distill_description(double T) const override {
    return "KL(T=" + std::to_string(T) + ") x T^2 over the choices";
  }
  std::map<std::string, double> evaluate(PretrainedModel& model, const FinetuneRecipe& r, torch::Device device,
                                         int64_t pad_id) const override {
    std::vector<int> preds, labels;
    {
      EvalGuard guard(model);
      for (const auto& idx : eval_batches(dev_features_.size(), r.eval_batch_size)) {
        AutocastScope autocast(r.precision, device);
        const auto best = model.forward(collate(dev_features_, idx, pad_id, device)).logits.argmax(-1).to(torch::kCPU);
        for (size_t b = 0; b < idx.size(); ++b) {
          preds.push_back(static_cast<int>(best[static_cast<int64_t>(b)].item<int64_t>()));
          labels.push_back(dev_features_[idx[b]].label);
        }
      }
    }
    return {{"accuracy", tasks::accuracy(preds, labels)}};
  }
  std::string main_metric() const override { return "accuracy"; }

 private:
  /// The examples' B x C sequences padded together, then viewed as (B, C, T).
  ModelInputs collate(const std::vector<tasks::ChoiceFeature>& f, const std::vector<size_t>& idx, int64_t pad_id,
                      torch::Device device) const {
    std::vector<const std::vector<int64_t>*> ids, types;
    for (size_t i : idx) {
      for (size_t c = 0; c < f[i].ids.size(); ++c) {
        ids.push_back(&f[i].ids[c]);
        if (!f[i].type_ids[c].empty()) types.push_back(&f[i].type_ids[c]);
      }
    }
    auto in = pad_batch(ids, types, pad_id, device);
    const auto B = static_cast<int64_t>(idx.size()), C = static_cast<int64_t>(choices_);
    in.input_ids = in.input_ids.view({B, C, -1});
    in.attention_mask = in.attention_mask.view({B, C, -1});
    if (in.token_type_ids.defined()) in.token_type_ids = in.token_type_ids.view({B, C, -1});
    return in;
  }

  const FinetuneRecipe& r_;
  size_t choices_ = 0;
  std::vector<tasks::ChoiceExample> train_, dev_;
  std::vector<tasks::ChoiceFeature> train_features_, dev_features_;
};

}  // namespace

std::unique_ptr<FinetuneTask> make_heads_task(const FinetuneRecipe& r, bool need_train) {
  if (r.task == "squad" || r.task == "squad_v2") return std::make_unique<QuestionAnsweringTask>(r, need_train);
  if (r.task == "conll2003" || r.task == "ner") return std::make_unique<TokenClassificationTask>(r, need_train);
  if (r.task == "swag") return std::make_unique<MultipleChoiceTask>(r, need_train);
  fail("task '", r.task, "' is not a question-answering, token-classification or multiple-choice task");
}

}  // namespace distilbert
