// The distillation / MLM-pretraining run; see distiller.h. Read it top to bottom: setup (folders, tokenizer,
// models, data, optimiser, resume), then the loop (forward, loss, backward, step every grad_accum_steps micro-batches,
// log, save, evaluate), then the final model folder.
#include "distilbert/train/distiller.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/fs.h"
#include "distilbert/core/runtime.h"
#include "distilbert/data/loader.h"
#include "distilbert/data/lm_sequences.h"
#include "distilbert/data/mlm.h"
#include "distilbert/data/token_counts.h"
#include "distilbert/data/token_store.h"
#include "distilbert/dist/comm.h"
#include "distilbert/dist/grad_sync.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/train/checkpoint.h"
#include "distilbert/train/memory_estimate.h"
#include "distilbert/train/optim.h"
#include "distilbert/train/precision.h"
#include "distilbert/train/run_log.h"
#include "distilbert/train/step_profile.h"

namespace distilbert {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

// Loss terms averaged over a logging window (pre-division by grad_accum_steps, as the reference logs them).
struct Window {
  std::map<std::string, double> sums;
  int64_t micro = 0, tokens = 0;
  double grad_norm = 0.0;
  Clock::time_point start = Clock::now();
  void add(const DistillLossParts& p) {
    auto put = [&](const char* k, const torch::Tensor& t) {
      if (t.defined()) sums[k] += t.item<double>();
    };
    put("loss", p.total);
    put("loss_ce", p.ce);
    put("loss_mlm", p.mlm);
    put("loss_mse", p.mse);
    put("loss_cos", p.cos);
    put("loss_layer_cos", p.layer_cos);
    put("loss_layer_mse", p.layer_mse);
    ++micro;
  }
  void reset() { *this = Window(); }
};

// Which terms the run trains with (the others are not computed).
bool uses_teacher(const DistillRecipe& r) { return r.mode == "distill"; }

ModelPtr load_teacher(const DistillRecipe& r, torch::Device device) {
  LoadOptions o;
  o.allow_new_head = false;
  auto t = load_model_folder(r.teacher, o).model;
  DISTILBERT_CHECK(t->architecture().find("ForMaskedLM") != std::string::npos, "teacher '", r.teacher, "' is a ",
                   t->architecture(),
                   "; distillation needs a ...ForMaskedLM teacher (its MLM head gives the soft targets)");
  t->to(device);
  t->eval();  // no dropout in the teacher
  for (auto& p : t->parameters()) p.requires_grad_(false);
  cast_frozen_linears(*t, r.precision);  // runs only under autocast: its weights in that dtype once, not per step
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

std::string fmt_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof(buf), "%dh%02dm", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
  else
    std::snprintf(buf, sizeof(buf), "%dm%02ds", static_cast<int>(s / 60), static_cast<int>(s) % 60);
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

}  // namespace

RunSummary run_distillation(const DistillRecipe& r, bool overwrite, const std::atomic<bool>* stop) {
  RunSummary summary;
  const auto t_start = Clock::now();
  // Data parallel: torchrun-style variables (a single process without them). Each rank takes its share of the CPUs
  // and, for `device: cuda`, the GPU of its LOCAL_RANK.
  const auto env = dist::DistEnv::from_environment();
  const int threads = dist::set_rank_threads(env, r.threads);
  keep_freed_memory();  // the same large tensors every step: reuse their pages (see runtime.h)
  const torch::Device device = dist::rank_device(env, r.device);
  torch::manual_seed(r.seed);
  const std::string tag =
      "[" + r.mode + (env.enabled() ? " rank " + std::to_string(env.rank) : std::string()) + "] ";
  auto comm = dist::Communicator::create(env, r.distributed, device);
  const bool main_rank = comm->is_main();
  if (comm->active() && main_rank)
    std::cerr << tag << "data parallel: " << env.world_size << " processes (" << env.local_world_size
              << " on this machine), " << comm->backend() << ", rendezvous " << env.master_addr << ":"
              << env.master_port << " (" << env.source << ")\n";

  // The progress line rewrites itself with \r on a terminal; logs and CI get one plain line per log step.
  const bool progress_tty = ::isatty(STDERR_FILENO) == 1;
  // ---- run folder (rank 0 checks it, and later records the run; the others wait for its verdict) ----------------
  const fs::path out(r.output_dir);
  auto on_main_rank = [&](const char* what, const std::function<void()>& work) {
    std::string error;
    if (main_rank) {
      try {
        work();
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    error = comm->share_from_main(what, error);
    if (!error.empty()) {
      if (main_rank) fail(error);
      fail("data parallel: rank 0 could not prepare the run folder: ", error);
    }
  };
  on_main_rank("run-folder", [&] { check_run_folder(r, overwrite); });

  // ---- tokenizer, models --------------------------------------------------------------------------------------
  const std::string tok_path = run_tokenizer_path(r);
  auto tok = tokenizer::load_tokenizer(tok_path);
  const auto specials = tok->special_ids();
  DISTILBERT_CHECK(
      specials.pad >= 0 && specials.mask >= 0 && specials.cls >= 0 && specials.sep >= 0 && specials.unk >= 0,
      "tokenizer: [PAD], [MASK], [CLS], [SEP] and [UNK] are all needed for MLM training");
  ModelPtr teacher = uses_teacher(r) ? load_teacher(r, device) : nullptr;
  ModelPtr student = load_student(r, device);
  const auto& sc = student->config();
  const int64_t vocab = sc.vocab_size;
  check_tokenizer_fits(tok->vocab_size(), sc, tok_path, r.student.empty() ? r.student_config : r.student);
  if (teacher) {
    const auto& tc = teacher->config();
    DISTILBERT_CHECK(tc.vocab_size == vocab, "teacher vocab_size ", tc.vocab_size, " differs from the student's ",
                     vocab, ": soft targets need the same vocabulary");
    const bool hidden_terms = r.loss.alpha_cos > 0 || !r.loss.layer_pairs.empty();
    DISTILBERT_CHECK(!hidden_terms || tc.hidden_size == sc.hidden_size,
                     "the cosine terms compare hidden states: teacher hidden ", "size ", tc.hidden_size,
                     " differs from the student's ", sc.hidden_size);
  }
  const int64_t max_len = std::min<int64_t>(r.data.max_seq_len, sc.max_position_embeddings);
  check_distill_memory(r, sc, teacher ? &teacher->config() : nullptr, max_len);  // refuse absurd sizes up front

  // ---- data -----------------------------------------------------------------------------------------------------
  data::TokenStore::OpenOptions so;
  so.expected_fingerprint = tok->fingerprint();
  auto store = data::TokenStore::open(r.data.train, so);
  data::LmSequencesOptions lso;
  lso.max_len = max_len;
  lso.threads = static_cast<size_t>(threads);
  auto seqs = std::make_shared<const data::LmSequences>(store, lso);
  if (main_rank) {
    const auto& st = seqs->stats();
    std::cerr << tag << "data: " << st.input_sequences << " sequences, " << st.split_sequences << " split into "
              << st.chunks << " chunks, " << st.dropped_short << " dropped as too short, " << st.dropped_unk
              << " dropped for [UNK]s -> " << seqs->size() << " training sequences\n";
  }
  DISTILBERT_CHECK(seqs->size() > 0, "data '", r.data.train, "': no training sequences left after filtering");
  std::vector<int64_t> counts;
  if (!r.data.token_counts.empty())
    counts = data::load_token_counts(r.data.token_counts, vocab, tok->fingerprint()).counts;
  else
    counts = data::count_tokens(*store, static_cast<size_t>(threads));
  counts.resize(static_cast<size_t>(vocab), 0);
  const auto special_list = data::special_id_list(specials);
  auto probs = r.data.mlm.smoothing > 0 ? data::token_probs(counts, r.data.mlm.smoothing, special_list)
                                        : data::uniform_token_probs(vocab, special_list);
  data::MlmOptions mo;
  mo.mask_prop = r.data.mlm.mask_prob;
  mo.word_mask = r.data.mlm.word_mask;
  mo.word_keep = r.data.mlm.word_keep;
  mo.word_rand = r.data.mlm.word_rand;
  data::MlmMasker masker(probs, specials, vocab, mo);
  data::LoaderOptions lo;
  lo.batching.batch_size = r.data.batch_size;
  lo.batching.max_tokens = r.data.batching == "tokens" ? r.data.max_tokens : 0;
  lo.batching.group_by_size = r.data.batching == "grouped";
  lo.batching.group_max_len = max_len;
  lo.seed = r.seed;
  lo.prefetch = static_cast<size_t>(r.data.prefetch);
  lo.device = device;
  lo.shard = {env.rank, env.world_size};
  data::MlmLoader loader(seqs, masker, lo);
  loader.set_epoch(0);
  // Held-out data (data.valid): the same sequence rules, batches in file order and masks fixed by the seed, so every
  // evaluation of a run sees the same tokens and targets; each rank takes its shard and the sums are all-reduced.
  std::unique_ptr<data::MlmLoader> eval_loader;
  if (!r.data.valid.empty()) {
    auto vstore = data::TokenStore::open(r.data.valid, so);
    auto vseqs = std::make_shared<const data::LmSequences>(vstore, lso);
    DISTILBERT_CHECK(vseqs->size() > 0, "data.valid '", r.data.valid, "': no sequences left after filtering");
    data::LoaderOptions vo = lo;
    vo.batching.shuffle = false;
    vo.batching.group_by_size = false;
    vo.batching.max_tokens = 0;
    vo.prefetch = 0;
    eval_loader = std::make_unique<data::MlmLoader>(vseqs, masker, vo);
  }
  on_main_rank("run-recorded", [&] { record_run_folder(r, overwrite); });
  const int64_t batches_per_epoch = static_cast<int64_t>(loader.num_batches());
  const int64_t accum = r.trainer.grad_accum_steps;
  // The reference's schedule length: int(len(dataloader) / accum * epochs) + 1.
  const int64_t total_steps =
      r.trainer.max_steps > 0
          ? r.trainer.max_steps
          : static_cast<int64_t>(static_cast<double>(batches_per_epoch) / accum * r.trainer.epochs) + 1;
  const int64_t warmup = warmup_steps(total_steps, r.trainer.warmup_prop);

  // ---- optimiser, resume ----------------------------------------------------------------------------------------
  AdamWSettings as;
  as.lr = r.optimizer.lr;
  as.beta1 = r.optimizer.beta1;
  as.beta2 = r.optimizer.beta2;
  as.eps = r.optimizer.eps;
  as.weight_decay = r.optimizer.weight_decay;
  auto optimizer = build_adamw(*student, as);
  std::vector<torch::Tensor> params;
  for (const auto& p : student->parameters())
    if (p.requires_grad()) params.push_back(p);
  LossScaler scaler(r.precision == "fp16");
  int64_t step = 0, micro = 0, epoch = 0;
  std::string resumed_from;
  if (auto st = resume_from(r.trainer.resume, r.output_dir, *student, *optimizer, &resumed_from)) {
    step = (*st)["step"];
    micro = (*st)["micro_step"];
    auto ls = data::LoaderState::from_json((*st)["loader"]);
    // Rank 0 saves its loader position; every rank is at the same epoch and batch index of its own shard.
    DISTILBERT_CHECK(ls.world_size == env.world_size, "checkpoint ", resumed_from, " was written by a run of ",
                     ls.world_size, " process(es); this run has ", env.world_size,
                     ". Resume with the same number of processes (the data order of an epoch depends on it)");
    ls.rank = env.rank;
    loader.restore(ls);
    epoch = ls.epoch;
    summary.skipped_steps = st->value("skipped_steps", int64_t{0});
    if (st->contains("scaler"))
      scaler.restore((*st)["scaler"]["scale"], (*st)["scaler"]["growth_tracker"], (*st)["scaler"]["skipped"]);
    if (main_rank) std::cerr << tag << "resumed from " << resumed_from << " at step " << step << " (epoch " << epoch << ", batch "
              << ls.batch << ")\n";
  }
  // Every rank must continue from the same checkpoint; then rank 0's weights are everyone's (DDP's initial broadcast).
  if (comm->active()) {
    const std::string mine = resumed_from + "@" + std::to_string(step);
    const std::string main_ckpt = comm->share_from_main("resumed-from", mine);
    DISTILBERT_CHECK(main_ckpt == mine, "data parallel: rank ", env.rank, " resumed from '", mine,
                     "' but rank 0 from '", main_ckpt,
                     "': every rank must see the same run folder (a shared file system)");
    std::vector<torch::Tensor> state;
    for (const auto& p : student->parameters()) state.push_back(p);
    for (const auto& b : student->buffers()) state.push_back(b);
    comm->broadcast(state, "the student's initial weights");
  }
  dist::GradSync grad_sync(comm, params, r.distributed);
  if (main_rank) std::cerr << tag << (teacher ? "teacher " + teacher->architecture() + " (" +
                                     std::to_string(count_parameters(*teacher)) + " parameters), "
                               : std::string())
            << "student " << student->architecture() << " (" << count_parameters(*student) << " parameters); "
            << batches_per_epoch << " batches/epoch, accumulation " << accum << ", " << total_steps
            << " optimizer steps, warm-up " << warmup << "; device " << device << ", " << threads << " thread(s), "
            << r.precision << "\n";

  std::unique_ptr<RunLog> log;  // rank 0 alone writes metrics
  if (main_rank) log = std::make_unique<RunLog>(r.output_dir, r.trainer.tensorboard);
  Window window;
  double last_grad_norm = 0.0;
  const bool need_hidden = teacher && (r.loss.alpha_cos > 0 || !r.loss.layer_pairs.empty());
  const bool restrict_rows = !teacher || r.loss.restrict_ce_to_mask;  // pretraining projects MLM targets only
  const auto run_start = Clock::now();
  const int64_t start_step = step;
  int64_t run_tokens = 0;

  auto trainer_state = [&]() {
    return json{{"micro_step", micro},
                {"loader", loader.state().to_json()},
                {"skipped_steps", summary.skipped_steps},
                {"scaler",
                 {{"scale", scaler.current_scale()},
                  {"growth_tracker", scaler.growth_tracker()},
                  {"skipped", scaler.skipped_steps()}}},
                {"total_steps", total_steps}};
  };
  auto save_local = [&](bool mid_accumulation) {
    CheckpointData d;
    d.model = student.get();
    d.tokenizer = tok.get();
    d.optimizer = optimizer.get();
    d.with_grads = mid_accumulation;
    d.state = trainer_state();
    return save_checkpoint(r.output_dir, step, d, r.trainer.keep_last);
  };
  // Rank 0 writes; mid-cycle gradients are first averaged over the ranks, which keeps the continuation exact (the
  // all-reduce at the end of the cycle is linear). The others wait so no rank runs ahead of a checkpoint.
  auto save = [&](bool mid_accumulation) {
    if (mid_accumulation) grad_sync.average_now("accumulated gradients before a checkpoint");
    std::string dir;
    if (main_rank) dir = save_local(mid_accumulation);
    comm->barrier("checkpoint " + std::to_string(step));
    return comm->share_from_main("checkpoint-dir", dir);
  };

  // One micro-batch: forward both models, select rows, compute the loss terms.
  auto compute = [&](const data::MlmBatch& b) {
    AutocastScope autocast(r.precision, device);
    ModelInputs in;
    in.input_ids = b.input_ids;
    in.attention_mask = b.attention_mask;
    in.output_hidden_states = need_hidden;
    ModelOutput t_out;
    if (teacher) {
      torch::NoGradGuard no_grad;
      t_out = teacher->encoder_forward(in);
    }
    ModelOutput s_out = student->encoder_forward(in);
    auto rows = distill_rows(b.attention_mask, b.mlm_labels, restrict_rows);
    const int64_t H = s_out.last_hidden_state.size(-1);
    // Vocabulary projections only for the rows a loss uses. Losses in fp32 whatever the autocast dtype: the fused
    // KL + MLM reads bf16/fp16 logits directly and converts block by block in cache (no fp32 copy of the logits).
    auto s_logits = student->mlm_logits(s_out.last_hidden_state.reshape({-1, H}).index_select(0, rows));
    if (!teacher) s_logits = s_logits.to(torch::kFloat);
    DistillLossInputs li;
    li.student_logits = s_logits;
    li.mlm_labels = b.mlm_labels.reshape({-1}).index_select(0, rows);
    li.attention_mask = b.attention_mask;
    if (teacher) {
      torch::NoGradGuard no_grad;
      const int64_t Ht = t_out.last_hidden_state.size(-1);
      li.teacher_logits = teacher->mlm_logits(t_out.last_hidden_state.reshape({-1, Ht}).index_select(0, rows));
      li.student_hidden = &s_out.hidden_states;
      li.teacher_hidden = &t_out.hidden_states;
    } else {
      li.teacher_logits = s_logits.detach();  // unused: alpha_ce is 0 in pretraining
    }
    if (need_hidden) {
      for (auto& h : s_out.hidden_states) h = h.to(torch::kFloat);
      for (auto& h : t_out.hidden_states) h = h.to(torch::kFloat);
    }
    DistillLossWeights w = r.loss;
    auto parts = teacher ? distillation_loss(li, w, false) : DistillLossParts{};
    if (!teacher) {
      parts.rows = rows.size(0);
      parts.targets = parts.rows;
      parts.mlm = torch::nn::functional::cross_entropy(s_logits, li.mlm_labels);
      parts.total = w.alpha_mlm * parts.mlm;
    }
    // Keep the hidden-state tensors alive until backward through parts.total.
    return std::make_pair(parts, std::move(s_out));
  };

  // Held-out metrics of the student (MLM loss, perplexity, masked-token accuracy) and, when distilling, its top-1
  // agreement with the teacher and KL(teacher || student) at T = 1 on the masked tokens; sums over every rank.
  int64_t last_eval_step = -1;
  auto evaluate = [&]() {
    if (last_eval_step == step) return;
    last_eval_step = step;
    torch::NoGradGuard no_grad;
    student->eval();
    eval_loader->set_epoch(0);
    const int64_t n = static_cast<int64_t>(eval_loader->num_batches());
    const int64_t limit = r.trainer.eval_batches > 0 ? std::min(n, r.trainer.eval_batches) : n;
    // ce, targets, correct, teacher agreement, kl, teacher ce
    auto acc = torch::zeros({6}, torch::kDouble);
    for (int64_t i = 0; i < limit; ++i) {
      auto b = data::to_device(eval_loader->make_batch(static_cast<size_t>(i)), device);
      AutocastScope autocast(r.precision, device);
      ModelInputs in;
      in.input_ids = b.input_ids;
      in.attention_mask = b.attention_mask;
      auto labels = b.mlm_labels.reshape({-1});
      auto rows = labels.ne(-100).nonzero().reshape({-1});
      if (rows.size(0) == 0) continue;
      auto tgt = labels.index_select(0, rows);
      auto hs = student->encoder_forward(in).last_hidden_state;
      auto s_logits = student->mlm_logits(hs.reshape({-1, hs.size(-1)}).index_select(0, rows)).to(torch::kFloat);
      const auto s_top = s_logits.argmax(-1);
      std::vector<double> v = {torch::nn::functional::cross_entropy(
                                   s_logits, tgt, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                                   .item<double>(),
                               static_cast<double>(rows.size(0)), s_top.eq(tgt).sum().item<double>(), 0, 0, 0};
      if (teacher) {
        auto th = teacher->encoder_forward(in).last_hidden_state;
        auto t_logits = teacher->mlm_logits(th.reshape({-1, th.size(-1)}).index_select(0, rows)).to(torch::kFloat);
        const auto t_logp = torch::log_softmax(t_logits, -1);
        v[3] = s_top.eq(t_logits.argmax(-1)).sum().item<double>();
        v[4] = (t_logp.exp() * (t_logp - torch::log_softmax(s_logits, -1))).sum().item<double>();
        v[5] = torch::nn::functional::cross_entropy(
                   t_logits, tgt, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                   .item<double>();
      }
      acc += torch::tensor(v, torch::kDouble);
    }
    student->train();
    comm->all_reduce_sum(acc, "held-out metrics at step " + std::to_string(step));
    const double targets = std::max(1.0, acc[1].item<double>());
    json m = {{"mlm_loss", acc[0].item<double>() / targets},
              {"perplexity", std::exp(acc[0].item<double>() / targets)},
              {"accuracy", acc[2].item<double>() / targets},
              {"targets", acc[1].item<double>()}};
    if (teacher) {
      m["teacher_agreement"] = acc[3].item<double>() / targets;
      m["teacher_kl"] = acc[4].item<double>() / targets;
      m["teacher_mlm_loss"] = acc[5].item<double>() / targets;
    }
    if (log) log->log(step, m, "eval");
    if (main_rank) {
      std::cerr << (r.trainer.progress && progress_tty ? "\n" : "") << tag << "eval at step " << step << ": mlm loss "
                << fmt(m["mlm_loss"].get<double>()) << ", perplexity " << fmt(m["perplexity"].get<double>())
                << ", accuracy " << fmt(m["accuracy"].get<double>(), 3);
      if (teacher)
        std::cerr << ", teacher agreement " << fmt(m["teacher_agreement"].get<double>(), 3) << " (teacher mlm loss "
                  << fmt(m["teacher_mlm_loss"].get<double>()) << ")";
      std::cerr << "\n";
    }
    summary.eval = m;
  };

  // ---- the loop -------------------------------------------------------------------------------------------------
  bool done = step >= total_steps;
  if (done && fs::exists(out / "final" / "model.safetensors")) {
    if (main_rank) std::cerr << tag << "run already complete (" << step << " steps); model in " << (out / "final").string() << "\n";
    summary.steps = step;
    summary.micro_steps = micro;
    summary.final_dir = (out / "final").string();
    return summary;
  }
  // Decisions every rank must take together (stop on a signal, skip a non-finite micro-batch) are agreed with one
  // tiny all-reduce (max) per micro-batch; a single process just reads its own flags.
  auto agree = [&](float stop_flag, float bad_flag) {
    auto f = torch::tensor({stop_flag, bad_flag}, torch::kFloat);
    comm->all_reduce_max(f, "run-control flags at step " + std::to_string(step));
    return std::make_pair(f[0].item<float>() > 0, f[1].item<float>() > 0);
  };
  // Operator profile of trainer.profile_steps optimizer steps (rank 0), from step profile_start on.
  const bool profile_on = main_rank && r.trainer.profile_steps > 0;
  std::unique_ptr<StepProfiler> profiler;
  auto finish_profile = [&]() {
    const int64_t first = r.trainer.profile_start;
    const std::string table = profiler->finish(25);
    profiler.reset();
    write_file_atomic((out / "profile.txt").string(), "optimizer steps " + std::to_string(first) + " to " +
                                                          std::to_string(step - 1) + " (0-based)\n" + table);
    std::cerr << "\n" << tag << "profile of steps " << first << ".." << step - 1 << " -> "
              << (out / "profile.json").string() << " (Chrome trace) and profile.txt:\n" << table;
  };
  // nan_policy skip: a run whose every micro-batch is non-finite (diverged weights, broken data) must stop, not
  // skip forever (found by the fault tests: a NaN student looped with zero steps until killed).
  int64_t bad_in_a_row = 0;
  const int64_t max_bad_in_a_row = std::max<int64_t>(100, 2 * accum);
  while (!done) {
    const bool stop_now = comm->active() ? agree(stop && stop->load() ? 1.f : 0.f, 0.f).first : stop && stop->load();
    if (stop_now) {
      const std::string dir = save(micro % accum != 0);
      if (main_rank) std::cerr << "\n" << tag << "stopped by signal at step " << step << "; checkpoint " << dir << "\n";
      summary.interrupted = true;
      break;
    }
    std::optional<data::MlmBatch> batch = loader.next();
    if (!batch) {
      if (eval_loader && r.trainer.eval_every == 0) evaluate();  // end of each epoch
      ++epoch;
      if (r.trainer.max_steps == 0 && epoch >= r.trainer.epochs) break;
      loader.set_epoch(epoch);
      continue;
    }
    if (profile_on && !profiler && step == r.trainer.profile_start && micro % accum == 0)
      profiler = std::make_unique<StepProfiler>((out / "profile.json").string());
    auto b = data::to_device(*batch, device);
    auto [parts, keep_alive] = compute(b);
    const int64_t batch_tokens = b.attention_mask.sum().item<int64_t>();
    // Non-finite loss: name the term, then skip this micro-batch or stop (trainer.nan_policy). With several ranks, a
    // micro-batch is skipped everywhere when any rank's loss is non-finite.
    const bool local_bad = !torch::isfinite(parts.total).item<bool>();
    const bool any_bad = comm->active() ? agree(0.f, local_bad ? 1.f : 0.f).second : local_bad;
    bad_in_a_row = any_bad ? bad_in_a_row + 1 : 0;
    DISTILBERT_CHECK(bad_in_a_row <= max_bad_in_a_row, "trainer.nan_policy 'skip': ", bad_in_a_row,
                     " micro-batches in a row had a non-finite loss (at step ", step,
                     "): the weights or the data are broken; "
                     "stopping instead of skipping forever");
    if (any_bad && !local_bad) {
      DISTILBERT_CHECK(r.trainer.nan_policy == "skip", "non-finite loss on another rank at step ", step,
                       " (micro-batch ", micro, "); trainer.nan_policy is 'stop'");
      ++summary.skipped_steps;
      continue;
    }
    if (local_bad) {
      std::string bad = "total";
      for (auto [name, t] : {std::pair<const char*, torch::Tensor>{"loss_ce", parts.ce}, {"loss_mlm", parts.mlm},
                             {"loss_mse", parts.mse}, {"loss_cos", parts.cos}, {"loss_layer_cos", parts.layer_cos},
                             {"loss_layer_mse", parts.layer_mse}})
        if (t.defined() && !torch::isfinite(t).item<bool>()) bad = name;
      DISTILBERT_CHECK(r.trainer.nan_policy == "skip", "non-finite loss at step ", step, " (micro-batch ", micro,
                       ", epoch ", epoch, "): ", bad, " is ", parts.total.item<double>(),
                       "; trainer.nan_policy is 'stop'");
      std::cerr << "\n" << tag << "warning: non-finite " << bad << " at step " << step << "; micro-batch skipped\n";
      ++summary.skipped_steps;
      continue;
    }
    const bool sync_now = (micro + 1) % accum == 0;  // the micro-batch that ends an accumulation cycle
    auto scaled = scaler.scale(parts.total / static_cast<double>(accum));
    grad_sync.backward(scaled, sync_now);
    window.add(parts);
    window.tokens += batch_tokens;
    run_tokens += batch_tokens;
    ++micro;
    if (micro % accum != 0) continue;

    // ---- optimizer step ----
    const bool finite = scaler.unscale(params);
    if (r.optimizer.max_grad_norm > 0)
      last_grad_norm = clip_gradients(params, r.optimizer.max_grad_norm);
    const double lr = r.optimizer.lr * linear_schedule_factor(step, warmup, total_steps);
    set_learning_rate(*optimizer, lr);
    if (finite) adamw_step(*optimizer);
    scaler.update(!finite);
    optimizer->zero_grad();
    ++step;
    window.grad_norm = last_grad_norm;
    if (profiler && step == r.trainer.profile_start + r.trainer.profile_steps) finish_profile();

    if (step % r.trainer.log_every == 0 || step == total_steps) {
      const double secs = std::chrono::duration<double>(Clock::now() - window.start).count();
      // Loss terms averaged over the micro-batches of every rank, tokens summed over the ranks.
      static const char* const kTerms[] = {"loss",     "loss_ce",        "loss_mlm",      "loss_mse",
                                           "loss_cos", "loss_layer_cos", "loss_layer_mse"};
      std::vector<double> agg;
      for (const char* k : kTerms) {
        const auto it = window.sums.find(k);
        agg.push_back(it == window.sums.end() ? 0.0 : it->second);
        agg.push_back(it == window.sums.end() ? 0.0 : static_cast<double>(window.micro));
      }
      agg.push_back(static_cast<double>(window.tokens));
      if (comm->active()) {
        auto t = torch::tensor(agg, torch::kDouble);
        comm->all_reduce_sum(t, "logged metrics at step " + std::to_string(step));
        for (size_t i = 0; i < agg.size(); ++i) agg[i] = t[static_cast<int64_t>(i)].item<double>();
      }
      json rec;
      for (size_t i = 0; i < std::size(kTerms); ++i)
        if (agg[2 * i + 1] > 0) rec[kTerms[i]] = agg[2 * i] / agg[2 * i + 1];
      rec["lr"] = lr;
      rec["grad_norm"] = last_grad_norm;
      rec["tokens_per_s"] = agg.back() / std::max(secs, 1e-9);
      rec["epoch"] = epoch;
      rec["memory_mib"] = resident_memory_mib();
      if (scaler.enabled()) rec["loss_scale"] = scaler.current_scale();
      if (log) log->log(step, rec);
      summary.last_loss = rec.value("loss", 0.0);
      if (r.trainer.progress && main_rank) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - run_start).count();
        const double eta = elapsed / std::max<int64_t>(1, step - start_step) * (total_steps - step);
        std::cerr << (progress_tty ? "\r" : "") << tag << "step " << step << "/" << total_steps << " | loss "
                  << fmt(summary.last_loss);
        for (const char* k : {"loss_ce", "loss_mlm", "loss_cos", "loss_mse"})
          if (rec.contains(k)) std::cerr << " " << (k + 5) << " " << fmt(rec[k].get<double>());
        std::cerr << " | lr " << fmt(lr, 3) << " | " << static_cast<int64_t>(rec["tokens_per_s"].get<double>())
                  << " tok/s | ETA " << fmt_duration(eta) << (progress_tty ? "   " : "\n") << std::flush;
      }
      window.reset();
    }
    if (eval_loader && r.trainer.eval_every > 0 && (step % r.trainer.eval_every == 0 || step == total_steps))
      evaluate();
    if (r.trainer.save_every > 0 && step % r.trainer.save_every == 0 && step < total_steps) save(false);
    done = step >= total_steps;
  }
  if (r.trainer.progress && main_rank && progress_tty) std::cerr << "\n";
  if (profiler) finish_profile();  // the run ended inside the profiled steps
  if (eval_loader && !summary.interrupted) evaluate();  // the final model's held-out metrics
  if (comm->active()) {  // throughput of the whole job
    auto t = torch::tensor({static_cast<double>(run_tokens)}, torch::kDouble);
    comm->all_reduce_sum(t, "token counts");
    run_tokens = static_cast<int64_t>(t.item<double>());
  }
  summary.steps = step;
  summary.micro_steps = micro;
  summary.seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  summary.tokens_per_second =
      run_tokens / std::max(std::chrono::duration<double>(Clock::now() - run_start).count(), 1e-9);
  if (summary.interrupted) return summary;

  // ---- final model ----------------------------------------------------------------------------------------------
  save(micro % accum != 0);
  const std::string final_dir = (out / "final").string();
  if (main_rank) {
    save_model_folder(*student, final_dir);
    tok->save_pretrained(final_dir);
  }
  comm->barrier("writing the final model");
  summary.final_dir = final_dir;
  if (main_rank) std::cerr << tag << "done: " << step << " optimizer steps, last loss " << fmt(summary.last_loss) << ", "
            << static_cast<int64_t>(summary.tokens_per_second) << " tokens/s; model in " << final_dir << "\n";
  return summary;
}

}  // namespace distilbert
