// Decoding a box of a JPEG straight to a resized RGB image, with torchvision's pixels: libjpeg-turbo
// (the library PIL uses) and Pillow's bilinear resampling (antialiased when shrinking). Built when
// jpeglib.h is found (SIGNIN_WITH_JPEG); without it the addon has no jpegDecodeCropResize and the
// ImageFolder loader decodes with sharp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace signin {

struct JpegBox {
  int x, y, w, h;   // the source region, inside the image
  int outW, outH;   // the size it is resampled to
};

// The part of the resampled box that is written (inside outW × outH), mirrored left-right when
// flip is set: a crop and flip after the resize cost nothing, since each output pixel of Pillow's
// filter depends only on its own coordinates.
struct JpegWindow {
  int x, y, w, h;
  bool flip;
};

// Where the window's pixels go: bytes (h × w × 3 uint8, HWC), or floats (3 planes of h × w float32,
// CHW) through lut, 256 values per channel (x/255 then the normalizations, computed by the caller).
struct JpegSink {
  uint8_t* bytes = nullptr;
  float* floats = nullptr;
  const float* lut = nullptr;
};

enum class JpegResult { kDecoded, kUnsupported };

// Decodes `box` of the JPEG in data, resamples it and writes `window` of the result to sink. Runs
// in the calling thread, reusing that thread's buffers. kUnsupported: a colour space PIL's
// convert('RGB') handles but libjpeg's RGB output does not (CMYK, YCCK); nothing was written.
// Throws JpegError for corrupt or truncated data (libjpeg's warnings count as errors, as with
// sharp's failOn: 'warning'), an image of more than maxPixels pixels, or a box outside the image.
JpegResult DecodeJpeg(const uint8_t* data, size_t length, const JpegBox& box, const JpegWindow& window, int64_t maxPixels, const JpegSink& sink);

struct JpegError : std::exception {
  explicit JpegError(std::string m) : message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
  std::string message;
};

}  // namespace signin
