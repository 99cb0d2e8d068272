// libtorch's own cost of the benchmark's op, with no JS and no Python: `calls` calls of
// at::add on two 16-element float32 tensors (the result freed when the next replaces it, as in
// PyTorch eager), at 1 thread; also at::empty alone (the allocation inside it). Prints one JSON
// line of ns per call, in CPU time of the process (std::clock) and wall time.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

template <class F>
void Time(const char* name, long calls, F&& f, bool last) {
  for (long i = 0; i < calls / 10; ++i) f();
  auto w0 = std::chrono::steady_clock::now();
  std::clock_t c0 = std::clock();
  for (long i = 0; i < calls; ++i) f();
  double cpu = 1e9 * double(std::clock() - c0) / CLOCKS_PER_SEC / calls;
  double wall = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - w0).count() / calls;
  std::printf("\"%s\": {\"cpuNs\": %.1f, \"wallNs\": %.1f}%s", name, cpu, wall, last ? "" : ", ");
}

int main(int argc, char** argv) {
  long calls = argc > 1 ? std::atol(argv[1]) : 100000;
  at::set_num_threads(1);
  at::manual_seed(0);
  at::Tensor a = at::randn({16});
  at::Tensor b = at::randn({16});
  at::Tensor c;
  std::printf("{");
  Time("add", calls, [&] { c = at::add(a, b); }, false);
  Time("addOut", calls, [&] { at::add_out(c, a, b); }, false);
  Time("empty", calls, [&] { c = at::empty({16}); }, true);
  std::printf("}\n");
  return 0;
}
