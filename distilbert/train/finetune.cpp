// Fine-tuning's tasks and model set-up, and evaluation; see finetune.h (the training recipe is finetune_run.cpp).
#include "distilbert/train/finetune.h"

#include <algorithm>

#include <filesystem>
#include <iostream>
#include <numeric>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/text.h"
#include "distilbert/core/fs.h"
#include "distilbert/core/runtime.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/tasks/glue.h"
#include "distilbert/tasks/metrics.h"
#include "distilbert/tasks/user_data.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/train/distill_loss.h"
#include "distilbert/train/finetune_task.h"
#include "distilbert/train/finetune_setup.h"
#include "distilbert/train/finetuned_classifier.h"
#include "distilbert/train/train_core.h"
#include "distilbert/train/memory_estimate.h"
#include "distilbert/train/optim.h"
#include "distilbert/train/precision.h"

namespace distilbert {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct TaskData {
  std::string metric_task;  // glue metric name ("sst2", ...) or "custom"
  bool regression = false;
  std::vector<std::string> label_names;
  std::vector<tasks::Example> train;
  std::vector<std::pair<std::string, std::vector<tasks::Example>>> evals;  // ("", dev) and ("_mm", dev_mismatched)
};

// need_eval false: labels and layout only (predicting a test split needs no dev file).
TaskData read_task(const FinetuneRecipe& r, bool need_train, bool need_eval = true) {
  TaskData d;
  tasks::ReadOptions ro;
  ro.policy = r.bad_rows == "skip" ? tasks::BadRowPolicy::Skip : tasks::BadRowPolicy::Fail;
  auto report = [](const std::string& what, const tasks::ReadResult& res) {
    if (res.skipped) std::cerr << "[finetune] " << what << ": skipped " << res.skipped << " malformed row(s)\n";
    for (const auto& m : res.messages) std::cerr << "  " << m << "\n";
  };
  auto limit = [](std::vector<tasks::Example> v, int64_t n) {
    if (n > 0 && static_cast<int64_t>(v.size()) > n) v.resize(static_cast<size_t>(n));
    return v;
  };
  if (r.task == "custom") {
    tasks::UserDataOptions uo;
    uo.text_column = r.text_column;
    if (!r.text_pair_column.empty()) uo.text_pair_column = r.text_pair_column;
    uo.label_column = r.label_column;
    if (!r.label_names.empty()) uo.label_names = r.label_names;
    uo.regression = r.regression;
    uo.read = ro;
    auto train = tasks::read_user_data(r.train_file, uo);
    report(r.train_file, train);
    uo.label_names = train.label_names;
    auto dev = tasks::read_user_data(r.dev_file, uo);
    report(r.dev_file, dev);
    d.metric_task = "custom";
    d.regression = r.regression;
    d.label_names = train.label_names;
    d.train = limit(std::move(train.examples), r.limit_train);
    d.evals.emplace_back("", limit(std::move(dev.examples), r.limit_eval));
    return d;
  }
  const auto task = tasks::parse_glue_task(r.task);
  d.metric_task = tasks::glue_task_name(task);
  d.regression = tasks::glue_is_regression(task);
  d.label_names = tasks::glue_label_names(task);
  // Training and scoring need labels: a file without its label column (a test split) would train on label -1 or
  // score every prediction wrong.
  auto read = [&](const std::string& split) {
    auto res = tasks::read_glue_split(task, r.data_dir, split, ro);
    report(split, res);
    DISTILBERT_CHECK(res.has_labels, "task '", r.task,
                     "': ", (fs::path(r.data_dir) / tasks::glue_split_file(task, split)).string(),
                     " has no label column, but the ", split, " split needs its labels (an unlabelled test file?)");
    return res;
  };
  if (need_train) {
    auto train = read("train");
    d.train = limit(std::move(train.examples), r.limit_train);
  }
  if (!need_eval) return d;
  if (task == tasks::GlueTask::MNLI) {
    auto m = read("validation_matched");
    d.evals.emplace_back("", limit(std::move(m.examples), r.limit_eval));
    if (fs::exists(fs::path(r.data_dir) / tasks::glue_split_file(task, "validation_mismatched"))) {
      auto mm = read("validation_mismatched");
      d.evals.emplace_back("_mm", limit(std::move(mm.examples), r.limit_eval));
    }
  } else {
    auto dev = read("validation");
    d.evals.emplace_back("", limit(std::move(dev.examples), r.limit_eval));
  }
  return d;
}

struct Encoded {
  std::vector<std::vector<int64_t>> ids, types;
};

Encoded encode_all(const tokenizer::Tokenizer& tok, const std::vector<tasks::Example>& ex, int64_t max_len, bool types) {
  std::vector<tokenizer::TextInput> inputs;
  inputs.reserve(ex.size());
  for (const auto& e : ex) {
    tokenizer::TextInput in;
    in.text = e.text_a;
    if (e.text_b) in.pair = std::string_view(*e.text_b);
    inputs.push_back(in);
  }
  tokenizer::EncodeOptions o;
  o.truncation = tokenizer::Truncation::longest_first;
  o.max_length = static_cast<size_t>(max_len);
  o.return_token_type_ids = types;
  auto encs = tok.encode_batch(inputs, o);
  Encoded out;
  for (auto& e : encs) {
    out.ids.push_back(std::move(e.ids));
    if (types) out.types.push_back(std::move(e.type_ids));
  }
  return out;
}

// Pad the chosen examples to the longest (dynamic padding; the mask makes it equal to max_length padding).
ModelInputs collate(const Encoded& enc, const std::vector<size_t>& idx, int64_t pad_id, torch::Device device) {
  std::vector<const std::vector<int64_t>*> ids, types;
  for (size_t i : idx) {
    ids.push_back(&enc.ids[i]);
    if (!enc.types.empty()) types.push_back(&enc.types[i]);
  }
  return pad_batch(ids, types, pad_id, device);
}

torch::Tensor labels_of(const std::vector<tasks::Example>& ex, const std::vector<size_t>& idx, bool regression) {
  if (regression) {
    std::vector<float> v;
    for (size_t i : idx) v.push_back(ex[i].score);
    return torch::tensor(v);
  }
  std::vector<int64_t> v;
  for (size_t i : idx) v.push_back(ex[i].label);
  return torch::tensor(v);
}

std::map<std::string, double> evaluate_classification(PretrainedModel& model, const TaskData& d,
                                                      const std::vector<Encoded>& encoded, const FinetuneRecipe& r,
                                                      torch::Device device, int64_t pad_id) {
  model.eval();
  torch::NoGradGuard no_grad;
  std::map<std::string, double> out;
  for (size_t e = 0; e < d.evals.size(); ++e) {
    const auto& [suffix, ex] = d.evals[e];
    std::vector<double> preds, labels;
    for (size_t begin = 0; begin < ex.size(); begin += static_cast<size_t>(r.eval_batch_size)) {
      std::vector<size_t> idx(std::min(ex.size() - begin, static_cast<size_t>(r.eval_batch_size)));
      std::iota(idx.begin(), idx.end(), begin);
      AutocastScope autocast(r.precision, device);
      auto logits = model.forward(collate(encoded[e], idx, pad_id, device)).logits.to(torch::kCPU, torch::kFloat64);
      auto p = d.regression ? logits.view({-1}) : logits.argmax(-1).to(torch::kFloat64);
      for (int64_t i = 0; i < p.size(0); ++i) preds.push_back(p[i].item<double>());
      for (size_t i : idx) labels.push_back(d.regression ? ex[i].score : ex[i].label);
    }
    tasks::MetricList m;
    if (d.metric_task == "custom") {
      if (d.regression) {
        m = {{"pearson", tasks::pearson(preds, labels)}, {"spearmanr", tasks::spearman(preds, labels)}};
      } else {
        std::vector<int> pi(preds.begin(), preds.end()), li(labels.begin(), labels.end());
        m = {{"accuracy", tasks::accuracy(pi, li)}};
      }
    } else {
      m = tasks::glue_metrics(d.metric_task, preds, labels);
    }
    for (const auto& [k, v] : m) out[k + suffix] = v;
  }
  model.train();
  return out;
}

std::string main_metric(const TaskData& d) {
  if (d.metric_task == "custom") return d.regression ? "pearson" : "accuracy";
  return tasks::glue_main_metric(d.metric_task);
}

/// Sentence(-pair) classification and regression: GLUE or custom files.
class ClassificationTask : public FinetuneTask {
 public:
  ClassificationTask(const FinetuneRecipe& r, bool need_train, bool need_eval = true)
      : r_(r), d_(read_task(r, need_train, need_eval)) {
    if (need_train) DISTILBERT_CHECK(!d_.train.empty(), "task '", r.task, "': no training examples");
    for (const auto& [suffix, ex] : d_.evals)
      DISTILBERT_CHECK(!ex.empty(), "task '", r.task, "': no evaluation examples");
  }
  Head head() const override { return Head::SequenceClassification; }
  int64_t num_labels() const override {
    return d_.regression ? 1 : static_cast<int64_t>(d_.label_names.size());
  }
  void configure(ModelConfig& c) const override {
    c.problem_type = d_.regression ? "regression" : "single_label_classification";
    c.id2label.clear();
    for (size_t i = 0; i < d_.label_names.size(); ++i) c.id2label[static_cast<int64_t>(i)] = d_.label_names[i];
    if (r_.task != "custom") c.extra["finetuning_task"] = d_.metric_task;
  }
  void encode(const tokenizer::Tokenizer& tok, bool train_types, bool eval_types) override {
    train_ = encode_all(tok, d_.train, r_.max_seq_len, train_types);
    evals_.clear();
    for (const auto& [suffix, ex] : d_.evals) evals_.push_back(encode_all(tok, ex, r_.max_seq_len, eval_types));
  }
  int64_t train_size() const override { return static_cast<int64_t>(d_.train.size()); }
  ModelInputs train_batch(const std::vector<size_t>& idx, int64_t pad_id, torch::Device device) const override {
    auto in = collate(train_, idx, pad_id, device);
    in.labels = labels_of(d_.train, idx, d_.regression).to(device);
    return in;
  }
  torch::Tensor distill_loss(const ModelOutput& student, const ModelOutput& teacher, const ModelInputs&,
                             double T) const override {
    const auto s = student.logits.to(torch::kFloat), t = teacher.logits.to(torch::kFloat);
    return d_.regression ? torch::mse_loss(s, t) : soft_target_kl(s, t, T);
  }
  std::string distill_description(double T) const override {
    return d_.regression ? "MSE(student, teacher)" : "KL(T=" + std::to_string(T) + ") x T^2";
  }
  std::map<std::string, double> evaluate(PretrainedModel& model, const FinetuneRecipe& r, torch::Device device,
                                         int64_t pad_id) const override {
    return evaluate_classification(model, d_, evals_, r, device, pad_id);
  }
  std::string main_metric() const override { return distilbert::main_metric(d_); }

