// Build-time helper for the prebuilt dlib addon (scripts/build-prebuilt.sh): writes dlib's HOG frontal-face
// detector, decoded from the base64 + compressed copy in dlib's header, to stdout. The prebuilt
// fer_dlib.node embeds these bytes so it needs none of libdlib's compiled code; dlib's own
// get_frontal_face_detector() deserializes exactly this string.
#include <dlib/image_processing/frontal_face_detector.h>

#include <iostream>

int main() {
  const std::string bytes = dlib::get_serialized_frontal_faces();
  std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return std::cout.good() ? 0 : 1;
}
