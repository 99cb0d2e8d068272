// See jpeg_decode.h. The decoder stops after the last row the resampling reads, so a crop near the
// top of a photo decodes only part of it, and each row is resampled horizontally as soon as it is
// decoded, while it is in cache. jpeg_crop_scanline + jpeg_skip_scanlines would skip more, but
// their pixels differed from a full decode at crop edges (up to 52 levels, libjpeg-turbo 2.1.5) and
// saved ~5% on ImageNet-sized images, whose cost is mostly Huffman decoding.
#include "jpeg/jpeg_decode.h"

#include <napi.h>

#include "exports.h"
#include "guard.h"

#ifdef SIGNIN_WITH_JPEG
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#endif

namespace signin {

#ifdef SIGNIN_WITH_JPEG
namespace {

// Pillow's fixed-point resampling (libImaging/Resample.c): weights scaled by 2^22, 8-bit values.
constexpr int kPrecisionBits = 32 - 8 - 2;
// A progressive JPEG of a few kilobytes can declare thousands of scans, each a pass over the
// whole coefficient buffer (djpeg -maxscans guards the same way); real files use about 10.
constexpr int kMaxScans = 1000;
// A thread keeps its buffers between images, unless one image made them larger than this.
constexpr size_t kKeepBytes = size_t{16} << 20;

// For `count` output pixels from `first` on: the first source pixel and how many are read, with
// their weights (ksize each). identity: the sizes are equal, and Pillow's filter copies.
struct Coeffs {
  int ksize = 0;
  bool identity = false;
  std::vector<int> bounds;
  std::vector<int> kk;
  // The weights of taps 2p and 2p + 1 split as k = hi · 2^15 + lo, each pair packed in one int32
  // (lo0 | lo1 << 16, hi0 | hi1 << 16) for SSE2's 16-bit multiply-add: (ksize + 1) / 2 per pixel.
  std::vector<int32_t> pairLo, pairHi;
};

// Weights are in [0, 2^22] and values in [0, 255]: 16-bit halves keep every product and sum
// exact in int32 up to this many taps (255 · (2^15 - 1) · 64 < 2^31); wider kernels (shrinking
// more than 32×) take the scalar loops.
constexpr int kMaxSimdTaps = 64;

double Triangle(double x) {
  x = std::fabs(x);
  return x < 1 ? 1 - x : 0;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter, for output pixels
// [first, first + count) of an in → out resize: when shrinking, the support widens by the scale
// (antialiasing).
Coeffs Precompute(int in, int out, int first, int count) {
  Coeffs c;
  const double scale = static_cast<double>(in) / out;
  const double filterscale = scale < 1 ? 1 : scale;
  const double support = filterscale;
  c.identity = in == out;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(static_cast<size_t>(count) * 2);
  c.kk.resize(static_cast<size_t>(count) * c.ksize);
  std::vector<double> w(c.ksize);
  for (int i = 0; i < count; i++) {
    const double center = (first + i + 0.5) * scale;
    int xmin = static_cast<int>(center - support + 0.5);
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmin < 0) xmin = 0;
    if (xmax > in) xmax = in;
    xmax -= xmin;
    double ww = 0;
    for (int x = 0; x < xmax; x++) ww += w[x] = Triangle((x + xmin - center + 0.5) / filterscale);
    for (int x = 0; x < c.ksize; x++) {
      const double v = x < xmax && ww != 0 ? w[x] / ww : 0;
      c.kk[static_cast<size_t>(i) * c.ksize + x] =
          static_cast<int>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    c.bounds[i * 2] = xmin;
    c.bounds[i * 2 + 1] = xmax;
  }
  if (c.identity) {
    // The weights above are then 1 at the pixel itself and 0 beside it: a copy of pixel first + i.
    for (int i = 0; i < count; i++) {
      c.bounds[i * 2] = first + i;
      c.bounds[i * 2 + 1] = 1;
    }
  }
  if (c.ksize <= kMaxSimdTaps) {
    const int pairs = (c.ksize + 1) / 2;
    c.pairLo.assign(static_cast<size_t>(count) * pairs, 0);
    c.pairHi.assign(static_cast<size_t>(count) * pairs, 0);
    for (int i = 0; i < count; i++) {
      const int* k = c.kk.data() + static_cast<size_t>(i) * c.ksize;
      for (int t = 0; t < c.bounds[i * 2 + 1]; t++) {
        const size_t at = static_cast<size_t>(i) * pairs + t / 2;
        const int shift = t % 2 ? 16 : 0;
        c.pairLo[at] |= static_cast<int32_t>(k[t] & 0x7fff) << shift;
        c.pairHi[at] |= static_cast<int32_t>(k[t] >> 15) << shift;
      }
    }
  }
  return c;
}

inline uint8_t Clip8(int v) {
  v >>= kPrecisionBits;
  return v < 0 ? 0 : v > 255 ? 255 : static_cast<uint8_t>(v);
}

#if defined(__SSE2__)
// (lo + hi · 2^15 + 2^21) >> 22 per int32 lane, saturated to 0..255 like Clip8, in the low bytes.
inline __m128i Finish(__m128i lo, __m128i hi) {
  const __m128i sum = _mm_add_epi32(_mm_add_epi32(lo, _mm_slli_epi32(hi, 15)), _mm_set1_epi32(1 << (kPrecisionBits - 1)));
  const __m128i v = _mm_srai_epi32(sum, kPrecisionBits);
  return _mm_packus_epi16(_mm_packs_epi32(v, v), _mm_setzero_si128());
}

inline int32_t Load32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
#endif

// One decoded row (RGB, from the box's left edge) to the window's columns: Pillow's horizontal
// pass. The SSE2 loop reads up to 7 bytes past the last source pixel and writes one byte past the
// last output pixel (the buffers have room); its integer sums equal the scalar loop's.
void Horizontal(const uint8_t* src, const Coeffs& h, int count, uint8_t* dst) {
  if (h.identity) {
    std::memcpy(dst, src + static_cast<size_t>(h.bounds[0]) * 3, static_cast<size_t>(count) * 3);
    return;
  }
#if defined(__SSE2__)
  if (!h.pairLo.empty()) {
    const int pairs = (h.ksize + 1) / 2;
    const __m128i zero = _mm_setzero_si128();
    for (int xx = 0; xx < count; xx++) {
      const int32_t* lo = h.pairLo.data() + static_cast<size_t>(xx) * pairs;
      const int32_t* hi = h.pairHi.data() + static_cast<size_t>(xx) * pairs;
      const uint8_t* q = src + static_cast<size_t>(h.bounds[xx * 2]) * 3;
      __m128i accLo = zero, accHi = zero;
      for (int p = 0, n = (h.bounds[xx * 2 + 1] + 1) / 2; p < n; p++, q += 6) {
        // int16 lanes r0 r1 g0 g1 b0 b1 (x x) of the pair's two pixels, times (lo0, lo1) and (hi0, hi1).
        const __m128i v = _mm_unpacklo_epi8(_mm_unpacklo_epi8(_mm_cvtsi32_si128(Load32(q)), _mm_cvtsi32_si128(Load32(q + 3))), zero);
        accLo = _mm_add_epi32(accLo, _mm_madd_epi16(v, _mm_set1_epi32(lo[p])));
        accHi = _mm_add_epi32(accHi, _mm_madd_epi16(v, _mm_set1_epi32(hi[p])));
      }
      const int32_t rgb = _mm_cvtsi128_si32(Finish(accLo, accHi));
      std::memcpy(dst + static_cast<size_t>(xx) * 3, &rgb, 4);
    }
    return;
  }
#endif
  for (int xx = 0; xx < count; xx++) {
    const int* k = h.kk.data() + static_cast<size_t>(xx) * h.ksize;
    const uint8_t* q = src + static_cast<size_t>(h.bounds[xx * 2]) * 3;
    int s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
    for (int x = 0; x < h.bounds[xx * 2 + 1]; x++, q += 3) {
      s0 += q[0] * k[x];
      s1 += q[1] * k[x];
      s2 += q[2] * k[x];
    }
    dst[xx * 3] = Clip8(s0);
    dst[xx * 3 + 1] = Clip8(s1);
    dst[xx * 3 + 2] = Clip8(s2);
  }
}

// Output row `yy` of the vertical pass over rows (tmpStride bytes each, the first at `first`) into
// line: Pillow's arithmetic, 16 values at a time with SSE2 (exact, as above), the rest scalar.
void Vertical(const uint8_t* first, size_t tmpStride, const Coeffs& v, int yy, int32_t* acc, uint8_t* line) {
  const int* k = v.kk.data() + static_cast<size_t>(yy) * v.ksize;
  const int n = v.bounds[yy * 2 + 1];
  size_t i = 0;
#if defined(__SSE2__)
  if (!v.pairLo.empty()) {
    const int pairs = (v.ksize + 1) / 2;
    const int32_t* lo = v.pairLo.data() + static_cast<size_t>(yy) * pairs;
    const int32_t* hi = v.pairHi.data() + static_cast<size_t>(yy) * pairs;
    const __m128i zero = _mm_setzero_si128();
    for (; i + 16 <= tmpStride; i += 16) {
      __m128i l0 = zero, l1 = zero, l2 = zero, l3 = zero, h0 = zero, h1 = zero, h2 = zero, h3 = zero;
      for (int p = 0; p < (n + 1) / 2; p++) {
        const uint8_t* r0 = first + tmpStride * (2 * p) + i;
        // An odd last tap pairs with itself at weight 0.
        const uint8_t* r1 = 2 * p + 1 < n ? r0 + tmpStride : r0;
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r1));
        const __m128i kl = _mm_set1_epi32(lo[p]), kh = _mm_set1_epi32(hi[p]);
        const __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
        const __m128i v0 = _mm_unpacklo_epi8(ab0, zero), v1 = _mm_unpackhi_epi8(ab0, zero);
        const __m128i v2 = _mm_unpacklo_epi8(ab1, zero), v3 = _mm_unpackhi_epi8(ab1, zero);
        l0 = _mm_add_epi32(l0, _mm_madd_epi16(v0, kl));
        h0 = _mm_add_epi32(h0, _mm_madd_epi16(v0, kh));
        l1 = _mm_add_epi32(l1, _mm_madd_epi16(v1, kl));
        h1 = _mm_add_epi32(h1, _mm_madd_epi16(v1, kh));
        l2 = _mm_add_epi32(l2, _mm_madd_epi16(v2, kl));
        h2 = _mm_add_epi32(h2, _mm_madd_epi16(v2, kh));
        l3 = _mm_add_epi32(l3, _mm_madd_epi16(v3, kl));
        h3 = _mm_add_epi32(h3, _mm_madd_epi16(v3, kh));
      }
      const __m128i half = _mm_set1_epi32(1 << (kPrecisionBits - 1));
      auto lanes = [&](__m128i l, __m128i h) { return _mm_srai_epi32(_mm_add_epi32(_mm_add_epi32(l, _mm_slli_epi32(h, 15)), half), kPrecisionBits); };
      const __m128i w01 = _mm_packs_epi32(lanes(l0, h0), lanes(l1, h1));
      const __m128i w23 = _mm_packs_epi32(lanes(l2, h2), lanes(l3, h3));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(line + i), _mm_packus_epi16(w01, w23));
    }
  }
#endif
  for (size_t j = i; j < tmpStride; j++) acc[j] = 1 << (kPrecisionBits - 1);
  for (int y = 0; y < n; y++) {
    const uint8_t* q = first + tmpStride * y;
    const int32_t ky = k[y];
    for (size_t j = i; j < tmpStride; j++) acc[j] += q[j] * ky;
  }
  for (size_t j = i; j < tmpStride; j++) line[j] = Clip8(acc[j]);
}

