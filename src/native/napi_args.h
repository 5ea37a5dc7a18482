// Argument checks shared by the N-API entry files (addon.cc, addon_train.cc): a wrong argument
// throws a RangeError that names it, what was expected and what came.
#pragma once
#include <napi.h>
#include <string>
#include "adam_kernel.h"

namespace cmh::args {

[[noreturn]] inline void fail(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

inline long intArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) fail(info.Env(), std::string(name) + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0) || v != static_cast<double>(static_cast<long>(v)) || v > 2147483647.0)
    fail(info.Env(), std::string(name) + " must be a non-negative integer < 2^31, got " + std::to_string(v));
  return static_cast<long>(v);
}

template <class T>
T* typedArg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* name, size_t* len) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type)
    fail(info.Env(), std::string(name) + " has the wrong array type");
  auto arr = info[i].As<Napi::TypedArray>();
  *len = arr.ElementLength();
  return reinterpret_cast<T*>(static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset());
}

/** A rows × cols matrix with leading dimension ld must fit in an array of len elements. */
inline void checkMatrix(Napi::Env env, const char* name, size_t len, long rows, long cols, long ld) {
  if (rows == 0 || cols == 0) return;
  if (ld < cols) fail(env, std::string(name) + ": leading dimension " + std::to_string(ld) + " < row length " + std::to_string(cols));
  const double need = static_cast<double>(rows - 1) * ld + cols;
  if (static_cast<double>(len) < need)
    fail(env, std::string(name) + ": " + std::to_string(rows) + "x" + std::to_string(cols) + " with stride " + std::to_string(ld) +
                  " needs " + std::to_string(static_cast<long long>(need)) + " elements, array has " + std::to_string(len));
}

/** Adam's constants from 8 arguments starting at i: b1, b2, stepSize, invSqrtC2, eps, wd, lrWd, decoupled. */
inline AdamArgs adamArgs(const Napi::CallbackInfo& info, size_t i) {
  AdamArgs a;
  a.b1 = info[i].As<Napi::Number>().FloatValue(); a.b2 = info[i + 1].As<Napi::Number>().FloatValue();
  a.stepSize = info[i + 2].As<Napi::Number>().FloatValue(); a.invSqrtC2 = info[i + 3].As<Napi::Number>().FloatValue();
  a.eps = info[i + 4].As<Napi::Number>().FloatValue(); a.wd = info[i + 5].As<Napi::Number>().FloatValue();
  a.lrWd = info[i + 6].As<Napi::Number>().FloatValue(); a.decoupled = info[i + 7].ToBoolean().Value();
  return a;
}

}  // namespace cmh::args
