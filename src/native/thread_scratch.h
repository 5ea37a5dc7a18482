// Per-thread scratch buffers for the GEMM drivers (packed panels, gradient blocks): grown on
// demand, kept for the thread's life, 64-byte aligned for the panel loads. Each `Owner` type gets
// its own set, so one driver's buffers never alias another's.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace cmh {

template <class Owner, class T, int Slots>
T* threadScratch(int which, size_t n) {
  struct Free { void operator()(T* p) const { std::free(p); } };
  thread_local std::unique_ptr<T, Free> buf[Slots];
  thread_local size_t cap[Slots] = {};
  if (cap[which] < n) {
    const size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    buf[which].reset(static_cast<T*>(std::aligned_alloc(64, bytes)));
    if (!buf[which]) throw std::bad_alloc();
    cap[which] = n;
  }
  return buf[which].get();
}

}  // namespace cmh
