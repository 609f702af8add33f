// The distillation / MLM-pretraining recipe; see distiller.h. run_distillation at the end reads top to bottom:
// set up (run folder, tokenizer, models, data, optimiser, resume), then the loop (a micro-batch's losses and
// backward, an optimizer step every grad_accum_steps micro-batches, log, evaluate, save), then the final model
// folder. The shared parts (start_run, optimizer_step, ProgressLine, ...) are in train_core.h.
#include "distilbert/train/distiller.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/fs.h"
#include "distilbert/data/loader.h"
#include "distilbert/data/lm_sequences.h"
#include "distilbert/data/mlm.h"
#include "distilbert/data/token_counts.h"
#include "distilbert/data/token_store.h"
#include "distilbert/dist/grad_sync.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/model/distilbert.h"
#include "distilbert/train/checkpoint.h"
#include "distilbert/train/trainer_state.h"
#include "distilbert/train/memory_estimate.h"
#include "distilbert/train/optim.h"
#include "distilbert/train/precision.h"
#include "distilbert/train/run_log.h"
#include "distilbert/train/step_profile.h"
#include "distilbert/train/train_core.h"

namespace distilbert {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

// The loss terms as metrics.jsonl names them, once: the log window, the logged means and the non-finite check read
// this list.
const std::vector<std::pair<const char*, torch::Tensor DistillLossParts::*>>& loss_terms() {
  static const std::vector<std::pair<const char*, torch::Tensor DistillLossParts::*>> terms = {
      {"loss", &DistillLossParts::total},        {"loss_ce", &DistillLossParts::ce},
      {"loss_mlm", &DistillLossParts::mlm},      {"loss_mse", &DistillLossParts::mse},
      {"loss_cos", &DistillLossParts::cos},      {"loss_layer_cos", &DistillLossParts::layer_cos},
      {"loss_layer_mse", &DistillLossParts::layer_mse}};
  return terms;
}

// Loss terms summed over a logging window (pre-division by grad_accum_steps, as the reference logs them).
struct LogWindow {
  std::map<std::string, double> sums;
  int64_t micro = 0, tokens = 0;
  Clock::time_point start = Clock::now();
  void add(const DistillLossParts& p, int64_t batch_tokens) {
    for (const auto& [name, term] : loss_terms())
      if ((p.*term).defined()) sums[name] += (p.*term).item<double>();
    ++micro;
    tokens += batch_tokens;
  }
  // The terms' means over the micro-batches of every rank, and tokens per second of the whole job.
  json means(dist::Communicator& comm, int64_t step) const {
    std::vector<double> agg;
    for (const auto& [name, term] : loss_terms()) {
      const auto it = sums.find(name);
      agg.push_back(it == sums.end() ? 0.0 : it->second);
      agg.push_back(it == sums.end() ? 0.0 : static_cast<double>(micro));
    }
    agg.push_back(static_cast<double>(tokens));
    if (comm.active()) {
      auto t = torch::tensor(agg, torch::kDouble);
      comm.all_reduce_sum(t, "logged metrics at step " + std::to_string(step));
      for (size_t i = 0; i < agg.size(); ++i) agg[i] = t[static_cast<int64_t>(i)].item<double>();
    }
    json rec;
    for (size_t i = 0; i < loss_terms().size(); ++i)
      if (agg[2 * i + 1] > 0) rec[loss_terms()[i].first] = agg[2 * i] / agg[2 * i + 1];
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    rec["tokens_per_s"] = agg.back() / std::max(secs, 1e-9);
    return rec;
  }
};

// Which terms the run trains with (the others are not computed).
bool uses_teacher(const DistillRecipe& r) { return r.mode == "distill"; }

bool has_mlm_head(const PretrainedModel& m) { return m.architecture().find("ForMaskedLM") != std::string::npos; }

// A teacher without an MLM head (a sentence encoder) serves the hidden-state terms alone (docs/DISTILLATION.md).
ModelPtr load_teacher(const DistillRecipe& r, torch::Device device) {
  LoadOptions o;
  o.allow_new_head = false;
  auto t = load_model_folder(r.teacher, o).model;
  DISTILBERT_CHECK(has_mlm_head(*t) || (r.loss.alpha_ce == 0 && r.loss.alpha_mse == 0), "teacher '", r.teacher,
                   "' is a ", t->architecture(), " without an MLM head, but loss.alpha_ce is ", r.loss.alpha_ce,
                   " and loss.alpha_mse ", r.loss.alpha_mse, ": soft targets need a ...ForMaskedLM teacher; with ",
                   "this teacher set both to 0 and distil the hidden states (alpha_cos, layer_pairs)");
  freeze_teacher(*t, device, r.precision);
  return t;
}

ModelPtr load_student(const DistillRecipe& r, torch::Device device) {
  ModelPtr s;
  if (!r.student.empty()) {
    LoadOptions o;
    o.head = Head::MaskedLM;
    s = load_model_folder(r.student, o).model;
  } else {
    torch::manual_seed(r.seed);
    s = build_model(ModelConfig::load(r.student_config), Head::MaskedLM);
  }
  if (r.freeze_position_embeddings)
    for (auto& p : s->named_parameters(true))
      if (p.key().find("embeddings.position_embeddings.weight") != std::string::npos) p.value().requires_grad_(false);
  s->to(device);
  s->train();
  return s;
}

// The run's tokenizer folder: `tokenizer`, else the teacher's (distill) or the model's (pretrain) folder.
std::string run_tokenizer_path(const DistillRecipe& r) {
  std::string path = r.tokenizer;
  if (path.empty()) path = uses_teacher(r) ? r.teacher : r.student;
  DISTILBERT_CHECK(
      !path.empty(), "recipe '", r.origin,
      "': set 'tokenizer' (a folder with tokenizer.json or vocab.txt): the model has no folder to take it from");
  return path;
}

std::string fmt(double v, int prec = 4) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g", prec, v);
  return buf;
}

