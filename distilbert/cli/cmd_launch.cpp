// `distilbert launch`: start N data-parallel processes on this machine with the environment torchrun gives its
// workers (see launch_env below), watch them, and stop the job as a whole: when one process fails the others get
// SIGTERM (and SIGKILL after --grace-s), and the launcher exits with the failing process's code. SIGINT/SIGTERM to
// the launcher are forwarded (the ranks checkpoint and exit). torchrun's spellings of the options work too.
//   distilbert launch --nproc-per-node 2 -- distill --recipe recipes/distill/tiny_cpu.yaml
//   distilbert launch --nnodes 2 --node-rank 0 --nproc-per-node 8 --master-addr 10.0.0.1 -- pretrain --recipe r.yaml
//   distilbert launch --nproc_per_node=2 --master_port=29501 -- finetune --recipe recipes/glue/sst2.yaml
// The command after `--` is a distilbert command, or a program when it contains a '/'.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "distilbert/cli/commands.h"
#include "distilbert/core/error.h"
#include "distilbert/core/runtime.h"

extern char** environ;

namespace distilbert::cli {

namespace {

std::atomic<int> g_signal{0};
extern "C" void on_launch_signal(int sig) { g_signal.store(sig); }

// A TCP port that is free on this machine now (bind to port 0 and ask which one the kernel chose).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  DISTILBERT_CHECK(fd >= 0, "launch: cannot create a socket to find a free port: ", std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  DISTILBERT_CHECK(ok, "launch: cannot find a free port: ", std::strerror(errno), "; pass --master-port");
  return ntohs(a.sin_port);
}

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  DISTILBERT_CHECK(!ec, "launch: cannot find this program's path (/proc/self/exe): ", ec.message());
  return p.string();
}

struct Child {
  int rank = 0;
  pid_t pid = -1;
  bool running = true;
  int status = 0;
};

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                                  strsignal(WTERMSIG(status)) + ")";
  return "stopped (status " + std::to_string(status) + ")";
}

struct LaunchOpts {
  int nproc = 1, nnodes = 1, node_rank = 0, master_port = 0;
  std::string master_addr = "127.0.0.1", log_dir, run_id = "none";
  double grace_s = 30;
  std::vector<std::string> command;
};

// The variables torchrun's local agent sets for each worker (torch/distributed/elastic/agent/server/
// local_elastic_agent.py in PyTorch 2.x), with one role ("default") and no restarts: ranks, sizes, the rendezvous
// address, TORCHELASTIC_*, TORCH_NCCL_ASYNC_ERROR_HANDLING (the user's value, else 1) and OMP_NUM_THREADS (the
// user's value; torchrun sets 1 when several processes share a machine, here each gets its share of the CPUs, the
// threads a rank would pick itself). Every other variable of the launcher's environment is inherited.
std::vector<std::pair<std::string, std::string>> launch_env(const LaunchOpts& o, int local, int port) {
  const int rank = o.node_rank * o.nproc + local;
  const int world = o.nproc * o.nnodes;
  const char* nccl = std::getenv("TORCH_NCCL_ASYNC_ERROR_HANDLING");
  const int omp = omp_num_threads();
  return {{"RANK", std::to_string(rank)},
          {"WORLD_SIZE", std::to_string(world)},
          {"LOCAL_RANK", std::to_string(local)},
          {"LOCAL_WORLD_SIZE", std::to_string(o.nproc)},
          {"GROUP_RANK", std::to_string(o.node_rank)},
          {"GROUP_WORLD_SIZE", std::to_string(o.nnodes)},
          {"ROLE_RANK", std::to_string(rank)},
          {"ROLE_NAME", "default"},
          {"ROLE_WORLD_SIZE", std::to_string(world)},
          {"MASTER_ADDR", o.master_addr},
          {"MASTER_PORT", std::to_string(port)},
          {"TORCHELASTIC_RESTART_COUNT", "0"},
          {"TORCHELASTIC_MAX_RESTARTS", "0"},
          {"TORCHELASTIC_RUN_ID", o.run_id},
          {"TORCHELASTIC_USE_AGENT_STORE", "False"},
          {"TORCH_NCCL_ASYNC_ERROR_HANDLING", nccl ? nccl : "1"},
          {"OMP_NUM_THREADS", std::to_string(omp > 0 ? omp : std::max(1, available_cpus() / o.nproc))}};
}

// The launcher's environment without the variables launch_env sets, plus those, as execve wants them.
std::vector<std::string> child_env(const std::vector<std::pair<std::string, std::string>>& set) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string kv(*e);
    const auto name = kv.substr(0, kv.find('='));
    if (std::none_of(set.begin(), set.end(), [&](const auto& s) { return s.first == name; })) env.push_back(kv);
  }
  for (const auto& [name, value] : set) env.push_back(name + "=" + value);
  return env;
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

