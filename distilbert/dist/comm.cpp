// c10d process group set-up and error-translating collectives; see comm.h.
#include "distilbert/dist/comm.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#ifdef DISTILBERT_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>

#include "distilbert/core/error.h"
#include "distilbert/core/runtime.h"

namespace distilbert::dist {

namespace {

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

// LibTorch 1.x: ProcessGroupGloo/NCCL are ProcessGroups. LibTorch 2.x: they are c10d::Backends registered on a
// ProcessGroup for a device type (what torch.distributed does in Python).
template <class BackendPtr>
c10::intrusive_ptr<c10d::ProcessGroup> as_group(BackendPtr backend, const c10::intrusive_ptr<c10d::Store>& store,
                                                const DistEnv& env, const std::string& name, double timeout_s,
                                                bool cuda) {
#if TORCH_VERSION_MAJOR >= 2
  const auto type = name == "nccl" ? c10d::ProcessGroup::BackendType::NCCL : c10d::ProcessGroup::BackendType::GLOO;
#if TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR < 3
  auto pg = c10::make_intrusive<c10d::ProcessGroup>(store, env.rank, env.world_size,
                                                    c10::make_intrusive<c10d::ProcessGroup::Options>(name, to_ms(timeout_s)));
#else
  (void)timeout_s;
  auto pg = c10::make_intrusive<c10d::ProcessGroup>(store, env.rank, env.world_size);
#endif
  pg->setDefaultBackend(type);
  pg->setBackend(cuda ? c10::DeviceType::CUDA : c10::DeviceType::CPU, type, backend);
  if (name == "gloo" && cuda) pg->setBackend(c10::DeviceType::CPU, type, backend);
  return pg;
#else
  (void)store, (void)env, (void)name, (void)timeout_s, (void)cuda;
  return backend;
#endif
}

}  // namespace

Communicator::Communicator(DistEnv env, DistSettings settings) : env_(std::move(env)), settings_(std::move(settings)) {}
Communicator::~Communicator() = default;

std::shared_ptr<Communicator> Communicator::create(const DistEnv& env, const DistSettings& settings,
                                                   torch::Device device) {
  std::shared_ptr<Communicator> c(new Communicator(env, settings));
  c->device_ = device;
  if (!env.enabled()) return c;
  std::string backend = settings.backend;
  if (backend == "auto") {
#ifdef DISTILBERT_WITH_NCCL
    backend = device.is_cuda() ? "nccl" : "gloo";
#else
    backend = "gloo";
#endif
  }
#ifndef DISTILBERT_WITH_NCCL
  DISTILBERT_CHECK(backend != "nccl",
                   "distributed.backend is nccl, but this build has no NCCL (a CPU LibTorch, or built "
                   "without DISTILBERT_WITH_NCCL); use backend gloo, which also all-reduces CUDA tensors");
#endif
  DISTILBERT_CHECK(backend != "nccl" || device.is_cuda(),
                   "distributed.backend nccl needs a CUDA device; this run uses ", device);
  c->backend_ = backend;
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(env.master_port);
    so.isServer = env.rank == 0;
    so.numWorkers = static_cast<std::size_t>(env.world_size);
    so.waitWorkers = true;
    so.timeout = to_ms(settings.timeout_s);
    c->store_ = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
  } catch (const std::exception& e) {
    fail("data parallel: rank ", env.rank, " of ", env.world_size, " could not ",
         env.rank == 0 ? "serve" : "reach", " the rendezvous (TCPStore) at ", where, " within ", settings.timeout_s,
         " s (distributed.timeout_s): ", e.what(),
         env.rank == 0 ? "\nIs the port in use? Choose another with MASTER_PORT / --master-port."
                       : "\nIs rank 0 running, and are MASTER_ADDR / MASTER_PORT the same on every rank?");
  }
  auto store = c10::make_intrusive<c10d::PrefixStore>("distilbert/pg", c->store_);
  try {
    if (backend == "gloo") {
      auto opts = c10d::ProcessGroupGloo::Options::create(to_ms(settings.timeout_s));
      if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else if (env.local_world_size == env.world_size && (env.master_addr == "127.0.0.1" || env.master_addr == "localhost"))
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else
        opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      opts->threads = 2;
      auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, opts);
      c->group_ = as_group(gloo, store, env, "gloo", settings.timeout_s, device.is_cuda());
    } else {
#ifdef DISTILBERT_WITH_NCCL
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = to_ms(settings.timeout_s);
      auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, opts);
      c->group_ = as_group(nccl, store, env, "nccl", settings.timeout_s, true);
#endif
    }
  } catch (const std::exception& e) {
    fail("data parallel: rank ", env.rank, " of ", env.world_size, " could not create the ", backend,
         " process group (rendezvous ", where, "): ", e.what());
  }
  return c;
}