// The run folder, before anything is loaded: refuse to clobber a foreign folder or an old run. Writes nothing.
void check_run_folder(const DistillRecipe& r, bool overwrite) {
  const fs::path out(r.output_dir);
  const bool own_run = fs::exists(out / "recipe.json");
  if (fs::exists(out) && !fs::is_empty(out) && !own_run)
    DISTILBERT_CHECK(overwrite, "output folder '", r.output_dir,
                     "' exists, is not empty and is not a run folder; choose another output_dir or pass --overwrite");
  if (own_run && r.trainer.resume == "never" && !list_checkpoints(r.output_dir).empty())
    DISTILBERT_CHECK(
        overwrite, "output folder '", r.output_dir,
        "' holds checkpoints of an earlier run and trainer.resume is 'never'; use resume: auto to continue it or "
        "--overwrite to start over");
}

// Once the tokenizer, models and data have been checked: clear what --overwrite replaces and record the resolved
// recipe. Never earlier, so that a refused run leaves an existing run folder (its recipe.json) as it was.
void record_run_folder(const DistillRecipe& r, bool overwrite) {
  const fs::path out(r.output_dir);
  const bool own_run = fs::exists(out / "recipe.json");
  if (overwrite && own_run && r.trainer.resume == "never") {
    fs::remove_all(out / "checkpoints");
    fs::remove(out / "metrics.jsonl");
    fs::remove_all(out / "tensorboard");
  }
  fs::create_directories(out);
  write_file_atomic((out / "recipe.json").string(), r.resolved.dump(2) + "\n");
}

// Everything a run holds between its steps.
struct DistillRun {
  DistillRun(const DistillRecipe& recipe, RunContext context) : r(recipe), ctx(std::move(context)) {}
  const DistillRecipe& r;
  RunContext ctx;
  std::shared_ptr<tokenizer::Tokenizer> tok;
  ModelPtr teacher, student;  // no teacher when pretraining
  bool teacher_head = false;  // the teacher has an MLM head (else the hidden-state terms alone)
  std::unique_ptr<data::MlmLoader> loader, eval_loader;  // no eval_loader without data.valid
  int64_t total_steps = 0, warmup = 0, accum = 1;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  std::vector<torch::Tensor> params;
  std::unique_ptr<LossScaler> scaler;
  std::unique_ptr<dist::GradSync> grad_sync;
  std::unique_ptr<RunLog> log;  // rank 0 alone writes metrics
  int64_t step = 0, micro = 0, epoch = 0, last_eval_step = -1;
  RunSummary summary;

  bool main_rank() const { return ctx.main_rank(); }
  bool need_hidden() const { return teacher && (r.loss.alpha_cos > 0 || !r.loss.layer_pairs.empty()); }
  bool restrict_rows() const { return !teacher || r.loss.restrict_ce_to_mask; }  // pretraining: MLM targets only
  // Whether each step projects the student's rows onto the vocabulary (a term on logits, or pretraining).
  bool logit_terms() const {
    return !teacher || r.loss.alpha_ce > 0 || r.loss.alpha_mlm > 0 || r.loss.alpha_mse > 0;
  }
};

