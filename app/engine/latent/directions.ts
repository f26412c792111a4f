// Principal directions of w (the method of the GANSpace paper, Härkönen et al. 2020: PCA of w
// sampled from z through the mapping network; none of its code): the top eigenvectors of the
// samples' covariance, each with the standard deviation of w along it, so an amount of 1 moves w
// by one typical spread. Eigenvectors come from ml-matrix's symmetric EVD, signs fixed so that
// the largest entry is positive (the same samples always give the same directions).
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

export interface Directions {
  dim: number;
  /** k unit vectors of `dim` values, back to back, by decreasing variance. */
  vectors: Float32Array;
  /** Standard deviation of the samples along each vector. */
  sigmas: number[];
}

/** `samples`: `count` rows of `dim` values (one w each). */
export function principalDirections(samples: Float32Array, count: number, dim: number, k: number): Directions {
  if (count < 2) throw new Error('principal directions need at least 2 samples');
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) mean[j]! += samples[i * dim + j]! / count;
  const centred = new Matrix(count, dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) centred.set(i, j, samples[i * dim + j]! - mean[j]!);
  const cov = centred
    .transpose()
    .mmul(centred)
    .div(count - 1);
  const evd = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const order = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]!);
  const n = Math.min(k, dim);
  const vectors = new Float32Array(n * dim);
  const sigmas: number[] = [];
  const V = evd.eigenvectorMatrix;
  for (let c = 0; c < n; c++) {
    const col = V.getColumn(order[c]!);
    let big = 0;
    for (const x of col) if (Math.abs(x) > Math.abs(big)) big = x;
    const sign = big < 0 ? -1 : 1;
    let norm = 0;
    for (const x of col) norm += x * x;
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < dim; j++) vectors[c * dim + j] = (sign * col[j]!) / norm;
    sigmas.push(Math.sqrt(Math.max(0, values[order[c]!]!)));
  }
  return { dim, vectors, sigmas };
}
