// torchrun / Slurm environment and the recipe's distributed block; see env.h.
#include "distilbert/dist/env.h"

#include <cstdlib>

#include "distilbert/config/tree.h"
#include "distilbert/core/error.h"

namespace distilbert::dist {

namespace {

int parse_int(const char* name, const char* value, int lo, int hi) {
  const std::string s(value);
  DISTILBERT_CHECK(!s.empty() && s.find_first_not_of("0123456789") == std::string::npos, "environment variable ", name,
                   "='", s, "': expected a non-negative integer");
  long v = 0;
  try {
    v = std::stol(s);
  } catch (const std::exception&) {
    fail("environment variable ", name, "='", s, "': out of range");
  }
  DISTILBERT_CHECK(v >= lo && v <= hi, "environment variable ", name, "=", v, ": expected a value in [", lo, ", ", hi,
                   "]");
  return static_cast<int>(v);
}

}  // namespace

DistEnv DistEnv::from_lookup(const std::function<const char*(const char*)>& getenv) {
  DistEnv e;
  const char* rank = getenv("RANK");
  const char* world = getenv("WORLD_SIZE");
  const char *rank_name = "RANK", *world_name = "WORLD_SIZE", *local_name = "LOCAL_RANK";
  if (!rank && !world && getenv("SLURM_PROCID") && getenv("SLURM_NTASKS")) {
    rank_name = "SLURM_PROCID";
    world_name = "SLURM_NTASKS";
    local_name = "SLURM_LOCALID";
    rank = getenv(rank_name);
    world = getenv(world_name);
    e.source = "Slurm (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID)";
  } else {
    e.source = "torchrun environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)";
  }
  if (!rank && !world) {
    e.source = "single process";
    return e;
  }
  DISTILBERT_CHECK(rank && world, "data parallel: ", rank ? world_name : rank_name, " is not set but ",
                   rank ? rank_name : world_name,
                   " is; set both (torchrun and `distilbert launch` set RANK, WORLD_SIZE, ",
                   "LOCAL_RANK, MASTER_ADDR and MASTER_PORT)");
  e.world_size = parse_int(world_name, world, 1, 1 << 20);
  e.rank = parse_int(rank_name, rank, 0, e.world_size - 1);
  if (const char* l = getenv(local_name)) e.local_rank = parse_int(local_name, l, 0, e.world_size - 1);
  else e.local_rank = e.world_size == 1 ? 0 : e.rank;  // one machine assumed when LOCAL_RANK is absent
  // LOCAL_WORLD_SIZE (torchrun) or SLURM_NTASKS_PER_NODE when it is a plain number; else one machine is assumed.
  const char* lws_name = getenv("LOCAL_WORLD_SIZE") ? "LOCAL_WORLD_SIZE" : "SLURM_NTASKS_PER_NODE";
  const char* lws = getenv(lws_name);
  const bool lws_plain = lws && *lws && std::string(lws).find_first_not_of("0123456789") == std::string::npos;
  e.local_world_size = lws_plain ? parse_int(lws_name, lws, 1, e.world_size) : e.world_size;
  DISTILBERT_CHECK(e.local_rank < e.local_world_size, "data parallel: ", local_name, "=", e.local_rank,
                   " is not below ", lws_plain ? lws_name : "the world size", "=", e.local_world_size);
  if (const char* a = getenv("MASTER_ADDR")) {
    DISTILBERT_CHECK(*a, "environment variable MASTER_ADDR is empty: expected the host name or address of rank 0");
    e.master_addr = a;
  } else {
    DISTILBERT_CHECK(e.world_size == 1 || e.local_world_size == e.world_size, "data parallel over several machines (",
                     world_name, "=", e.world_size, ", LOCAL_WORLD_SIZE=", e.local_world_size,
                     "): set MASTER_ADDR to the address of the machine running rank 0");
  }
  if (const char* p = getenv("MASTER_PORT")) e.master_port = parse_int("MASTER_PORT", p, 1, 65535);
  return e;
}

DistEnv DistEnv::from_environment() {
  return from_lookup([](const char* name) -> const char* { return std::getenv(name); });
}

void DistSettings::read(TreeReader& d) {
  d.get("backend", backend);
  d.require(backend == "auto" || backend == "gloo" || backend == "nccl", "backend", "must be auto, gloo or nccl");
  d.get("timeout_s", timeout_s);
  d.require(timeout_s > 0, "timeout_s", "must be > 0 (seconds)");
  d.get("bucket_mb", bucket_mb);
  d.require(bucket_mb > 0, "bucket_mb", "must be > 0 (MiB)");
  d.get("overlap", overlap);
  d.get("find_unused_parameters", find_unused_parameters);
  d.finish();
}

nlohmann::json DistSettings::to_json() const {
  return {{"backend", backend},
          {"timeout_s", timeout_s},
          {"bucket_mb", bucket_mb},
          {"overlap", overlap},
          {"find_unused_parameters", find_unused_parameters}};
}

}  // namespace distilbert::dist
