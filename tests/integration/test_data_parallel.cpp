// Data parallel on this machine: 2 processes over c10d Gloo on loopback.
//  - the torchrun environment is parsed and validated, and `launch` gives its ranks the one torchrun gives;
//  - broadcast / all-reduce / GradSync (c10d::Reducer during backward, and buckets after backward, with gradient
//    accumulation) give the gradients one process computes over every rank's micro-batches (dist_worker);
//  - a rank that dies or hangs makes the other fail with a clear error within the timeout;
//  - fine-tuning on 2 processes x batch 4 ends with the weights of 1 process x batch 8 (fp32 tolerance);
//  - distillation on 2 processes logs once, checkpoints, resumes, and survives a killed rank via resume: auto.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/data/token_store.h"
#include "distilbert/dist/env.h"
#include "distilbert/io/safetensors.h"
#include "distilbert/tokenizer/tokenizer.h"
#include "support/char_vocab.h"
#include "support/run_command.h"
#include "test_paths.h"
#include "support/json_lines.h"
#include "support/python_env.h"
#include "support/scratch_files.h"

using namespace distilbert;
using json = nlohmann::json;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using testing::run_command;
using testing::read_file;
using testing::require_python;

namespace {

using distilbert::testing::read_json;
fs::path dp_dir(const std::string& name) { return distilbert::testing::fresh_dir("dp_tests", name); }
using distilbert::testing::read_jsonl;

dist::DistEnv env_of(const std::map<std::string, std::string>& vars) {
  return dist::DistEnv::from_lookup([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// The step of the newest complete checkpoint folder (checkpoints/step-N; temporary folders have a '.').
int64_t newest_checkpoint_step(const fs::path& run) {
  int64_t last = 0;
  for (const auto& e : fs::directory_iterator(run / "checkpoints")) {
    const auto name = e.path().filename().string();
    if (name.rfind("step-", 0) == 0 && name.find('.') == std::string::npos)
      last = std::max<int64_t>(last, std::stoll(name.substr(5)));
  }
  return last;
}

void write_json(const fs::path& p, const json& j) { std::ofstream(p) << j.dump(2) << "\n"; }

// Tiny model folders (the golden 2-layer, 32-wide models, dropout 0) with a 128-token vocabulary.
void write_vocab(const fs::path& path, const std::vector<std::string>& words) {
  std::vector<std::string> v = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  v.insert(v.end(), words.begin(), words.end());
  for (int i = 0; v.size() < 128; ++i) v.push_back("[unused" + std::to_string(i) + "]");
  std::ofstream out(path);
  for (const auto& t : v) out << t << "\n";
}

void copy_golden(const std::string& golden, const fs::path& vocab, const fs::path& to) {
  fs::create_directories(to);
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(fs::path(kSource) / "tests/data/golden" / golden / f, to / f, fs::copy_options::overwrite_existing);
  tokenizer::load_tokenizer(vocab)->save_pretrained(to);
}

std::map<std::string, torch::Tensor> weights(const fs::path& folder) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [k, v] : load_safetensors((folder / "model.safetensors").string()).tensors) out[k] = v.clone();
  return out;
}

}  // namespace

TEST_CASE("data parallel: torchrun and Slurm variables are read and checked", "[dist]") {
  auto single = env_of({});
  CHECK_FALSE(single.enabled());
  CHECK(single.world_size == 1);
  auto e = env_of({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                   {"MASTER_ADDR", "10.0.0.7"}, {"MASTER_PORT", "29601"}});
  CHECK(e.enabled());
  CHECK(e.rank == 3);
  CHECK(e.world_size == 4);
  CHECK(e.local_rank == 1);
  CHECK(e.local_world_size == 2);
  CHECK(e.master_addr == "10.0.0.7");
  CHECK(e.master_port == 29601);
  auto s = env_of({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"},
                   {"SLURM_NTASKS_PER_NODE", "4"}, {"MASTER_ADDR", "node01"}});
  CHECK(s.rank == 5);
  CHECK(s.world_size == 8);
  CHECK(s.local_rank == 1);
  CHECK(s.local_world_size == 4);
  CHECK(s.master_port == 29500);
  // One machine: MASTER_ADDR may be omitted (loopback).
  auto local = env_of({{"RANK", "1"}, {"WORLD_SIZE", "2"}});
  CHECK(local.master_addr == "127.0.0.1");
  CHECK(local.local_rank == 1);
  CHECK_THROWS_WITH(env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}}), Contains("RANK=2") && Contains("[0, 1]"));
  CHECK_THROWS_WITH(env_of({{"RANK", "0"}}), Contains("WORLD_SIZE is not set"));
  CHECK_THROWS_WITH(env_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}}), Contains("RANK='x'"));
  CHECK_THROWS_WITH(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}), Contains("MASTER_PORT"));
  CHECK_THROWS_WITH(env_of({{"RANK", "0"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "0"}, {"LOCAL_WORLD_SIZE", "2"}}),
                    Contains("MASTER_ADDR"));
}