 private:
  const FinetuneRecipe& r_;
  TaskData d_;
  Encoded train_;
  std::vector<Encoded> evals_;
};

}  // namespace

std::unique_ptr<FinetuneTask> make_task(const FinetuneRecipe& r, bool need_train) {
  if (is_heads_task(r.task)) return make_heads_task(r, need_train);
  return std::make_unique<ClassificationTask>(r, need_train);
}

Setup setup(const FinetuneRecipe& r, const std::string& model_dir, const FinetuneTask& task, bool quiet,
            const RunContext* ctx) {
  Setup s;
  if (ctx) {
    s.threads = ctx->threads;
    s.device = ctx->device;
  } else {
    s.threads = set_threads(r.threads);
    keep_freed_memory();  // the same large tensors every step: reuse their pages (see core/runtime.h)
    s.device = parse_device(r.device);
  }
  const std::string tok_path = r.tokenizer.empty() ? model_dir : r.tokenizer;
  s.tok = tokenizer::load_tokenizer(tok_path);
  LoadOptions lo;
  lo.head = task.head();
  lo.num_labels = task.num_labels();
  lo.verbose = !quiet;
  torch::manual_seed(r.seed);
  auto loaded = load_model_folder(model_dir, lo);
  s.model = loaded.model;
  s.newly_initialized = loaded.report.newly_initialized;
  check_tokenizer_fits(s.tok->vocab_size(), s.model->config(), tok_path, model_dir);
  task.configure(s.model->mutable_config());
  s.model->to(s.device);
  return s;
}

