// See jpeg_decode.h. The decoder stops after the last row the resampling reads, so a crop near the
// top of a photo decodes only part of it. jpeg_crop_scanline + jpeg_skip_scanlines would skip more,
// but their pixels differed from a full decode at crop edges (up to 52 levels, libjpeg-turbo 2.1.5)
// and saved ~5% on ImageNet-sized images, whose cost is mostly Huffman decoding.
#include "jpeg/jpeg_decode.h"

#include <napi.h>

#include "exports.h"
#include "guard.h"

#ifdef SIGNIN_WITH_JPEG
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <memory>
#include <vector>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>
#endif

namespace signin {

#ifdef SIGNIN_WITH_JPEG
namespace {

// Pillow's fixed-point resampling (libImaging/Resample.c): weights scaled by 2^22, 8-bit values.
constexpr int kPrecisionBits = 32 - 8 - 2;
// A progressive JPEG of a few kilobytes can declare thousands of scans, each a pass over the
// whole coefficient buffer (djpeg -maxscans guards the same way); real files use about 10.
constexpr int kMaxScans = 1000;

// Per output pixel: the first source pixel and how many are read, with their weights (ksize each).
struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;
  std::vector<int> kk;
};

double Triangle(double x) {
  x = std::fabs(x);
  return x < 1 ? 1 - x : 0;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter: when shrinking, the
// support widens by the scale (antialiasing).
Coeffs Precompute(int in, int out) {
  Coeffs c;
  const double scale = static_cast<double>(in) / out;
  const double filterscale = scale < 1 ? 1 : scale;
  const double support = filterscale;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(static_cast<size_t>(out) * 2);
  c.kk.resize(static_cast<size_t>(out) * c.ksize);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < out; xx++) {
    const double center = (xx + 0.5) * scale;
    int xmin = static_cast<int>(center - support + 0.5);
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmin < 0) xmin = 0;
    if (xmax > in) xmax = in;
    xmax -= xmin;
    double ww = 0;
    for (int x = 0; x < xmax; x++) ww += w[x] = Triangle((x + xmin - center + 0.5) / filterscale);
    for (int x = 0; x < c.ksize; x++) {
      const double v = x < xmax && ww != 0 ? w[x] / ww : 0;
      c.kk[static_cast<size_t>(xx) * c.ksize + x] =
          static_cast<int>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    c.bounds[xx * 2] = xmin;
    c.bounds[xx * 2 + 1] = xmax;
  }
  return c;
}

inline uint8_t Clip8(int v) {
  v >>= kPrecisionBits;
  return v < 0 ? 0 : v > 255 ? 255 : static_cast<uint8_t>(v);
}

// libjpeg's default error_exit calls exit(): ours jumps back to DecodeJpegCropResize instead.
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
  std::vector<uint8_t> rows;  // the decoded rows [yFirst, yLast) of the box, full image width
  int width = 0;
};

enum class ReadStatus { kRead, kUnsupported, kTooLarge, kOutside };

// Everything that calls into libjpeg, so that a longjmp out of it leaves no C++ object of this
// frame alive; it only writes into d.
ReadStatus ReadRows(Decoder& d, const uint8_t* data, size_t length, const JpegBox& box, int64_t maxPixels, int yFirst, int yLast) {
  j_decompress_ptr c = &d.cinfo;
  jpeg_mem_src(c, data, static_cast<unsigned long>(length));
  jpeg_read_header(c, TRUE);
  if (static_cast<int64_t>(c->image_width) * c->image_height > maxPixels) return ReadStatus::kTooLarge;
  if (box.x + box.w > static_cast<int64_t>(c->image_width) || box.y + box.h > static_cast<int64_t>(c->image_height)) return ReadStatus::kOutside;
  if (c->jpeg_color_space != JCS_GRAYSCALE && c->jpeg_color_space != JCS_YCbCr && c->jpeg_color_space != JCS_RGB) return ReadStatus::kUnsupported;
  c->out_color_space = JCS_RGB;
  jpeg_start_decompress(c);
  d.width = static_cast<int>(c->output_width);
  const size_t stride = static_cast<size_t>(d.width) * 3;
  d.rows.resize(stride * (yLast - yFirst + 1));
  // Rows above the box are decoded into the spare last row and dropped.
  JSAMPROW spare = d.rows.data() + stride * (yLast - yFirst);
  for (int r = 0; r < box.y + yFirst; r++) jpeg_read_scanlines(c, &spare, 1);
  for (int r = 0; r < yLast - yFirst; r++) {
    JSAMPROW p = d.rows.data() + stride * r;
    jpeg_read_scanlines(c, &p, 1);
  }
  return ReadStatus::kRead;
}

}  // namespace

