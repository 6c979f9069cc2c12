// Optional part of fer's native addon (built only where dlib is installed: Debian's libdlib-dev): the
// paper's face detector, dlib's HOG frontal-face detector, and dlib's 68-point shape predictor. Its model
// (/usr/share/dlib/shape_predictor_68_face_landmarks.dat, Debian's libdlib-data) is trained on iBUG 300-W,
// licensed for non-commercial use only.
//   load(path)                                          the shape predictor (once)
//   detectAsync(gray Uint8Array, w, h, upsample, threshold[, landmarkUpsample = upsample[, reread]])
//     → Promise<Float64Array> [x, y, width, height, score, x0, y0, …, x67, y67] per face (landmarks found in the
//       upsampled image, as dlib's examples do, then scaled back; landmarkUpsample > upsample: in a square around
//       each face upsampled that many times), computed on a libuv worker thread; reread Float64Array [mode, min score,
//       a0, a1, b0, b1, yaw, c0, c1]: the points of each face scored at least min score read again on the same square,
//       on the HOG box of the first (src/detect/hog-box.ts; mode as shapesAsync's); faces under min score: no points
//       (NaN), the caller reads those it keeps elsewhere
//   shapesAsync(gray Uint8Array, w, h, boxes Float64Array [x, y, width, height, …], landmarkUpsample[, mode])
//     → Promise<Float64Array> [x0, y0, …, x67, y67] per box: the shape predictor alone, on boxes given in the
//       image's pixels (as detectAsync's), read on the box's square upsampled landmarkUpsample times (mode 1: on
//       the square's mirror image, the points turned back and renumbered; 2: the mean of the two readings)
#include <napi.h>

#ifdef FER_DLIB_PREBUILT
// The prebuilt binary (scripts/build-prebuilt.sh) needs no dlib library at all: HOG, the shape predictor and
// their matrix code are header-only. dlib/config.h (included once, through this guarded header) turns on
// BLAS/LAPACK/PNG/JPEG for Debian's libdlib; turning them off before any matrix code is seen makes dlib use
// its own matrix product and SVD (the shape predictor's similarity transform), and sharp decodes the images.
// The HOG detector's weights come embedded, already decoded (see detector() below).
#include <dlib/test_for_odr_violations.h>
#undef DLIB_USE_BLAS
#undef DLIB_USE_LAPACK
#undef DLIB_PNG_SUPPORT
#undef DLIB_JPEG_SUPPORT
#endif

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <memory>
#include <sstream>
#include <string>

#include "dlib_faces.h"

