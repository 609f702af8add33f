// Fault injection on the real CLI (issue 10): tiny distillation runs (the golden 2-layer models, a character
// vocabulary, WikiText-2 lines) driven as subprocesses while core/fault.h's DISTILBERT_FAULT hooks, resource limits
// or damaged files make them fail at exact moments. What must hold: the previous checkpoint stays loadable,
// `resume: auto` continues from it (exactly: same final weights as an uninterrupted run), errors are clear, and
// nothing half-written is mistaken for a checkpoint.
#include <sys/resource.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "distilbert/data/token_store.h"
#include "distilbert/io/model_folder.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "distilbert/train/checkpoint.h"
#include "distilbert/train/optim.h"
#include "support/char_vocab.h"
#include "test_paths.h"

// Catch2 last: LibTorch pulls in glog, whose CHECK would otherwise replace Catch's when no PCH is used.
#include <catch2/catch.hpp>

using namespace distilbert;
using json = nlohmann::json;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

using testing::write_char_vocab;

struct Run {
  bool exited = false;
  int code = -1;    // exit status when exited
  int signal = 0;   // terminating signal otherwise
  std::string output;
};

// Run the CLI through /bin/sh (so `export`, `ulimit` and `trap` can shape it; `prefix` ends with ';'), which
// exec's into it; its output is captured in a file.
Run run_cli(const fs::path& dir, const std::string& prefix, const std::string& args) {
  const fs::path log = dir / "cli.log";
  const std::string cmd = "cd '" + dir.string() + "' && " + prefix + " exec '" + DISTILBERT_CLI + "' " + args + " > '" +
                          log.string() + "' 2>&1";
  const int status = std::system(cmd.c_str());
  Run r;
  // std::system reports the shell's status; the shell exec'ed the CLI, so it is the CLI's.
  if (WIFEXITED(status)) {
    r.exited = true;
    r.code = WEXITSTATUS(status);  // the CLI's own code (130 after SIGTERM/SIGINT is a clean, checkpointed stop)
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  std::ifstream in(log);
  r.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

// Teacher, student and a 300-line token store in a fresh folder; empty dir when the shared data is missing.
fs::path fault_workspace(const std::string& name) {
  const fs::path text = fs::path(DISTILBERT_SHARED_DATA) / "text/wikitext-2/valid.txt";
  if (!fs::exists(text)) return {};
  const fs::path dir = fs::temp_directory_path() / "distilbert_fault_tests" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_char_vocab(dir / "vocab.txt");
  auto tok = tokenizer::load_tokenizer(dir / "vocab.txt");
  for (const auto& [role, golden] : {std::pair<std::string, std::string>{"teacher", "bert_mlm"}, {"student", "distilbert_mlm"}}) {
    fs::create_directories(dir / role);
    for (const char* f : {"config.json", "model.safetensors"})
      fs::copy_file(fs::path(DISTILBERT_SOURCE_DIR) / "tests/data/golden" / golden / f, dir / role / f);
    tok->save_pretrained(dir / role);
  }
  {
    std::ifstream in(text);
    std::ofstream out(dir / "text.txt");
    std::string line;
    for (int i = 0; i < 300 && std::getline(in, line); ++i) out << line << "\n";
  }
  data::BinarizeOptions bo;
  bo.inputs = {(dir / "text.txt").string()};
  bo.output_prefix = (dir / "corpus").string();
  bo.progress = false;
  bo.threads = 1;
  data::binarize(*tok, bo);
  return dir;
}

// An 8-step run (2 micro-batches per step) saving at steps 4 and 8, written as recipe file `name`.
std::string write_recipe(const fs::path& dir, const std::string& name, const std::string& out, json patch = {}) {
  json r = json::parse(R"({
    "seed": 5, "threads": 1, "device": "cpu", "precision": "fp32",
    "data": {"max_seq_len": 48, "batch_size": 4, "batching": "grouped", "prefetch": 1},
    "loss": {"temperature": 2.0, "alpha_ce": 5.0, "alpha_mlm": 2.0, "alpha_cos": 1.0},
    "optimizer": {"lr": 1e-3},
    "trainer": {"max_steps": 8, "grad_accum_steps": 2, "warmup_prop": 0.25, "log_every": 1, "save_every": 4,
                "keep_last": 5, "resume": "auto", "progress": false, "tensorboard": false}
  })");
  r.merge_patch(json{{"output_dir", (dir / out).string()},
                     {"teacher", {{"model", (dir / "teacher").string()}}},
                     {"student", {{"model", (dir / "student").string()}}},
                     {"data", {{"train", (dir / "corpus").string()}}}});
  if (!patch.is_null()) r.merge_patch(patch);
  std::ofstream(dir / name) << r.dump(2);
  return "distill --recipe " + name;
}

std::vector<std::string> checkpoint_names(const fs::path& run) {
  std::vector<std::string> out;
  if (!fs::exists(run / "checkpoints")) return out;
  for (const auto& e : fs::directory_iterator(run / "checkpoints")) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

bool same_weights(const fs::path& a, const fs::path& b) {
  auto x = read_weights(a.string()), y = read_weights(b.string());
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i)
    if (x[i].first != y[i].first || !torch::equal(x[i].second, y[i].second)) return false;
  return true;
}

// The checkpoint loads into a fresh student with its optimiser (what resume does).
void require_loadable(const fs::path& ckpt, const fs::path& student) {
  auto model = load_model_folder(student.string(), LoadOptions{}).model;
  auto opt = build_adamw(*model, AdamWSettings{});
  REQUIRE_NOTHROW(load_checkpoint(ckpt.string(), *model, *opt));
}

// One uninterrupted reference run per workspace.
fs::path reference_run(const fs::path& dir) {
  const auto cmd = write_recipe(dir, "ref.json", "reference");
  const auto r = run_cli(dir, "", cmd);
  INFO(r.output);
  REQUIRE(r.exited);
  REQUIRE(r.code == 0);
  return dir / "reference";
}

}  // namespace

