// Data-cache sizes for the GEMM blocking: /sys/devices/system/cpu/cpu0/cache/index*/ first (what
// the kernel reports for this core), then glibc's sysconf (cpuid), then conservative defaults.
#include "cache_info.h"
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace cmh {

static bool readLine(const std::string& path, std::string* out) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return false;
  char buf[128];
  const bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
  std::fclose(f);
  if (!ok) return false;
  *out = buf;
  while (!out->empty() && (out->back() == '\n' || out->back() == ' ')) out->pop_back();
  return true;
}

static long parseSize(const std::string& s) {
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (end && (*end == 'K' || *end == 'k')) return v * 1024;
  if (end && (*end == 'M' || *end == 'm')) return v * 1024 * 1024;
  return v;
}

static CacheInfo detect() {
  CacheInfo c;
  for (int i = 0; i < 8; i++) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    std::string level, type, size;
    if (!readLine(dir + "level", &level) || !readLine(dir + "type", &type) || !readLine(dir + "size", &size)) continue;
    const long bytes = parseSize(size);
    if (level == "1" && type == "Data") c.l1d = bytes;
    else if (level == "2" && type != "Instruction") c.l2 = bytes;
    else if (level == "3" && type != "Instruction") c.l3 = bytes;
  }
  if (c.l1d > 0 && c.l2 > 0) { c.source = "sysfs"; return c; }
#if defined(_SC_LEVEL1_DCACHE_SIZE)
  const long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE), l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (l1 > 0 && l2 > 0) { c.l1d = l1; c.l2 = l2; c.l3 = l3 > 0 ? l3 : 0; c.source = "sysconf"; return c; }
#endif
  c.l1d = 32 * 1024; c.l2 = 256 * 1024; c.l3 = 0; c.source = "default";
  return c;
}

const CacheInfo& cacheInfo() {
  static const CacheInfo c = detect();
  return c;
}

}  // namespace cmh