namespace fer_dlib {

// One detector per thread (dlib's object_detector keeps scratch state while it scans); the shape
// predictor is only read.
#ifdef FER_DLIB_PREBUILT
// dlib::get_serialized_frontal_faces()'s bytes, written out at build time by dlib_detector_dump.cc and
// embedded with .incbin: decoding dlib's base64 + compressed copy would need libdlib's compiled code.
extern "C" const char fer_frontal_faces_start[];
extern "C" const char fer_frontal_faces_end[];

dlib::frontal_face_detector make_detector() {
  std::istringstream sin(std::string(fer_frontal_faces_start, fer_frontal_faces_end - fer_frontal_faces_start));
  dlib::frontal_face_detector d;
  dlib::deserialize(d, sin);
  return d;
}
#else
dlib::frontal_face_detector make_detector() { return dlib::get_frontal_face_detector(); }
#endif

// Decoded once per process, then copied per thread: decoding dlib's compressed copy (libdlib's entropy
// decoder) costs as much CPU as detecting faces on ~7 photos, and libuv's pool has 4 threads, each of
// which decoded its own before. A copy holds the same weights, so the same faces.
const dlib::frontal_face_detector& prototype() {
  static const dlib::frontal_face_detector d = make_detector();
  return d;
}

dlib::frontal_face_detector& detector() {
  thread_local dlib::frontal_face_detector d = prototype();
  return d;
}

std::unique_ptr<dlib::shape_predictor>& predictor() {
  static std::unique_ptr<dlib::shape_predictor> p;
  return p;
}

void load_predictor(const std::string& path) {
  auto p = std::make_unique<dlib::shape_predictor>();
  dlib::deserialize(path) >> *p;
  predictor() = std::move(p);
}

void to_image(const unsigned char* gray, long w, long h, dlib::array2d<unsigned char>& img) {
  img.set_size(h, w);
  for (long y = 0; y < h; y++)
    for (long x = 0; x < w; x++) img[y][x] = gray[y * w + x];
}

// The 68 points of the face at `r` (in `img`, the image upsampled `upsample` times), read on the image upsampled
// `landmark_upsample` times: where that is more, only a square of twice the face's side around it is (pyramid_up is
// a local filter, so inside the square the pixels are those of the whole image upsampled). The shape predictor reads
// single pixels: on AFW its error is 3.2% of the eye distance on the upsampled image, 4.2% on the image as it is.
// The 68 points of a face whose box (in the image's pixels, fractional) is x, y, bw, bh, read on a square of twice
// the box's side around it (inside the image) upsampled `landmark_upsample` times, the box's corners scaled with it
// (pyramid_up is a local filter, so inside the square the pixels are those of the whole image upsampled).
// iBUG 300-W's left-right correspondence of the 68 points: kMirror68[k] is the point on the other side of the face.
constexpr int kMirror68[68] = {16, 15, 14, 13, 12, 11, 10, 9,  8,  7,  6,  5,  4,  3,  2,  1,  0,  26, 25, 24, 23, 22, 21,
                               20, 19, 18, 17, 27, 28, 29, 30, 35, 34, 33, 32, 31, 45, 44, 43, 42, 47, 46, 39, 38, 37, 36,
                               41, 40, 54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65};

// How shape_at reads: the square as it is, its mirror image, or the mean of the two.
constexpr int kPlain = 0, kMirror = 1, kMean = 2;

// A square of twice a face box's side around it (inside the image), upsampled `landmark_upsample` times: where the
// shape predictor reads (pyramid_up is a local filter, so inside the square the pixels are the whole image upsampled).
struct Part {
  dlib::array2d<unsigned char> img;
  long x0 = 0, y0 = 0;
  double s = 1;
};

bool make_part(Part& part, const unsigned char* gray, long w, long h, double fx, double fy, double fw, double fh, int landmark_upsample) {
  part.x0 = std::max(0L, static_cast<long>(std::floor(fx - fw / 2)));
  part.y0 = std::max(0L, static_cast<long>(std::floor(fy - fh / 2)));
  const long x1 = std::min(w, static_cast<long>(std::ceil(fx + 1.5 * fw))), y1 = std::min(h, static_cast<long>(std::ceil(fy + 1.5 * fh)));
  if (x1 <= part.x0 || y1 <= part.y0) return false;
  part.img.set_size(y1 - part.y0, x1 - part.x0);
  for (long y = part.y0; y < y1; y++)
    for (long x = part.x0; x < x1; x++) part.img[y - part.y0][x - part.x0] = gray[y * w + x];
  for (int i = 0; i < landmark_upsample; i++) dlib::pyramid_up(part.img);
  part.s = std::ldexp(1.0, landmark_upsample);
  return true;
}

// The 68 points of the face whose box (in the image's pixels, fractional) is fx, fy, fw, fh, read on `part`, the box's
// corners scaled with it: as it is, on the part's mirror image, or the mean of the two (`mode`).
std::vector<double> read_part(const Part& part, double fx, double fy, double fw, double fh, int mode) {
  const double s = part.s;
  const long x0 = part.x0, y0 = part.y0;
  const dlib::rectangle big(std::lround((fx - x0) * s), std::lround((fy - y0) * s), std::lround((fx - x0 + fw) * s) - 1,
                            std::lround((fy - y0 + fh) * s) - 1);
  std::vector<double> out(136, 0.0);
  if (mode != kMirror) {
    dlib::full_object_detection shape = (*predictor())(part.img, big);
    for (unsigned long p = 0; p < 68; p++) {
      out[2 * p] = shape.part(p).x() / s + x0;
      out[2 * p + 1] = shape.part(p).y() / s + y0;
    }
    if (mode == kPlain) return out;
  }
  // The mirror image of the square and of the box; each point read there is its counterpart's, turned back.
  dlib::array2d<unsigned char> flipped;
  dlib::flip_image_left_right(part.img, flipped);
  const long W = flipped.nc();
  const dlib::rectangle fbig(W - 1 - big.right(), big.top(), W - 1 - big.left(), big.bottom());
  dlib::full_object_detection shape = (*predictor())(flipped, fbig);
  const double k = mode == kMean ? 0.5 : 1.0;  // kMean: the mean of the plain reading (in out) and the mirror's
  for (int p = 0; p < 68; p++) {
    const int q = kMirror68[p];
    out[2 * q] = (1 - k) * out[2 * q] + k * ((W - 1 - shape.part(p).x()) / s + x0);
    out[2 * q + 1] = (1 - k) * out[2 * q + 1] + k * (shape.part(p).y() / s + y0);
  }
  return out;
}

std::vector<double> shape_at(const unsigned char* gray, long w, long h, double fx, double fy, double fw, double fh,
                             int landmark_upsample, int mode) {
  Part part;
  if (!make_part(part, gray, w, h, fx, fy, fw, fh, landmark_upsample)) return std::vector<double>(136, NAN);
  return read_part(part, fx, fy, fw, fh, mode);
}

// The box dlib's HOG detector would draw around 68 points (src/detect/hog-box.ts hogBox, the same arithmetic):
// fit = [a0, a1, b0, b1, yaw, c0, c1].
std::array<double, 4> hog_box(const std::vector<double>& p, const std::vector<double>& fit) {
  double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY, mx = 0, my = 0;
  for (int k = 0; k < 68; k++) {
    const double x = p[2 * k], y = p[2 * k + 1];
    x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
    mx += x / 68;
    my += y / 68;
  }
  const double w = x1 - x0, h = y1 - y0;
  // points 45 and 36; not std::hypot, whose glibc symbol version (2.35) is above the prebuilt binaries' floor
  const double ex = p[90] - p[72], ey = p[91] - p[73];
  const double eye = std::max(1e-6, std::sqrt(ex * ex + ey * ey));
  const double yaw = (p[60] - (p[72] + p[90]) / 2) / eye;                       // point 30's offset
  const double side = fit[0] * w + fit[1] * h;
  const double cx = mx + fit[2] * w + fit[3] * h + fit[4] * w * yaw, cy = my + fit[5] * w + fit[6] * h;
  return {cx - side / 2, cy - side / 2, side, side};
}

// The 68 points of the face at `r` (in `img`, the image upsampled `upsample` times), read on the image upsampled
// `landmark_upsample` times: where that is more, only a square of twice the face's side around it (Part). With
// `reread` (fit non-empty): read again on the same square, on the HOG box of the first points (hog_box), as `mode`.
// The shape predictor reads single pixels: on AFW its error is 3.2% of the eye distance on the upsampled image,
// 4.2% on the image as it is.
std::vector<double> landmarks(const dlib::array2d<unsigned char>& img, const dlib::rectangle& r, int upsample,
                              const unsigned char* gray, long w, long h, int landmark_upsample, const Reread& reread, double score) {
  const double scale = std::ldexp(1.0, upsample);
  // With a second reading, a face under its min score is not read at all: the caller reads such faces on another box
  // if it keeps them (src/detect/faces.ts: the face mesh's), and its points here cost a square upsampled twice.
  if (!reread.fit.empty() && score < reread.min_score) return std::vector<double>(136, NAN);
  if (landmark_upsample > upsample) {
    const double fx = r.left() / scale, fy = r.top() / scale, fw = r.width() / scale, fh = r.height() / scale;
    Part part;
    if (!make_part(part, gray, w, h, fx, fy, fw, fh, landmark_upsample)) return std::vector<double>(136, NAN);
    auto pts = read_part(part, fx, fy, fw, fh, kPlain);
    if (reread.fit.empty()) return pts;
    const auto b = hog_box(pts, reread.fit);
    return read_part(part, b[0], b[1], b[2], b[3], reread.mode);
  }
  std::vector<double> out;
  dlib::full_object_detection shape = (*predictor())(img, r);
  for (unsigned long k = 0; k < 68; k++) {
    out.push_back(shape.part(k).x() / scale);
    out.push_back(shape.part(k).y() / scale);
  }
  return out;
}

std::vector<double> shapes(const unsigned char* gray, long w, long h, const std::vector<double>& boxes, int landmark_upsample,
                           int mode) {
  if (!predictor()) throw std::runtime_error("the 68-point model is not loaded");
  std::vector<double> out;
  for (size_t i = 0; i + 3 < boxes.size(); i += 4) {
    auto one = shape_at(gray, w, h, boxes[i], boxes[i + 1], boxes[i + 2], boxes[i + 3], landmark_upsample, mode);
    out.insert(out.end(), one.begin(), one.end());
  }
  return out;
}

std::vector<Detection> detect(const unsigned char* gray, long w, long h, int upsample, double threshold, int landmark_upsample,
                              const Reread& reread) {
  dlib::array2d<unsigned char> img;
  to_image(gray, w, h, img);
  double scale = 1;
  for (int i = 0; i < upsample; i++) {
    dlib::pyramid_up(img);
    scale *= 2;
  }
  std::vector<dlib::rect_detection> found;
  detector()(img, found, threshold);
  std::vector<Detection> out;
  for (const auto& d : found) {
    const auto& r = d.rect;
    Detection det{r.left() / scale, r.top() / scale, r.width() / scale, r.height() / scale, d.detection_confidence, {}};
    if (predictor()) det.landmarks = landmarks(img, r, upsample, gray, w, h, landmark_upsample, reread, d.detection_confidence);
    out.push_back(std::move(det));
  }
  return out;
}

}  // namespace fer_dlib

