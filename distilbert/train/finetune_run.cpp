// The fine-tuning recipe; see finetune.h. run_finetune at the end reads top to bottom: set up (run folder, task data,
// model with its head, teacher, optimiser, resume), then the loop (micro-batches, an optimizer step every
// grad_accum_steps of them, log, evaluate and keep the best model, checkpoint), then the results. The parts it shares
// with distillation are in train_core.h; checkpoints are distillation's (checkpoint.h).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/fault.h"
#include "distilbert/core/fs.h"
#include "distilbert/dist/grad_sync.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/train/checkpoint.h"
#include "distilbert/train/distill_loss.h"
#include "distilbert/train/trainer_state.h"
#include "distilbert/train/finetune.h"
#include "distilbert/train/finetune_setup.h"
#include "distilbert/train/memory_estimate.h"
#include "distilbert/train/run_log.h"
#include "distilbert/train/teacher_cache.h"
#include "distilbert/train/train_core.h"

namespace distilbert {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

// Everything a run holds between its micro-batches. The position (epoch, next batch of the epoch, micro-batches of
// the current accumulation cycle, step) and the shuffle generator's state at the epoch's start are checkpointed, so
// a resumed run sees the same batches in the same order.
struct FinetuneRun {
  FinetuneRun(const FinetuneRecipe& recipe, RunContext context) : r(recipe), ctx(std::move(context)) {}
  const FinetuneRecipe& r;
  RunContext ctx;
  std::unique_ptr<FinetuneTask> task;
  Setup s;
  ModelPtr teacher;  // task-specific distillation, run at every batch; null otherwise
  std::unique_ptr<TeacherCache> teacher_cache;  // or its outputs computed once (distill.cache)
  int64_t pad_id = 0, per_rank = 0, batches_per_epoch = 0, total = 0, warmup = 0, eval_every = 0;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  std::vector<torch::Tensor> params;
  LossScaler scaler{false};
  std::unique_ptr<dist::GradSync> grad_sync;
  std::unique_ptr<RunLog> log;  // rank 0 alone writes
  int64_t step = 0, epoch = 0, batch = 0, micro = 0, skipped = 0;
  std::string epoch_rng;       // the shuffle generator's state at the start of `epoch`
  bool resumed = false;        // the next shuffle restores epoch_rng instead of recording it
  std::vector<size_t> order;   // this rank's examples of the epoch
  double best = -std::numeric_limits<double>::infinity();
  int64_t since_best = 0;
  double loss_sum = 0, kd_sum = 0;  // the log window: micro-batch losses since the last record
  int64_t loss_n = 0;
  FinetuneSummary summary;

