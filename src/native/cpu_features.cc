// CPU feature detection (cpuid through the compiler builtins) and the choice of kernel variant.
#include "isa.h"
#include <cstdlib>

namespace cmh {

static CpuFeatures detect() {
  CpuFeatures f;
  __builtin_cpu_init();
  // __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0).
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512vpopcntdq = __builtin_cpu_supports("avx512vpopcntdq");
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.popcnt = __builtin_cpu_supports("popcnt");
  return f;
}

const CpuFeatures& cpuFeatures() {
  static const CpuFeatures f = detect();
  return f;
}

bool isaSupported(Isa isa) {
  const CpuFeatures& f = cpuFeatures();
  switch (isa) {
    case Isa::Avx512: return f.avx512f && f.avx512vl && f.avx512bw && f.avx512dq && f.avx2 && f.fma && f.popcnt;
    case Isa::Avx2: return f.avx2 && f.fma && f.popcnt;
    case Isa::Generic: return true;
  }
  return false;
}

const char* isaName(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "generic";
  }
}

bool parseIsa(const std::string& s, Isa* out) {
  if (s == "avx512") { *out = Isa::Avx512; return true; }
  if (s == "avx2") { *out = Isa::Avx2; return true; }
  if (s == "generic") { *out = Isa::Generic; return true; }
  return false;
}

static std::string envNotice;

static Isa chooseDefault() {
  Isa best = isaSupported(Isa::Avx512) ? Isa::Avx512 : isaSupported(Isa::Avx2) ? Isa::Avx2 : Isa::Generic;
  const char* env = std::getenv("CMHASH_ISA");
  if (!env || !*env) return best;
  Isa want;
  if (!parseIsa(env, &want)) {
    envNotice = std::string("CMHASH_ISA=") + env + " is not one of avx512|avx2|generic; using " + isaName(best);
    return best;
  }
  if (!isaSupported(want)) {
    envNotice = std::string("CMHASH_ISA=") + env + " is not supported by this CPU; using " + isaName(best);
    return best;
  }
  return want;
}

Isa defaultIsa() {
  static const Isa isa = chooseDefault();
  return isa;
}

const std::string& isaEnvNotice() { defaultIsa(); return envNotice; }

}  // namespace cmh
