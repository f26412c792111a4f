// Ridge linear regression (Houdini's ML Regression Linear): W minimising |XW + b - T|^2 + ridge |W|^2
// on scaled inputs, solved in closed form. One Gemm in the graph.
import { CholeskyDecomposition, Matrix, solve } from 'ml-matrix';
import { attr } from '../engine/onnx/graph-builder.ts';
import { flat, type Regressor } from './regressor.ts';
import type { Rows } from './preprocess.ts';

export function fitLinear(x: Rows, t: Rows, ridge: number): Regressor {
  const n = x.length;
  const d = x[0]!.length;
  const m = t[0]!.length;
  const mx = new Float64Array(d);
  const mt = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) mx[j]! += x[i]![j]! / n;
    for (let j = 0; j < m; j++) mt[j]! += t[i]![j]! / n;
  }
  // Centred, so the bias is not shrunk: b = mean(t) - mean(x) W.
  const xc = new Matrix(x.map((r) => Array.from(r, (v, j) => v - mx[j]!)));
  const tc = new Matrix(t.map((r) => Array.from(r, (v, j) => v - mt[j]!)));
  const xtx = xc.transpose().mmul(xc);
  for (let j = 0; j < d; j++) xtx.set(j, j, xtx.get(j, j) + ridge);
  const xtt = xc.transpose().mmul(tc);
  const chol = new CholeskyDecomposition(xtx);
  const w = chol.isPositiveDefinite() ? chol.solve(xtt) : solve(xtx, xtt, true);
  const weights = flat(
    w.to2DArray().map((r) => Float64Array.from(r)),
    m,
  ); // d x m
  const bias = Float64Array.from(mt, (v, k) => {
    let s = v;
    for (let j = 0; j < d; j++) s -= mx[j]! * weights[j * m + k]!;
    return s;
  });
  return {
    kind: 'linear',
    settings: { ridge },
    predict(xn) {
      const out = Float64Array.from(bias);
      for (let j = 0; j < d; j++) for (let k = 0; k < m; k++) out[k]! += xn[j]! * weights[j * m + k]!;
      return out;
    },
    emit(g, xn) {
      return g.op('Gemm', [xn, g.const('linear_weight', weights, [d, m]), g.const('linear_bias', bias, [m])], { alpha: attr.float(1) });
    },
  };
}