  bool main_rank() const { return ctx.main_rank(); }
  int64_t accum() const { return r.grad_accum_steps; }
  bool distilling() const { return teacher || teacher_cache; }
};

// Whether this run continues an interrupted one: checkpoints and no results yet (trainer.resume auto, or a folder).
bool resuming(const FinetuneRecipe& r) {
  if (r.resume == "never") return false;
  if (r.resume != "auto") return true;
  return !list_checkpoints(r.output_dir).empty() && !fs::exists(fs::path(r.output_dir) / "eval_results.json");
}

// Rank 0, before anything is loaded: a folder that holds something other than an interrupted run of this recipe is
// replaced only with --overwrite. Writes nothing.
void check_run_folder(const FinetuneRecipe& r, bool overwrite) {
  const fs::path out(r.output_dir);
  if (resuming(r) || !fs::exists(out) || fs::is_empty(out)) return;
  DISTILBERT_CHECK(overwrite, "output folder '", r.output_dir, "' exists and is not empty; pass --overwrite to replace it",
                   " (an interrupted run with checkpoints/ and no eval_results.json continues by itself)");
}

// Rank 0, once the data and the model have loaded: record the recipe; a fresh run clears what an older one left.
void record_run_folder(const FinetuneRecipe& r) {
  const fs::path out(r.output_dir);
  fs::create_directories(out);
  write_file_atomic((out / "recipe.json").string(), r.resolved.dump(2) + "\n");
  if (resuming(r)) return;
  fs::remove_all(out / "checkpoints");
  fs::remove_all(out / "tensorboard");
  std::ofstream(out / "metrics.jsonl", std::ios::trunc);
}

// distill.alpha_cos and layer_pairs compare hidden states: equal widths, and pairs within both models' hidden_states
// (index 0 = embeddings output, i = after layer i).
void check_hidden_terms(const FinetuneRecipe& r, const ModelConfig& teacher, const ModelConfig& student) {
  if (!r.kd_hidden_terms()) return;
  DISTILBERT_CHECK(teacher.hidden_size == student.hidden_size, "distill.alpha_cos and layer_pairs compare hidden ",
                   "states: teacher '", r.kd_teacher, "' has hidden_size ", teacher.hidden_size, " but the student has ",
                   student.hidden_size);
  for (const auto& [i, j] : r.kd_hidden.layer_pairs)
    DISTILBERT_CHECK(i >= 0 && i <= student.num_layers && j >= 0 && j <= teacher.num_layers, "distill.layer_pairs: [",
                     i, ", ", j, "] expected student index 0..", student.num_layers, " and teacher index 0..",
                     teacher.num_layers, " (hidden_states: 0 = embeddings, i = after layer i)");
}

std::string hidden_terms_description(const DistillLossWeights& w) {
  std::ostringstream o;
  if (w.alpha_cos > 0) o << " + " << w.alpha_cos << " x (1 - cos) of last hidden states";
  if (w.layer_pairs.empty()) return o.str();
  std::string pairs;
  for (const auto& [i, j] : w.layer_pairs) pairs += (pairs.empty() ? "" : " ") + std::to_string(i) + "-" + std::to_string(j);
  if (w.alpha_layer_cos > 0) o << " + " << w.alpha_layer_cos << " x (1 - cos)";
  if (w.alpha_layer_mse > 0) o << " + " << w.alpha_layer_mse << " x MSE";
  o << " of hidden states (student-teacher " << pairs << ")";
  return o.str();
}

// Task-specific distillation: the fine-tuned teacher, frozen, scoring the same batches.
ModelPtr load_kd_teacher(const FinetuneRun& run) {
  const auto& r = run.r;
  LoadOptions lo;
  lo.head = run.task->head();
  lo.num_labels = run.task->num_labels();
  lo.verbose = false;
  auto loaded = load_model_folder(r.kd_teacher, lo);
  const std::string kind =
      run.task->head() == Head::SequenceClassification ? "classification" : head_name(run.task->head());
  DISTILBERT_CHECK(loaded.report.newly_initialized.empty(), "distill.teacher '", r.kd_teacher, "' has no trained ",
                   kind, " head for this task (newly initialised: ", loaded.report.newly_initialized.front(),
                   "); fine-tune the teacher on '", r.task, "' first");
  auto teacher = loaded.model;
  const auto& student = run.s.model->config();
  DISTILBERT_CHECK(teacher->config().vocab_size == student.vocab_size, "distill.teacher '", r.kd_teacher,
                   "' has vocab_size ", teacher->config().vocab_size, " but the student has ", student.vocab_size,
                   ": both must read the same token ids");
  check_hidden_terms(r, teacher->config(), student);
  freeze_teacher(*teacher, run.s.device, r.precision);
  if (run.main_rank())
    std::cerr << run.ctx.tag << "task-specific distillation from " << teacher->architecture() << " '" << r.kd_teacher
              << "': loss = " << r.kd_alpha_task << " x task + " << r.kd_alpha_ce << " x "
              << run.task->distill_description(r.kd_temperature)
              << hidden_terms_description(r.kd_hidden) << "\n";
  return teacher;
}

// The task's data tokenised, the model with its head, the teacher; the schedule's length.
void load_task_and_model(FinetuneRun& run) {
  const auto& r = run.r;
  run.task = make_task(r, true);
  run.s = setup(r, r.model, *run.task, !run.main_rank(), &run.ctx);
  check_finetune_memory(r, run.s.model->config());  // an absurd batch size / length is refused before it allocates
  const bool types = run.s.model->config().model_type == ModelType::Bert;
  run.pad_id = run.s.tok->special_ids().pad;
  // A BERT teacher (task-specific distillation) reads segment ids even when the DistilBERT student does not.
  const bool teacher_types =
      !r.kd_teacher.empty() &&
      ModelConfig::load((fs::path(r.kd_teacher) / "config.json").string()).model_type == ModelType::Bert;
  run.task->encode(*run.s.tok, types || teacher_types, types);
  // DistributedSampler: each epoch's shuffled order padded to a multiple of the world size by repeating its head;
  // rank r takes positions r, r + W, ... So the union of the ranks' k-th batches is a single process's k-th batch
  // of batch_size x W examples.
  const int64_t world = run.ctx.comm->world_size();
  run.per_rank = (run.task->train_size() + world - 1) / world;
  run.batches_per_epoch = (run.per_rank + r.batch_size - 1) / r.batch_size;
  const int64_t steps_per_epoch = (run.batches_per_epoch + run.accum() - 1) / run.accum();
  run.total = r.max_steps > 0 ? r.max_steps : steps_per_epoch * r.epochs;
  run.warmup = warmup_steps(run.total, r.warmup_prop);
  run.eval_every = r.eval_every > 0 ? r.eval_every : steps_per_epoch;
}

// The position and counters of an interrupted run from its checkpoint's trainer_state.json, checked against this
// recipe: a different schedule (batch size, epochs, accumulation, data) or process count cannot continue it.
void restore_position(FinetuneRun& run, const json& st, const std::string& from) {
  const std::string where = "checkpoint " + from + "/trainer_state.json";
  const FinetuneState s = FinetuneState::from_json(st, where);
  s.check_fits(run.ctx.comm->world_size(), run.total, run.batches_per_epoch, run.accum(), where);
  run.step = s.step, run.epoch = s.epoch, run.batch = s.batch, run.micro = s.micro, run.skipped = s.skipped;
  run.epoch_rng = s.epoch_rng, run.resumed = true;
  run.best = s.best.value_or(-std::numeric_limits<double>::infinity());
  run.since_best = s.since_best, run.summary.best_step = s.best_step, run.summary.best_metrics = s.best_metrics;
  run.loss_sum = s.loss_sum, run.kd_sum = s.kd_sum, run.loss_n = s.loss_n;
}

// What a checkpoint records of the run (restore_position's inverse).
FinetuneState position_of(const FinetuneRun& run) {
  FinetuneState s;
  s.step = run.step, s.epoch = run.epoch, s.batch = run.batch, s.micro = run.micro, s.skipped = run.skipped;
  s.epoch_rng = run.epoch_rng;
  if (std::isfinite(run.best)) s.best = run.best;
  s.since_best = run.since_best, s.best_step = run.summary.best_step, s.best_metrics = run.summary.best_metrics;
  s.loss_sum = run.loss_sum, s.kd_sum = run.kd_sum, s.loss_n = run.loss_n;
  s.world_size = run.ctx.comm->world_size(), s.total_steps = run.total;
  return s;
}

// The optimiser, the state of an interrupted run (trainer.resume), rank 0's weights for everyone, gradient sync.
void start_optimizer(FinetuneRun& run) {
  const auto& r = run.r;
  auto& model = *run.s.model;
  run.optimizer = build_adamw(model, r.optimizer);
  run.params = trainable_parameters(model);
  std::string from;
  if (resuming(r)) {
    if (auto st = resume_from(r.resume, r.output_dir, model, *run.optimizer, &from)) {
      restore_position(run, *st, from);
      if (run.main_rank())
        std::cerr << run.ctx.tag << "resumed from " << from << " at step " << run.step << " (epoch " << run.epoch
                  << ", batch " << run.batch << ")\n";
    }
  }
  broadcast_initial_weights(*run.ctx.comm, model, "the model's initial weights");  // including a new head
  run.grad_sync = std::make_unique<dist::GradSync>(run.ctx.comm, run.params, r.distributed);
}

// A checkpoint now (rank 0 writes, every rank waits). Mid-cycle, the accumulated gradients are averaged over the
// ranks and stored, which keeps the continuation exact.
std::string save(FinetuneRun& run) {
  const bool mid_cycle = run.micro > 0;
  if (mid_cycle) run.grad_sync->average_now("accumulated gradients before a checkpoint");
  std::string dir;
  if (run.main_rank()) {
    CheckpointData d;
    d.model = run.s.model.get();
    d.tokenizer = run.s.tok.get();
    d.optimizer = run.optimizer.get();
    d.with_grads = mid_cycle;
    d.state = position_of(run).to_json();
    dir = save_checkpoint(run.r.output_dir, run.step, d, run.r.keep_last);
  }
  run.ctx.comm->barrier("checkpoint " + std::to_string(run.step));
  return run.ctx.comm->share_from_main("checkpoint-dir", dir);
}

// This rank's examples for the epoch, from the generator's state at the epoch's start (seeded once per run).
void shuffle_epoch(FinetuneRun& run, std::mt19937_64& rng) {
  if (run.resumed) {
    std::istringstream(run.epoch_rng) >> rng;  // the interrupted run's epoch, at its start
    run.resumed = false;
  } else {
    std::ostringstream state;
    state << rng;
    run.epoch_rng = state.str();
  }
  const int64_t n = run.task->train_size(), world = run.ctx.comm->world_size();
  std::vector<size_t> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  run.order.resize(static_cast<size_t>(run.per_rank));
  for (int64_t k = 0; k < run.per_rank; ++k)
    run.order[static_cast<size_t>(k)] = all[static_cast<size_t>((run.ctx.comm->rank() + k * world) % n)];
}

// The hidden-state terms of task-specific distillation (the paper's L_cos on the last hidden states, and the layer
// pairs), by the distiller's own loss with no logits, which compares them in fp32 (distill_loss.h,
// docs/DISTILLATION.md §7).
torch::Tensor hidden_terms_loss(const DistillLossWeights& w, const ModelOutput& s, const ModelOutput& t,
                                const ModelInputs& in) {
  // alpha_cos alone runs the models without hidden_states: the last state suffices.
  const std::vector<torch::Tensor> s_last{s.last_hidden_state}, t_last{t.last_hidden_state};
  DistillLossInputs li;
  li.attention_mask = in.attention_mask;
  li.student_hidden = s.hidden_states.empty() ? &s_last : &s.hidden_states;
  li.teacher_hidden = t.hidden_states.empty() ? &t_last : &t.hidden_states;
  return distillation_loss(li, w).total;
}

// The teacher's outputs over the training set, computed once (or read from distill.cache_file), after which the
// teacher itself is released: training reads the cache (teacher_cache.h).
void cache_teacher_outputs(FinetuneRun& run) {
  TeacherCacheOptions o;
  o.batch_size = run.r.eval_batch_size;
  o.precision = run.r.precision;
  o.device = run.s.device;
  o.pad_id = run.pad_id;
  o.file = run.r.kd_cache_file;
  o.write = run.main_rank();
  o.tag = run.main_rank() ? run.ctx.tag : "";
  run.teacher_cache = std::make_unique<TeacherCache>(*run.task, run.task->head(), *run.teacher, o);
  run.teacher.reset();
}

// The teacher's outputs for a micro-batch of units `idx`: from the cache, or its forward pass.
ModelOutput teacher_outputs(FinetuneRun& run, const ModelInputs& in, const std::vector<size_t>& idx,
                            bool hidden_states) {
  if (run.teacher_cache) return run.teacher_cache->outputs(idx, in.input_ids.size(-1), run.s.device);
  torch::NoGradGuard no_grad;
  ModelInputs tin = without_targets(in);
  tin.output_hidden_states = hidden_states;
  return run.teacher->forward(tin);  // segment ids are in the batch when the teacher is a BERT
}

// One micro-batch's loss (the task's, mixed with the teacher's soft targets when distilling) and the KD term.
std::pair<torch::Tensor, double> micro_batch_loss(FinetuneRun& run, const ModelInputs& in,
                                                  const std::vector<size_t>& idx) {
  const auto& r = run.r;
  AutocastScope autocast(r.precision, run.s.device);
  ModelInputs s_in = in;
  s_in.output_hidden_states = run.teacher && !r.kd_hidden.layer_pairs.empty();
  auto out = run.s.model->forward(s_in);
  torch::Tensor loss = out.loss;
  double kd_value = 0.0;
  if (run.distilling()) {
    const ModelOutput t_out = teacher_outputs(run, in, idx, s_in.output_hidden_states);
    const auto kd = run.task->distill_loss(out, t_out, in, r.kd_temperature);
    kd_value = kd.item<double>();
    loss = r.kd_alpha_task * loss + r.kd_alpha_ce * kd;
    if (r.kd_hidden_terms()) loss = loss + hidden_terms_loss(r.kd_hidden, out, t_out, in);
  }
  // Reliability tests (core/fault.h): DISTILBERT_FAULT=finetune.loss:nan@N poisons the N-th micro-batch's loss.
  if (fault::point("finetune.loss")) loss = loss + std::numeric_limits<double>::quiet_NaN();
  return {loss, kd_value};
}

// trainer.nan_policy for a non-finite micro-batch loss (on any rank): stop naming the step, or skip it.
bool skip_non_finite(FinetuneRun& run, const torch::Tensor& loss) {
  const bool local_bad = !torch::isfinite(loss).item<bool>();
  if (!any_rank(*run.ctx.comm, local_bad, run.step)) return false;
  DISTILBERT_CHECK(run.r.nan_policy == "skip", "non-finite loss at fine-tuning step ", run.step, " (epoch ", run.epoch,
                   ", batch ", run.batch, local_bad ? "" : ", on another rank",
                   "); trainer.nan_policy is 'stop' ('skip' skips such micro-batches)");
  if (run.main_rank())
    std::cerr << "\n" << run.ctx.tag << "warning: non-finite loss at step " << run.step << "; micro-batch skipped\n";
  ++run.skipped;
  return true;
}

// The log window's record: the mean micro-batch loss over every rank.
void log_step(FinetuneRun& run, ProgressLine& progress) {
  auto& comm = *run.ctx.comm;
  if (comm.active()) {
    auto t = torch::tensor({run.loss_sum, static_cast<double>(run.loss_n), run.kd_sum}, torch::kDouble);
    comm.all_reduce_sum(t, "logged loss at step " + std::to_string(run.step));
    run.loss_sum = t[0].item<double>(), run.loss_n = static_cast<int64_t>(t[1].item<double>());
    run.kd_sum = t[2].item<double>();
  }
  const double n = static_cast<double>(std::max<int64_t>(1, run.loss_n));
  json rec = {{"loss", run.loss_sum / n}, {"epoch", run.epoch}};
  if (run.distilling()) rec["loss_kd"] = run.kd_sum / n;
  if (run.log) run.log->log(run.step, rec);
  std::ostringstream fields;
  fields << "loss " << run.loss_sum / n;
  progress.update(run.step, fields.str());
  run.loss_sum = run.kd_sum = 0;
  run.loss_n = 0;
}

// Every rank evaluates (same weights, same data: the same numbers, so early stopping agrees); rank 0 writes and
// keeps the best model. Returns false when early stopping ends the run.
bool evaluate_and_keep_best(FinetuneRun& run, const ProgressLine& progress) {
  const auto m = run.task->evaluate(*run.s.model, run.r, run.s.device, run.pad_id);
  const json mj(m);
  if (run.log) run.log->log(run.step, mj, "eval");
  if (run.main_rank())
    std::cerr << progress.line_break() << run.ctx.tag << "step " << run.step << " eval: " << mj.dump() << "\n";
  const std::string metric = run.task->main_metric();
  if (m.at(metric) > run.best) {
    run.best = m.at(metric);
    run.since_best = 0;
    run.summary.best_metrics = m;
    run.summary.best_step = run.step;
    const fs::path best = fs::path(run.r.output_dir) / "best";
    if (run.main_rank()) {
      save_model_folder(*run.s.model, best.string());
      run.s.tok->save_pretrained(best);
    }
    run.ctx.comm->barrier("saving the best model at step " + std::to_string(run.step));
    return true;
  }
  if (run.r.early_stopping_patience > 0 && ++run.since_best >= run.r.early_stopping_patience) {
    if (run.main_rank())
      std::cerr << run.ctx.tag << "early stopping: no improvement of " << metric << " in " << run.since_best
                << " evaluations\n";
    return false;
  }
  return true;
}

// The micro-batch that ends an accumulation cycle: the grad_accum_steps-th, or the epoch's last (as HF Trainer).
bool ends_cycle(const FinetuneRun& run) {
  return run.micro + 1 == run.accum() || run.batch + 1 == run.batches_per_epoch;
}

void write_results(FinetuneRun& run, double seconds) {
  auto& summary = run.summary;
  summary.steps = run.step;
  summary.best_dir = (fs::path(run.r.output_dir) / "best").string();
  summary.seconds = seconds;
  if (!run.main_rank()) return;
  json res(summary.best_metrics);
  res["best_step"] = summary.best_step;
  res["main_metric"] = run.task->main_metric();
  res["train_seconds"] = summary.seconds;
  res["train_examples"] = run.task->train_size();
  res["skipped_micro_batches"] = run.skipped;
  write_file_atomic((fs::path(run.r.output_dir) / "eval_results.json").string(), res.dump(2) + "\n");
  std::cerr << run.ctx.tag << "best " << res["main_metric"].get<std::string>() << " " << run.best << " at step "
            << summary.best_step << "; model in " << summary.best_dir << " (" << summary.seconds << " s)\n";
}

}  // namespace