// The calling thread's working memory: one decoded row, the horizontally resampled rows, and the
// vertical pass's sums and output row.
struct Buffers {
  std::vector<uint8_t> row, tmp, line;
  std::vector<int32_t> acc;
};

Buffers& ThreadBuffers() {
  thread_local Buffers b;
  return b;
}

// libjpeg's default error_exit calls exit(): ours jumps back to DecodeJpeg instead.
struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void OnError(j_common_ptr c) {
  auto* e = reinterpret_cast<ErrorManager*>(c->err);
  (*c->err->format_message)(c, e->message);
  longjmp(e->jump, 1);
}

// Level -1 is a warning about the data (a truncated file, a corrupt segment that libjpeg would
// fill with grey): an error here, as for sharp with failOn 'warning' and PIL without
// LOAD_TRUNCATED_IMAGES. Levels >= 0 are trace messages.
void OnMessage(j_common_ptr c, int level) {
  if (level < 0) OnError(c);
}

void OnProgress(j_common_ptr c) {
  auto* d = reinterpret_cast<j_decompress_ptr>(c);
  if (d->input_scan_number > kMaxScans) {
    auto* e = reinterpret_cast<ErrorManager*>(c->err);
    std::snprintf(e->message, sizeof e->message, "more than %d progressive scans", kMaxScans);
    longjmp(e->jump, 1);
  }
}

