// k nearest neighbours, distance-weighted (Houdini's ML Regression Proximity, with k > 1 for a
// smooth mix): the k training inputs nearest the query, each target weighted by 1/distance. An
// exact hit weighs 1e12 to the others' at most 1/distance, so it gives its own target; with k = 1
// a training input gives back its target exactly. In the graph: squared distances to every stored
// input, TopK smallest, weights, a weighted sum of the gathered targets.
import { attr } from '../engine/onnx/graph-builder.ts';
import { flat, type Regressor, squaredDistance } from './regressor.ts';
import type { Rows } from './preprocess.ts';

/** The smallest distance a weight is taken at: below it, a hit. */
const HIT = 1e-12;

export function fitKnn(x: Rows, t: Rows, k: number): Regressor {
  const n = x.length;
  const d = x[0]!.length;
  const m = t[0]!.length;
  const points = flat(x, d);
  const targets = flat(t, m);
  const d2 = new Float64Array(n);
  return {
    kind: 'knn',
    settings: { k },
    predict(xn) {
      for (let i = 0; i < n; i++) d2[i] = squaredDistance(xn, points, i, d);
      // The k smallest in order, ties to the lower index as TopK breaks them.
      const best: number[] = [];
      for (let i = 0; i < n; i++) {
        const v = d2[i]!;
        if (best.length === k) {
          if (v >= d2[best[k - 1]!]!) continue;
          best.pop();
        }
        let p = best.length;
        best.push(i);
        while (p > 0 && d2[best[p - 1]!]! > v) {
          best[p] = best[p - 1]!;
          p--;
        }
        best[p] = i;
      }
      const w = best.map((i) => 1 / Math.max(Math.sqrt(d2[i]!), HIT));
      const sum = w.reduce((a, b) => a + b, 0);
      const out = new Float64Array(m);
      best.forEach((i, r) => {
        for (let c = 0; c < m; c++) out[c]! += (w[r]! / sum) * targets[i * m + c]!;
      });
      return out;
    },
    emit(g, xn) {
      const [near, index] = g.g.node('TopK', [g.squaredDistances(xn, points, n, d), g.ints([k])], 2, { largest: attr.int(0), sorted: attr.int(1) });
      const w = g.op('Reciprocal', [g.op('Max', [g.op('Sqrt', [near!]), g.const('hit', [HIT], [])])]);
      const wn = g.op('Div', [w, g.op('ReduceSum', [w, g.ints([1])], { keepdims: attr.int(1) })]);
      const picked = g.op('Gather', [g.const('knn_targets', targets, [n, m]), g.op('Reshape', [index!, g.ints([k])])], { axis: attr.int(0) });
      return g.op('MatMul', [wn, picked]);
    },
  };
}
