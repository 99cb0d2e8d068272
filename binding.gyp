# node-gyp build of the addon, CPU only: `prebuildify --napi` prebuilt binaries and the
# node-gyp-build install fallback. CMakeLists.txt (cmake-js) is the development and CUDA build.
# "sources" must list exactly CMakeLists.txt's SIGNIN_SOURCES, as literal paths:
# test/unit/build/sources.test.ts compares the two lists.
# libtorch is located by scripts/libtorch-paths.cjs (LIBTORCH / Torch_DIR, then python3's torch,
# then the system); it prints where it looked and exits non-zero when there is none.
{
  "targets": [
    {
      "target_name": "signin_torch",
      "sources": [
        "native/addon.cc",
        "native/amp/amp.cc",
        "native/convert.cc",
        "native/cuda/device.cc",
        "native/dispatch.cc",
        "native/runtime.cc",
        "native/slots.cc",
        "native/tensor.cc",
        "native/memory/cpu_allocator.cc",
        "native/memory/memory.cc",
        "native/optim/sgd.cc",
        "native/optim/sgd_cpu.cc",
        "native/signin/signin.cc",
        "native/signin/signin_cpu.cc",
        "native/distributed/process_group.cc",
        "native/distributed/autograd_collectives.cc",
        "native/distributed/reducer.cc",
        "native/distributed/nccl.cc",
        "native/jpeg/jpeg_decode.cc"
      ],
      "include_dirs": [
        "native",
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/libtorch-paths.cjs include)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "<!@(node scripts/libtorch-paths.cjs defines)"
      ],
      "cflags!": ["-fno-rtti", "-fno-exceptions"],
      "cflags_cc!": ["-fno-rtti", "-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      # -O3 -fno-math-errno: CMakeLists.txt gives them to native/{optim/sgd,signin/signin}_cpu.cc so the fused
      # kernel loops vectorize; gyp has no per-source flags, so the whole (CPU) target gets them.
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O3", "-fno-math-errno"],
      "ldflags": ["<!@(node scripts/libtorch-paths.cjs ldflags)"],
      "libraries": ["<!@(node scripts/libtorch-paths.cjs libraries)"],
      # libjpeg-turbo (libjpeg-dev) for ImageFolder's JPEG decode path, when the compiler finds
      # jpeglib.h (CMakeLists.txt: find_package(JPEG)); without it the loader decodes with sharp.
      "conditions": [
        ["<!(node -e \"try { require('child_process').execSync('cc -E -x c -', { input: '#include <stdio.h>\\n#include <jpeglib.h>\\n', stdio: ['pipe', 'ignore', 'ignore'] }); console.log(1) } catch { console.log(0) }\")==1", {
          "defines": ["SIGNIN_WITH_JPEG"],
          "libraries": ["-ljpeg"]
        }]
      ]
    }
  ]
}