const c10::intrusive_ptr<c10d::ProcessGroup>& Communicator::group() const {
  DISTILBERT_CHECK(active(), "data parallel: no process group in a single-process run");
  return group_;
}

void Communicator::rethrow(const std::string& what, const std::exception& e) const {
  std::string msg = e.what();
  if (auto nl = msg.find("\nException raised from"); nl != std::string::npos) msg.resize(nl);  // c10 backtraces
  fail("data parallel: ", what, " failed on rank ", env_.rank, " of ", env_.world_size, " (", backend_, "): ", msg,
       "\nAnother rank has probably exited or hung (collectives time out after distributed.timeout_s = ",
       settings_.timeout_s, " s); see its output. A run with trainer.resume: auto continues from the last checkpoint.");
}

void Communicator::run(const std::string& what, const std::function<void()>& op) const {
  try {
    op();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    rethrow(what, e);
  }
}

void Communicator::broadcast(std::vector<torch::Tensor>& tensors, const std::string& what) {
  if (!active() || tensors.empty()) return;
  run("broadcast of " + what, [&] {
    // One flat buffer per dtype/device keeps it to a few collectives.
    std::map<std::pair<int, std::string>, std::vector<torch::Tensor*>> groups;
    for (auto& t : tensors)
      groups[{static_cast<int>(t.scalar_type()), t.device().str()}].push_back(&t);
    for (auto& [key, list] : groups) {
      std::vector<torch::Tensor> flat_parts;
      for (auto* t : list) flat_parts.push_back(t->detach().reshape({-1}));
      std::vector<torch::Tensor> buf{torch::cat(flat_parts)};
      c10d::BroadcastOptions o;
      o.rootRank = 0;
      group_->broadcast(buf, o)->wait();
      int64_t off = 0;
      torch::NoGradGuard ng;
      for (auto* t : list) {
        const int64_t n = t->numel();
        t->detach().copy_(buf[0].narrow(0, off, n).view(t->sizes()));
        off += n;
      }
    }
  });
}

void Communicator::all_reduce(torch::Tensor& t, c10d::ReduceOp op, const std::string& what) {
  if (!active()) return;
  run("all-reduce of " + what, [&] {
    const bool via_gpu = backend_ == "nccl" && !t.is_cuda();  // NCCL reduces GPU memory only
    std::vector<torch::Tensor> v{via_gpu ? t.to(device_) : t};
    c10d::AllreduceOptions o;
    o.reduceOp = op;
    group_->allreduce(v, o)->wait();
    if (via_gpu) t.copy_(v[0]);
  });
}

void Communicator::all_reduce_sum(torch::Tensor& t, const std::string& what) {
  all_reduce(t, c10d::ReduceOp::SUM, what);
}

void Communicator::all_reduce_max(torch::Tensor& t, const std::string& what) {
  all_reduce(t, c10d::ReduceOp::MAX, what);
}

void Communicator::barrier(const std::string& what) {
  if (!active()) return;
  // A tiny all-reduce rather than barrier(): Gloo's barrier and NCCL's differ in device handling across versions.
  auto t = torch::zeros({1}, torch::kFloat);
  all_reduce_sum(t, what);
}

std::string Communicator::share_from_main(const std::string& key, const std::string& value) {
  if (!active()) return value;
  std::string out;
  ++shared_seq_;  // every rank calls in the same order: a fresh key per call
  run("sharing '" + key + "' from rank 0", [&] {
    const std::string k = "distilbert/shared/" + std::to_string(shared_seq_) + "/" + key;
    if (is_main()) {
      store_->set(k, std::vector<uint8_t>(value.begin(), value.end()));
      out = value;
    } else {
      const auto v = store_->get(k);  // waits up to the store's timeout
      out.assign(v.begin(), v.end());
    }
  });
  return out;
}

int set_rank_threads(const DistEnv& env, int requested) {
  if (requested <= 0) requested = omp_num_threads();
  return set_threads(requested > 0 || !env.enabled() ? requested
                                                     : std::max(1, available_cpus() / env.local_world_size));
}

torch::Device rank_device(const DistEnv& env, const std::string& spec) {
  return parse_device(spec == "cuda" && env.enabled() ? "cuda:" + std::to_string(env.local_rank) : spec);
}

}  // namespace distilbert::dist
