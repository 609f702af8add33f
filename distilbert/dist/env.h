// Where this process sits in a data-parallel job, read the way torchrun sets it up: RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT (Slurm's SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID when RANK is unset),
// plus the recipe's `distributed:` block. No variables at all means a single process.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace distilbert {

class TreeReader;

namespace dist {

struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string source = "single process";  // which variables it came from (for messages)

  bool enabled() const { return world_size > 1; }
  bool is_main() const { return rank == 0; }

  /// From the process environment. Errors name the variable, the value found and what was expected.
  static DistEnv from_environment();
  /// Same, with a lookup function (nullptr = unset), for tests.
  static DistEnv from_lookup(const std::function<const char*(const char*)>& getenv);
};

/// The recipe's `distributed:` block (distill, pretrain and finetune recipes).
struct DistSettings {
  std::string backend = "auto";   // auto (nccl for CUDA when built with it, else gloo) | gloo | nccl
  double timeout_s = 300;         // a collective or the rendezvous waiting longer than this fails the run
  double bucket_mb = 25;          // gradient all-reduce bucket size (PyTorch DDP's bucket_cap_mb)
  bool overlap = true;            // all-reduce buckets during backward (c10d::Reducer); false: after backward
  bool find_unused_parameters = false;

  void read(TreeReader& reader);
  nlohmann::json to_json() const;
};

}  // namespace dist
}  // namespace distilbert