// Tokenizer, teacher and student, checked against each other; returns the training sequence length.
int64_t load_models(DistillRun& run) {
  const auto& r = run.r;
  const std::string tok_path = run_tokenizer_path(r);
  run.tok = tokenizer::load_tokenizer(tok_path);
  const auto specials = run.tok->special_ids();
  DISTILBERT_CHECK(
      specials.pad >= 0 && specials.mask >= 0 && specials.cls >= 0 && specials.sep >= 0 && specials.unk >= 0,
      "tokenizer: [PAD], [MASK], [CLS], [SEP] and [UNK] are all needed for MLM training");
  run.teacher = uses_teacher(r) ? load_teacher(r, run.ctx.device) : nullptr;
  run.teacher_head = run.teacher && has_mlm_head(*run.teacher);
  run.student = load_student(r, run.ctx.device);
  const auto& sc = run.student->config();
  check_tokenizer_fits(run.tok->vocab_size(), sc, tok_path, r.student.empty() ? r.student_config : r.student);
  if (run.teacher) {
    const auto& tc = run.teacher->config();
    DISTILBERT_CHECK(tc.vocab_size == sc.vocab_size, "teacher vocab_size ", tc.vocab_size,
                     " differs from the student's ", sc.vocab_size, ": soft targets need the same vocabulary");
    const bool hidden_terms = r.loss.alpha_cos > 0 || !r.loss.layer_pairs.empty();
    DISTILBERT_CHECK(!hidden_terms || tc.hidden_size == sc.hidden_size,
                     "the cosine terms compare hidden states: teacher hidden ", "size ", tc.hidden_size,
                     " differs from the student's ", sc.hidden_size);
  }
  const int64_t max_len = std::min<int64_t>(r.data.max_seq_len, sc.max_position_embeddings);
  check_distill_memory(r, sc, run.teacher ? &run.teacher->config() : nullptr, max_len);  // absurd sizes, up front
  return max_len;
}

// The masker: MLM targets drawn with token probabilities from the corpus counts (smoothed) or uniform.
data::MlmMasker make_masker(const DistillRun& run, const data::TokenStore& store) {
  const auto& r = run.r;
  const int64_t vocab = run.student->config().vocab_size;
  std::vector<int64_t> counts;
  if (!r.data.token_counts.empty())
    counts = data::load_token_counts(r.data.token_counts, vocab, run.tok->fingerprint()).counts;
  else
    counts = data::count_tokens(store, static_cast<size_t>(run.ctx.threads));
  counts.resize(static_cast<size_t>(vocab), 0);
  const auto specials = run.tok->special_ids();
  const auto special_list = data::special_id_list(specials);
  auto probs = r.data.mlm.smoothing > 0 ? data::token_probs(counts, r.data.mlm.smoothing, special_list)
                                        : data::uniform_token_probs(vocab, special_list);
  data::MlmOptions mo;
  mo.mask_prop = r.data.mlm.mask_prob;
  mo.word_mask = r.data.mlm.word_mask;
  mo.word_keep = r.data.mlm.word_keep;
  mo.word_rand = r.data.mlm.word_rand;
  return data::MlmMasker(probs, specials, vocab, mo);
}

// Training batches (this rank's shard) and, with data.valid, held-out batches: the same sequence rules, batches in
// file order and masks fixed by the seed, so every evaluation of a run sees the same tokens and targets.
void load_data(DistillRun& run, int64_t max_len) {
  const auto& r = run.r;
  data::TokenStore::OpenOptions so;
  so.expected_fingerprint = run.tok->fingerprint();
  auto store = data::TokenStore::open(r.data.train, so);
  data::LmSequencesOptions lso;
  lso.max_len = max_len;
  lso.threads = static_cast<size_t>(run.ctx.threads);
  auto seqs = std::make_shared<const data::LmSequences>(store, lso);
  if (run.main_rank()) {
    const auto& st = seqs->stats();
    std::cerr << run.ctx.tag << "data: " << st.input_sequences << " sequences, " << st.split_sequences
              << " split into " << st.chunks << " chunks, " << st.dropped_short << " dropped as too short, "
              << st.dropped_unk << " dropped for [UNK]s -> " << seqs->size() << " training sequences\n";
  }
  DISTILBERT_CHECK(seqs->size() > 0, "data '", r.data.train, "': no training sequences left after filtering");
  const auto masker = make_masker(run, *store);
  data::LoaderOptions lo;
  lo.batching.batch_size = r.data.batch_size;
  lo.batching.max_tokens = r.data.batching == "tokens" ? r.data.max_tokens : 0;
  lo.batching.group_by_size = r.data.batching == "grouped";
  lo.batching.group_max_len = max_len;
  lo.seed = r.seed;
  lo.prefetch = static_cast<size_t>(r.data.prefetch);
  lo.device = run.ctx.device;
  lo.shard = {run.ctx.env.rank, run.ctx.env.world_size};
  run.loader = std::make_unique<data::MlmLoader>(seqs, masker, lo);
  run.loader->set_epoch(0);
  if (r.data.valid.empty()) return;
  auto vseqs = std::make_shared<const data::LmSequences>(data::TokenStore::open(r.data.valid, so), lso);
  DISTILBERT_CHECK(vseqs->size() > 0, "data.valid '", r.data.valid, "': no sequences left after filtering");
  data::LoaderOptions vo = lo;
  vo.batching.shuffle = false;
  vo.batching.group_by_size = false;
  vo.batching.max_tokens = 0;
  vo.prefetch = 0;
  run.eval_loader = std::make_unique<data::MlmLoader>(vseqs, masker, vo);
}

