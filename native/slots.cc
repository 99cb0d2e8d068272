#include "slots.h"

#include <cmath>
#include <string>
#include <utility>

#include "convert.h"
#include "guard.h"
#include "tensor.h"

namespace signin {

namespace {

int64_t BytesOf(const at::Tensor& t) {
  return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0;
}

bool ParkArg(const Napi::Value& v) {
  if (!v.IsBoolean()) throw ArgError("Expected a boolean for park but received " + DescribeJs(v));
  return v.As<Napi::Boolean>().Value();
}

}  // namespace

SlotTable& Slots() {
  thread_local SlotTable table;
  return table;
}

SlotTable::~SlotTable() {
  for (const Slot& s : slots_) {
    if (s.state != kLive) continue;
    Counters().tensors--;
    Counters().bytes -= s.bytes;
  }
}

int32_t SlotTable::Put(at::Tensor& t) {
  size_t index;
  if (!free_.empty()) {
    index = static_cast<size_t>(free_.back());
    free_.pop_back();
  } else if (slots_.size() < kMaxSlots) {
    index = slots_.size();
    slots_.emplace_back();
  } else {
    return -1;
  }
  Slot& s = slots_[index];
  s.bytes = BytesOf(t);
  s.tensor = std::move(t);
  s.state = kLive;
  Counters().tensors++;
  Counters().bytes += s.bytes;
  return static_cast<int32_t>(index);
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
  if (s.state != kLive) throw DisposedError();
  return s.tensor;
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

}  // namespace signin