FinetuneSummary run_finetune(const FinetuneRecipe& r, bool overwrite, const std::atomic<bool>* stop) {
  const auto t0 = Clock::now();
  FinetuneRun run(r, start_run("finetune", r.threads, r.device, r.distributed));
  auto& comm = *run.ctx.comm;
  on_main_rank(comm, "finetune-folder", "prepare the output folder", [&] { check_run_folder(r, overwrite); });
  load_task_and_model(run);
  on_main_rank(comm, "finetune-recorded", "prepare the output folder", [&] { record_run_folder(r); });
  start_optimizer(run);
  if (!r.kd_teacher.empty()) run.teacher = load_kd_teacher(run);
  if (r.kd_cached()) cache_teacher_outputs(run);
  if (run.main_rank()) {
    const int64_t world = comm.world_size();
    std::cerr << run.ctx.tag << run.s.model->architecture() << " on " << r.task << ": " << run.task->train_size()
              << " training examples, " << run.total << " steps (batch " << r.batch_size
              << (world > 1 ? " per process x " + std::to_string(world) : "") << ", accumulation " << run.accum()
              << "), eval every " << run.eval_every << " steps; device " << run.s.device << ", " << run.s.threads
              << " thread(s), " << r.precision << "\n";
    run.log = std::make_unique<RunLog>(r.output_dir, r.tensorboard);
  }

  ProgressLine progress(r.progress && run.main_rank(), run.ctx.tag, run.step, run.total);
  std::mt19937_64 rng(r.seed);
  run.s.model->train();
  bool go_on = run.step < run.total;
  for (; go_on; ++run.epoch, run.batch = 0) {
    shuffle_epoch(run, rng);
    for (; go_on && run.batch < run.batches_per_epoch; ++run.batch) {
      if (any_rank(comm, stop && stop->load(), run.step)) {
        const std::string dir = save(run);
        if (run.main_rank())
          std::cerr << "\n" << run.ctx.tag << "stopped by signal at step " << run.step << "; checkpoint " << dir << "\n";
        run.summary.interrupted = true;
        return run.summary;
      }
      const int64_t b = run.batch;
      std::vector<size_t> idx(run.order.begin() + b * r.batch_size,
                              run.order.begin() + std::min<int64_t>(run.per_rank, (b + 1) * r.batch_size));
      const auto [loss, kd] = micro_batch_loss(run, run.task->train_batch(idx, run.pad_id, run.s.device), idx);
      const bool last_of_cycle = ends_cycle(run);
      if (skip_non_finite(run, loss)) {
        if (!last_of_cycle || run.micro == 0) continue;  // the cycle goes on, or has nothing to apply
        run.grad_sync->average_now("the gradients of a cycle whose last micro-batch was skipped");
      } else {
        run.grad_sync->backward(loss / static_cast<double>(run.accum()), last_of_cycle);
        run.loss_sum += loss.item<double>(), run.kd_sum += kd, ++run.loss_n;
        ++run.micro;
        if (!last_of_cycle) continue;
      }
      optimizer_step(*run.optimizer, run.params, run.scaler, r.optimizer.lr, r.optimizer.max_grad_norm, run.step,
                     run.warmup, run.total);
      ++run.step;
      run.micro = 0;
      if (run.step % r.log_every == 0) log_step(run, progress);
      if (run.step % run.eval_every == 0 || run.step == run.total) go_on = evaluate_and_keep_best(run, progress);
      go_on = go_on && run.step < run.total;
      if (go_on && r.save_every > 0 && run.step % r.save_every == 0) {
        ++run.batch;  // the checkpoint's position is the next micro-batch
        save(run);
        --run.batch;
      }
    }
    if (!go_on) break;
  }
  progress.finish();
  if (r.save_every > 0) save(run);  // the final weights too, as HF Trainer's last checkpoint
  write_results(run, std::chrono::duration<double>(Clock::now() - t0).count());
  return run.summary;
}

}  // namespace distilbert
