{
  "targets": [
    {
      "target_name": "cmhash_native",
      "sources": [
        "src/native/addon.cc",
        "src/native/cpu_features.cc",
        "src/native/thread_pool.cc",
        "src/native/gemm_driver.cc",
        "src/native/gemm_avx512.cc",
        "src/native/gemm_avx2.cc",
        "src/native/gemm_generic.cc",
        "src/native/gemm_panel.cc",
        "src/native/hamming_driver.cc",
        "src/native/hamming_avx512.cc",
        "src/native/hamming_scalar.cc",
        "src/native/mih_search.cc",
        "src/native/eval_ap.cc",
        "src/native/optim.cc",
        "src/native/vector_ops.cc",
        "src/native/gemm_bf16.cc",
        "src/native/cache_info.cc",
        "src/native/addon_train.cc",
        "src/native/gemm_adam.cc"
      ],
      "include_dirs": ["node_modules/node-addon-api"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-O2", "-O0"],
      "cflags": ["-O3", "-fno-math-errno"],
      "cflags_cc": ["-O3", "-std=c++17", "-fexceptions", "-fno-math-errno", "-Wall", "-Wno-unused-function", "-Wno-maybe-uninitialized", "-Wno-uninitialized"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"]
      }
    }
  ]
}