/// Scoring or predicting with a head the folder lacks reports the accuracy of random weights: refused, as HF's
/// pipelines refuse, unless the caller asks for a fresh head.
void require_trained_head(const Setup& s, const std::string& model_dir, const std::string& task, bool fresh_head) {
  if (s.newly_initialized.empty() || fresh_head) return;
  fail("model folder '", model_dir, "' has no trained ", s.model->architecture(), " head for task '", task,
       "' (missing: ", join(s.newly_initialized, ", "), "): fine-tune it first (distilbert finetune), or pass "
       "--fresh-head to score a randomly initialised head");
}

std::map<std::string, double> evaluate_model(const FinetuneRecipe& r, const std::string& model_dir, bool fresh_head) {
  const auto task = make_task(r, false);
  auto s = setup(r, model_dir, *task, true);
  require_trained_head(s, model_dir, r.task, fresh_head);
  const bool types = s.model->config().model_type == ModelType::Bert;
  task->encode(*s.tok, types, types);
  return task->evaluate(*s.model, r, s.device, s.tok->special_ids().pad);
}

FinetunedClassifier load_finetuned_classifier(const FinetuneRecipe& r, const std::string& model_dir, bool fresh_head) {
  ClassificationTask head(r, false, false);  // head, labels and config as fine-tuning made them; no train/dev read
  auto s = setup(r, model_dir, head, true);
  require_trained_head(s, model_dir, r.task, fresh_head);
  s.model->eval();
  return {s.tok, s.model, s.device};
}

void classify_examples(const FinetunedClassifier& c, const FinetuneRecipe& r, const std::vector<tasks::Example>& ex,
                       const std::function<void(size_t begin, const torch::Tensor& logits)>& on_batch) {
  const bool types = c.model->config().model_type == ModelType::Bert;
  const int64_t pad_id = c.tok->special_ids().pad;
  torch::NoGradGuard no_grad;
  const Encoded enc = encode_all(*c.tok, ex, r.max_seq_len, types);
  for (size_t begin = 0; begin < ex.size(); begin += static_cast<size_t>(r.eval_batch_size)) {
    std::vector<size_t> idx(std::min(ex.size() - begin, static_cast<size_t>(r.eval_batch_size)));
    std::iota(idx.begin(), idx.end(), begin);
    AutocastScope autocast(r.precision, c.device);
    on_batch(begin, c.model->forward(collate(enc, idx, pad_id, c.device)).logits.to(torch::kCPU, torch::kFloat));
  }
}


}  // namespace distilbert
