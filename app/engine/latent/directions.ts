// Principal directions of w (the method of the GANSpace paper, Härkönen et al. 2020: PCA of w
// sampled from z through the mapping network; none of its code): the top eigenvectors of the
// samples' covariance, each with the standard deviation of w along it, so an amount of 1 moves w
// by one typical spread. Eigenvectors come from ml-matrix's symmetric EVD (of the Gram matrix when
// there are fewer samples than dimensions), signs fixed so that the largest entry is positive (the
// same samples always give the same directions).
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
  // Fewer samples than dimensions: the covariance's nonzero eigenpairs come from the count x count
  // Gram matrix (C C^T u = l u gives C^T C (C^T u) = l (C^T u)), a small EVD instead of a
  // dim x dim one (64 samples of 512: milliseconds, not a second).
  const gram = count < dim && k <= count;
  const m = gram ? centred.mmul(centred.transpose()) : centred.transpose().mmul(centred);
  const evd = new EigenvalueDecomposition(m.div(count - 1), { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const order = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]!);
  const n = Math.min(k, dim);
  const vectors = new Float32Array(n * dim);
  const sigmas: number[] = [];
  const V = evd.eigenvectorMatrix;
  for (let c = 0; c < n; c++) {
    const u = V.getColumn(order[c]!);
    const col = gram ? centred.transpose().mmul(Matrix.columnVector(u)).getColumn(0) : u;
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