// The optimiser and, where a checkpoint exists (trainer.resume), the state it saved; then rank 0's weights are
// everyone's (DDP's initial broadcast) and the gradient all-reduce is set up.
void start_optimizer(DistillRun& run) {
  const auto& r = run.r;
  const int64_t batches_per_epoch = static_cast<int64_t>(run.loader->num_batches());
  run.accum = r.trainer.grad_accum_steps;
  // The reference's schedule length: int(len(dataloader) / accum * epochs) + 1.
  run.total_steps =
      r.trainer.max_steps > 0
          ? r.trainer.max_steps
          : static_cast<int64_t>(static_cast<double>(batches_per_epoch) / run.accum * r.trainer.epochs) + 1;
  run.warmup = warmup_steps(run.total_steps, r.trainer.warmup_prop);
  run.optimizer = build_adamw(*run.student, r.optimizer);
  run.params = trainable_parameters(*run.student);
  if (auto* mlm = dynamic_cast<DistilBertForMaskedLM*>(run.student.get()))
    mlm->sparse_embedding_grad(run.logit_terms());
  run.scaler = std::make_unique<LossScaler>(r.precision == "fp16");
  std::string resumed_from;
  if (auto saved = resume_from(r.trainer.resume, r.output_dir, *run.student, *run.optimizer, &resumed_from)) {
    const DistillState st = DistillState::from_json(*saved, "checkpoint " + resumed_from + "/trainer_state.json");
    run.step = st.step;
    run.micro = st.micro_step;
    run.summary.skipped_steps = st.skipped_steps;
    if (st.scaler) run.scaler->restore(st.scaler->scale, st.scaler->growth_tracker, st.scaler->skipped);
    data::LoaderState ls = st.loader;
    // Rank 0 saves its loader position; every rank is at the same epoch and batch index of its own shard.
    DISTILBERT_CHECK(ls.world_size == run.ctx.env.world_size, "checkpoint ", resumed_from,
                     " was written by a run of ", ls.world_size, " process(es); this run has ",
                     run.ctx.env.world_size,
                     ". Resume with the same number of processes (the data order of an epoch depends on it)");
    ls.rank = run.ctx.env.rank;
    run.loader->restore(ls);
    run.epoch = ls.epoch;
    if (run.main_rank())
      std::cerr << run.ctx.tag << "resumed from " << resumed_from << " at step " << run.step << " (epoch "
                << run.epoch << ", batch " << ls.batch << ")\n";
  }
  auto& comm = *run.ctx.comm;
  if (comm.active()) {  // every rank must continue from the same checkpoint
    const std::string mine = resumed_from + "@" + std::to_string(run.step);
    const std::string main_ckpt = comm.share_from_main("resumed-from", mine);
    DISTILBERT_CHECK(main_ckpt == mine, "data parallel: rank ", run.ctx.env.rank, " resumed from '", mine,
                     "' but rank 0 from '", main_ckpt,
                     "': every rank must see the same run folder (a shared file system)");
  }
  broadcast_initial_weights(comm, *run.student, "the student's initial weights");
  run.grad_sync = std::make_unique<dist::GradSync>(run.ctx.comm, run.params, r.distributed);
  if (!run.main_rank()) return;
  std::cerr << run.ctx.tag
            << (run.teacher ? "teacher " + run.teacher->architecture() + " (" +
                                  std::to_string(count_parameters(*run.teacher)) + " parameters), "
                            : std::string())
            << "student " << run.student->architecture() << " (" << count_parameters(*run.student)
            << " parameters); " << batches_per_epoch << " batches/epoch, accumulation " << run.accum << ", "
            << run.total_steps << " optimizer steps, warm-up " << run.warmup << "; device " << run.ctx.device << ", "
            << run.ctx.threads << " thread(s), " << r.precision << "\n";
}

