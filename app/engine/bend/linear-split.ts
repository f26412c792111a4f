// A weight that reaches a Gemm or MatMul (as B) only through ops linear in it (a gain Mul, a
// Transpose) is bent after the product instead of before it: the bent weight is a sum of constant
// terms with scalar coefficients (A + t (B - A) + a N ...), and so is its product with the activations,
//   Gemm(x, f(A + t D)) = x f(A) + (t x) f(D) = Gemm([x, t x], [f(A); f(D)]),
// with f(A), f(D) and their stack constant-folded (and prepacked) by onnxruntime at load.
// StyleGAN's mapping and affine layers multiply one row vector by a matrix, so a term costs one
// pass over its matrix, where computing the bent weight first cost five (the blend's Mul and Add,
// the gain, the transpose, an unpacked Gemm).
import type { NodeProto, TensorProto } from '../onnx/schema/onnx_pb.ts';

/** Ops linear in their one weight-derived input (the others constant) that keep a matrix a matrix. */
const LINEAR = new Set(['Mul', 'Div', 'Transpose', 'Identity']);

export interface GemmPath {
  /** The linear ops from the weight to the Gemm or MatMul, in order; each reads the previous one's output. */
  chain: NodeProto[];
  /** The Gemm or MatMul reading the weight as its B. */
  gemm: NodeProto;
}

/**
 * The path from `weight` to the one Gemm or MatMul it feeds as B, when every step is linear in it and no
 * step's output is read by anything else (another node, a graph output such as a tap).
 */
export function gemmPath(weight: TensorProto, uses: ReadonlyMap<string, NodeProto[]>, scalarConstant: (name: string) => boolean, outputs: ReadonlySet<string>): GemmPath | undefined {
  // Terms are stacked along the contracted axis: the weight and the path stay 2-D.
  if (weight.dims.length !== 2) return undefined;
  const chain: NodeProto[] = [];
  let cur = weight.name;
  for (let step = 0; step < 16; step++) {
    const next = uses.get(cur);
    if (next?.length !== 1 || outputs.has(cur)) return undefined;
    const n = next[0]!;
    if ((n.domain && n.domain !== 'ai.onnx') || n.output.length !== 1) return undefined;
    if (n.input.filter((i) => i === cur).length !== 1) return undefined;
    if (n.opType === 'MatMul') return n.input[1] === cur ? { chain, gemm: n } : undefined;
    if (n.opType === 'Gemm') {
      const beta = n.attribute.find((a) => a.name === 'beta')?.f ?? 1;
      if (n.input[1] !== cur || (n.input[2] && beta !== 1)) return undefined;
      return { chain, gemm: n };
    }
    if (!LINEAR.has(n.opType)) return undefined;
    // Div is linear in its dividend only; the other input is a constant scalar (a gain), so the shape stays.
    if (n.opType === 'Div' && n.input[0] !== cur) return undefined;
    if (!n.input.every((i) => !i || i === cur || scalarConstant(i))) return undefined;
    chain.push(n);
    cur = n.output[0]!;
  }
  return undefined;
}

/** The nodes reading each tensor. */
export function consumers(nodes: readonly NodeProto[]): Map<string, NodeProto[]> {
  const uses = new Map<string, NodeProto[]>();
  for (const n of nodes)
    for (const i of n.input) {
      if (!i) continue;
      const list = uses.get(i);
      if (list) list.push(n);
      else uses.set(i, [n]);
    }
  return uses;
}