namespace {
// The environment a program started by a launcher sees, one map per rank: the launcher runs /usr/bin/env with the
// given options under a minimal environment (PATH, HOME, and `extra`), each rank writing to log_of(dir, rank).
std::map<std::string, std::string> env_lines(const fs::path& log) {
  std::map<std::string, std::string> vars;
  std::istringstream in(read_file(log));
  for (std::string line; std::getline(in, line);)
    if (const auto eq = line.find('='); eq != std::string::npos) vars[line.substr(0, eq)] = line.substr(eq + 1);
  return vars;
}

std::string minimal_env(const fs::path& dir, const std::string& extra) {
  return "env -i PATH=/usr/bin:/bin HOME='" + dir.string() + "' " + extra + " ";
}
}  // namespace

TEST_CASE("launch: torchrun's spellings, and each rank gets the environment torchrun gives it", "[dist][launch]") {
  const auto dir = dp_dir("launch_env");
  const int port = free_port();
  const std::string options = "--nproc_per_node=2 --nnodes=1 --node_rank=0 --master_addr=127.0.0.1 --master_port=" +
                              std::to_string(port);
  auto r = run_command(minimal_env(dir, "OMP_NUM_THREADS=1") + kCli + " launch " + options + " --log-dir '" +
                       (dir / "ours").string() + "' -- /usr/bin/env");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::vector<std::map<std::string, std::string>> ours;
  for (int rank = 0; rank < 2; ++rank) ours.push_back(env_lines(dir / "ours" / ("rank-" + std::to_string(rank) + ".log")));
  CHECK(ours[1]["RANK"] == "1");
  CHECK(ours[1]["LOCAL_RANK"] == "1");
  CHECK(ours[0]["OMP_NUM_THREADS"] == "1");  // the user's value is passed on

  // Without OMP_NUM_THREADS each rank gets its share of the CPUs (`nproc`: the CPUs this process may use).
  r = run_command(minimal_env(dir, "") + kCli + " launch --nproc-per-node 2 --log-dir '" + (dir / "share").string() +
                  "' -- /usr/bin/env && nproc");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const int cpus = std::stoi(r.output.substr(r.output.find_last_not_of("\n0123456789") + 1));
  CHECK(env_lines(dir / "share" / "rank-0.log")["OMP_NUM_THREADS"] == std::to_string(std::max(1, cpus / 2)));
  r = run_command(minimal_env(dir, "OMP_NUM_THREADS=lots") + kCli + " launch -- /usr/bin/true");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Contains("OMP_NUM_THREADS='lots'") && Contains("positive whole number"));

  // torchrun (PyTorch's, from the project's environment) with the same options is the reference.
  if (!require_python("torch", "the comparison with torchrun's worker environment")) return;
  const std::string torchrun = (fs::path(DISTILBERT_PYTHON).parent_path() / "torchrun").string();
  r = run_command(minimal_env(dir, "OMP_NUM_THREADS=1") + "'" + torchrun + "' " + options + " --no-python --log-dir '" +
                  (dir / "torchrun").string() + "' --redirects 3 /usr/bin/env");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (int rank = 0; rank < 2; ++rank) {
    // torchrun's log folder is <dir>/<run id>_<random>/attempt_0/<local rank>/stdout.log.
    fs::path log;
    for (const auto& e : fs::recursive_directory_iterator(dir / "torchrun"))
      if (e.path().filename() == "stdout.log" && e.path().parent_path().filename() == std::to_string(rank))
        log = e.path();
    REQUIRE_FALSE(log.empty());
    auto theirs = env_lines(log);
    // Differences by design (README.md, Data parallel): the agent's own variables (its signal list, the error file its
    // workers may write, the locale its Python coerced), and the rendezvous store, which torchrun's agent hosts
    // while here rank 0 hosts it.
    for (const char* agent_only : {"TORCHELASTIC_SIGNALS_TO_HANDLE", "TORCHELASTIC_ERROR_FILE", "LC_CTYPE"})
      theirs.erase(agent_only);
    CHECK(theirs["TORCHELASTIC_USE_AGENT_STORE"] == "True");
    CHECK(ours[rank]["TORCHELASTIC_USE_AGENT_STORE"] == "False");
    theirs.erase("TORCHELASTIC_USE_AGENT_STORE");
    ours[rank].erase("TORCHELASTIC_USE_AGENT_STORE");
    INFO("rank " << rank);
    CHECK(ours[rank] == theirs);
  }
}