struct Decoder {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  jpeg_progress_mgr progress;
};

enum class ReadStatus { kRead, kUnsupported, kTooLarge, kOutside };

// Everything that calls into libjpeg, so that a longjmp out of it leaves no C++ object of this
// frame alive: decodes image rows down to box.y + yLast and resamples rows [box.y + yFirst, ...)
// horizontally into b.tmp, one row of tmpStride bytes each.
ReadStatus ReadRows(Decoder& d, Buffers& b, const uint8_t* data, size_t length, const JpegBox& box, int64_t maxPixels, const Coeffs& h,
                    int count, int yFirst, int yLast) {
  j_decompress_ptr c = &d.cinfo;
  jpeg_mem_src(c, data, static_cast<unsigned long>(length));
  jpeg_read_header(c, TRUE);
  if (static_cast<int64_t>(c->image_width) * c->image_height > maxPixels) return ReadStatus::kTooLarge;
  if (box.x + box.w > static_cast<int64_t>(c->image_width) || box.y + box.h > static_cast<int64_t>(c->image_height)) return ReadStatus::kOutside;
  if (c->jpeg_color_space != JCS_GRAYSCALE && c->jpeg_color_space != JCS_YCbCr && c->jpeg_color_space != JCS_RGB) return ReadStatus::kUnsupported;
  c->out_color_space = JCS_RGB;
  jpeg_start_decompress(c);
  const size_t tmpStride = static_cast<size_t>(count) * 3;
  // Room for the SSE2 loops' reads and writes past the end (Horizontal).
  b.row.resize(static_cast<size_t>(c->output_width) * 3 + 8);
  b.tmp.resize(tmpStride * (yLast - yFirst) + 8);
  JSAMPROW row = b.row.data();
  // Rows above the first one the filter reads are decoded and dropped.
  for (int r = 0; r < box.y + yFirst; r++) jpeg_read_scanlines(c, &row, 1);
  const uint8_t* src = b.row.data() + static_cast<size_t>(box.x) * 3;
  for (int r = 0; r < yLast - yFirst; r++) {
    jpeg_read_scanlines(c, &row, 1);
    Horizontal(src, h, count, b.tmp.data() + tmpStride * r);
  }
  return ReadStatus::kRead;
}

