// Every function the addon exports; addon.cc lists them all, so that one file shows the whole
// native surface. Each runs inside Guarded() (see guard.h).
#pragma once

#include <napi.h>

namespace signin {

// dispatch.cc
Napi::Value OpHandle(const Napi::CallbackInfo& info);
Napi::Value OpSchema(const Napi::CallbackInfo& info);
Napi::Value CallOp(const Napi::CallbackInfo& info);
Napi::Value BinaryOp(const Napi::CallbackInfo& info);

// runtime.cc
Napi::Value Backward(const Napi::CallbackInfo& info);
Napi::Value Grad(const Napi::CallbackInfo& info);
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info);
Napi::Value IsGradEnabled(const Napi::CallbackInfo& info);
Napi::Value ManualSeed(const Napi::CallbackInfo& info);
Napi::Value GetRngState(const Napi::CallbackInfo& info);
Napi::Value SetRngState(const Napi::CallbackInfo& info);
Napi::Value SetNumThreads(const Napi::CallbackInfo& info);
Napi::Value GetNumThreads(const Napi::CallbackInfo& info);
Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info);
Napi::Value LiveTensors(const Napi::CallbackInfo& info);
Napi::Value TorchVersion(const Napi::CallbackInfo& info);
Napi::Value HasMkldnn(const Napi::CallbackInfo& info);
Napi::Value FromTypedArrayExport(const Napi::CallbackInfo& info);

// memory/memory.cc
Napi::Value CpuMemoryStats(const Napi::CallbackInfo& info);
Napi::Value EmptyCpuCacheExport(const Napi::CallbackInfo& info);
Napi::Value SetCpuCacheLimitExport(const Napi::CallbackInfo& info);

// optim/sgd.cc
Napi::Value SgdStep(const Napi::CallbackInfo& info);

// signin/signin.cc
Napi::Value SigninStep(const Napi::CallbackInfo& info);
Napi::Value SigninReset(const Napi::CallbackInfo& info);
Napi::Value SigninSplit(const Napi::CallbackInfo& info);

// distributed/process_group.cc
Napi::Value DistBackends(const Napi::CallbackInfo& info);
Napi::Value DistInit(const Napi::CallbackInfo& info);
Napi::Value DistInfo(const Napi::CallbackInfo& info);
Napi::Value DistAllReduce(const Napi::CallbackInfo& info);
Napi::Value DistBroadcast(const Napi::CallbackInfo& info);
Napi::Value DistAllGather(const Napi::CallbackInfo& info);
Napi::Value DistBarrier(const Napi::CallbackInfo& info);
Napi::Value DistDestroy(const Napi::CallbackInfo& info);

// distributed/autograd_collectives.cc
Napi::Value DistAllReduceGrad(const Napi::CallbackInfo& info);
Napi::Value DistSyncBatchNorm(const Napi::CallbackInfo& info);

// distributed/reducer.cc
Napi::Value DistReducerNew(const Napi::CallbackInfo& info);
Napi::Value DistReducerPrepare(const Napi::CallbackInfo& info);
Napi::Value DistReducerFinish(const Napi::CallbackInfo& info);
Napi::Value DistReducerFree(const Napi::CallbackInfo& info);

#ifdef SIGNIN_WITH_JPEG
// jpeg/jpeg_decode.cc (only where jpeglib.h was found at build time)
Napi::Value JpegDecodeCropResize(const Napi::CallbackInfo& info);
#endif

}  // namespace signin
