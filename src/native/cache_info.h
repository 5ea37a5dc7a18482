// Cache sizes of the core the process runs on, read from the OS (sysfs, then sysconf/cpuid).
#pragma once
#include <string>

namespace cmh {

struct CacheInfo {
  long l1d = 0, l2 = 0, l3 = 0;  // bytes (0 when unknown)
  std::string source;            // "sysfs", "sysconf" or "default"
};

const CacheInfo& cacheInfo();

}  // namespace cmh