Command add_launch_command(CLI::App& app) {
  auto o = std::make_shared<LaunchOpts>();
  auto* cmd = app.add_subcommand("launch", "Run a command as N data-parallel processes (torchrun environment)");
  cmd->add_option("--nproc-per-node,--nproc_per_node", o->nproc, "Processes on this machine")->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--nnodes", o->nnodes, "Machines in the job")->capture_default_str()->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--node-rank,--node_rank", o->node_rank, "This machine's index, 0 .. nnodes-1")
      ->capture_default_str();
  cmd->add_option("--master-addr,--master_addr", o->master_addr, "Address of the machine with node rank 0")
      ->capture_default_str();
  cmd->add_option("--master-port,--master_port", o->master_port,
                  "Rendezvous port on the master (0: a free port on one machine, 29500 on several)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--rdzv-id,--rdzv_id", o->run_id, "The job's id, given to the ranks as TORCHELASTIC_RUN_ID")
      ->capture_default_str();
  cmd->add_option("--log-dir", o->log_dir, "Write each rank's output to <dir>/rank-<N>.log instead of the terminal");
  cmd->add_option("--grace-s", o->grace_s, "Seconds the other ranks get to exit after a failure before SIGKILL")
      ->capture_default_str();
  cmd->add_option("command", o->command, "After `--`: the distilbert command and its arguments (or a program path)")
      ->required();
  return {cmd, [o] {
            DISTILBERT_CHECK(o->node_rank >= 0 && o->node_rank < o->nnodes, "launch: --node-rank ", o->node_rank,
                             " must be in [0, ", o->nnodes - 1, "]");
            const int world = o->nproc * o->nnodes;
            int port = o->master_port;
            if (port == 0) port = o->nnodes == 1 ? free_port() : 29500;
            std::vector<std::string> argv;
            if (o->command.front().find('/') != std::string::npos) {
              DISTILBERT_CHECK(::access(o->command.front().c_str(), X_OK) == 0, "launch: '", o->command.front(),
                               "' is not an executable file");
              argv = o->command;
            } else {
              argv.push_back(self_exe());
              argv.insert(argv.end(), o->command.begin(), o->command.end());
            }
            if (!o->log_dir.empty()) std::filesystem::create_directories(o->log_dir);
            std::cerr << "[launch] " << o->nproc << " process(es) on this machine (node " << o->node_rank << " of "
                      << o->nnodes << ", world size " << world << "), rendezvous " << o->master_addr << ":" << port
                      << "\n";
            struct sigaction sa {};
            sa.sa_handler = on_launch_signal;
            sigemptyset(&sa.sa_mask);
            sigaction(SIGINT, &sa, nullptr);
            sigaction(SIGTERM, &sa, nullptr);

            std::vector<Child> children;
            for (int local = 0; local < o->nproc; ++local) {
              const int rank = o->node_rank * o->nproc + local;
              std::vector<std::string> env = child_env(launch_env(*o, local, port));
              std::vector<char*> cargv, cenv;
              for (auto& a : argv) cargv.push_back(a.data());
              cargv.push_back(nullptr);
              for (auto& e : env) cenv.push_back(e.data());
              cenv.push_back(nullptr);
              const std::string log = o->log_dir.empty() ? std::string()
                                                         : o->log_dir + "/rank-" + std::to_string(rank) + ".log";
              const pid_t pid = ::fork();
              DISTILBERT_CHECK(pid >= 0, "launch: fork failed for rank ", rank, ": ", std::strerror(errno));
              if (pid == 0) {
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                if (!log.empty()) {
                  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
                  if (fd >= 0) {
                    ::dup2(fd, 1);
                    ::dup2(fd, 2);
                    ::close(fd);
                  }
                }
                ::execve(cargv[0], cargv.data(), cenv.data());
                std::fprintf(stderr, "launch: cannot run '%s': %s\n", cargv[0], std::strerror(errno));
                ::_exit(127);
              }
              children.push_back({rank, pid});
            }

            using Clock = std::chrono::steady_clock;
            const auto t0 = Clock::now();
            int result = 0;
            bool stopping = false;
            Clock::time_point stop_at{};
            int forwarded = 0;
            auto signal_all = [&](int sig) {
              for (auto& c : children)
                if (c.running) ::kill(c.pid, sig);
            };
            size_t left = children.size();
            while (left > 0) {
              if (const int sig = g_signal.load(); sig != 0 && sig != forwarded) {
                std::cerr << "[launch] " << strsignal(sig) << ": asking every rank to checkpoint and stop\n";
                signal_all(SIGTERM);
                forwarded = sig;
              }
              int status = 0;
              const pid_t pid = ::waitpid(-1, &status, WNOHANG);
              if (pid > 0) {
                for (auto& c : children) {
                  if (c.pid != pid || !c.running) continue;
                  c.running = false;
                  c.status = status;
                  --left;
                  const double at = std::chrono::duration<double>(Clock::now() - t0).count();
                  if (exit_code(status) != 0 && !stopping) {
                    result = exit_code(status);
                    stopping = true;
                    stop_at = Clock::now();
                    if (left > 0)
                      std::cerr << "[launch] rank " << c.rank << " (pid " << pid << ") " << describe(status)
                                << " after " << static_cast<int>(at) << " s; stopping the other ranks\n";
                    signal_all(SIGTERM);
                  }
                }
                continue;
              }
              if (stopping && left > 0 &&
                  std::chrono::duration<double>(Clock::now() - stop_at).count() > o->grace_s) {
                std::cerr << "[launch] ranks still running " << o->grace_s << " s after the failure: SIGKILL\n";
                signal_all(SIGKILL);
                stop_at = Clock::now() + std::chrono::hours(24);
              }
              std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            for (const auto& c : children)
              if (exit_code(c.status) != 0)
                std::cerr << "[launch] rank " << c.rank << " " << describe(c.status) << "\n";
            if (result == 0 && forwarded) result = 130;
            if (result == 0) std::cerr << "[launch] all " << children.size() << " process(es) finished\n";
            return result;
          }};
}

}  // namespace

DISTILBERT_REGISTER_COMMAND("launch", add_launch_command);

}  // namespace distilbert::cli