TEST_CASE("faults: kill -9 in the middle of a checkpoint write, resume: auto continues from the previous one",
          "[integration][faults]") {
  const auto dir = fault_workspace("kill9");
  if (dir.empty()) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  const auto ref = reference_run(dir);
  const auto cmd = write_recipe(dir, "run.json", "run");
  // The second save (step 8) dies right after writing model.safetensors into its temporary folder.
  auto killed = run_cli(dir, "export DISTILBERT_FAULT=checkpoint.weights_written:kill@2;", cmd);
  INFO(killed.output);
  REQUIRE_FALSE(killed.exited);
  CHECK(killed.signal == SIGKILL);
  const auto names = checkpoint_names(dir / "run");
  REQUIRE(names.size() == 2);
  CHECK(names[0] == "step-00000004");
  CHECK(names[1].rfind("step-00000008.tmp-", 0) == 0);  // the half-written save, never listed as a checkpoint
  CHECK(list_checkpoints((dir / "run").string()).size() == 1);
  CHECK_FALSE(fs::exists(dir / "run" / "final"));
  require_loadable(dir / "run/checkpoints/step-00000004", dir / "student");

  auto resumed = run_cli(dir, "", cmd);
  INFO(resumed.output);
  REQUIRE(resumed.exited);
  REQUIRE(resumed.code == 0);
  CHECK_THAT(resumed.output, Contains("resumed from") && Contains("step-00000004"));
  CHECK_THAT(resumed.output, Contains("removing the unfinished save"));
  CHECK(checkpoint_names(dir / "run") == std::vector<std::string>({"step-00000004", "step-00000008"}));
  CHECK(same_weights(dir / "run/final", ref / "final"));  // nothing lost: exactly the uninterrupted result
}

TEST_CASE("faults: kill -9 just before a checkpoint's rename also leaves the previous checkpoint in charge",
          "[integration][faults]") {
  const auto dir = fault_workspace("kill9_rename");
  if (dir.empty()) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  const auto cmd = write_recipe(dir, "run.json", "run");
  auto killed = run_cli(dir, "export DISTILBERT_FAULT=checkpoint.before_rename:kill@2;", cmd);
  INFO(killed.output);
  REQUIRE_FALSE(killed.exited);
  // Every file of step 8 is complete in the temporary folder, trainer_state.json included: still not a checkpoint.
  CHECK(list_checkpoints((dir / "run").string()).size() == 1);
  auto resumed = run_cli(dir, "", cmd);
  INFO(resumed.output);
  REQUIRE(resumed.code == 0);
  CHECK_THAT(resumed.output, Contains("step-00000004"));
}

