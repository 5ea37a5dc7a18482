#include "thread_pool.h"
#include <cstdlib>

namespace cmh {

ThreadPool& ThreadPool::instance() {
  // Leaked on purpose: joining threads during process exit (static destructors) can deadlock.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::ensureWorkers(int n) {
  while (static_cast<int>(workers_.size()) < n) {
    int idx = static_cast<int>(workers_.size()) + 1;  // worker i runs task i
    workers_.emplace_back([this, idx] { workerLoop(idx); });
  }
}

void ThreadPool::workerLoop(int index) {
  unsigned long seen = 0;
  for (;;) {
    const std::function<void(int)>* task;
    {
      std::unique_lock<std::mutex> lk(mu_);
      wake_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (index >= taskCount_) continue;
      task = task_;
    }
    (*task)(index);
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

void ThreadPool::run(int n, const std::function<void(int)>& fn) {
  if (n <= 1) { fn(0); return; }
  std::lock_guard<std::mutex> jobLock(runMu_);
  {
    std::lock_guard<std::mutex> lk(mu_);
    ensureWorkers(n - 1);
    task_ = &fn;
    taskCount_ = n;
    pending_ = n - 1;
    ++generation_;
  }
  wake_.notify_all();
  fn(0);
  std::unique_lock<std::mutex> lk(mu_);
  done_.wait(lk, [&] { return pending_ == 0; });
  task_ = nullptr;
}

static int initialThreads() {
  const char* env = std::getenv("CMHASH_THREADS");
  if (env && std::atoi(env) > 0) return std::atoi(env);
  unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? static_cast<int>(hc) : 1;
}

static int threadCount = initialThreads();

int getThreads() { return threadCount; }
void setThreads(int n) { threadCount = n < 1 ? 1 : (n > 256 ? 256 : n); }

}  // namespace cmh