// A checkpoint of the run now. Rank 0 writes; mid-cycle gradients are first averaged over the ranks, which keeps the
// continuation exact (the all-reduce at the end of the cycle is linear). The others wait so no rank runs ahead of a
// checkpoint. Returns the checkpoint folder.
std::string save(DistillRun& run, bool mid_accumulation) {
  if (mid_accumulation) run.grad_sync->average_now("accumulated gradients before a checkpoint");
  std::string dir;
  if (run.main_rank()) {
    CheckpointData d;
    d.model = run.student.get();
    d.tokenizer = run.tok.get();
    d.optimizer = run.optimizer.get();
    d.with_grads = mid_accumulation;
    d.state = json{{"micro_step", run.micro},
                   {"loader", run.loader->state().to_json()},
                   {"skipped_steps", run.summary.skipped_steps},
                   {"scaler",
                    {{"scale", run.scaler->current_scale()},
                     {"growth_tracker", run.scaler->growth_tracker()},
                     {"skipped", run.scaler->skipped_steps()}}},
                   {"total_steps", run.total_steps}};
    dir = save_checkpoint(run.r.output_dir, run.step, d, run.r.trainer.keep_last);
  }
  run.ctx.comm->barrier("checkpoint " + std::to_string(run.step));
  return run.ctx.comm->share_from_main("checkpoint-dir", dir);
}

// One micro-batch: forward both models, select rows, compute the loss terms. The student's outputs are returned too:
// their hidden states must stay alive until backward through parts.total.
std::pair<DistillLossParts, ModelOutput> micro_batch_loss(DistillRun& run, const data::MlmBatch& b) {
  const auto& r = run.r;
  const auto& teacher = run.teacher;
  const bool need_hidden = run.need_hidden();
  AutocastScope autocast(r.precision, run.ctx.device);
  ModelInputs in;
  in.input_ids = b.input_ids;
  in.attention_mask = b.attention_mask;
  in.output_hidden_states = need_hidden;
  ModelOutput t_out;
  if (teacher) {
    torch::NoGradGuard no_grad;
    t_out = run.teacher_head ? teacher->encoder_forward(in) : teacher->forward(in);  // a base model: its encoder
  }
  ModelOutput s_out = run.student->encoder_forward(in);
  auto rows = distill_rows(b.attention_mask, b.mlm_labels, run.restrict_rows());
  const int64_t H = s_out.last_hidden_state.size(-1);
  const auto& w = r.loss;
  const bool logit_terms = run.logit_terms();
  DistillLossInputs li;
  li.mlm_labels = b.mlm_labels.reshape({-1}).index_select(0, rows);
  li.attention_mask = b.attention_mask;
  // Vocabulary projections only for the rows a loss uses. Losses in fp32 whatever the autocast dtype: the fused
  // KL + MLM reads bf16/fp16 logits directly and converts block by block in cache (no fp32 copy of the logits).
  if (logit_terms) {
    auto s_logits = run.student->mlm_logits(s_out.last_hidden_state.reshape({-1, H}).index_select(0, rows));
    if (!teacher) s_logits = s_logits.to(torch::kFloat);
    li.student_logits = s_logits;
    li.teacher_logits = s_logits.detach();  // unused (alpha_ce and alpha_mse are 0) unless the teacher has a head
  }
  if (teacher) {
    torch::NoGradGuard no_grad;
    const int64_t Ht = t_out.last_hidden_state.size(-1);
    if (logit_terms && run.teacher_head)
      li.teacher_logits = teacher->mlm_logits(t_out.last_hidden_state.reshape({-1, Ht}).index_select(0, rows));
    li.student_hidden = &s_out.hidden_states;
    li.teacher_hidden = &t_out.hidden_states;
  }
  auto parts = teacher ? distillation_loss(li, w, false) : DistillLossParts{};
  if (!teacher) {
    parts.rows = rows.size(0);
    parts.targets = parts.rows;
    parts.mlm = torch::nn::functional::cross_entropy(li.student_logits, li.mlm_labels);
    parts.total = w.alpha_mlm * parts.mlm;
  }
  return std::make_pair(parts, std::move(s_out));
}

// Sums over the held-out batches of the masked tokens: the student's cross-entropy, the targets, its correct
// predictions and, when distilling, its top-1 agreement with the teacher, KL(teacher || student) and the teacher's
// cross-entropy.
struct HeldOutSums {
  double ce = 0, targets = 0, correct = 0, agreement = 0, kl = 0, teacher_ce = 0;
  // The same sums over every rank (one all-reduce of the six values).
  void all_reduce(dist::Communicator& comm, const std::string& what) {
    double* fields[] = {&ce, &targets, &correct, &agreement, &kl, &teacher_ce};
    std::vector<double> v;
    for (double* f : fields) v.push_back(*f);
    auto t = torch::tensor(v, torch::kDouble);
    comm.all_reduce_sum(t, what);
    for (int64_t i = 0; i < 6; ++i) *fields[i] = t[i].item<double>();
  }
};

