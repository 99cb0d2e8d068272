#include "slots.h"

#include <cmath>
#include <string>
#include <utility>

#include "convert.h"
#include "guard.h"
#include "tensor.h"

namespace signin {

namespace {

bool ParkArg(const Napi::Value& v) {
  if (!v.IsBoolean()) throw ArgError("Expected a boolean for park but received " + DescribeJs(v));
  return v.As<Napi::Boolean>().Value();
}

thread_local bool t_slots_gone = false;

}  // namespace

SlotTable& Slots() {
  thread_local SlotTable table;
  return table;
}

bool SlotsAlive() { return !t_slots_gone; }

SlotTable::~SlotTable() {
  t_slots_gone = true;
  for (const Slot& s : slots_) {
    if (s.state != kLive) continue;
    Counters().tensors--;
    Counters().bytes -= s.bytes;
  }
}

int32_t SlotTable::Claim() {
  if (!free_.empty()) {
    const int32_t index = free_.back();
    free_.pop_back();
    return index;
  }
  if (slots_.size() >= kMaxSlots) return -1;
  slots_.emplace_back();
  return static_cast<int32_t>(slots_.size() - 1);
}

int32_t SlotTable::Put(at::Tensor& t) {
  const int32_t index = Claim();
  if (index < 0) return -1;
  Slot& s = slots_[static_cast<size_t>(index)];
  s.bytes = BytesOf(t);
  s.tensor = std::move(t);
  s.state = kLive;
  Counters().tensors++;
  Counters().bytes += s.bytes;
  return index;
}

int32_t SlotTable::PutAlias(const at::Tensor& t) {
  const int32_t index = Claim();
  if (index < 0) return -1;
  Slot& s = slots_[static_cast<size_t>(index)];
  s.tensor = t;
  s.bytes = 0;
  s.state = kAlias;
  return index;
}

void SlotTable::KillAlias(int32_t index) {
  Slot& s = slots_[static_cast<size_t>(index)];
  s.tensor = at::Tensor();
  s.state = kDeadAlias;
}

void SlotTable::FreeAlias(int32_t index) {
  Slot& s = slots_[static_cast<size_t>(index)];
  s.tensor = at::Tensor();
  s.state = kFree;
  free_.push_back(index);
}

size_t SlotTable::Index(const Napi::Value& id, const char* name) const {
  const double d = id.IsNumber() ? id.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0 && d < static_cast<double>(slots_.size()) && std::floor(d) == d)) {
    throw ArgError(std::string("Expected a tensor slot (a number that binaryOp returned) for ") + name +
                   " but received " + DescribeJs(id));
  }
  return static_cast<size_t>(d);
}

const at::Tensor& SlotTable::Get(const Napi::Value& id, const char* name) {
  const Slot& s = slots_[Index(id, name)];
  if (s.state != kLive && s.state != kAlias) throw DisposedError();
  return s.tensor;
}

void SlotTable::RefuseAlias(const Napi::Value& id, State state) const {
  if (state == kAlias || state == kDeadAlias) {
    throw ArgError("Expected a slot that binaryOp returned for slot but received " + DescribeJs(id) +
                   ", the alias of a handle (freed with its handle)");
  }
}

void SlotTable::Vacate(size_t index, bool park) {
  Slot& s = slots_[index];
  s.tensor = at::Tensor();
  s.state = park ? kParked : kFree;
  if (!park) free_.push_back(static_cast<int32_t>(index));
}

void SlotTable::Release(const Napi::Value& id, bool park) {
  const size_t index = Index(id, "slot");
  Slot& s = slots_[index];
  RefuseAlias(id, s.state);
  if (s.state == kFree) throw ArgError("Expected a slot in use for slot but received " + DescribeJs(id) + ", a free one");
  if (s.state == kLive) {
    Counters().tensors--;
    Counters().bytes -= s.bytes;
    Vacate(index, park);
  } else if (!park) {
    Vacate(index, false);
  }
}

at::Tensor SlotTable::Take(const Napi::Value& id, bool park) {
  const size_t index = Index(id, "slot");
  Slot& s = slots_[index];
  RefuseAlias(id, s.state);
  if (s.state != kLive) throw DisposedError();
  at::Tensor t = std::move(s.tensor);
  Counters().tensors--;
  Counters().bytes -= s.bytes;
  Vacate(index, park);
  return t;
}

Napi::Value SlotRelease(const Napi::CallbackInfo& info) {
  Slots().Release(info[0], ParkArg(info[1]));
  return info.Env().Undefined();
}

Napi::Value SlotToHandle(const Napi::CallbackInfo& info) {
  at::Tensor t = Slots().Take(info[0], ParkArg(info[1]));
  return NativeTensor::Wrap(info.Env(), std::move(t));
}

Napi::Value SlotAlias(const Napi::CallbackInfo& info) {
  NativeTensor* t = NativeTensor::Find(info.Env(), info[0]);
  if (!t) throw ArgError("Expected a Tensor handle for handle but received " + DescribeJs(info[0]));
  return Napi::Number::New(info.Env(), t->Alias());
}

}  // namespace signin