// Writes output row y (window coordinates) of RGB pixels to the sink, mirrored if asked.
void Emit(const uint8_t* px, int y, const JpegWindow& win, const JpegSink& sink) {
  const int w = win.w;
  if (sink.bytes) {
    uint8_t* dst = sink.bytes + static_cast<size_t>(y) * w * 3;
    if (!win.flip) {
      std::memcpy(dst, px, static_cast<size_t>(w) * 3);
      return;
    }
    for (int x = 0; x < w; x++) std::memcpy(dst + static_cast<size_t>(w - 1 - x) * 3, px + static_cast<size_t>(x) * 3, 3);
    return;
  }
  const size_t plane = static_cast<size_t>(w) * win.h;
  float* r = sink.floats + static_cast<size_t>(y) * w;
  float* g = r + plane;
  float* bl = g + plane;
  const float* lr = sink.lut;
  const float* lg = lr + 256;
  const float* lb = lg + 256;
  for (int x = 0; x < w; x++) {
    const uint8_t* p = px + static_cast<size_t>(win.flip ? w - 1 - x : x) * 3;
    r[x] = lr[p[0]];
    g[x] = lg[p[1]];
    bl[x] = lb[p[2]];
  }
}

}  // namespace

JpegResult DecodeJpeg(const uint8_t* data, size_t length, const JpegBox& box, const JpegWindow& win, int64_t maxPixels, const JpegSink& sink) {
  if (box.x < 0 || box.y < 0 || box.w < 1 || box.h < 1 || box.outW < 1 || box.outH < 1) throw JpegError("empty or negative crop box");
  if (win.x < 0 || win.y < 0 || win.w < 1 || win.h < 1 || win.x + win.w > box.outW || win.y + win.h > box.outH) {
    throw JpegError("window outside the resampled box");
  }
  const Coeffs v = Precompute(box.h, box.outH, win.y, win.h);
  const Coeffs h = Precompute(box.w, box.outW, win.x, win.w);
  const int yFirst = v.bounds[0];
  const int yLast = v.bounds[win.h * 2 - 2] + v.bounds[win.h * 2 - 1];

  Buffers& b = ThreadBuffers();
  auto d = std::make_unique<Decoder>();
  d->cinfo.err = jpeg_std_error(&d->err.pub);
  d->err.pub.error_exit = OnError;
  d->err.pub.emit_message = OnMessage;
  if (setjmp(d->err.jump)) {
    jpeg_destroy_decompress(&d->cinfo);
    throw JpegError(d->err.message);
  }
  jpeg_create_decompress(&d->cinfo);
  d->progress.progress_monitor = OnProgress;
  d->cinfo.progress = &d->progress;
  const ReadStatus status = ReadRows(*d, b, data, length, box, maxPixels, h, win.w, yFirst, yLast);
  const int64_t imageW = d->cinfo.image_width, imageH = d->cinfo.image_height;
  jpeg_destroy_decompress(&d->cinfo);
  switch (status) {
    case ReadStatus::kUnsupported:
      return JpegResult::kUnsupported;
    case ReadStatus::kTooLarge:
      throw JpegError(std::to_string(imageW) + "×" + std::to_string(imageH) + " pixels, more than the limit of " + std::to_string(maxPixels) + " (maxPixels)");
    case ReadStatus::kOutside:
      throw JpegError("crop box outside the " + std::to_string(imageW) + "×" + std::to_string(imageH) + " image");
    case ReadStatus::kRead:
      break;
  }

  // Pillow's vertical pass.
  const size_t tmpStride = static_cast<size_t>(win.w) * 3;
  b.acc.resize(tmpStride);
  b.line.resize(tmpStride);
  for (int yy = 0; yy < win.h; yy++) {
    const uint8_t* first = b.tmp.data() + tmpStride * (v.bounds[yy * 2] - yFirst);
    if (v.identity) {
      Emit(first, yy, win, sink);
      continue;
    }
    Vertical(first, tmpStride, v, yy, b.acc.data(), b.line.data());
    Emit(b.line.data(), yy, win, sink);
  }
  if (b.tmp.capacity() > kKeepBytes) {
    std::vector<uint8_t>().swap(b.tmp);
    std::vector<uint8_t>().swap(b.row);
  }
  return JpegResult::kDecoded;
}