TEST_CASE("faults: SIGTERM in the middle of an accumulation cycle checkpoints, exits cleanly, resumes exactly",
          "[integration][faults]") {
  const auto dir = fault_workspace("sigterm");
  if (dir.empty()) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  const auto ref = reference_run(dir);
  const auto cmd = write_recipe(dir, "run.json", "run");
  // SIGTERM during micro-batch 5: steps 1-2 done, micro-batch 5 is the first half of step 3.
  auto stopped = run_cli(dir, "export DISTILBERT_FAULT=train.loss:term@5;", cmd);
  INFO(stopped.output);
  REQUIRE(stopped.exited);
  CHECK(stopped.code == 130);
  CHECK_THAT(stopped.output, Contains("stopped by signal at step 2"));
  REQUIRE(list_checkpoints((dir / "run").string()).size() == 1);
  const fs::path ck = list_checkpoints((dir / "run").string()).front();
  CHECK(fs::path(ck).filename() == "step-00000002");
  CHECK(fs::exists(fs::path(ck) / "grads.safetensors"));  // the half-accumulated gradients are kept
  CHECK_FALSE(fs::exists(dir / "run" / "final"));

  auto resumed = run_cli(dir, "", cmd);
  INFO(resumed.output);
  REQUIRE(resumed.code == 0);
  CHECK(same_weights(dir / "run/final", ref / "final"));
  // The logged losses after the resume are the uninterrupted run's, bit for bit.
  auto lines = [](const fs::path& p) {
    std::vector<json> v;
    std::ifstream in(p);
    std::string l;
    while (std::getline(in, l))
      if (!l.empty()) v.push_back(json::parse(l));
    return v;
  };
  const auto a = lines(ref / "metrics.jsonl"), b = lines(dir / "run/metrics.jsonl");
  REQUIRE(a.size() == 8);
  REQUIRE(b.size() == 8);  // steps 1-2 before the signal, 3-8 after the resume: none lost, none twice
  for (size_t i = 0; i < 8; ++i) {
    INFO("step " << i + 1);
    CHECK(b[i]["grad_norm"] == a[i]["grad_norm"]);  // the step's gradients, both halves of step 3 included
    CHECK(b[i]["lr"] == a[i]["lr"]);
    // The logged loss averages the micro-batches of the logging window; step 3's window lost micro-batch 5 with
    // the process (its gradient was kept in the checkpoint), so only the other steps compare bit for bit.
    if (i != 2) CHECK(b[i]["loss"] == a[i]["loss"]);
  }
}

TEST_CASE("faults: a full disk during a checkpoint is a clear error and the previous checkpoint survives",
          "[integration][faults]") {
  const auto dir = fault_workspace("disk_full");
  if (dir.empty()) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  // A first 4-step run leaves checkpoint 4; continuing to step 8 with a 64 KiB file size limit (RLIMIT_FSIZE, the
  // model file is ~100 KB) makes the step-8 save fail the way a full disk does: write() fails, EFBIG here.
  auto first = run_cli(dir, "", write_recipe(dir, "four.json", "run", json{{"trainer", {{"max_steps", 4}}}}));
  INFO(first.output);
  REQUIRE(first.code == 0);
  const auto cmd = write_recipe(dir, "run.json", "run");
  auto full = run_cli(dir, "ulimit -f 64; trap '' XFSZ;", cmd);
  INFO(full.output);
  REQUIRE(full.exited);
  CHECK(full.code == 1);
  CHECK_THAT(full.output, Contains("File too large") && Contains("step-00000008"));
  CHECK(checkpoint_names(dir / "run") == std::vector<std::string>({"step-00000004"}));  // no debris either
  require_loadable(dir / "run/checkpoints/step-00000004", dir / "student");
  auto resumed = run_cli(dir, "", cmd);
  INFO(resumed.output);
  REQUIRE(resumed.code == 0);
  CHECK_THAT(resumed.output, Contains("step-00000004"));
  CHECK(list_checkpoints((dir / "run").string()).size() == 2);
}