TEST_CASE("threads: OMP_NUM_THREADS sets LibTorch's threads as under torchrun, --threads wins", "[dist][launch]") {
  const auto threads_of = [](const std::string& command) {
    const auto r = run_command(command);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.output)["threads"].get<int>();
  };
  CHECK(threads_of("OMP_NUM_THREADS=1 " + kCli + " info --cpu --json") == 1);
  CHECK(threads_of("OMP_NUM_THREADS=1,1 " + kCli + " info --cpu --json") == 1);  // OpenMP's nesting list
  CHECK(threads_of("OMP_NUM_THREADS=1 " + kCli + " info --cpu --json --threads 2") == 2);
}

TEST_CASE("data parallel: collectives and bucketed gradient averaging match a single-process reference", "[dist]") {
  const auto dir = dp_dir("collectives");
  const auto r = run_command(kCli + " launch --nproc-per-node 2 -- " + DISTILBERT_DIST_WORKER + " " + dir.string() +
                             " collectives");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (int rank = 0; rank < 2; ++rank) {
    const auto j = read_json(dir / ("rank-" + std::to_string(rank) + ".json"));
    INFO(j.dump(2));
    REQUIRE_FALSE(j.contains("fatal"));
    CHECK(j["rank"] == rank);
    CHECK(j["world_size"] == 2);
    CHECK(j["backend"] == "gloo");
    CHECK(j["broadcast_ok"] == true);
    CHECK(j["sum"].get<double>() == 3.0);
    CHECK(j["max"][0].get<double>() == 1.0);
    CHECK(j["max"][1].get<double>() == 0.0);
    CHECK(j["shared"] == "from-rank-0");
    CHECK(j["shared_again"] == "second-0");
    CHECK(j["buckets"].get<int>() > 1);
    for (const char* k : {"grad_diff_overlap_accum1", "grad_diff_overlap_accum3", "grad_diff_after_accum1",
                          "grad_diff_after_accum3", "average_now_diff_overlap", "average_now_diff_after"}) {
      INFO(k);
      CHECK(j[k].get<double>() < 1e-6);
    }
  }
}

