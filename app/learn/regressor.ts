// What every mapper kind gives back once fitted: a prediction in JavaScript and the same maths as
// ONNX nodes. Both work between scaled inputs and the model's target space (scaled targets, or
// their PCA weights); the mapper around them does the scaling and the PCA decode.
import type { DoubleGraph } from './mapper-graph.ts';

export type MapperKind = 'linear' | 'kernel' | 'knn' | 'mlp';

export interface Regressor {
  readonly kind: MapperKind;
  /** Model-space targets for one scaled input. */
  predict(xn: Float64Array): Float64Array;
  /** Nodes from `xn` (double [1, inputs]) to the model-space targets (double [1, outputs]). */
  emit(g: DoubleGraph, xn: string): string;
  /** What the card records about the fit (ridge, gamma, k, layer sizes, epochs). */
  readonly settings: Record<string, unknown>;
}

/** The rows of a row-major n x d matrix, copied into one array. */
export function flat(rows: readonly Float64Array[], d: number): Float64Array {
  const out = new Float64Array(rows.length * d);
  rows.forEach((r, i) => out.set(r.subarray(0, d), i * d));
  return out;
}

/** Squared euclidean distance from `x` to row `i` of a flat n x d matrix. */
export function squaredDistance(x: Float64Array, points: Float64Array, i: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const v = x[j]! - points[i * d + j]!;
    s += v * v;
  }
  return s;
}