// This rank's held-out sums (student in eval mode, no gradients).
HeldOutSums held_out_sums(DistillRun& run) {
  const auto& teacher = run.teacher;
  auto& eval_loader = *run.eval_loader;
  eval_loader.set_epoch(0);
  const int64_t n = static_cast<int64_t>(eval_loader.num_batches());
  const int64_t limit = run.r.trainer.eval_batches > 0 ? std::min(n, run.r.trainer.eval_batches) : n;
  const auto sum = torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum);
  HeldOutSums acc;
  for (int64_t i = 0; i < limit; ++i) {
    auto b = data::to_device(eval_loader.make_batch(static_cast<size_t>(i)), run.ctx.device);
    AutocastScope autocast(run.r.precision, run.ctx.device);
    ModelInputs in;
    in.input_ids = b.input_ids;
    in.attention_mask = b.attention_mask;
    auto labels = b.mlm_labels.reshape({-1});
    auto rows = labels.ne(-100).nonzero().reshape({-1});
    if (rows.size(0) == 0) continue;
    auto tgt = labels.index_select(0, rows);
    auto hs = run.student->encoder_forward(in).last_hidden_state;
    auto s_logits = run.student->mlm_logits(hs.reshape({-1, hs.size(-1)}).index_select(0, rows)).to(torch::kFloat);
    const auto s_top = s_logits.argmax(-1);
    acc.ce += torch::nn::functional::cross_entropy(s_logits, tgt, sum).item<double>();
    acc.targets += static_cast<double>(rows.size(0));
    acc.correct += s_top.eq(tgt).sum().item<double>();
    if (!run.teacher_head) continue;
    auto th = teacher->encoder_forward(in).last_hidden_state;
    auto t_logits = teacher->mlm_logits(th.reshape({-1, th.size(-1)}).index_select(0, rows)).to(torch::kFloat);
    const auto t_logp = torch::log_softmax(t_logits, -1);
    acc.agreement += s_top.eq(t_logits.argmax(-1)).sum().item<double>();
    acc.kl += (t_logp.exp() * (t_logp - torch::log_softmax(s_logits, -1))).sum().item<double>();
    acc.teacher_ce += torch::nn::functional::cross_entropy(t_logits, tgt, sum).item<double>();
  }
  return acc;
}

// Held-out metrics of the student (MLM loss, perplexity, masked-token accuracy) and, when distilling, its top-1
// agreement with the teacher and KL(teacher || student) at T = 1 on the masked tokens; sums over every rank.
void evaluate(DistillRun& run, const ProgressLine& progress) {
  if (run.last_eval_step == run.step) return;
  run.last_eval_step = run.step;
  HeldOutSums acc;
  {
    torch::NoGradGuard no_grad;
    run.student->eval();
    acc = held_out_sums(run);
    run.student->train();
  }
  acc.all_reduce(*run.ctx.comm, "held-out metrics at step " + std::to_string(run.step));
  const double targets = std::max(1.0, acc.targets);
  json m = {{"mlm_loss", acc.ce / targets},
            {"perplexity", std::exp(acc.ce / targets)},
            {"accuracy", acc.correct / targets},
            {"targets", acc.targets}};
  if (run.teacher_head) {
    m["teacher_agreement"] = acc.agreement / targets;
    m["teacher_kl"] = acc.kl / targets;
    m["teacher_mlm_loss"] = acc.teacher_ce / targets;
  }
  if (run.log) run.log->log(run.step, m, "eval");
  run.summary.eval = m;
  if (!run.main_rank()) return;
  std::cerr << progress.line_break() << run.ctx.tag << "eval at step " << run.step << ": mlm loss "
            << fmt(m["mlm_loss"].get<double>()) << ", perplexity " << fmt(m["perplexity"].get<double>())
            << ", accuracy " << fmt(m["accuracy"].get<double>(), 3);
  if (run.teacher_head)
    std::cerr << ", teacher agreement " << fmt(m["teacher_agreement"].get<double>(), 3) << " (teacher mlm loss "
              << fmt(m["teacher_mlm_loss"].get<double>()) << ")";
  std::cerr << "\n";
}

