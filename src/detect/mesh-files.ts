/**
 * The face mesh's files as vendored in models/face-mesh/ (MediaPipe's face mesh as @vladmandic/human ships it:
 * a tfjs graph model, float16 weights), read once. Node only; the browser gets the ONNX graph from `fer export web`.
 */
import { readFileSync } from 'node:fs';
import { packagePath } from '../paths.js';
import type { TfjsGraph } from './onnx-mesh.js';

export const FACE_MESH_DIR = 'models/face-mesh';

let graph: TfjsGraph | null = null;

/** models/face-mesh/facemesh.json and its weights. */
export function readFaceMesh(): TfjsGraph {
  if (graph) return graph;
  const json = JSON.parse(readFileSync(packagePath(FACE_MESH_DIR, 'facemesh.json'), 'utf8')) as TfjsGraph['json'];
  const weights = new Uint8Array(
    Buffer.concat(json.weightsManifest.flatMap((m) => m.paths.map((p) => readFileSync(packagePath(FACE_MESH_DIR, p))))),
  );
  graph = { json, weights };
  return graph;
}