namespace {

// Typed array arguments as raw pointers.
template <class T>
T* Pointer(const Napi::TypedArray& a) {
  return reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

}  // namespace

// jpegDecodeCropResize(data: Uint8Array, geometry, maxPixels, out: Uint8Array) or
// jpegDecodeCropResize(data, geometry, maxPixels, out: Float32Array, lut: Float32Array, offset):
// geometry is [x, y, w, h, outW, outH] (the box and its resampled size) or those and
// [winX, winY, winW, winH, flip] (the part written, mirrored when flip is 1). A Uint8Array out
// receives the window as HWC bytes (exactly winH × winW × 3), a Float32Array CHW planes through
// lut (256 values per channel) from element offset on. Returns true when out holds the pixels,
// false for a colour space left to sharp (CMYK, YCCK).
Napi::Value JpegDecodeCropResize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage =
      "jpegDecodeCropResize(data: Uint8Array, geometry: number[6 | 11], maxPixels: number, out: Uint8Array | Float32Array, lut?: Float32Array, offset?: number)";
  if (info.Length() < 4 || !info[0].IsTypedArray() || !info[1].IsArray() || !info[2].IsNumber() || !info[3].IsTypedArray()) throw ArgError(usage);
  auto data = info[0].As<Napi::TypedArray>();
  auto out = info[3].As<Napi::TypedArray>();
  if (data.TypedArrayType() != napi_uint8_array) throw ArgError("data must be a Uint8Array");
  auto geometry = info[1].As<Napi::Array>();
  if (geometry.Length() != 6 && geometry.Length() != 11) throw ArgError("geometry must be [x, y, w, h, outW, outH] or those and [winX, winY, winW, winH, flip]");
  int g[11];
  for (uint32_t i = 0; i < geometry.Length(); i++) {
    Napi::Value e = geometry.Get(i);
    const double x = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
    if (!(x >= 0 && x <= 1 << 30) || x != std::floor(x)) throw ArgError("geometry must hold non-negative integers");
    g[i] = static_cast<int>(x);
  }
  const JpegBox box{g[0], g[1], g[2], g[3], g[4], g[5]};
  JpegWindow win{0, 0, box.outW, box.outH, false};
  if (geometry.Length() == 11) {
    if (g[10] > 1) throw ArgError("geometry's flip must be 0 or 1");
    win = JpegWindow{g[6], g[7], g[8], g[9], g[10] == 1};
  }
  const double maxPixels = info[2].As<Napi::Number>().DoubleValue();
  if (!(maxPixels >= 1)) throw ArgError("maxPixels must be >= 1");
  const double values = static_cast<double>(win.w) * win.h * 3;
  JpegSink sink;
  if (out.TypedArrayType() == napi_uint8_array) {
    if (info.Length() != 4) throw ArgError(usage);
    if (values != static_cast<double>(out.ByteLength())) throw ArgError("out must hold exactly winH × winW × 3 bytes");
    sink.bytes = Pointer<uint8_t>(out);
  } else if (out.TypedArrayType() == napi_float32_array) {
    if (info.Length() != 6 || !info[4].IsTypedArray() || !info[5].IsNumber()) throw ArgError(usage);
    auto lut = info[4].As<Napi::TypedArray>();
    if (lut.TypedArrayType() != napi_float32_array || lut.ElementLength() != 3 * 256) throw ArgError("lut must be a Float32Array of 768 values");
    const double offset = info[5].As<Napi::Number>().DoubleValue();
    if (!(offset >= 0) || offset != std::floor(offset) || offset + values > static_cast<double>(out.ElementLength())) {
      throw ArgError("offset must be an integer with offset + winH × winW × 3 <= out.length");
    }
    sink.floats = Pointer<float>(out) + static_cast<size_t>(offset);
    sink.lut = Pointer<const float>(lut);
  } else {
    throw ArgError("out must be a Uint8Array or a Float32Array");
  }
  // A JpegError reaches JS as ERR_NATIVE; the ImageFolder turns it into an ImageDecodeError naming the file.
  const JpegResult r = DecodeJpeg(Pointer<const uint8_t>(data), data.ByteLength(), box, win, static_cast<int64_t>(std::fmin(maxPixels, 9e15)), sink);
  return Napi::Boolean::New(env, r == JpegResult::kDecoded);
}
#endif

}  // namespace signin
