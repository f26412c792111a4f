// Kernel ridge regression with a Gaussian (RBF) kernel (Houdini's ML Regression Kernel): keeps the
// training inputs, and a prediction is a mix of training targets weighted by closeness,
// y(x) = sum_i alpha_i exp(-gamma |x - x_i|^2), alpha = (K + ridge I)^-1 T. Inputs are scaled, so
// the default gamma 1/inputs makes a unit step in every input worth e^-1.
import { CholeskyDecomposition, Matrix, solve } from 'ml-matrix';
import { flat, type Regressor, squaredDistance } from './regressor.ts';
import type { Rows } from './preprocess.ts';

export function fitKernel(x: Rows, t: Rows, gamma: number, ridge: number): Regressor {
  const n = x.length;
  const d = x[0]!.length;
  const m = t[0]!.length;
  const points = flat(x, d);
  const k = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    k.set(i, i, 1 + ridge);
    for (let j = 0; j < i; j++) {
      const v = Math.exp(-gamma * squaredDistance(x[i]!, points, j, d));
      k.set(i, j, v);
      k.set(j, i, v);
    }
  }
  const tm = new Matrix(t.map((r) => Array.from(r)));
  const chol = new CholeskyDecomposition(k);
  const a = chol.isPositiveDefinite() ? chol.solve(tm) : solve(k, tm, true);
  const alpha = flat(
    a.to2DArray().map((r) => Float64Array.from(r)),
    m,
  ); // n x m
  return {
    kind: 'kernel',
    settings: { gamma, ridge },
    predict(xn) {
      const out = new Float64Array(m);
      for (let i = 0; i < n; i++) {
        const w = Math.exp(-gamma * squaredDistance(xn, points, i, d));
        for (let c = 0; c < m; c++) out[c]! += w * alpha[i * m + c]!;
      }
      return out;
    },
    emit(g, xn) {
      const d2 = g.squaredDistances(xn, points, n, d);
      const w = g.op('Exp', [g.op('Mul', [d2, g.const('neg_gamma', [-gamma], [])])]);
      return g.op('MatMul', [w, g.const('kernel_alpha', alpha, [n, m])]);
    },
  };
}
