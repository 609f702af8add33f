// Fine-tuning and evaluation; see finetune.h.
#include "distilbert/train/finetune.h"

#include <algorithm>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <random>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/text.h"
#include "distilbert/core/fs.h"
#include "distilbert/core/runtime.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/tasks/glue.h"
#include "distilbert/dist/comm.h"
#include "distilbert/dist/grad_sync.h"
#include "distilbert/tasks/metrics.h"
#include "distilbert/tasks/user_data.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/train/distill_loss.h"
#include "distilbert/train/finetune_task.h"
#include "distilbert/train/finetuned_classifier.h"
#include "distilbert/train/memory_estimate.h"
#include "distilbert/train/optim.h"
#include "distilbert/train/precision.h"
#include "distilbert/train/run_log.h"

namespace distilbert {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

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

std::unique_ptr<FinetuneTask> make_task(const FinetuneRecipe& r, bool need_train) {
  if (is_heads_task(r.task)) return make_heads_task(r, need_train);
  return std::make_unique<ClassificationTask>(r, need_train);
}

struct Setup {
  std::shared_ptr<tokenizer::Tokenizer> tok;
  ModelPtr model;
  std::vector<std::string> newly_initialized;  // head weights the folder lacked (random until trained)
  torch::Device device = torch::kCPU;
  int threads = 1;
};

Setup setup(const FinetuneRecipe& r, const std::string& model_dir, const FinetuneTask& task, bool quiet,
            const dist::DistEnv& env = {}) {
  Setup s;
  // Several processes share the machine's CPUs, and `device: cuda` means the GPU of each one's LOCAL_RANK.
  s.threads = dist::set_rank_threads(env, r.threads);
  keep_freed_memory();  // the same large tensors every step: reuse their pages (see runtime.h)
  s.device = dist::rank_device(env, r.device);
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

}  // namespace

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

FinetuneSummary run_finetune(const FinetuneRecipe& r, bool overwrite) {
  FinetuneSummary summary;
  const auto t0 = Clock::now();
  const bool progress_tty = ::isatty(STDERR_FILENO) == 1;
  const fs::path out(r.output_dir);
  const auto env = dist::DistEnv::from_environment();
  const std::string tag = env.enabled() ? "[finetune rank " + std::to_string(env.rank) + "] " : "[finetune] ";
  // Rank 0 prepares the output folder and writes everything; the other ranks wait for its verdict.
  std::string setup_error;
  if (env.is_main()) {
    try {
      if (fs::exists(out) && !fs::is_empty(out))
        DISTILBERT_CHECK(overwrite, "output folder '", r.output_dir,
                         "' exists and is not empty; pass --overwrite to replace it");
      fs::create_directories(out);
      write_file_atomic((out / "recipe.json").string(), r.resolved.dump(2) + "\n");
      std::ofstream(out / "metrics.jsonl", std::ios::trunc);
    } catch (const std::exception& e) {
      setup_error = e.what();
    }
  }

  const auto task = make_task(r, true);
  auto s = setup(r, r.model, *task, !env.is_main(), env);
  auto comm = dist::Communicator::create(env, r.distributed, s.device);
  const bool main_rank = comm->is_main();
  setup_error = comm->share_from_main("finetune-folder", setup_error);
  if (!setup_error.empty()) {
    if (main_rank) fail(setup_error);
    fail("data parallel: rank 0 could not prepare the output folder: ", setup_error);
  }
  check_finetune_memory(r, s.model->config());  // an absurd batch size / length is refused before it allocates
  auto& model = *s.model;
  const bool types = model.config().model_type == ModelType::Bert;
  const int64_t pad_id = s.tok->special_ids().pad;
  // A BERT teacher (task-specific distillation) reads segment ids even when the DistilBERT student does not.
  const bool teacher_types =
      !r.kd_teacher.empty() && ModelConfig::load((fs::path(r.kd_teacher) / "config.json").string()).model_type ==
                                   ModelType::Bert;
  task->encode(*s.tok, types || teacher_types, types);

  const int64_t n = task->train_size();
  // DistributedSampler: each epoch's shuffled order padded to a multiple of the world size by repeating its head;
  // rank r takes positions r, r + W, ... So the union of the ranks' k-th batches is a single process's k-th batch
  // of batch_size x W examples.
  const int64_t world = comm->world_size();
  const int64_t per_rank = (n + world - 1) / world;
  const int64_t steps_per_epoch = (per_rank + r.batch_size - 1) / r.batch_size;
  const int64_t total = r.max_steps > 0 ? r.max_steps : steps_per_epoch * r.epochs;
  const int64_t warmup = warmup_steps(total, r.warmup_prop);
  const int64_t eval_every = r.eval_every > 0 ? r.eval_every : steps_per_epoch;
  AdamWSettings as;
  as.lr = r.lr;
  as.beta1 = r.beta1;
  as.beta2 = r.beta2;
  as.eps = r.eps;
  as.weight_decay = r.weight_decay;
  auto optimizer = build_adamw(model, as);
  std::vector<torch::Tensor> params;
  for (const auto& p : model.parameters())
    if (p.requires_grad()) params.push_back(p);
  if (comm->active()) {  // DDP's initial broadcast: rank 0's weights (including the new head) are everyone's
    std::vector<torch::Tensor> state;
    for (const auto& p : model.parameters()) state.push_back(p);
    for (const auto& b : model.buffers()) state.push_back(b);
    comm->broadcast(state, "the model's initial weights");
  }
  dist::GradSync grad_sync(comm, params, r.distributed);
  // Task-specific distillation: the fine-tuned teacher, frozen, scoring the same batches.
  ModelPtr teacher;
  if (!r.kd_teacher.empty()) {
    LoadOptions lo;
    lo.head = task->head();
    lo.num_labels = task->num_labels();
    lo.verbose = false;
    auto loaded = load_model_folder(r.kd_teacher, lo);
    const std::string kind = task->head() == Head::SequenceClassification ? "classification" : head_name(task->head());
    // fail(), not check(): check() evaluates its message arguments even when the condition holds, and front() of
    // the empty list is undefined behaviour (UBSan reported it in every task-specific distillation run).
    if (!loaded.report.newly_initialized.empty())
      fail("distill.teacher '", r.kd_teacher, "' has no trained ", kind, " head for this task (newly initialised: ",
           loaded.report.newly_initialized.front(), "); fine-tune the teacher on '", r.task, "' first");
    teacher = loaded.model;
    DISTILBERT_CHECK(teacher->config().vocab_size == model.config().vocab_size, "distill.teacher '", r.kd_teacher,
                     "' has vocab_size ", teacher->config().vocab_size, " but the student has ",
                     model.config().vocab_size, ": both must read the same token ids");
    teacher->to(s.device);
    teacher->eval();
    for (auto& p : teacher->parameters()) p.requires_grad_(false);
    cast_frozen_linears(*teacher, r.precision);  // it runs only under autocast
    if (main_rank)
      std::cerr << tag << "task-specific distillation from " << teacher->architecture() << " '" << r.kd_teacher
                << "': loss = " << r.kd_alpha_task << " x task + " << r.kd_alpha_ce << " x "
                << task->distill_description(r.kd_temperature) << "\n";
  }
  if (main_rank)
    std::cerr << tag << model.architecture() << " on " << r.task << ": " << n << " training examples, " << total
              << " steps (batch " << r.batch_size << (world > 1 ? " per process x " + std::to_string(world) : "")
              << "), eval every " << eval_every << " steps; device " << s.device << ", " << s.threads
              << " thread(s), " << r.precision << "\n";

  std::unique_ptr<RunLog> log;
  if (main_rank) log = std::make_unique<RunLog>(r.output_dir, r.tensorboard);
  const std::string metric = task->main_metric();
  double best = -std::numeric_limits<double>::infinity();
  int64_t since_best = 0, step = 0;
  std::mt19937_64 rng(r.seed);
  std::vector<size_t> all(static_cast<size_t>(n)), order(static_cast<size_t>(per_rank));
  double loss_sum = 0, kd_sum = 0;
  int64_t loss_n = 0;
  model.train();
  bool stop = false;
  for (int64_t epoch = 0; !stop && step < total; ++epoch) {
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), rng);
    for (int64_t k = 0; k < per_rank; ++k)
      order[static_cast<size_t>(k)] = all[static_cast<size_t>((comm->rank() + k * world) % n)];
    for (int64_t b = 0; b < steps_per_epoch && step < total && !stop; ++b) {
      std::vector<size_t> idx(order.begin() + b * r.batch_size,
                              order.begin() + std::min<int64_t>(per_rank, (b + 1) * r.batch_size));
      const auto in = task->train_batch(idx, pad_id, s.device);
      torch::Tensor loss;
      {
        AutocastScope autocast(r.precision, s.device);
        auto out = model.forward(in);
        loss = out.loss;
        if (teacher) {
          ModelOutput t_out;
          {
            torch::NoGradGuard no_grad;
            ModelInputs tin = in;
            tin.labels = tin.start_positions = tin.end_positions = torch::Tensor();
            // The batch carries segment ids when the teacher is a BERT (teacher_types); a DistilBERT ignores them.
            t_out = teacher->forward(tin);
          }
          const auto kd = task->distill_loss(out, t_out, in, r.kd_temperature);
          kd_sum += kd.item<double>();
          loss = r.kd_alpha_task * loss + r.kd_alpha_ce * kd;
        }
      }
      DISTILBERT_CHECK(torch::isfinite(loss).item<bool>(), "non-finite loss at fine-tuning step ", step);
      grad_sync.backward(loss);  // every rank now holds the gradients averaged over the global batch
      if (r.max_grad_norm > 0) clip_gradients(params, r.max_grad_norm);
      set_learning_rate(*optimizer, r.lr * linear_schedule_factor(step, warmup, total));
      adamw_step(*optimizer);
      optimizer->zero_grad();
      ++step;
      loss_sum += loss.item<double>();
      ++loss_n;
      if (step % r.log_every == 0) {
        if (comm->active()) {  // the mean over every rank's batches
          auto t = torch::tensor({loss_sum, static_cast<double>(loss_n), kd_sum}, torch::kDouble);
          comm->all_reduce_sum(t, "logged loss at step " + std::to_string(step));
          loss_sum = t[0].item<double>();
          loss_n = static_cast<int64_t>(t[1].item<double>());
          kd_sum = t[2].item<double>();
        }
        json rec = {{"loss", loss_sum / loss_n}, {"epoch", epoch}};
        if (teacher) rec["loss_kd"] = kd_sum / loss_n;
        if (log) log->log(step, rec);
        if (r.progress && main_rank) {  // \r on a terminal; one plain line per log step in logs and CI
          const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
          const double eta = elapsed / static_cast<double>(std::max<int64_t>(1, step)) * static_cast<double>(total - step);
          std::cerr << (progress_tty ? "\r" : "") << "[finetune] step " << step << "/" << total << " loss "
                    << loss_sum / loss_n << " | ETA " << static_cast<int64_t>(eta) << " s"
                    << (progress_tty ? "   " : "\n") << std::flush;
        }
        loss_sum = 0;
        kd_sum = 0;
        loss_n = 0;
      }
      if (step % eval_every == 0 || step == total) {
        // Every rank evaluates (same weights, same data: the same numbers, so early stopping agrees); rank 0 writes.
        auto m = task->evaluate(model, r, s.device, pad_id);
        json mj(m);
        if (log) log->log(step, mj, "eval");
        const double v = m.at(metric);
        if (main_rank)
          std::cerr << (r.progress && progress_tty ? "\n" : "") << "[finetune] step " << step << " eval: " << mj.dump()
                    << "\n";
        if (v > best) {
          best = v;
          since_best = 0;
          summary.best_metrics = m;
          summary.best_step = step;
          if (main_rank) {
            save_model_folder(model, (out / "best").string());
            s.tok->save_pretrained(out / "best");
          }
          comm->barrier("saving the best model at step " + std::to_string(step));
        } else if (r.early_stopping_patience > 0 && ++since_best >= r.early_stopping_patience) {
          if (main_rank) std::cerr << "[finetune] early stopping: no improvement of " << metric << " in " << since_best
                    << " evaluations\n";
          stop = true;
        }
      }
    }
  }
  summary.steps = step;
  summary.best_dir = (out / "best").string();
  summary.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  json res(summary.best_metrics);
  res["best_step"] = summary.best_step;
  res["main_metric"] = metric;
  res["train_seconds"] = summary.seconds;
  res["train_examples"] = n;
  if (!main_rank) return summary;
  write_file_atomic((out / "eval_results.json").string(), res.dump(2) + "\n");
  std::cerr << "[finetune] best " << metric << " " << best << " at step " << summary.best_step << "; model in "
            << summary.best_dir << " (" << summary.seconds << " s)\n";
  return summary;
}

}  // namespace distilbert