TEST_CASE("data parallel: a rank that dies or hangs fails the others with a clear error, within the timeout",
          "[dist]") {
  for (const std::string mode : {"die", "hang"}) {
    INFO(mode);
    const auto dir = dp_dir("fault_" + mode);
    const int port = free_port();
    const std::string common = "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " " +
                               DISTILBERT_DIST_WORKER + " " + dir.string() + " " + mode + " 3";
    const auto r = run_command("(RANK=1 " + common + " &) ; RANK=0 " + common + "; wait");
    INFO(r.output);
    const auto j = read_json(dir / "rank-0.json");
    INFO(j.dump(2));
    REQUIRE_FALSE(j.contains("fatal"));
    const std::string err = j["error"];
    CHECK_THAT(err, Contains("data parallel: all-reduce of gradients at step 1 failed on rank 0 of 2"));
    CHECK_THAT(err, Contains("distributed.timeout_s = 3"));
    CHECK(j["seconds"].get<double>() < (mode == "hang" ? 10.0 : 5.0));
    if (mode == "hang") CHECK(j["seconds"].get<double>() > 2.0);  // it waited for the timeout, not less
  }
}

TEST_CASE("data parallel: fine-tuning on 2 processes x batch 4 equals 1 process x batch 8", "[dist][finetune]") {
  const auto dir = dp_dir("finetune");
  const std::vector<std::string> words = {"the", "movie", "was", "film", "good", "great", "bad", "awful", "very"};
  write_vocab(dir / "vocab.txt", words);
  copy_golden("distilbert_mlm", dir / "vocab.txt", dir / "model");
  std::mt19937 rng(11);
  for (const auto& [name, n] : std::vector<std::pair<std::string, int>>{{"train.tsv", 48}, {"dev.tsv", 16}}) {
    std::ofstream out(dir / name);
    out << "sentence\tlabel\n";
    for (int i = 0; i < n; ++i) {
      const bool pos = rng() % 2;
      out << "the " << words[rng() % 4] << " was " << (pos ? "good" : "awful") << " very " << words[rng() % 4] << "\t"
          << (pos ? "pos" : "neg") << "\n";
    }
  }
  json r = json::parse(R"({"seed": 5, "threads": 1,
    "optimizer": {"lr": 1e-2, "eps": 1e-6, "warmup_prop": 0.0, "weight_decay": 0.01},
    "trainer": {"max_steps": 6, "eval_every": 6, "eval_batch_size": 64, "log_every": 3, "progress": false}})");
  r["model"] = (dir / "model").string();
  r["task"] = {{"name", "custom"}, {"train_file", (dir / "train.tsv").string()},
               {"dev_file", (dir / "dev.tsv").string()}, {"text_column", "sentence"}, {"max_seq_len", 16}};
  auto one = r, two = r;
  one["output_dir"] = (dir / "one").string();
  one["trainer"]["batch_size"] = 8;
  two["output_dir"] = (dir / "two").string();
  two["trainer"]["batch_size"] = 4;
  write_json(dir / "one.json", one);
  write_json(dir / "two.json", two);
  auto r1 = run_command(kCli + " finetune --recipe " + (dir / "one.json").string());
  INFO(r1.output);
  REQUIRE(r1.exit_code == 0);
  auto r2 = run_command(kCli + " launch --nproc-per-node 2 -- finetune --recipe " + (dir / "two.json").string());
  INFO(r2.output);
  REQUIRE(r2.exit_code == 0);
  CHECK_THAT(r2.output, Contains("batch 4 per process x 2"));
  const auto a = weights(dir / "one" / "best"), b = weights(dir / "two" / "best");
  REQUIRE(a.size() == b.size());
  double worst = 0, moved = 0;
  const auto init = weights(dir / "model");
  for (const auto& [k, t] : a) {
    REQUIRE(b.count(k));
    worst = std::max(worst, (t - b.at(k)).abs().max().item<double>());
    if (init.count(k)) moved = std::max(moved, (t - init.at(k)).abs().max().item<double>());
  }
  INFO("max |w1 - w2| = " << worst << ", max |w1 - w0| = " << moved);
  CHECK(moved > 1e-2);    // training really changed the weights ...
  CHECK(worst < 2e-5);    // ... identically on 1 and 2 processes
  // The loss logged by the 2-process run is the mean over both ranks' batches: the 1-process value.
  const auto m1 = read_jsonl(dir / "one" / "metrics.jsonl"), m2 = read_jsonl(dir / "two" / "metrics.jsonl");
  REQUIRE(m1.size() == m2.size());
  for (size_t i = 0; i < m1.size(); ++i)
    if (m1[i].contains("loss")) CHECK(m2[i]["loss"].get<double>() == Approx(m1[i]["loss"].get<double>()).epsilon(1e-4));
  CHECK(read_json(dir / "two" / "eval_results.json")["accuracy"] == read_json(dir / "one" / "eval_results.json")["accuracy"]);
}

