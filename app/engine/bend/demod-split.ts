// StyleGAN2's demodulation reads every weight of a modulated conv per frame:
//   d[n,o] = sum_{i,k} (W[o,i,k] s[n,i])^2 = sum_i s[n,i]^2 Q[o,i],   Q[o,i] = sum_k W[o,i,k]^2,
// Mul, Pow and ReduceSum over the whole [1,O,I,k,k] tensor, about a tenth of a frame on the CPU.
// When the weight is bent as a sum of constant terms with scalar coefficients (bend-graph.ts),
// W = sum_j c_j T_j, so Q = sum_{j,l} c_j c_l G_jl with G_jl[o,i] = sum_k T_j T_l constant (computed
// here, in float64): the demodulation then costs k^2 passes over [O,I] instead of three over [O,I,k,k].
import type { NodeProto, TensorProto } from '../onnx/schema/onnx_pb.ts';
import { DataType, floatValues } from '../onnx/tensor-data.ts';
import type { Dim } from '../onnx/model-info.ts';

export interface DemodPath {
  /** Unsqueeze(W, 0) -> Mul(., styles) -> Pow(., 2) -> ReduceSum(axes 2,3,4). */
  unsqueeze: NodeProto;
  mul: NodeProto;
  pow: NodeProto;
  reduce: NodeProto;
  /** The styles, [N, 1, I, 1, 1]. */
  styles: string;
}

/** The name of a weight's Q in the live graph (zero-safe.ts follows it to the division). */
export const gramOutput = (weight: string) => `netbend_gram:${weight}`;

/** An int64 constant's values (axes); undefined for anything else. */
function ints(t: TensorProto | undefined): number[] | undefined {
  if (t?.dataType !== DataType.INT64) return undefined;
  if (t.int64Data.length) return t.int64Data.map(Number);
  return [...new BigInt64Array(Uint8Array.from(t.rawData).buffer)].map(Number);
}

/**
 * The demodulations reading `weight` (a 4-D conv weight [O, I, kh, kw]), proved from constants
 * and the graph's static shapes; anything else is left alone.
 */
export function demodPaths(
  weight: string,
  dims: number[],
  uses: ReadonlyMap<string, NodeProto[]>,
  constant: (name: string) => TensorProto | undefined,
  shape: (name: string) => Dim[] | undefined,
  outputs: ReadonlySet<string>,
): DemodPath[] {
  if (dims.length !== 4) return [];
  const only = (t: string) => {
    const u = uses.get(t);
    return u?.length === 1 && !outputs.has(t) ? u[0] : undefined;
  };
  const found: DemodPath[] = [];
  for (const unsqueeze of uses.get(weight) ?? []) {
    if (unsqueeze.opType !== 'Unsqueeze' || unsqueeze.input[0] !== weight) continue;
    const axes = unsqueeze.input[1] ? ints(constant(unsqueeze.input[1])) : unsqueeze.attribute.find((a) => a.name === 'axes')?.ints.map(Number);
    if (axes?.length !== 1 || axes[0] !== 0) continue;
    const mul = only(unsqueeze.output[0]!);
    if (mul?.opType !== 'Mul') continue;
    const styles = mul.input.find((i) => i !== unsqueeze.output[0]);
    const s = styles ? shape(styles) : undefined;
    if (!styles || s?.length !== 5 || s[1] !== 1 || s[3] !== 1 || s[4] !== 1 || (s[2] !== dims[1] && s[2] !== 1)) continue;
    const pow = only(mul.output[0]!);
    const exponent = pow?.input[1] ? constant(pow.input[1]) : undefined;
    const e = exponent?.dataType === DataType.FLOAT ? floatValues(exponent) : undefined;
    if (pow?.opType !== 'Pow' || pow.input[0] !== mul.output[0] || e?.length !== 1 || e[0] !== 2) continue;
    const reduce = only(pow.output[0]!);
    if (reduce?.opType !== 'ReduceSum') continue;
    const r = reduce.input[1] ? ints(constant(reduce.input[1])) : reduce.attribute.find((a) => a.name === 'axes')?.ints.map(Number);
    if (!r || [...new Set(r.map((a) => (a < 0 ? a + 5 : a)))].sort().join() !== '2,3,4') continue;
    found.push({ unsqueeze, mul, pow, reduce, styles });
  }
  return found;
}

/** G [k*k, O*I]: row j*k+l holds sum over the kernel of T_j T_l, accumulated in float64. */
export function gramTerms(terms: readonly Float32Array[], dims: readonly number[]): Float32Array {
  const k = terms.length;
  const oi = dims[0]! * dims[1]!;
  const r = dims.slice(2).reduce((a, b) => a * b, 1);
  const g = new Float32Array(k * k * oi);
  for (let j = 0; j < k; j++)
    for (let l = j; l < k; l++) {
      const a = terms[j]!;
      const b = terms[l]!;
      for (let p = 0; p < oi; p++) {
        let sum = 0;
        for (let q = p * r, end = q + r; q < end; q++) sum += a[q]! * b[q]!;
        g[(j * k + l) * oi + p] = sum;
        g[(l * k + j) * oi + p] = sum;
      }
    }
  return g;
}
