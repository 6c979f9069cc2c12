/**
 * dlib's 68-point model re-read on a box drawn from 68 points the way dlib's HOG detector would have drawn it
 * (issue 32, h32n). The model was trained on the HOG detector's boxes, but those boxes are coarse (a square from a
 * pyramid of 8-px cells, off by a cell or a scale step), and on turned faces the detector hardly fires: on AFW's
 * people-placed points, dlib's model read on the HOG convention's box of the true points scores 3.21% NME against
 * 3.65% for fer's points; re-read on the box of its own first points (dlib's faces) or of the face mesh's (the faces
 * tiny and SSD add) 3.29% (3.31% as the addon reads it, on the first reading's square: fer's default), and 3.24% as the mean of that reading and the one on the square's mirror
 * image (`hogReread: 'mirror'`: +19% CPU per photo against +7%; BENCHMARKS.md "(issue 32, h32n)").
 */
import type { Box, Point } from './types.js';

/**
 * The HOG box of 68 points whose bounding box is w × h, centroid (mx, my) and yaw the nose tip's offset from the
 * outer eye corners' midpoint over their distance: side = a0·w + a1·h, centre = (mx + b0·w + b1·h + yaw·w·yaw,
 * my + c0·w + c1·h). Least squares on AFW half A's people-placed points against the boxes dlib's detector (whole
 * image upsampled once) gave them at score ≥ 0, 159 faces: `python3 bench/dlib-boxes-fit.py RECORDS FIT`.
 */
export const HOG_BOX_FIT = {
  a: [0.5931527802754171, 0.460022057147702],
  b: [0.02334255572385897, -0.03226859469106136],
  yaw: -0.026195441739892248,
  c: [0.062265603192578, -0.13308415775155555],
};

/** dlib's HOG detector's box around a face whose 68 points are `p` (HOG_BOX_FIT). */
export function hogBox(p: Point[], f = HOG_BOX_FIT): Box {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity,
    mx = 0,
    my = 0;
  for (const q of p) {
    [x0, y0, x1, y1] = [Math.min(x0, q.x), Math.min(y0, q.y), Math.max(x1, q.x), Math.max(y1, q.y)];
    mx += q.x / p.length;
    my += q.y / p.length;
  }
  const w = x1 - x0,
    h = y1 - y0;
  const yaw = (p[30].x - (p[36].x + p[45].x) / 2) / Math.max(1e-6, Math.hypot(p[45].x - p[36].x, p[45].y - p[36].y));
  const side = f.a[0] * w + f.a[1] * h;
  const cx = mx + f.b[0] * w + f.b[1] * h + f.yaw * w * yaw,
    cy = my + f.c[0] * w + f.c[1] * h;
  return { x: cx - side / 2, y: cy - side / 2, width: side, height: side };
}

/** HOG_BOX_FIT as the native addon takes it: [a0, a1, b0, b1, yaw, c0, c1] (dlib_faces.cc hog_box). */
export const hogBoxFitArray = (f = HOG_BOX_FIT) => [f.a[0], f.a[1], f.b[0], f.b[1], f.yaw, f.c[0], f.c[1]];