namespace {

// Teacher and student (golden tiny BERT / DistilBERT MLM models), a character vocabulary and a token store of the
// first 300 lines of WikiText-2 validation. Empty when the shared data is missing.
fs::path distill_workspace(const std::string& name) {
  const fs::path text = fs::path(DISTILBERT_SHARED_DATA) / "text/wikitext-2/valid.txt";
  if (!fs::exists(text)) return {};
  const auto dir = dp_dir(name);
  testing::write_char_vocab(dir / "vocab.txt");
  copy_golden("bert_mlm", dir / "vocab.txt", dir / "teacher");
  copy_golden("distilbert_mlm", dir / "vocab.txt", dir / "student");
  {
    std::ifstream in(text);
    std::ofstream out(dir / "text.txt");
    std::string line;
    for (int i = 0; i < 300 && std::getline(in, line); ++i) out << line << "\n";
  }
  auto tok = tokenizer::load_tokenizer(dir / "vocab.txt");
  data::BinarizeOptions bo;
  bo.inputs = {(dir / "text.txt").string()};
  bo.output_prefix = (dir / "corpus").string();
  bo.progress = false;
  bo.threads = 1;
  data::binarize(*tok, bo);
  json r = json::parse(R"({
    "seed": 3, "threads": 1, "device": "cpu",
    "data": {"max_seq_len": 64, "batch_size": 3, "batching": "grouped", "prefetch": 2},
    "loss": {"temperature": 2.0, "alpha_ce": 5.0, "alpha_mlm": 2.0, "alpha_cos": 1.0},
    "optimizer": {"lr": 1e-3},
    "trainer": {"max_steps": 8, "grad_accum_steps": 2, "warmup_prop": 0.25, "log_every": 1, "save_every": 4,
                "keep_last": 3, "resume": "auto", "progress": false},
    "distributed": {"timeout_s": 20, "bucket_mb": 1}
  })");
  r["output_dir"] = (dir / "run").string();
  r["teacher"] = {{"model", (dir / "teacher").string()}};
  r["student"] = {{"model", (dir / "student").string()}};
  r["data"]["train"] = (dir / "corpus").string();
  write_json(dir / "recipe.json", r);
  return dir;
}

}  // namespace

TEST_CASE("data parallel: distillation on 2 processes logs once, checkpoints, and resumes", "[dist][distill_run]") {
  const auto dir = distill_workspace("distill");
  if (dir.empty()) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  const std::string launch = kCli + " launch --nproc-per-node 2 -- distill --recipe " + (dir / "recipe.json").string();
  auto r = run_command(launch);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("data parallel: 2 processes") && Contains("gloo"));
  auto m = read_jsonl(dir / "run" / "metrics.jsonl");
  REQUIRE(m.size() == 8);  // rank 0 alone writes: one record per step
  for (size_t i = 0; i < m.size(); ++i) CHECK(m[i]["step"].get<int64_t>() == static_cast<int64_t>(i + 1));
  CHECK(fs::exists(dir / "run" / "final" / "model.safetensors"));
  const auto st = read_json(dir / "run" / "checkpoints" / "step-00000008" / "trainer_state.json");
  CHECK(st["loader"]["world_size"] == 2);
  // Continue to step 12 on 2 processes.
  r = run_command(launch + " trainer.max_steps=12");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("resumed from") && Contains("step-00000008"));
  CHECK(read_jsonl(dir / "run" / "metrics.jsonl").size() == 12);
  // A different number of processes cannot continue this run's data order, and says so.
  r = run_command(kCli + " distill --recipe " + (dir / "recipe.json").string() + " trainer.max_steps=16");
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.output, Contains("2 process(es); this run has 1"));
}