TEST_CASE("faults: a corrupt newest checkpoint is skipped by the CLI, which says so and resumes from the one before",
          "[integration][faults]") {
  const auto dir = fault_workspace("corrupt");
  if (dir.empty()) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  auto first = run_cli(dir, "", write_recipe(dir, "run.json", "run"));
  REQUIRE(first.code == 0);
  std::ofstream(dir / "run/checkpoints/step-00000008/trainer_state.json") << "{\"step\": 8, \"form";  // torn write
  auto more = run_cli(dir, "", write_recipe(dir, "more.json", "run", json{{"trainer", {{"max_steps", 10}}}}));
  INFO(more.output);
  REQUIRE(more.code == 0);
  CHECK_THAT(more.output, Contains("skipping checkpoint") && Contains("step-00000008") &&
                              Contains("trainer_state.json is not valid JSON"));
  CHECK_THAT(more.output, Contains("resumed from") && Contains("step-00000004 at step 4"));
}

TEST_CASE("faults: a NaN loss follows trainer.nan_policy (skip the micro-batch, or stop naming the term)",
          "[integration][faults]") {
  const auto dir = fault_workspace("nan");
  if (dir.empty()) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  auto skip = run_cli(dir, "export DISTILBERT_FAULT=train.loss:nan@3;", write_recipe(dir, "skip.json", "skip"));
  INFO(skip.output);
  REQUIRE(skip.code == 0);
  CHECK_THAT(skip.output, Contains("non-finite loss_ce at step 1; micro-batch skipped"));
  const auto state = json::parse(std::ifstream(dir / "skip/checkpoints/step-00000008/trainer_state.json"));
  CHECK(state["skipped_steps"] == 1);
  CHECK(fs::exists(dir / "skip/final/model.safetensors"));

  auto stop = run_cli(dir, "export DISTILBERT_FAULT=train.loss:nan@3;",
                      write_recipe(dir, "stop.json", "stop", json{{"trainer", {{"nan_policy", "stop"}}}}));
  INFO(stop.output);
  REQUIRE(stop.exited);
  CHECK(stop.code == 1);
  CHECK_THAT(stop.output, Contains("non-finite loss at step 1") && Contains("loss_ce") &&
                              Contains("trainer.nan_policy is 'stop'"));
  CHECK_FALSE(fs::exists(dir / "stop/final"));
}

TEST_CASE("faults: a student whose every loss is NaN stops under nan_policy skip instead of looping forever",
          "[integration][faults]") {
  const auto dir = fault_workspace("nan_all");
  if (dir.empty()) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  // Poison the student's word embeddings: every micro-batch's loss is NaN.
  fs::create_directories(dir / "student_nan");
  for (const auto& e : fs::directory_iterator(dir / "student"))
    if (e.path().filename() != "model.safetensors") fs::copy_file(e.path(), dir / "student_nan" / e.path().filename());
  auto w = read_weights((dir / "student").string());
  for (auto& [name, t] : w)
    if (name.find("word_embeddings") != std::string::npos) t = torch::full_like(t, std::nan(""));
  save_safetensors((dir / "student_nan/model.safetensors").string(), w);
  auto r = run_cli(dir, "", write_recipe(dir, "nan.json", "run", json{{"student", {{"model", (dir / "student_nan").string()}}}}));
  INFO(r.output.substr(r.output.size() > 3000 ? r.output.size() - 3000 : 0));
  REQUIRE(r.exited);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Contains("micro-batches in a row had a non-finite loss") && Contains("stopping instead"));
  CHECK_FALSE(fs::exists(dir / "run/final"));
}

