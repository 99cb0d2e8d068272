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

enum class JpegResult { kDecoded, kUnsupported };

// Decodes `box` of the JPEG in data and resamples it into out (outH × outW × 3 uint8). Runs in the
// calling thread. kUnsupported: a colour space PIL's convert('RGB') handles but libjpeg's RGB
// output does not (CMYK, YCCK); nothing was written. Throws JpegError for corrupt or truncated
// data (libjpeg's warnings count as errors, as with sharp's failOn: 'warning'), an image of more
// than maxPixels pixels, or a box outside the image.
JpegResult DecodeJpegCropResize(const uint8_t* data, size_t length, const JpegBox& box, int64_t maxPixels, uint8_t* out);

struct JpegError : std::exception {
  explicit JpegError(std::string m) : message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
  std::string message;
};

}  // namespace signin
