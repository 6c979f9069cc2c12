/** What every face detector returns (a types-only module: detectors import it, it imports nothing). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface Point {
  x: number;
  y: number;
}

export interface DetectedFace {
  box: Box;
  /** The detector's confidence: 0..1 for face-api's detectors, dlib's HOG score (≥ its threshold) for dlib. */
  score: number;
  /** 68 points, iBUG 300-W order (jaw 0–16, brows 17–26, nose 27–35, eyes 36–47, mouth 48–67). */
  landmarks: Point[];
}
