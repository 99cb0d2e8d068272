// Collectives inside autograd graphs: the differentiable all-reduce and SyncBatchNorm. Each is a
// torch::autograd::Function whose forward and backward both run a collective, so every rank must
// run the same forwards and backwards in the same order.
#include <napi.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <string>
#include <vector>

#include "convert.h"
#include "distributed/group.h"
#include "exports.h"
#include "guard.h"
#include "tensor.h"

namespace signin {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// torch.distributed.nn.functional.all_reduce: every rank's output depends on every rank's input,
// so the gradient of an input is the sum over the ranks of the output gradients.
struct AllReduceSumFn : public torch::autograd::Function<AllReduceSumFn> {
  static at::Tensor forward(AutogradContext*, const at::Tensor& x) {
    at::Tensor out = x.clone(at::MemoryFormat::Contiguous);
    GroupAllReduceSum(out, "allReduceWithGrad");
    return out;
  }
  static variable_list backward(AutogradContext*, variable_list grads) {
    at::Tensor g = grads[0].clone(at::MemoryFormat::Contiguous);
    GroupAllReduceSum(g, "allReduceWithGrad (backward)");
    return {g};
  }
};

// Half-precision inputs are normalized in float32, with float32 parameters, as libtorch's batch norm.
at::ScalarType ComputeType(at::ScalarType t) {
  return t == at::kHalf || t == at::kBFloat16 ? at::kFloat : t;
}

// A per-channel view [1, C, 1, ...] of a [C] vector for an input of `dim` dimensions.
at::Tensor PerChannel(const at::Tensor& v, int64_t dim) {
  std::vector<int64_t> shape(dim, 1);
  shape[1] = v.numel();
  return v.view(shape);
}

// torch.nn.SyncBatchNorm's training-mode function with libtorch's CPU and CUDA kernels: one
// all-reduce forward (count, Σx and Σx² about each rank's mean, in float64) and one backward
// (Σdy, Σdy·(x − mean)), as PyTorch's, whose batch_norm_stats/gather kernels are CUDA-only.
// Outputs: y, the global mean and biased variance, and the global count (for running statistics).
struct SyncBatchNormFn : public torch::autograd::Function<SyncBatchNormFn> {
  // weight and bias are always tensors (libtorch 1.13's Function::apply cannot take undefined
  // ones): ones and zeros stand in for absent ones, whose gradients are then not returned.
  static variable_list forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias,
                               double eps, bool hasWeight, bool hasBias) {
    const at::Tensor x = input.to(ComputeType(input.scalar_type()));
    const int64_t c = x.size(1);
    const double n = static_cast<double>(x.numel() / c);
    // This rank's mean and biased variance by libtorch's batch-norm statistics kernel (a quarter
    // of var_mean's time on the CPU).
    auto [mean, var] = at::batch_norm_update_stats(x, {}, {}, 0.0);
    // Chan's combination: Σ over ranks of n·mean and of n·(var + mean²), then var = Q/N − mean²,
    // in float64 so that the subtraction loses nothing a float32 statistic would notice.
    at::Tensor mean64 = mean.to(at::kDouble);
    at::Tensor sums = at::cat({at::full({1}, n, mean64.options()), mean64 * n, (var.to(at::kDouble) + mean64 * mean64) * n});
    GroupAllReduceSum(sums, "syncBatchNorm");
    const double count = sums[0].item<double>();
    if (count <= 1) {
      throw ArgError("input: expected more than 1 value per channel over all processes when training, got " +
                     std::to_string(static_cast<int64_t>(count)));
    }
    at::Tensor gmean64 = sums.narrow(0, 1, c) / count;
    at::Tensor gvar64 = (sums.narrow(0, 1 + c, c) / count - gmean64 * gmean64).clamp_min(0);
    at::Tensor gmean = gmean64.to(x.scalar_type());
    at::Tensor gvar = gvar64.to(x.scalar_type());
    at::Tensor y = at::batch_norm(x, weight, bias, gmean, gvar, /*training=*/false, 0.0, eps, /*cudnn_enabled=*/true);
    ctx->save_for_backward({x, weight, gmean, gvar});
    ctx->saved_data["eps"] = eps;
    ctx->saved_data["count"] = count;
    ctx->saved_data["weight"] = hasWeight;
    ctx->saved_data["bias"] = hasBias;
    ctx->saved_data["dtype"] = static_cast<int64_t>(input.scalar_type());
    at::Tensor countT = at::full({}, count, gmean.options());
    ctx->mark_non_differentiable({gmean, gvar, countT});
    return {y.to(input.scalar_type()), gmean, gvar, countT};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& w = saved[1];
    const at::Tensor& mean = saved[2];
    const at::Tensor& var = saved[3];
    const double eps = ctx->saved_data["eps"].toDouble();
    const double count = ctx->saved_data["count"].toDouble();
    const at::Tensor dy = grads[0].to(x.scalar_type());
    // Eval-mode backward with the global statistics: dx_eval = dy·w·invstd, Σdy·(x − mean)·invstd, Σdy.
    auto [dxEval, dwLocal, dbLocal] = at::native_batch_norm_backward(dy, x, w, mean, var, {}, {}, /*train=*/false, eps, {true, true, true});
    const at::Tensor invstd = (var + eps).rsqrt();
    at::Tensor sums = at::cat({dbLocal, dwLocal / invstd});
    GroupAllReduceSum(sums, "syncBatchNorm (backward)");
    const int64_t c = mean.numel();
    const at::Tensor meanDy = sums.narrow(0, 0, c) / count;
    const at::Tensor meanDyXmu = sums.narrow(0, c, c) / count;
    // dx = w·invstd·(dy − mean(dy) − (x − mean)·invstd²·mean(dy·(x − mean))) = dx_eval + α·x + β.
    const at::Tensor alpha = -w * invstd.pow(3) * meanDyXmu;
    const at::Tensor beta = -w * invstd * meanDy - alpha * mean;
    at::Tensor dx = dxEval.addcmul_(x, PerChannel(alpha, x.dim())).add_(PerChannel(beta, x.dim()));
    dx = dx.to(static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt()));
    // The parameters' gradients are this rank's: a weight scales only its own rank's outputs, and
    // data parallelism averages them afterwards.
    return {dx, ctx->saved_data["weight"].toBool() ? dwLocal : at::Tensor(), ctx->saved_data["bias"].toBool() ? dbLocal : at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor OptionalTensor(Napi::Env env, const Napi::Value& v, const char* name) {
  if (v.IsUndefined() || v.IsNull()) return at::Tensor();
  return NativeTensor::From(env, v, name);
}

}  // namespace

// distAllReduceGrad(tensor): a new tensor, the sum over ranks, whose backward sums the gradients.
Napi::Value DistAllReduceGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& t = NativeTensor::From(env, info[0], "tensor");
  if (t.is_sparse()) throw ArgError("tensor must be dense for a collective");
  return NativeTensor::Wrap(env, AllReduceSumFn::apply(t));
}

