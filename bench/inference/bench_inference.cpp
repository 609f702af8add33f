// Inference latency/throughput of our LibTorch forward on a model folder (scripts/bench_inference.sh compares it
// with ONNX Runtime on the same exported model). Random token ids, full attention mask, eval mode, no grad.
//   bench_inference --model DIR --batch 1,32 --seq 128 --threads 2 [--iters N] [--warmup N] [--min-seconds S]
// Prints one JSON line per batch size: {"runtime":"libtorch","batch":B,"seq":T,"threads":N,"median_ms":..,
// "mean_ms":..,"p90_ms":..,"seq_per_s":..,"iters":..}.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/runtime.h"
#include "distilbert/io/model_folder.h"

using namespace distilbert;

namespace {
std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoll(item));
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  std::string model_dir, batches = "1,32";
  int64_t seq = 128, iters = 0, warmup = 3;
  int threads = 0;
  double min_seconds = 5.0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "missing value after " << a << "\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--model") model_dir = next();
    else if (a == "--batch") batches = next();
    else if (a == "--seq") seq = std::stoll(next());
    else if (a == "--threads") threads = std::stoi(next());
    else if (a == "--iters") iters = std::stoll(next());
    else if (a == "--warmup") warmup = std::stoll(next());
    else if (a == "--min-seconds") min_seconds = std::stod(next());
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  if (model_dir.empty()) {
    std::cerr << "usage: bench_inference --model DIR [--batch 1,32] [--seq 128] [--threads N] [--iters N]\n";
    return 2;
  }
  try {
    const int n_threads = set_threads(threads);
    at::set_num_interop_threads(1);
    LoadOptions lo;
    lo.verbose = false;
    auto loaded = load_model_folder(model_dir, lo);
    auto& model = *loaded.model;
    model.eval();
    torch::NoGradGuard ng;
    const auto& c = model.config();
    for (int64_t B : parse_list(batches)) {
      torch::manual_seed(0);
      ModelInputs in;
      in.input_ids = torch::randint(1000, c.vocab_size, {B, seq}, torch::kLong);
      in.attention_mask = torch::ones({B, seq}, torch::kLong);
      if (c.model_type == ModelType::Bert) in.token_type_ids = torch::zeros({B, seq}, torch::kLong);
      for (int64_t w = 0; w < warmup; ++w) model.forward(in);
      std::vector<double> ms;
      const auto start = std::chrono::steady_clock::now();
      for (int64_t k = 0;; ++k) {
        const auto t0 = std::chrono::steady_clock::now();
        auto out = model.forward(in);
        (void)out;
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (iters > 0 ? k + 1 >= iters : (elapsed >= min_seconds && k + 1 >= 5)) break;
      }
      std::vector<double> sorted = ms;
      std::sort(sorted.begin(), sorted.end());
      double mean = 0;
      for (double x : ms) mean += x;
      mean /= static_cast<double>(ms.size());
      const double median = sorted[sorted.size() / 2];
      const double p90 = sorted[std::min(sorted.size() - 1, sorted.size() * 9 / 10)];
      nlohmann::json j = {{"runtime", "libtorch"}, {"model", model.architecture()}, {"batch", B}, {"seq", seq},
                          {"threads", n_threads}, {"median_ms", median}, {"mean_ms", mean}, {"p90_ms", p90},
                          {"seq_per_s", 1000.0 * static_cast<double>(B) / median},
                          {"iters", static_cast<int64_t>(ms.size())}};
      std::cout << j.dump() << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
