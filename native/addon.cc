#include <napi.h>

#include "amp/amp.h"
#include "cuda/device.h"
#include "exports.h"
#include "guard.h"
#include "memory/cpu_allocator.h"
#include "slots.h"
#include "tensor.h"

namespace signin {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallCachingCpuAllocator();
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  Napi::Function tensorClass = NativeTensor::Define(env);
  Napi::Function generatorClass = NativeGenerator::Define(env);
  data->tensorClass = Napi::Persistent(tensorClass);
  data->tensorPrototype = Napi::Persistent(tensorClass.Get("prototype").As<Napi::Object>());
  data->generatorClass = Napi::Persistent(generatorClass);
  exports.Set("NativeTensor", tensorClass);
  exports.Set("Generator", generatorClass);

  auto fn = [&](const char* name, Napi::Function::Callback cb) { exports.Set(name, Napi::Function::New(env, cb, name)); };
  fn("opHandle", Export<OpHandle>);
  fn("opSchema", Export<OpSchema>);
  fn("callOp", Export<CallOp>);
  fn("binaryOp", Export<BinaryOp>);
  fn("slotRelease", Export<SlotRelease>);
  fn("slotToHandle", Export<SlotToHandle>);
  fn("slotAlias", Export<SlotAlias>);
  fn("backward", Export<Backward>);
  fn("grad", Export<Grad>);
  fn("setGradEnabled", Export<SetGradEnabled>);
  fn("isGradEnabled", Export<IsGradEnabled>);
  fn("manualSeed", Export<ManualSeed>);
  fn("getRngState", Export<GetRngState>);
  fn("setRngState", Export<SetRngState>);
  fn("setNumThreads", Export<SetNumThreads>);
  fn("getNumThreads", Export<GetNumThreads>);
  fn("cudaDeviceCount", Export<CudaDeviceCount>);
  fn("liveTensors", Export<LiveTensors>);
  fn("torchVersion", Export<TorchVersion>);
  fn("hasMkldnn", Export<HasMkldnn>);
  fn("fromTypedArray", Export<FromTypedArrayExport>);
  fn("cpuMemoryStats", Export<CpuMemoryStats>);
  fn("emptyCpuCache", Export<EmptyCpuCacheExport>);
  fn("setCpuCacheLimit", Export<SetCpuCacheLimitExport>);
  fn("sgdStep", Export<SgdStep>);
  fn("signinStep", Export<SigninStep>);
  fn("signinReset", Export<SigninReset>);
  fn("signinSplit", Export<SigninSplit>);
  fn("autocastEnter", Export<AutocastEnter>);
  fn("autocastExit", Export<AutocastExit>);
  fn("autocastState", Export<AutocastState>);
  fn("cudaSynchronize", Export<CudaSynchronize>);
  fn("cudaMemoryStats", Export<CudaMemoryStats>);
  fn("cudaResetPeakMemoryStats", Export<CudaResetPeakMemoryStats>);
  fn("setAllowTF32", Export<SetAllowTF32>);
  fn("distBackends", Export<DistBackends>);
  fn("distInit", Export<DistInit>);
  fn("distInfo", Export<DistInfo>);
  fn("distAllReduce", Export<DistAllReduce>);
  fn("distBroadcast", Export<DistBroadcast>);
  fn("distAllGather", Export<DistAllGather>);
  fn("distAllReduceGrad", Export<DistAllReduceGrad>);
  fn("distSyncBatchNorm", Export<DistSyncBatchNorm>);
  fn("distReducerNew", Export<DistReducerNew>);
  fn("distReducerPrepare", Export<DistReducerPrepare>);
  fn("distReducerFinish", Export<DistReducerFinish>);
  fn("distReducerFree", Export<DistReducerFree>);
  fn("distBarrier", Export<DistBarrier>);
  fn("distDestroy", Export<DistDestroy>);
#ifdef SIGNIN_WITH_JPEG
  fn("jpegDecodeCropResize", Export<JpegDecodeCropResize>);
#endif
  return exports;
}

}  // namespace signin

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return signin::Init(env, exports); }

NODE_API_MODULE(signin_torch, InitAddon)
