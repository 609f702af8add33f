// A small fixed-size thread pool with a blocking parallel_for, used by BertTokenizer::encode_batch.
// Work items are independent and each writes only its own output slot, so results do not depend on the
// number of threads or on scheduling.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace distilbert::tokenizer {

class ThreadPool {
 public:
  /// `num_threads` = total parallelism including the thread that calls parallel_for (which also works);
  /// 0 means std::thread::hardware_concurrency(). A pool of 1 runs everything on the caller.
  explicit ThreadPool(std::size_t num_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  std::size_t size() const { return workers_.size() + 1; }

  /// Run fn(i) for every i in [0, n) and wait for all of them. Safe to call from several threads at once.
  /// If some calls throw, the exception of the smallest failing index is rethrown (after all finished).
  void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn);

  /// A process-wide pool with hardware_concurrency() threads, created on first use.
  static ThreadPool& shared();

 private:
  struct Job;
  void worker_loop();
  static void run_job(Job& job);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stop_ = false;
};

}  // namespace distilbert::tokenizer
