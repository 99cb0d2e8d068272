/*
 * Prototype of the decode path that would make the ImageFolder pipeline cheaper than
 * torchvision's per core (issue 15): libjpeg-turbo (the library PIL uses on Debian) decodes the
 * rows a RandomResizedCrop box needs, then Pillow's bilinear resample (resample.ts, in C) shrinks
 * the box to 224×224. It checks every value against PIL's crop + resize for the same boxes and
 * gives the CPU ms per image, to compare with `npx tsx bench/loader.ts --breakdown`.
 *
 *   /usr/bin/python3 bench/pytorch/loader.py '{"root": DIR, "reference": OUTDIR, "mean": [0], "std": [1]}'
 *   gcc -O2 -o /tmp/loader-libjpeg bench/loader-libjpeg.c -ljpeg -lm && /tmp/loader-libjpeg OUTDIR
 *
 * Rows below the box's last needed row are never decoded (the decoder is destroyed there).
 * jpeg_crop_scanline + jpeg_skip_scanlines would skip more, but their output differed from a
 * full decode (up to 52 levels at crop edges, libjpeg-turbo 2.1.5) and saved only ~5% on these
 * images, whose cost is mostly Huffman decoding, which skipping cannot avoid.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#define PRECISION_BITS (32 - 8 - 2)
#define OUT 224

static double cpuSeconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct {
  int ksize;
  int *bounds;  // [xmin, count] per output pixel
  int *kk;      // fixed-point weights
} Coeffs;

static double bilinear(double x) {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
}

// Pillow's precompute_coeffs for the bilinear filter (antialiased when shrinking).
static Coeffs precompute(int in, int out) {
  Coeffs c;
  double scale = (double)in / out, filterscale = scale < 1 ? 1 : scale, support = filterscale;
  c.ksize = (int)ceil(support) * 2 + 1;
  c.bounds = malloc(sizeof(int) * out * 2);
  c.kk = malloc(sizeof(int) * out * c.ksize);
  double *w = malloc(sizeof(double) * c.ksize);
  for (int xx = 0; xx < out; xx++) {
    double center = (xx + 0.5) * scale, ww = 0;
    int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
    if (xmin < 0) xmin = 0;
    if (xmax > in) xmax = in;
    xmax -= xmin;
    for (int x = 0; x < xmax; x++) ww += w[x] = bilinear((x + xmin - center + 0.5) / filterscale);
    for (int x = 0; x < c.ksize; x++) {
      double v = x < xmax && ww != 0 ? w[x] / ww : 0;
      c.kk[xx * c.ksize + x] = v < 0 ? (int)(-0.5 + v * (1 << PRECISION_BITS)) : (int)(0.5 + v * (1 << PRECISION_BITS));
    }
    c.bounds[xx * 2] = xmin;
    c.bounds[xx * 2 + 1] = xmax;
  }
  free(w);
  return c;
}

static unsigned char clip8(int v) {
  v >>= PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

static unsigned char *rows, *tmp;

// Decodes the box (bx, by, bw, bh) of a JPEG and resizes it to OUT × OUT RGB into out.
static void decodeCropResize(const unsigned char *buf, long len, int bx, int by, int bw, int bh, unsigned char *out) {
  struct jpeg_decompress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_decompress(&c);
  jpeg_mem_src(&c, buf, len);
  jpeg_read_header(&c, TRUE);
  c.out_color_space = JCS_RGB;
  jpeg_start_decompress(&c);
  Coeffs v = precompute(bh, OUT), h = precompute(bw, OUT);
  int yFirst = v.bounds[0], yLast = v.bounds[OUT * 2 - 2] + v.bounds[OUT * 2 - 1];
  int W = c.output_width;
  for (int r = 0; r < by + yFirst; r++) {
    unsigned char *p = rows;
    jpeg_read_scanlines(&c, &p, 1);
  }
  for (int r = 0; r < yLast - yFirst; r++) {
    unsigned char *p = rows + (size_t)r * W * 3;
    jpeg_read_scanlines(&c, &p, 1);
  }
  jpeg_destroy_decompress(&c);
  for (int r = 0; r < yLast - yFirst; r++) {
    const unsigned char *src = rows + ((size_t)r * W + bx) * 3;
    unsigned char *dst = tmp + (size_t)r * OUT * 3;
    for (int xx = 0; xx < OUT; xx++) {
      const int *k = h.kk + xx * h.ksize;
      const unsigned char *q = src + h.bounds[xx * 2] * 3;
      int s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
      for (int x = 0; x < h.bounds[xx * 2 + 1]; x++, q += 3) {
        s0 += q[0] * k[x];
        s1 += q[1] * k[x];
        s2 += q[2] * k[x];
      }
      dst[xx * 3] = clip8(s0);
      dst[xx * 3 + 1] = clip8(s1);
      dst[xx * 3 + 2] = clip8(s2);
    }
  }
  for (int yy = 0; yy < OUT; yy++) {
    const int *k = v.kk + yy * v.ksize;
    for (int xx = 0; xx < OUT * 3; xx++) {
      const unsigned char *q = tmp + (size_t)(v.bounds[yy * 2] - yFirst) * OUT * 3 + xx;
      int s = 1 << (PRECISION_BITS - 1);
      for (int y = 0; y < v.bounds[yy * 2 + 1]; y++, q += OUT * 3) s += *q * k[y];
      out[(size_t)yy * OUT * 3 + xx] = clip8(s);
    }
  }
  free(v.bounds), free(v.kk), free(h.bounds), free(h.kk);
}

int main(int argc, char **argv) {
  if (argc != 2) return fprintf(stderr, "usage: %s REFERENCE_DIR (from bench/pytorch/loader.py)\n", argv[0]), 2;
  char name[4096];
  snprintf(name, sizeof name, "%s/boxes.txt", argv[1]);
  FILE *boxes = fopen(name, "r");
  snprintf(name, sizeof name, "%s/pil.raw", argv[1]);
  FILE *pil = fopen(name, "rb");
  if (!boxes || !pil) return fprintf(stderr, "missing %s/boxes.txt or pil.raw\n", argv[1]), 2;
  int n = 0, cap = 0, (*box)[4] = NULL;
  unsigned char **file = NULL;
  long *len = NULL;
  char path[4096];
  int b[4];
  while (fscanf(boxes, "%4095s %d %d %d %d", path, &b[0], &b[1], &b[2], &b[3]) == 5) {
    if (n == cap) {
      cap = cap ? cap * 2 : 256;
      box = realloc(box, sizeof *box * cap), file = realloc(file, sizeof *file * cap), len = realloc(len, sizeof *len * cap);
    }
    FILE *f = fopen(path, "rb");
    if (!f) return fprintf(stderr, "cannot open %s\n", path), 2;
    fseek(f, 0, SEEK_END);
    len[n] = ftell(f);
    rewind(f);
    file[n] = malloc(len[n]);
    if (fread(file[n], 1, len[n], f) != (size_t)len[n]) return fprintf(stderr, "cannot read %s\n", path), 2;
    fclose(f);
    memcpy(box[n++], b, sizeof b);
  }
  rows = malloc((size_t)8192 * 8192 * 3);
  tmp = malloc((size_t)8192 * OUT * 3);
  size_t plane = (size_t)OUT * OUT * 3;
  unsigned char *ref = malloc(plane), *out = malloc(plane);
  long differ = 0;
  int maxDiff = 0;
  for (int i = 0; i < n; i++) {
    if (fread(ref, 1, plane, pil) != plane) return fprintf(stderr, "pil.raw is short\n"), 2;
    decodeCropResize(file[i], len[i], box[i][0], box[i][1], box[i][2], box[i][3], out);
    for (size_t k = 0; k < plane; k++) {
      int d = abs(out[k] - ref[k]);
      differ += d != 0;
      if (d > maxDiff) maxDiff = d;
    }
  }
  printf("%d images: %ld of %zu values differ from PIL's crop + resize (max |difference| %d)\n", n, differ, n * plane, maxDiff);
  for (int r = 0; r < 3; r++) {
    double t = cpuSeconds();
    for (int i = 0; i < n; i++) decodeCropResize(file[i], len[i], box[i][0], box[i][1], box[i][2], box[i][3], out);
    printf("round %d: decode + crop + resize %.2f CPU ms per image\n", r + 1, (cpuSeconds() - t) / n * 1e3);
  }
  return differ != 0;
}
