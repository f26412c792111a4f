// Houdini's preprocessing step for example-based regression: every column scaled to zero mean and
// unit spread, then optionally the targets reduced by PCA to the components that carry their
// variance. The same maps run in the exported graph, so a mapper takes raw inputs and gives raw
// targets. Fitted on the training examples only; held-back ones are scaled with their numbers.
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

export type Rows = Float64Array[];

export interface Scaler {
  mean: Float64Array;
  std: Float64Array;
}

/** Per-column mean and standard deviation; a constant column keeps std 1 (it maps to 0, not to NaN). */
export function fitScaler(rows: Rows): Scaler {
  const d = rows[0]?.length ?? 0;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += r[j]!;
  for (let j = 0; j < d; j++) mean[j]! /= rows.length;
  for (const r of rows) for (let j = 0; j < d; j++) std[j]! += (r[j]! - mean[j]!) ** 2;
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(std[j]! / rows.length);
    std[j] = s > 1e-9 * (1 + Math.abs(mean[j]!)) ? s : 1;
  }
  return { mean, std };
}

/** `(v - mean) / std`, a division as the graph does it, so both give the same doubles. */
export function scale(s: Scaler, row: ArrayLike<number>): Float64Array {
  const out = new Float64Array(s.mean.length);
  for (let j = 0; j < out.length; j++) out[j] = (row[j]! - s.mean[j]!) / s.std[j]!;
  return out;
}

export function unscale(s: Scaler, row: ArrayLike<number>): Float64Array {
  const out = new Float64Array(s.mean.length);
  for (let j = 0; j < out.length; j++) out[j] = row[j]! * s.std[j]! + s.mean[j]!;
  return out;
}

export type PcaChoice = { components: number } | { variance: number };

export interface Pca {
  /** components x targets, row-major: row i is the i-th principal axis (unit length). */
  basis: Float64Array;
  components: number;
  targets: number;
  /** Share of the (scaled) targets' variance each kept component explains, largest first. */
  explained: number[];
}

/** PCA of scaled (zero-mean) targets: the axes of their covariance, largest variance first. */
export function fitPca(rows: Rows, choice: PcaChoice): Pca {
  const t = rows[0]?.length ?? 0;
  const cov = new Matrix(t, t);
  for (const r of rows) for (let i = 0; i < t; i++) for (let j = i; j < t; j++) cov.set(i, j, cov.get(i, j) + r[i]! * r[j]!);
  for (let i = 0; i < t; i++) for (let j = i; j < t; j++) cov.set(j, i, cov.get(i, j) / Math.max(1, rows.length - 1));
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) cov.set(i, j, cov.get(j, i));
  const eig = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const vectors = eig.eigenvectorMatrix;
  const order = eig.realEigenvalues.map((v, i) => [Math.max(0, v), i] as const).sort((a, b) => b[0] - a[0]);
  const total = order.reduce((s, [v]) => s + v, 0);
  const ratios = order.map(([v]) => (total > 0 ? v / total : 0));
  let k: number;
  if ('components' in choice) k = Math.min(choice.components, t);
  else {
    k = 0;
    let kept = 0;
    while (k < t && kept < choice.variance - 1e-12) kept += ratios[k++]!;
    k = Math.max(1, k);
  }
  const basis = new Float64Array(k * t);
  for (let c = 0; c < k; c++) {
    const col = order[c]![1];
    for (let j = 0; j < t; j++) basis[c * t + j] = vectors.get(j, col);
  }
  return { basis, components: k, targets: t, explained: ratios.slice(0, k) };
}

/** Scaled targets -> component weights. */
export function encode(p: Pca, row: ArrayLike<number>): Float64Array {
  const out = new Float64Array(p.components);
  for (let c = 0; c < p.components; c++) {
    let s = 0;
    for (let j = 0; j < p.targets; j++) s += p.basis[c * p.targets + j]! * row[j]!;
    out[c] = s;
  }
  return out;
}

/** Component weights -> scaled targets (exact when every component is kept: the basis is orthonormal). */
export function decode(p: Pca, z: ArrayLike<number>): Float64Array {
  const out = new Float64Array(p.targets);
  for (let c = 0; c < p.components; c++) {
    const w = z[c]!;
    for (let j = 0; j < p.targets; j++) out[j]! += w * p.basis[c * p.targets + j]!;
  }
  return out;
}