// Non-finite loss (trainer.nan_policy): name the term, then skip this micro-batch or stop. With several ranks, a
// micro-batch is skipped everywhere when any rank's loss is non-finite. A run whose every micro-batch is non-finite
// (diverged weights, broken data) stops instead of skipping forever. Returns whether to skip the micro-batch.
bool skip_non_finite(DistillRun& run, const DistillLossParts& parts, int64_t& bad_in_a_row) {
  const auto& r = run.r;
  const bool local_bad = !torch::isfinite(parts.total).item<bool>();
  const bool any_bad = any_rank(*run.ctx.comm, local_bad, run.step);
  bad_in_a_row = any_bad ? bad_in_a_row + 1 : 0;
  DISTILBERT_CHECK(bad_in_a_row <= std::max<int64_t>(100, 2 * run.accum), "trainer.nan_policy 'skip': ",
                   bad_in_a_row, " micro-batches in a row had a non-finite loss (at step ", run.step,
                   "): the weights or the data are broken; stopping instead of skipping forever");
  if (!any_bad) return false;
  if (!local_bad) {
    DISTILBERT_CHECK(r.trainer.nan_policy == "skip", "non-finite loss on another rank at step ", run.step,
                     " (micro-batch ", run.micro, "); trainer.nan_policy is 'stop'");
  } else {
    std::string bad = "total";
    for (const auto& [name, term] : loss_terms())
      if (term != &DistillLossParts::total && (parts.*term).defined() && !torch::isfinite(parts.*term).item<bool>())
        bad = name;
    DISTILBERT_CHECK(r.trainer.nan_policy == "skip", "non-finite loss at step ", run.step, " (micro-batch ",
                     run.micro, ", epoch ", run.epoch, "): ", bad, " is ", parts.total.item<double>(),
                     "; trainer.nan_policy is 'stop'");
    std::cerr << "\n" << run.ctx.tag << "warning: non-finite " << bad << " at step " << run.step
              << "; micro-batch skipped\n";
  }
  ++run.summary.skipped_steps;
  return true;
}

// The logging window's record after an optimizer step: metrics.jsonl / TensorBoard and the progress line.
void log_step(DistillRun& run, const LogWindow& window, const StepOutcome& s, double grad_norm,
              ProgressLine& progress) {
  json rec = window.means(*run.ctx.comm, run.step);
  rec["lr"] = s.lr;
  rec["grad_norm"] = grad_norm;
  rec["epoch"] = run.epoch;
  rec["memory_mib"] = resident_memory_mib();
  if (run.scaler->enabled()) rec["loss_scale"] = run.scaler->current_scale();
  if (run.log) run.log->log(run.step, rec);
  run.summary.last_loss = rec.value("loss", 0.0);
  if (!run.main_rank()) return;
  std::string fields = "loss " + fmt(run.summary.last_loss);
  for (const char* k : {"loss_ce", "loss_mlm", "loss_cos", "loss_mse"})
    if (rec.contains(k)) fields += std::string(" ") + (k + 5) + " " + fmt(rec[k].get<double>());
  fields += " | lr " + fmt(s.lr, 3) + " | " +
            std::to_string(static_cast<int64_t>(rec["tokens_per_s"].get<double>())) + " tok/s";
  progress.update(run.step, fields);
}

// Operator profile of trainer.profile_steps optimizer steps (rank 0), from step profile_start on.
struct Profile {
  std::unique_ptr<StepProfiler> profiler;
  void maybe_start(const DistillRun& run) {
    const auto& t = run.r.trainer;
    if (run.main_rank() && t.profile_steps > 0 && !profiler && run.step == t.profile_start &&
        run.micro % run.accum == 0)
      profiler = std::make_unique<StepProfiler>((fs::path(run.r.output_dir) / "profile.json").string());
  }
  void finish(const DistillRun& run) {
    if (!profiler) return;
    const fs::path out(run.r.output_dir);
    const int64_t first = run.r.trainer.profile_start;
    const std::string table = profiler->finish(25);
    profiler.reset();
    write_file_atomic((out / "profile.txt").string(), "optimizer steps " + std::to_string(first) + " to " +
                                                          std::to_string(run.step - 1) + " (0-based)\n" + table);
    std::cerr << "\n" << run.ctx.tag << "profile of steps " << first << ".." << run.step - 1 << " -> "
              << (out / "profile.json").string() << " (Chrome trace) and profile.txt:\n" << table;
  }
};

// The final model folder (HF layout, with the tokenizer), after a last checkpoint.
void write_final_model(DistillRun& run) {
  save(run, run.micro % run.accum != 0);
  const std::string final_dir = (fs::path(run.r.output_dir) / "final").string();
  if (run.main_rank()) {
    save_model_folder(*run.student, final_dir);
    run.tok->save_pretrained(final_dir);
  }
  run.ctx.comm->barrier("writing the final model");
  run.summary.final_dir = final_dir;
}

}  // namespace

