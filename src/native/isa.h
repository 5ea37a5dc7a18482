// Instruction-set variants the kernels are compiled for, and the per-function target attributes
// that let one build (baseline x86-64, no -march) carry AVX-512 and AVX2 code chosen at run time.
#pragma once
#include <cstdint>
#include <string>

namespace cmh {

enum class Isa : int { Generic = 0, Avx2 = 1, Avx512 = 2 };

struct CpuFeatures {
  bool avx512f = false, avx512vl = false, avx512bw = false, avx512dq = false, avx512vpopcntdq = false;
  bool avx2 = false, fma = false, popcnt = false;
};

const CpuFeatures& cpuFeatures();
/** True when the CPU (and OS) can run kernels of this variant. */
bool isaSupported(Isa isa);
/** Best supported variant, lowered to CMHASH_ISA when that names a supported one. */
Isa defaultIsa();
/** Non-empty when CMHASH_ISA asked for something unsupported or unknown (said once by the caller). */
const std::string& isaEnvNotice();
const char* isaName(Isa isa);
bool parseIsa(const std::string& s, Isa* out);

}  // namespace cmh

#if defined(__GNUC__) || defined(__clang__)
#define CMH_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,popcnt")))
#define CMH_TARGET_AVX512POP __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx512vpopcntdq,avx2,fma,popcnt")))
#define CMH_TARGET_AVX2 __attribute__((target("avx2,fma,popcnt")))
#define CMH_TARGET_POPCNT __attribute__((target("popcnt")))
#define CMH_RESTRICT __restrict__
#else
#error "cmhash native kernels need GCC or Clang"
#endif