// distSyncBatchNorm(input, weight?, bias?, eps): [y, mean, var, count] over every rank's batch.
Napi::Value DistSyncBatchNorm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& x = NativeTensor::From(env, info[0], "input");
  if (x.dim() < 2 || x.size(1) < 1) throw ArgError("input: expected [N, C, ...] with C >= 1 but got " + std::to_string(x.dim()) + " dimensions");
  if (!at::isFloatingType(x.scalar_type())) throw ArgError("input: expected a floating-point tensor");
  const at::Tensor weight = OptionalTensor(env, info[1], "weight");
  const at::Tensor bias = OptionalTensor(env, info[2], "bias");
  for (const auto* p : {&weight, &bias}) {
    if (p->defined() && (p->dim() != 1 || p->size(0) != x.size(1))) {
      throw ArgError("weight and bias: expected [" + std::to_string(x.size(1)) + "] like the input's channels");
    }
  }
  const double eps = ToDouble(info[3], "eps");
  const auto paramType = ComputeType(x.scalar_type());
  const at::Tensor w = weight.defined() ? weight : at::ones({x.size(1)}, x.options().dtype(paramType));
  const at::Tensor b = bias.defined() ? bias : at::zeros({x.size(1)}, x.options().dtype(paramType));
  return FromTensorList(env, SyncBatchNormFn::apply(x, w, b, eps, weight.defined(), bias.defined()));
}

}  // namespace signin