RunSummary run_distillation(const DistillRecipe& r, bool overwrite, const std::atomic<bool>* stop) {
  const auto t_start = Clock::now();
  DistillRun run(r, start_run(r.mode, r.threads, r.device, r.distributed));
  torch::manual_seed(r.seed);
  auto& comm = *run.ctx.comm;
  const std::string& tag = run.ctx.tag;
  const fs::path out(r.output_dir);

  // ---- set-up: rank 0 checks the run folder, everyone loads, rank 0 records the run -------------------------------
  on_main_rank(comm, "run-folder", "prepare the run folder", [&] { check_run_folder(r, overwrite); });
  load_data(run, load_models(run));
  on_main_rank(comm, "run-recorded", "prepare the run folder", [&] { record_run_folder(r, overwrite); });
  start_optimizer(run);
  if (run.main_rank()) run.log = std::make_unique<RunLog>(r.output_dir, r.trainer.tensorboard);
  if (run.step >= run.total_steps && fs::exists(out / "final" / "model.safetensors")) {
    if (run.main_rank())
      std::cerr << tag << "run already complete (" << run.step << " steps); model in " << (out / "final").string()
                << "\n";
    run.summary.steps = run.step;
    run.summary.micro_steps = run.micro;
    run.summary.final_dir = (out / "final").string();
    return run.summary;
  }

  // ---- the loop -------------------------------------------------------------------------------------------------
  ProgressLine progress(r.trainer.progress && run.main_rank(), tag, run.step, run.total_steps);
  const auto run_start = Clock::now();
  LogWindow window;
  Profile profile;
  double grad_norm = 0.0;  // of the last clipped step
  int64_t run_tokens = 0, bad_in_a_row = 0;
  const bool evaluates = run.eval_loader != nullptr;
  bool done = run.step >= run.total_steps;
  while (!done) {
    if (any_rank(comm, stop && stop->load(), run.step)) {
      const std::string dir = save(run, run.micro % run.accum != 0);
      if (run.main_rank())
        std::cerr << "\n" << tag << "stopped by signal at step " << run.step << "; checkpoint " << dir << "\n";
      run.summary.interrupted = true;
      break;
    }
    std::optional<data::MlmBatch> batch = run.loader->next();
    if (!batch) {
      if (evaluates && r.trainer.eval_every == 0) evaluate(run, progress);  // end of each epoch
      ++run.epoch;
      if (r.trainer.max_steps == 0 && run.epoch >= r.trainer.epochs) break;
      run.loader->set_epoch(run.epoch);
      continue;
    }
    profile.maybe_start(run);
    auto b = data::to_device(*batch, run.ctx.device);
    auto [parts, keep_alive] = micro_batch_loss(run, b);
    const int64_t batch_tokens = b.attention_mask.sum().item<int64_t>();
    if (skip_non_finite(run, parts, bad_in_a_row)) continue;
    const bool sync_now = (run.micro + 1) % run.accum == 0;  // the micro-batch that ends an accumulation cycle
    run.grad_sync->backward(run.scaler->scale(parts.total / static_cast<double>(run.accum)), sync_now);
    window.add(parts, batch_tokens);
    run_tokens += batch_tokens;
    ++run.micro;
    if (run.micro % run.accum != 0) continue;

    const StepOutcome s = optimizer_step(*run.optimizer, run.params, *run.scaler, r.optimizer.lr,
                                         r.optimizer.max_grad_norm, run.step, run.warmup, run.total_steps);
    if (r.optimizer.max_grad_norm > 0) grad_norm = s.grad_norm;
    ++run.step;
    if (run.step == r.trainer.profile_start + r.trainer.profile_steps) profile.finish(run);
    if (run.step % r.trainer.log_every == 0 || run.step == run.total_steps) {
      log_step(run, window, s, grad_norm, progress);
      window = LogWindow();
    }
    if (evaluates && r.trainer.eval_every > 0 &&
        (run.step % r.trainer.eval_every == 0 || run.step == run.total_steps))
      evaluate(run, progress);
    if (r.trainer.save_every > 0 && run.step % r.trainer.save_every == 0 && run.step < run.total_steps)
      save(run, false);
    done = run.step >= run.total_steps;
  }
  progress.finish();
  profile.finish(run);  // the run ended inside the profiled steps
  if (evaluates && !run.summary.interrupted) evaluate(run, progress);  // the final model's held-out metrics
  if (comm.active()) {  // throughput of the whole job
    auto t = torch::tensor({static_cast<double>(run_tokens)}, torch::kDouble);
    comm.all_reduce_sum(t, "token counts");
    run_tokens = static_cast<int64_t>(t.item<double>());
  }
  auto& summary = run.summary;
  summary.steps = run.step;
  summary.micro_steps = run.micro;
  summary.seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  summary.tokens_per_second =
      run_tokens / std::max(std::chrono::duration<double>(Clock::now() - run_start).count(), 1e-9);
  if (summary.interrupted) return summary;

  // ---- final model ----------------------------------------------------------------------------------------------
  write_final_model(run);
  if (run.main_rank())
    std::cerr << tag << "done: " << run.step << " optimizer steps, last loss " << fmt(summary.last_loss) << ", "
              << static_cast<int64_t>(summary.tokens_per_second) << " tokens/s; model in " << summary.final_dir
              << "\n";
  return summary;
}

}  // namespace distilbert