#ifndef FER_DLIB_NO_ADDON
namespace {

const unsigned char* gray_arg(const Napi::CallbackInfo& info, long w, long h) {
  auto a = info[0].As<Napi::Uint8Array>();
  if (static_cast<long>(a.ElementLength()) != w * h) throw std::runtime_error("gray image size does not match width × height");
  return a.Data();
}

// [x, y, width, height, score, 136 landmark values] per face.
Napi::Float64Array pack(Napi::Env env, const std::vector<fer_dlib::Detection>& found) {
  const size_t per = 5 + 136;
  auto out = Napi::Float64Array::New(env, found.size() * per);
  for (size_t i = 0; i < found.size(); i++) {
    const auto& d = found[i];
    double v[5] = {d.x, d.y, d.width, d.height, d.score};
    for (int k = 0; k < 5; k++) out[i * per + k] = v[k];
    for (size_t k = 0; k < 136; k++) out[i * per + 5 + k] = k < d.landmarks.size() ? d.landmarks[k] : NAN;
  }
  return out;
}

template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F f) {
  try {
    return f();
  } catch (const std::exception& e) {
    Napi::Error::New(info.Env(), std::string("fer-dlib: ") + e.what()).ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
}

Napi::Value Load(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    fer_dlib::load_predictor(info[0].As<Napi::String>().Utf8Value());
    return info.Env().Undefined();
  });
}

