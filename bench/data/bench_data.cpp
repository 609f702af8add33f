// Data pipeline throughput on real text (WikiText-2 valid + test, GLUE SST-2 train sentences):
//   1. binarize: MB/s of raw text with 1 thread and with all threads (same output checked);
//   2. masked-batch preparation (collate + dynamic MLM masking, MlmLoader::make_batch) for 8 x 128 and 5 x 512
//      batches (grouped batching, token_probs with smoothing 0.7), with 1 and all LibTorch threads, and through the
//      loader with background prefetch.
//   bench_data [shared_data_dir] [threads] [work_dir]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "distilbert/core/error.h"
#include "distilbert/core/runtime.h"
#include "distilbert/data/loader.h"
#include "distilbert/data/token_counts.h"
#include "distilbert/data/token_store.h"
#include "distilbert/tokenizer/tokenizer.h"

using namespace distilbert;
using namespace distilbert::data;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void bench_batches(const std::shared_ptr<const TokenStore>& store, const TokenCounts& counts, std::int64_t bs,
                   std::int64_t max_len, int threads_all) {
  LmSequencesOptions lo;
  lo.max_len = max_len;
  auto seqs = std::make_shared<LmSequences>(store, lo);
  const auto sp = store->special_ids();
  MlmMasker masker(token_probs(counts.counts, 0.7, special_id_list(sp)), sp, store->vocab_size());
  LoaderOptions o;
  o.batching.batch_size = bs;
  o.batching.group_max_len = max_len;
  o.seed = 56;
  std::printf("batches %2lld x %-3lld: %zu sequences (%s)\n", static_cast<long long>(bs),
              static_cast<long long>(max_len), seqs->size(), seqs->stats().summary().c_str());
  for (int t : {1, threads_all}) {
    at::set_num_threads(t);
    o.prefetch = 0;
    MlmLoader sync(seqs, masker, o);
    sync.set_epoch(0);
    const std::size_t n = std::min<std::size_t>(sync.num_batches(), 3000);
    std::int64_t tokens = 0;
    auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; ++i) tokens += sync.make_batch(i).input_ids.numel();
    const double s = since(t0);
    std::printf("  synchronous, %d LibTorch thread(s): %8.0f batches/s  %6.2f M padded tokens/s  (%zu batches)\n", t,
                n / s, tokens / s / 1e6, n);
  }
  at::set_num_threads(threads_all);
  o.prefetch = 8;
  MlmLoader ahead(seqs, masker, o);
  ahead.set_epoch(0);
  const std::size_t n = std::min<std::size_t>(ahead.num_batches(), 3000);
  auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) ahead.next();
  const double s = since(t0);
  std::printf("  loader, prefetch 8 (1 background thread), consumer doing nothing: %8.0f batches/s\n", n / s);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string data = argc > 1 ? argv[1] : "../shared/data";
    const int threads = argc > 2 && std::atoi(argv[2]) > 0 ? std::atoi(argv[2]) : available_cpus();
    const std::string work = argc > 3 ? argv[3] : (fs::temp_directory_path() / "distilbert_bench_data").string();
    fs::create_directories(work);
    const auto tok = tokenizer::load_tokenizer(data + "/bert-base-uncased");

    // SST-2 train sentences as a text file (first column, header skipped).
    const std::string sst = work + "/sst2_train.txt";
    {
      std::ifstream in(data + "/glue/SST-2/train.tsv");
      DISTILBERT_CHECK(static_cast<bool>(in), "cannot read ", data, "/glue/SST-2/train.tsv");
      std::ofstream out(sst);
      std::string line;
      std::getline(in, line);
      while (std::getline(in, line)) out << line.substr(0, line.find('\t')) << "\n";
    }
    BinarizeOptions bo;
    bo.inputs = {data + "/text/wikitext-2/valid.txt", data + "/text/wikitext-2/test.txt", sst};
    bo.progress = false;
    std::printf("binarize (WikiText-2 valid + test, SST-2 train sentences), %s\n", tok->fingerprint().c_str());
    std::string sha1;
    for (int t : {1, threads}) {
      bo.threads = static_cast<std::size_t>(t);
      bo.output_prefix = work + "/store_t" + std::to_string(t);
      const BinarizeResult r = binarize(*tok, bo);
      const auto st = TokenStore::open(bo.output_prefix);
      const std::string sha = st->metadata()["files"]["ids"]["sha256"];
      if (sha1.empty()) sha1 = sha;
      std::printf("  %2d thread(s): %7.2f MB of text in %6.2f s = %6.2f MB/s, %8.0f lines/s, %llu sequences, "
                  "%llu tokens%s\n",
                  t, r.text_bytes / 1e6, r.seconds, r.text_bytes / 1e6 / r.seconds, r.lines / r.seconds,
                  static_cast<unsigned long long>(r.sequences), static_cast<unsigned long long>(r.tokens),
                  sha == sha1 ? "" : "  OUTPUT DIFFERS FROM 1 THREAD");
    }
    const auto store = TokenStore::open(bo.output_prefix, tok->fingerprint());
    auto t0 = Clock::now();
    TokenStore::OpenOptions vo;
    vo.verify = true;
    TokenStore::open(bo.output_prefix, vo);
    std::printf("  open --verify (ids + SHA-256): %.3f s\n", since(t0));
    t0 = Clock::now();
    TokenCounts counts;
    counts.counts = count_tokens(*store, static_cast<std::size_t>(threads));
    std::printf("  token counts: %.3f s\n", since(t0));

    bench_batches(store, counts, 8, 128, threads);
    bench_batches(store, counts, 5, 512, threads);
    std::printf("(machine: %d CPUs available; threads = %d)\n", available_cpus(), threads);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
