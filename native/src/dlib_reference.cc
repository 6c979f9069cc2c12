// The independent reference for fer's dlib path (test/predict/dlib.e2e.test.ts): dlib's own image loader and
// its detector and shape predictor called as dlib's examples call them, printing JSON.
//   fer_dlib_reference <image.png> <upsample> <shape_predictor_68_face_landmarks.dat>
#include <dlib/image_io.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  dlib::array2d<unsigned char> img;
  dlib::load_image(img, argv[1]);
  const int upsample = std::atoi(argv[2]);
  for (int i = 0; i < upsample; i++) dlib::pyramid_up(img);
  dlib::frontal_face_detector det = dlib::get_frontal_face_detector();
  dlib::shape_predictor sp;
  dlib::deserialize(argv[3]) >> sp;
  std::vector<dlib::rect_detection> found;
  det(img, found, 0.0);
  const double s = 1 << upsample;
  std::printf("[");
  for (size_t i = 0; i < found.size(); i++) {
    const auto& r = found[i].rect;
    std::printf("%s{\"box\":[%g,%g,%g,%g],\"score\":%.9g,\"landmarks\":[", i ? "," : "", r.left() / s, r.top() / s, r.width() / s,
                r.height() / s, found[i].detection_confidence);
    dlib::full_object_detection shape = sp(img, r);
    for (unsigned long k = 0; k < 68; k++) std::printf("%s[%g,%g]", k ? "," : "", shape.part(k).x() / s, shape.part(k).y() / s);
    std::printf("]}");
  }
  std::printf("]\n");
  return 0;
}