// detectAsync(gray, w, h, upsample, threshold) → Promise<Float64Array>: detect on a libuv worker thread, so
// that several images are processed at once (one core each) while JavaScript decodes and classifies others.
class DetectWorker : public Napi::AsyncWorker {
 public:
  DetectWorker(Napi::Env env, std::vector<unsigned char> gray, long w, long h, int upsample, double threshold, int landmark_upsample,
               fer_dlib::Reread reread)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), gray_(std::move(gray)), w_(w), h_(h),
        upsample_(upsample), threshold_(threshold), landmark_upsample_(landmark_upsample), reread_(std::move(reread)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      found_ = fer_dlib::detect(gray_.data(), w_, h_, upsample_, threshold_, landmark_upsample_, reread_);
    } catch (const std::exception& e) {
      SetError(std::string("fer-dlib: ") + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(pack(Env(), found_)); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<unsigned char> gray_;
  long w_, h_;
  int upsample_;
  double threshold_;
  int landmark_upsample_;
  fer_dlib::Reread reread_;
  std::vector<fer_dlib::Detection> found_;
};

Napi::Value DetectAsync(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    long w = info[1].As<Napi::Number>().Int64Value(), h = info[2].As<Napi::Number>().Int64Value();
    const unsigned char* g = gray_arg(info, w, h);
    const double threshold = info.Length() > 4 ? info[4].As<Napi::Number>().DoubleValue() : 0.0;
    const int upsample = info[3].As<Napi::Number>().Int32Value();
    const int landmark_upsample = info.Length() > 5 ? info[5].As<Napi::Number>().Int32Value() : upsample;
    fer_dlib::Reread reread;  // [mode, min score, a0, a1, b0, b1, yaw, c0, c1]
    if (info.Length() > 6 && info[6].IsTypedArray()) {
      auto a = info[6].As<Napi::Float64Array>();
      if (a.ElementLength() != 9) throw std::runtime_error("reread: expected [mode, min score, 7 fit values]");
      reread.mode = static_cast<int>(a[0]);
      reread.min_score = a[1];
      reread.fit.assign(a.Data() + 2, a.Data() + 9);
    }
    auto* worker = new DetectWorker(info.Env(), std::vector<unsigned char>(g, g + w * h), w, h, upsample, threshold, landmark_upsample,
                                    std::move(reread));
    auto promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

// shapesAsync(gray, w, h, boxes, landmarkUpsample) → Promise<Float64Array>: the shape predictor on given boxes.
class ShapesWorker : public Napi::AsyncWorker {
 public:
  ShapesWorker(Napi::Env env, std::vector<unsigned char> gray, long w, long h, std::vector<double> boxes, int landmark_upsample,
               int mode)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), gray_(std::move(gray)), w_(w), h_(h),
        boxes_(std::move(boxes)), landmark_upsample_(landmark_upsample), mode_(mode) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      out_ = fer_dlib::shapes(gray_.data(), w_, h_, boxes_, landmark_upsample_, mode_);
    } catch (const std::exception& e) {
      SetError(std::string("fer-dlib: ") + e.what());
    }
  }
  void OnOK() override {
    auto a = Napi::Float64Array::New(Env(), out_.size());
    for (size_t i = 0; i < out_.size(); i++) a[i] = out_[i];
    deferred_.Resolve(a);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<unsigned char> gray_;
  long w_, h_;
  std::vector<double> boxes_;
  int landmark_upsample_;
  int mode_;
  std::vector<double> out_;
};

Napi::Value ShapesAsync(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    long w = info[1].As<Napi::Number>().Int64Value(), h = info[2].As<Napi::Number>().Int64Value();
    const unsigned char* g = gray_arg(info, w, h);
    auto b = info[3].As<Napi::Float64Array>();
    const int landmark_upsample = info[4].As<Napi::Number>().Int32Value();
    const int mode = info.Length() > 5 ? info[5].As<Napi::Number>().Int32Value() : 0;
    auto* worker = new ShapesWorker(info.Env(), std::vector<unsigned char>(g, g + w * h), w, h,
                                    std::vector<double>(b.Data(), b.Data() + b.ElementLength()), landmark_upsample, mode);
    auto promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("load", Napi::Function::New(env, Load));
  exports.Set("detectAsync", Napi::Function::New(env, DetectAsync));
  exports.Set("shapesAsync", Napi::Function::New(env, ShapesAsync));
  return exports;
}

}  // namespace

NODE_API_MODULE(fer_dlib, Init)
#endif
