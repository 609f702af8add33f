// A data-parallel test worker: started as several processes (by `distilbert launch` or by hand with RANK,
// WORLD_SIZE, MASTER_PORT), it checks the Communicator's collectives and GradSync's averaged gradients against
// references it computes alone (every rank can make every rank's inputs), and writes <out>/rank-<N>.json.
//   dist_worker <out_dir> collectives         the checks above
//   dist_worker <out_dir> die   <timeout_s>   rank 1 exits at once; rank 0 records how its next collective fails
//   dist_worker <out_dir> hang  <timeout_s>   rank 1 sleeps; rank 0 records the timeout error
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/dist/comm.h"
#include "distilbert/dist/grad_sync.h"

using namespace distilbert;
using json = nlohmann::json;

namespace {

struct Net : torch::nn::Module {
  torch::nn::Linear a{nullptr}, b{nullptr};
  Net() {
    a = register_module("a", torch::nn::Linear(5, 7));
    b = register_module("b", torch::nn::Linear(7, 3));
  }
  torch::Tensor forward(const torch::Tensor& x) { return b(torch::tanh(a(x))); }
};

torch::Tensor input(int rank, int micro) {
  auto g = at::detail::createCPUGenerator(static_cast<uint64_t>(1000 + 100 * rank + micro));
  return torch::randn({4, 5}, g);
}

std::vector<torch::Tensor> grads(Net& net) {
  std::vector<torch::Tensor> out;
  for (auto& p : net.parameters()) out.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  return out;
}

void zero(Net& net) {
  for (auto& p : net.parameters())
    if (p.grad().defined()) p.mutable_grad().zero_();
}

double max_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, (a[i] - b[i]).abs().max().item<double>());
  return m;
}

json collectives(dist::Communicator& comm) {
  json r;
  const int R = comm.rank(), W = comm.world_size();
  // broadcast: everyone ends with rank 0's values (two dtypes, several tensors).
  std::vector<torch::Tensor> bt{torch::full({3, 2}, static_cast<float>(R + 10)), torch::full({4}, R + 20, torch::kLong)};
  comm.broadcast(bt, "test tensors");
  r["broadcast_ok"] = bt[0].eq(10).all().item<bool>() && bt[1].eq(20).all().item<bool>();
  auto s = torch::full({5}, static_cast<double>(R + 1), torch::kDouble);
  comm.all_reduce_sum(s, "test sum");
  r["sum"] = s[0].item<double>();  // W (W + 1) / 2
  auto m = torch::tensor({static_cast<float>(R), static_cast<float>(-R)});
  comm.all_reduce_max(m, "test max");
  r["max"] = {m[0].item<float>(), m[1].item<float>()};  // W - 1, 0
  r["shared"] = comm.share_from_main("word", "from-rank-" + std::to_string(R));
  r["shared_again"] = comm.share_from_main("word", "second-" + std::to_string(R));

  for (bool overlap : {true, false}) {
    for (int accum : {1, 3}) {
      torch::manual_seed(7);  // the same initial weights on every rank
      Net net;
      dist::DistSettings ds;
      ds.overlap = overlap;
      ds.bucket_mb = 0.0001;  // ~100 bytes: several buckets even for this tiny net
      dist::GradSync sync(std::shared_ptr<dist::Communicator>(&comm, [](dist::Communicator*) {}), net.parameters(), ds);
      // Reference: one process over every rank's micro-batches, the same 1/accum scaling, averaged over ranks.
      std::vector<torch::Tensor> want;
      for (int rr = 0; rr < W; ++rr)
        for (int k = 0; k < accum; ++k) {
          auto loss = net.forward(input(rr, k)).pow(2).mean() / accum;
          loss.backward();
        }
      for (auto& g : grads(net)) want.push_back(g / W);
      zero(net);
      // Two optimizer-free cycles, so a second synchronising backward after a finished cycle is exercised too.
      double worst = 0;
      for (int cycle = 0; cycle < 2; ++cycle) {
        for (int k = 0; k < accum; ++k) {
          auto loss = net.forward(input(R, k)).pow(2).mean() / accum;
          sync.backward(loss, /*sync=*/k == accum - 1);
        }
        worst = std::max(worst, max_diff(grads(net), want));
        zero(net);
      }
      r[std::string("grad_diff_") + (overlap ? "overlap" : "after") + "_accum" + std::to_string(accum)] = worst;
      r["buckets"] = sync.num_buckets();
      // average_now: each rank's own gradients -> the mean over ranks.
      auto loss = net.forward(input(R, 0)).pow(2).mean();
      loss.backward();
      sync.average_now("test gradients");
      auto got = grads(net);
      zero(net);
      for (int rr = 0; rr < W; ++rr) net.forward(input(rr, 0)).pow(2).mean().backward();
      std::vector<torch::Tensor> mean;
      for (auto& g : grads(net)) mean.push_back(g / W);
      r[std::string("average_now_diff_") + (overlap ? "overlap" : "after")] = max_diff(got, mean);
    }
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: dist_worker <out_dir> collectives|die|hang [timeout_s]\n";
    return 2;
  }
  const std::string out = argv[1], mode = argv[2];
  torch::set_num_threads(1);
  json r;
  int code = 0;
  try {
    const auto env = dist::DistEnv::from_environment();
    dist::DistSettings ds;
    if (argc > 3) ds.timeout_s = std::stod(argv[3]);
    auto comm = dist::Communicator::create(env, ds, torch::kCPU);
    r["rank"] = comm->rank();
    r["world_size"] = comm->world_size();
    r["backend"] = comm->backend();
    if (mode == "collectives") {
      r.update(collectives(*comm));
    } else if (mode == "die" || mode == "hang") {
      comm->barrier("start");
      if (comm->rank() == 1) {
        if (mode == "die") ::_exit(3);
        std::this_thread::sleep_for(std::chrono::seconds(static_cast<int>(ds.timeout_s * 3 + 2)));
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      const auto t0 = std::chrono::steady_clock::now();
      try {
        auto t = torch::ones({1000});
        comm->all_reduce_sum(t, "gradients at step 1");
        r["error"] = "";
      } catch (const Error& e) {
        r["error"] = e.what();
      }
      r["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
  } catch (const std::exception& e) {
    r["fatal"] = e.what();
    code = 1;
  }
  std::ofstream(out + "/rank-" + std::to_string(r.value("rank", -1)) + ".json") << r.dump(2) << "\n";
  std::cout.flush();
  ::_exit(code);  // skip static destructors: a peer may already be gone
}
