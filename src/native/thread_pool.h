// A small persistent thread pool: run(n, fn) calls fn(0..n-1) with fn(0) on the calling thread and
// the rest on parked workers, and returns when all are done. Workers are created on first need.
#pragma once
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cmh {

class ThreadPool {
 public:
  static ThreadPool& instance();
  void run(int n, const std::function<void(int)>& fn);
  ~ThreadPool();

 private:
  void ensureWorkers(int n);
  void workerLoop(int index);
  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* task_ = nullptr;
  int taskCount_ = 0;      // tasks in the current job (including the caller's task 0)
  int pending_ = 0;        // worker tasks not yet finished
  unsigned long generation_ = 0;
  bool stop_ = false;
  std::mutex runMu_;       // one job at a time
};

/** Threads used by large kernels: CMHASH_THREADS, else the number of online cores. */
int getThreads();
void setThreads(int n);

}  // namespace cmh