TEST_CASE("resources: an absurd batch size or sequence length is refused up front with the memory it needs",
          "[integration][faults]") {
  const auto dir = fault_workspace("memory");
  if (dir.empty()) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  // The golden student has 512 positions: 2,000,000 sequences of 512 tokens need terabytes.
  auto big = run_cli(dir, "", write_recipe(dir, "big.json", "big", json{{"data", {{"batch_size", 2000000}, {"max_seq_len", 512}}}}));
  INFO(big.output);
  REQUIRE(big.exited);
  CHECK(big.code == 1);
  CHECK_THAT(big.output, Contains("data.batch_size=2000000") && Contains("needs about") && Contains("GiB") &&
                             Contains("is available"));
  CHECK_FALSE(fs::exists(dir / "big/checkpoints"));
}

TEST_CASE("resources: binarize streams its input: 16x more text does not mean more memory", "[integration][faults]") {
  const fs::path dir = fs::temp_directory_path() / "distilbert_fault_tests" / "stream";
  fs::remove_all(dir);
  fs::create_directories(dir / "tok");
  write_char_vocab(dir / "tok" / "vocab.txt");
  // 4 MB and 64 MB of text lines (distinct enough that no compression or caching helps).
  auto make_text = [&](const fs::path& p, size_t mb) {
    std::ofstream out(p);
    uint64_t x = 88172645463325252ull;
    std::string line;
    for (size_t bytes = 0; bytes < mb << 20; bytes += line.size() + 1) {
      line.clear();
      for (int w = 0; w < 12; ++w) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        for (int c = 0; c < 3 + static_cast<int>(x % 7); ++c) line += static_cast<char>('a' + (x >> (8 + 5 * c)) % 26);
        line += ' ';
      }
      out << line << "\n";
    }
  };
  make_text(dir / "small.txt", 4);
  make_text(dir / "large.txt", 64);
  // ASan keeps freed memory in a quarantine; keep it small so RSS reflects live memory in the sanitizer build too.
  const std::string env = "export ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:quarantine_size_mb=1\";";
  auto small = run_cli(dir, env, "binarize --tokenizer tok --input small.txt --output small --threads 1 --quiet");
  INFO(small.output);
  REQUIRE(small.code == 0);
  struct rusage ru {};
  getrusage(RUSAGE_CHILDREN, &ru);
  const long after_small_kb = ru.ru_maxrss;
  auto large = run_cli(dir, env, "binarize --tokenizer tok --input large.txt --output large --threads 1 --quiet");
  INFO(large.output);
  REQUIRE(large.code == 0);
  getrusage(RUSAGE_CHILDREN, &ru);
  const long after_large_kb = ru.ru_maxrss;  // the peak of every child so far: grows only if the large run peaked higher
  INFO("peak RSS after the 4 MB run " << after_small_kb / 1024 << " MiB, after the 64 MB run " << after_large_kb / 1024
                                      << " MiB");
  // Holding the ids would add 111 MiB (58M uint16 tokens), holding the lines as strings well over 100 MiB. What
  // binarize holds is a fixed set of recycled buffers (token_store.cpp): 3 text chunks of chunk_bytes = 4 MiB
  // (+ 64 KiB slack + 8 bytes per line of offsets: ~4.5 MiB) and 2 id chunks of int32 ids (this character
  // vocabulary makes 0.87 ids per byte: ~14 MiB, at most 16.6 MiB reserved). The 4 MB run fills one of each (its
  // second chunk is a few bytes), the 64 MB run all five: 2 x 4.5 + 16.6 = 26 MiB more, plus allocator slack
  // (measured, Release, 1 or 2 threads, idle or loaded machine: +34-35 MiB in all; the 256 MB run 5-6 MiB above the
  // 64 MB one). Before the buffers were recycled (int64 ids, a concatenated copy of each chunk, one std::string per
  // line, allocated afresh per chunk) the same pair grew by 43-53 MiB, and the 256 MB run 5-6 MiB more.
  CHECK(after_large_kb - after_small_kb < 40 * 1024);
  const auto meta = json::parse(std::ifstream(dir / "large.json"));
  CHECK(meta["num_tokens"].get<uint64_t>() > 30000000);  // it did read all of it
  fs::remove(dir / "large.txt");
  fs::remove(dir / "large.ids");
}
