// dlib's HOG face detector and 68-point shape predictor on 8-bit gray images (see dlib_faces.cc).
#pragma once
#include <string>
#include <vector>

namespace fer_dlib {
struct Detection {
  double x, y, width, height, score;
  std::vector<double> landmarks;  // 136 values where the shape predictor is loaded
};
void load_predictor(const std::string& path);
// landmark_upsample: 2× upsamplings of the image the shape predictor reads (at least `upsample`; more: only a square
// around each face is upsampled further).
std::vector<Detection> detect(const unsigned char* gray, long w, long h, int upsample, double threshold = 0.0, int landmark_upsample = 0);
}  // namespace fer_dlib
