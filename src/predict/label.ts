/** Faces (or tracks) with their classifier probabilities as predictions: the top class, its probability, all of them by name. Pure: Node and the browser entry share it. */

export interface Labelled {
  emotion: string;
  confidence: number;
  probabilities: Record<string, number>;
}

/** `probs` holds one row of `names.length` probabilities per face, in order. */
export function labelFaces<F extends object>(faces: F[], probs: ArrayLike<number>, names: readonly string[]): (F & Labelled)[] {
  const k = names.length;
  return faces.map((f, i) => {
    const p = Array.from({ length: k }, (_, j) => probs[i * k + j]);
    const best = p.indexOf(Math.max(...p));
    return { ...f, emotion: names[best], confidence: p[best], probabilities: Object.fromEntries(names.map((c, j) => [c, p[j]])) };
  });
}
