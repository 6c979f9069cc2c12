// dlib's HOG face detector and 68-point shape predictor on 8-bit gray images (see dlib_faces.cc).
#pragma once
#include <string>
#include <vector>

namespace fer_dlib {
struct Detection {
  double x, y, width, height, score;
  std::vector<double> landmarks;  // 136 values where the shape predictor is loaded
};
// Each face's points read again on the box dlib's HOG detector would draw around the first (fit: src/detect/hog-box.ts
// HOG_BOX_FIT as [a0, a1, b0, b1, yaw, c0, c1]; empty: no second reading), as `mode` (0 plain, 1 mirror, 2 mean), for
// the faces scored at least min_score.
struct Reread {
  int mode = 0;
  double min_score = 0;  // faces scored under it keep their first reading
  std::vector<double> fit;
};
void load_predictor(const std::string& path);
// landmark_upsample: 2× upsamplings of the image the shape predictor reads (at least `upsample`; more: only a square
// around each face is upsampled further).
std::vector<Detection> detect(const unsigned char* gray, long w, long h, int upsample, double threshold = 0.0, int landmark_upsample = 0,
                              const Reread& reread = Reread());
}  // namespace fer_dlib