TEST_CASE("data parallel: a killed rank stops the job with a clear error, resume: auto continues it",
          "[dist][distill_run]") {
  const auto dir = distill_workspace("distill_kill");
  if (dir.empty()) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  const std::string recipe = (dir / "recipe.json").string();
  const std::string launch = kCli + " launch --nproc-per-node 2 --grace-s 20 -- distill --recipe " + recipe;
  // Start a long run, wait for its second checkpoint, kill -9 rank 1 (found by its RANK variable).
  const std::string script =
      "cd " + dir.string() + " && (" + launch + " trainer.max_steps=5000 > launch.log 2>&1; echo $? > launch.rc) & " +
      "for i in $(seq 1200); do [ -d " + (dir / "run/checkpoints/step-00000008").string() +
      " ] && break; sleep 0.1; done; " +
      "for p in $(pgrep -f 'distill --recipe " + recipe + "'); do "
      "if tr '\\0' '\\n' < /proc/$p/environ 2>/dev/null | grep -qx RANK=1; then kill -9 $p; fi; done; "
      "wait; cat " + (dir / "launch.log").string() + "; echo launch_rc=$(cat " + (dir / "launch.rc").string() + ")";
  auto r = run_command(script);
  INFO(r.output);
  CHECK_THAT(r.output, Contains("rank 1") && Contains("killed by signal 9"));
  CHECK_THAT(r.output, Contains("failed on rank 0 of 2"));
  CHECK_THAT(r.output, Contains("resume: auto"));
  CHECK_THAT(r.output, !Contains("launch_rc=0"));
  // Resume: the newest checkpoint, then 4 more steps, on 2 processes again.
  const int64_t last = newest_checkpoint_step(dir / "run");
  REQUIRE(last >= 8);
  r = run_command(launch + " trainer.max_steps=" + std::to_string(last + 4));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("resumed from"));
  CHECK(fs::exists(dir / "run" / "final" / "model.safetensors"));
  CHECK(read_jsonl(dir / "run" / "metrics.jsonl").back()["step"].get<int64_t>() == last + 4);
}

TEST_CASE("data parallel: SIGTERM to the launcher checkpoints every rank's progress and resume continues",
          "[dist][distill_run]") {
  const auto dir = distill_workspace("distill_term");
  if (dir.empty()) {
    WARN("SKIPPED: shared data not found");
    return;
  }
  const std::string recipe = (dir / "recipe.json").string();
  // grad_accum_steps 3: the stop usually lands mid-cycle, so the averaged partial gradients are saved too.
  const std::string launch =
      kCli + " launch --nproc-per-node 2 -- distill --recipe " + recipe + " trainer.grad_accum_steps=3";
  const std::string log = (dir / "launch.log").string();
  const std::string script = launch + " trainer.max_steps=5000 > " + log + " 2>&1 & L=$!; " +
                             "for i in $(seq 1200); do [ -d " + (dir / "run/checkpoints/step-00000004").string() +
                             " ] && break; sleep 0.1; done; kill -TERM $L; wait $L; echo launch_rc=$?; cat " + log;
  auto r = run_command(script);
  INFO(r.output);
  CHECK_THAT(r.output, Contains("launch_rc=130"));
  CHECK_THAT(r.output, Contains("asking every rank to checkpoint and stop"));
  CHECK_THAT(r.output, Contains("stopped by signal at step"));
  const int64_t last = newest_checkpoint_step(dir / "run");
  REQUIRE(last >= 4);
  r = run_command(launch + " trainer.max_steps=" + std::to_string(last + 3));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("resumed from"));
  CHECK(read_jsonl(dir / "run" / "metrics.jsonl").back()["step"].get<int64_t>() == last + 3);
}
