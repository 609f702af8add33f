// Tokenizer throughput on real English text: GLUE SST-2 train sentences and WikiText-2 validation lines.
//   bench_tokenizer [--data DIR] [--threads N] [--repeat R] [--tokenizer PATH] [--truncate N]
//   (also accepted, as before: bench_tokenizer [DATA_DIR] [THREADS])
// For each data set: encode() one text at a time on 1 thread, and encode_batch() on a pool of N threads
// (default: all CPUs); each timed R times (default 3), the best run reported. Encoding = the full encode
// (normalise, pre-tokenise, WordPiece/sentencepiece, [CLS]/[SEP], offsets, word ids, masks); no truncation
// unless --truncate. The tokenizer is --tokenizer (any folder/file load_tokenizer() reads) or the shared
// bert-base-uncased folder. Besides the table, prints machine-readable lines for scripts/bench_tokenizer.sh:
//   RESULT cpp <dataset> <threads> <texts> <bytes> <tokens> <best wall seconds> <CPU seconds of that run>
// (CPU time = the whole process's, all threads; on a busy machine it shows the work done, where wall time
// also counts the waits for a CPU.)
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "distilbert/core/error.h"
#include "distilbert/tokenizer/tokenizer.h"

using namespace distilbert::tokenizer;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// Non-blank lines of a file; for a TSV, the first column after `skip` header lines. The same selection as
/// scripts/tokenizer/bench_hf.py.
std::vector<std::string> read_lines(const std::string& path, bool tsv_first_column, std::size_t skip) {
  std::ifstream in(path);
  DISTILBERT_CHECK(in.good(), "benchmark data ", path, ": cannot open it (pass --data DIR)");
  std::vector<std::string> out;
  std::string line;
  for (std::size_t i = 0; std::getline(in, line); ++i) {
    if (i < skip) continue;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (tsv_first_column) line = line.substr(0, line.find('\t'));
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    out.push_back(line);
  }
  return out;
}

void run(const char* name, const Tokenizer& tok, const std::vector<std::string>& texts, std::size_t threads,
         int repeat, const EncodeOptions& opt) {
  std::size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();

  double best1 = 1e30, cpu1 = 0;
  std::size_t tokens1 = 0;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = Clock::now();
    const double c0 = process_cpu_seconds();
    std::size_t n = 0;
    for (const auto& t : texts) n += tok.encode(t, std::nullopt, opt).size();
    const double wall = seconds_since(t0);
    if (wall < best1) {
      best1 = wall;
      cpu1 = process_cpu_seconds() - c0;
    }
    tokens1 = n;
  }

  std::vector<TextInput> inputs;
  inputs.reserve(texts.size());
  for (const auto& t : texts) inputs.push_back({t, std::nullopt});
  ThreadPool pool(threads);
  double bestn = 1e30, cpun = 0;
  std::size_t tokensn = 0;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = Clock::now();
    const double c0 = process_cpu_seconds();
    const auto batch = tok.encode_batch(inputs, opt, &pool);
    const double wall = seconds_since(t0);
    if (wall < bestn) {
      bestn = wall;
      cpun = process_cpu_seconds() - c0;
    }
    tokensn = 0;
    for (const auto& e : batch) tokensn += e.size();
  }

  std::printf("%-16s %7zu texts %5.2f MB %8zu tokens | encode, 1 thread: %6.1f MB/s %5.2f Mtok/s | "
              "encode_batch, %zu threads: %6.1f MB/s %5.2f Mtok/s%s\n",
              name, texts.size(), bytes / 1e6, tokens1, bytes / 1e6 / best1, tokens1 / 1e6 / best1, pool.size(),
              bytes / 1e6 / bestn, tokensn / 1e6 / bestn, tokens1 == tokensn ? "" : "  TOKEN COUNT MISMATCH");
  std::printf("RESULT cpp %s 1 %zu %zu %zu %.6f %.6f\n", name, texts.size(), bytes, tokens1, best1, cpu1);
  std::printf("RESULT cpp %s %zu %zu %zu %zu %.6f %.6f\n", name, pool.size(), texts.size(), bytes, tokensn, bestn,
              cpun);
  std::fflush(stdout);
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: bench_tokenizer [--data DIR] [--threads N] [--repeat R] [--tokenizer PATH] [--truncate N]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string shared = "../shared/data";
    std::string tokenizer_path;
    std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
    int repeat = 3;
    std::size_t truncate = 0;
    int positional = 0;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) usage();
        return argv[++i];
      };
      if (a == "--data") {
        shared = value();
      } else if (a == "--threads") {
        threads = std::stoul(value());
      } else if (a == "--repeat") {
        repeat = std::max(1, std::stoi(value()));
      } else if (a == "--tokenizer") {
        tokenizer_path = value();
      } else if (a == "--truncate") {
        truncate = std::stoul(value());
      } else if (a.rfind("--", 0) == 0) {
        usage();
      } else if (positional == 0) {
        shared = a;
        ++positional;
      } else if (positional == 1) {
        threads = std::stoul(a);
        ++positional;
      } else {
        usage();
      }
    }
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    if (tokenizer_path.empty()) tokenizer_path = shared + "/bert-base-uncased";
    const auto t0 = Clock::now();
    const auto tok = load_tokenizer(tokenizer_path);
    std::printf("tokenizer %s: %zu tokens, loaded in %.3f s; %u CPUs, best of %d runs\n", tokenizer_path.c_str(),
                tok->vocab_size(), seconds_since(t0), std::thread::hardware_concurrency(), repeat);

    EncodeOptions opt;
    if (truncate > 0) {
      opt.truncation = Truncation::longest_first;
      opt.max_length = truncate;
    }
    const auto sst = read_lines(shared + "/glue/SST-2/train.tsv", true, 1);
    const auto wiki = read_lines(shared + "/text/wikitext-2/valid.txt", false, 0);
    run("sst2-train", *tok, sst, threads, repeat, opt);
    run("wikitext2-valid", *tok, wiki, threads, repeat, opt);
    return 0;
  } catch (const distilbert::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
