// The results of binaryOp, named by a small integer (their slot) instead of a JS object each
// (issue 9). Returning a number allocates nothing, while a new NativeTensor costs
// napi_new_instance, napi_wrap's weak reference and a finalizer, about as much as a small op
// itself (docs/architecture.md, "The per-op floor"). A Tensor of src/tensor holds its slot until
// dispose() or tidy() releases it, or until it needs a NativeTensor (Take). A slot whose Tensor is
// watched by src/tensor/slots.ts's FinalizationRegistry is parked on release: its number stays
// unused until the registry's callback frees it, so that a late callback cannot free a newer
// tensor in a reused slot.
// A NativeTensor used repeatedly as an operand of binaryOp gets an alias slot: a second reference
// to its tensor, named by a number, so that JS passes the number instead of the object (finding
// the native object behind a JS argument costs ~0.15 µs). The NativeTensor owns its alias: its
// dispose() empties the slot (a use then fails as disposed) and its destructor frees the number,
// so a stale number can never name another tensor. Aliases are not counted by memory(): their
// handle is.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace signin {

class SlotTable {
 public:
  // Slot numbers stay below 2^30, a V8 small integer on every build.
  static constexpr size_t kMaxSlots = size_t{1} << 22;
  ~SlotTable();
  // Moves t into a new slot and returns its number, or returns -1 (t untouched) when every slot
  // is in use.
  int32_t Put(at::Tensor& t);
  // The tensor of a live slot; throws, naming `name`, for any other value.
  const at::Tensor& Get(const Napi::Value& id, const char* name);
  // Frees a live slot's tensor, or a parked slot when !park. A free slot's number is refused.
  void Release(const Napi::Value& id, bool park);
  // Moves a live slot's tensor out (to become a NativeTensor), leaving the slot as Release would.
  at::Tensor Take(const Napi::Value& id, bool park);
  // An alias slot holding t, or -1 when every slot is in use. Only its NativeTensor ends it: Kill
  // drops the tensor and keeps the number, Free gives the number back.
  int32_t PutAlias(const at::Tensor& t);
  void KillAlias(int32_t index);
  void FreeAlias(int32_t index);

 private:
  enum State : uint8_t { kFree, kLive, kParked, kAlias, kDeadAlias };
  struct Slot {
    at::Tensor tensor;
    int64_t bytes = 0;
    State state = kFree;
  };
  size_t Index(const Napi::Value& id, const char* name) const;
  int32_t Claim();
  void RefuseAlias(const Napi::Value& id, State state) const;
  void Vacate(size_t index, bool park);
  std::vector<Slot> slots_;
  std::vector<int32_t> free_;
};

// The table of the calling thread's environment: JS runs on one thread per environment, and each
// thread (the main one, each worker) has one.
SlotTable& Slots();
// False once the calling thread's table is destroyed (thread exit), when a NativeTensor's
// destructor may still run.
bool SlotsAlive();

// Exported (addon.cc): slotRelease(slot, park), slotToHandle(slot, park) and slotAlias(handle).
Napi::Value SlotRelease(const Napi::CallbackInfo& info);
Napi::Value SlotToHandle(const Napi::CallbackInfo& info);
Napi::Value SlotAlias(const Napi::CallbackInfo& info);

}  // namespace signin
