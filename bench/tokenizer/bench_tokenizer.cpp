// Tokenizer throughput on real text: GLUE SST-2 train sentences and WikiText-2 validation lines.
//   bench_tokenizer [shared_data_dir] [threads]
// Prints load time, single-thread encode() throughput, encode_batch() throughput with `threads` threads
// (default: hardware_concurrency) and the token count, which must not depend on the thread count.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "distilbert/core/error.h"
#include "distilbert/tokenizer/bert_tokenizer.h"
#include "distilbert/tokenizer/tokenizer.h"

using namespace distilbert::tokenizer;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<std::string> read_lines(const std::string& path, bool tsv_first_column, std::size_t skip) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  for (std::size_t i = 0; std::getline(in, line); ++i) {
    if (i < skip) continue;
    if (tsv_first_column) line = line.substr(0, line.find('\t'));
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    out.push_back(line);
  }
  return out;
}

void run(const char* name, const BertTokenizer& tok, const std::vector<std::string>& texts, std::size_t threads) {
  std::size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();
  EncodeOptions opt;
  opt.truncation = Truncation::longest_first;
  opt.max_length = 512;

  auto t0 = Clock::now();
  std::size_t tokens1 = 0;
  for (const auto& t : texts) tokens1 += tok.encode(t, std::nullopt, opt).size();
  const double s1 = seconds_since(t0);

  std::vector<TextInput> inputs;
  inputs.reserve(texts.size());
  for (const auto& t : texts) inputs.push_back({t, std::nullopt});
  ThreadPool pool(threads);
  t0 = Clock::now();
  const auto batch = tok.encode_batch(inputs, opt, &pool);
  const double sn = seconds_since(t0);
  std::size_t tokensn = 0;
  for (const auto& e : batch) tokensn += e.size();

  std::printf("%-22s %7zu texts %6.1f MB %9zu tokens | 1 thread: %7.0f texts/s %6.1f MB/s %5.2f Mtok/s | "
              "encode_batch %zu threads: %7.0f texts/s %6.1f MB/s%s\n",
              name, texts.size(), bytes / 1e6, tokens1, texts.size() / s1, bytes / 1e6 / s1, tokens1 / 1e6 / s1,
              pool.size(), texts.size() / sn, bytes / 1e6 / sn, tokens1 == tokensn ? "" : "  TOKEN COUNT MISMATCH");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string shared = argc > 1 ? argv[1] : "../shared/data";
    const std::size_t threads = argc > 2 ? std::stoul(argv[2]) : std::max(1u, std::thread::hardware_concurrency());
    auto t0 = Clock::now();
    const BertTokenizer json_tok = BertTokenizer::from_pretrained(shared + "/bert-base-uncased");
    std::printf("load tokenizer.json: %.3f s\n", seconds_since(t0));
    t0 = Clock::now();
    const BertTokenizer vocab_tok = BertTokenizer::from_vocab_file(shared + "/bert-base-uncased/vocab.txt");
    std::printf("load vocab.txt:      %.3f s\n", seconds_since(t0));

    const auto sst = read_lines(shared + "/glue/SST-2/train.tsv", true, 1);
    const auto wiki = read_lines(shared + "/text/wikitext-2/valid.txt", false, 0);
    run("SST-2 train", json_tok, sst, threads);
    run("WikiText-2 valid lines", json_tok, wiki, threads);
    return 0;
  } catch (const distilbert::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