JpegResult DecodeJpegCropResize(const uint8_t* data, size_t length, const JpegBox& box, int64_t maxPixels, uint8_t* out) {
  if (box.x < 0 || box.y < 0 || box.w < 1 || box.h < 1 || box.outW < 1 || box.outH < 1) throw JpegError("empty or negative crop box");
  const Coeffs v = Precompute(box.h, box.outH);
  const Coeffs h = Precompute(box.w, box.outW);
  const int yFirst = v.bounds[0];
  const int yLast = v.bounds[box.outH * 2 - 2] + v.bounds[box.outH * 2 - 1];

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
  const ReadStatus status = ReadRows(*d, data, length, box, maxPixels, yFirst, yLast);
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

  // Horizontal pass over the rows read, then the vertical pass, in Pillow's order and arithmetic.
  const size_t stride = static_cast<size_t>(d->width) * 3, tmpStride = static_cast<size_t>(box.outW) * 3;
  std::vector<uint8_t> tmp(tmpStride * (yLast - yFirst));
  for (int r = 0; r < yLast - yFirst; r++) {
    const uint8_t* src = d->rows.data() + stride * r + static_cast<size_t>(box.x) * 3;
    uint8_t* dst = tmp.data() + tmpStride * r;
    for (int xx = 0; xx < box.outW; xx++) {
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
  for (int yy = 0; yy < box.outH; yy++) {
    const int* k = v.kk.data() + static_cast<size_t>(yy) * v.ksize;
    const uint8_t* base = tmp.data() + tmpStride * (v.bounds[yy * 2] - yFirst);
    uint8_t* dst = out + tmpStride * yy;
    for (size_t xx = 0; xx < tmpStride; xx++) {
      const uint8_t* q = base + xx;
      int s = 1 << (kPrecisionBits - 1);
      for (int y = 0; y < v.bounds[yy * 2 + 1]; y++, q += tmpStride) s += *q * k[y];
      dst[xx] = Clip8(s);
    }
  }
  return JpegResult::kDecoded;
}

// jpegDecodeCropResize(data: Uint8Array, box: [x, y, w, h, outW, outH], maxPixels, out: Uint8Array):
// true when out holds the pixels, false for a colour space left to sharp (CMYK, YCCK).
Napi::Value JpegDecodeCropResize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4 || !info[0].IsTypedArray() || !info[1].IsArray() || !info[2].IsNumber() || !info[3].IsTypedArray()) {
    throw ArgError("jpegDecodeCropResize(data: Uint8Array, box: number[6], maxPixels: number, out: Uint8Array)");
  }
  auto data = info[0].As<Napi::TypedArray>();
  auto out = info[3].As<Napi::TypedArray>();
  if (data.TypedArrayType() != napi_uint8_array || out.TypedArrayType() != napi_uint8_array) throw ArgError("data and out must be Uint8Arrays");
  auto boxArray = info[1].As<Napi::Array>();
  if (boxArray.Length() != 6) throw ArgError("box must be [x, y, w, h, outW, outH]");
  int b[6];
  for (uint32_t i = 0; i < 6; i++) {
    Napi::Value e = boxArray.Get(i);
    const double x = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
    if (!(x >= 0 && x <= 1 << 30) || x != std::floor(x)) throw ArgError("box must hold 6 non-negative integers");
    b[i] = static_cast<int>(x);
  }
  const JpegBox box{b[0], b[1], b[2], b[3], b[4], b[5]};
  if (static_cast<double>(box.outW) * box.outH * 3 != static_cast<double>(out.ByteLength())) {
    throw ArgError("out must hold exactly outH × outW × 3 bytes");
  }
  const double maxPixels = info[2].As<Napi::Number>().DoubleValue();
  if (!(maxPixels >= 1)) throw ArgError("maxPixels must be >= 1");
  auto* bytes = static_cast<const uint8_t*>(data.ArrayBuffer().Data()) + data.ByteOffset();
  auto* dst = static_cast<uint8_t*>(out.ArrayBuffer().Data()) + out.ByteOffset();
  // A JpegError reaches JS as ERR_NATIVE; the ImageFolder turns it into an ImageDecodeError naming the file.
  const JpegResult r = DecodeJpegCropResize(bytes, data.ByteLength(), box, static_cast<int64_t>(std::fmin(maxPixels, 9e15)), dst);
  return Napi::Boolean::New(env, r == JpegResult::kDecoded);
}
#endif

}  // namespace signin
