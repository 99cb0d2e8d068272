// Autocast (mixed precision) state of the calling thread: the JS thread, where every op runs.
#pragma once

#include <napi.h>

namespace signin {

// autocastEnter(device: 'cpu' | 'cuda', dtype): enables autocast for that device type with the
// given lower-precision dtype; returns the previous { enabled, dtype } for autocastExit.
Napi::Value AutocastEnter(const Napi::CallbackInfo& info);
// autocastExit(device, previousEnabled, previousDtype): restores the state autocastEnter replaced;
// the outermost exit empties the cache of casted weights, as torch.autocast's __exit__ does.
Napi::Value AutocastExit(const Napi::CallbackInfo& info);
// autocastState(): { cpu, cuda, cpuDtype, cudaDtype } of the calling thread.
Napi::Value AutocastState(const Napi::CallbackInfo& info);

}  // namespace signin
