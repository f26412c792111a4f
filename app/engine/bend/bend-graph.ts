// Bending inside the graph: each bent weight becomes a small chain of nodes computed from the
// original (and the partner) with per-frame scalar inputs, so amounts change every frame at the
// cost of a few element-wise ops on the execution provider, weights never leave the device, and
// a new session is needed only when the set of edits or the partner changes.
//   blend:  W = A + t (B - A)          (B - A is constant-folded by onnxruntime at load)
//   scale:  W = W * a      offset: W = W + a      noise: W = W + a * (std(A) * N(seed))
//   set:    W = W + on (a - W)          ablate: W = W * mask (zeros on the ablated output channels)
// W is the weight as float32 whatever its stored type; weight-io.ts reads and writes it back.
// The blend and the linear edits (scale, offset, noise) before any other keep W a sum of constant
// terms with scalar coefficients, W = s A + t s D + a N, which is what the graph computes: after
// the product for a weight that reaches a Gemm or MatMul through linear ops (linear-split.ts), else
// in one MatMul of the coefficients with the stacked terms (folded at load), one pass per frame.
// A StyleGAN2 demodulation of such a weight reads the Gram of its terms instead (demod-split.ts).
import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, NodeProtoSchema, TensorProtoSchema, type ModelProto, type NodeProto, type TensorProto } from '../onnx/schema/onnx_pb.ts';
import { constantTensors, valueInfo } from '../onnx/rewrite.ts';
import { tensorProto } from '../onnx/graph-builder.ts';
import { DataType, elementCount, floatValues } from '../onnx/tensor-data.ts';
import { storedWeights, weightValues } from '../onnx/weight-format.ts';
import { readPartner, weightIo, type ChainBuilder } from './weight-io.ts';
import { gaussianArray } from '../../core/seeded-random.ts';
import type { EditOp } from './edit-ops.ts';
import { consumers, gemmPath, type GemmPath } from './linear-split.ts';
import { demodPaths, gramOutput, gramTerms, type DemodPath } from './demod-split.ts';
import { tensorInfo, type Dim } from '../onnx/model-info.ts';

/** Edits that keep a weight a sum of constant terms with scalar coefficients (see linear-split.ts). */
const LINEAR_EDITS = new Set<EditOp>(['scale', 'offset', 'noise']);

export interface StructuralEdit {
  id: string;
  op: EditOp;
  weights: string[];
  seed: number;
}

/** What decides the graph: a new edit or partner means a new session; amounts never do. */
export interface BendStructure {
  /** Every weight blends toward these partner weights (matched by name and shape; float32 or float16). */
  partner: ReadonlyMap<string, TensorProto> | undefined;
  edits: StructuralEdit[];
}

export const blendInput = (weight: string) => `netbend_blend:${weight}`;
export const editInput = (id: string) => `netbend_edit:${id}`;
export const setOnInput = (id: string) => `netbend_on:${id}`;
export const maskInput = (id: string, weight: string) => `netbend_mask:${id}:${weight}`;

export function bendGraph(model: ModelProto, s: BendStructure): ModelProto {
  const g = model.graph!;
  const touched = new Set<string>([...(s.partner?.keys() ?? []), ...s.edits.flatMap((e) => e.weights)]);
  const stored = new Map(storedWeights(model).map((w) => [w.tensor.name, w]));
  const initializers = g.initializer.filter((t) => !touched.has(t.name));
  // Old exporters list weights as inputs too; a bent weight is computed, never fed.
  const inputs = g.input.filter((v) => !touched.has(v.name));
  const nodes: NodeProto[] = [];
  const replaced = new Set<NodeProto>();
  /** Original nodes whose place a set of new nodes takes (they read activations computed there). */
  const inPlace = new Map<NodeProto, NodeProto[]>();
  const uses = consumers(g.node);
  const constants = constantTensors(g);
  const scalarConstant = (t: string) => {
    const c = constants.get(t);
    return !!c && !touched.has(t) && elementCount(c.dims) === 1;
  };
  const outputs = new Set(g.output.map((o) => o.name));
  const scalar = (name: string) => inputs.push(valueInfo(name, DataType.FLOAT, [1]));
  const shapes = new Map<string, Dim[]>([...g.valueInfo, ...g.output, ...g.input].map((v) => [v.name, tensorInfo(v).shape]));
  for (const e of s.edits) {
    scalar(editInput(e.id));
    if (e.op === 'set') scalar(setOnInput(e.id));
  }
  let k = 0;
  for (const name of touched) {
    const w = stored.get(name);
    if (!w) throw new Error(`no weight ${name} in the graph`);
    const io = weightIo(w);
    const dims = w.tensor.dims.map(Number);
    const chain: ChainBuilder = {
      node: (op, input, attribute = []) => {
        const out = `netbend_w${k++}:${name}`;
        nodes.push(create(NodeProtoSchema, { opType: op, input, output: [out], name: out, attribute }));
        return out;
      },
      initializer: (t) => {
        initializers.push(t);
        return t.name;
      },
    };
    const node = (op: string, input: string[]) => chain.node(op, input);
    const edits = s.edits.filter((e) => e.weights.includes(name));
    // The blend and the linear edits before any other make the weight a sum of constant terms
    // with scalar coefficients: W = A + t D + a N ..., scaled (D = B - A, folded at load).
    let terms: Term[] = [{ t: io.read(chain, `netbend_a:${name}`) }];
    /** The terms' values for the demodulation's Gram (demod-split.ts): the blend in the basis A, B. */
    const values = [() => weightValues(w)];
    const b = s.partner?.get(name);
    if (b) {
      scalar(blendInput(name));
      terms.push({ t: node('Sub', [readPartner(chain, b, `netbend_b:${name}`), terms[0]!.t]), coef: blendInput(name) });
      values.push(() => floatValues(b));
    }
    let linear = 0;
    for (const e of edits) {
      if (!LINEAR_EDITS.has(e.op)) break;
      const amount = editInput(e.id);
      if (e.op === 'scale') terms = terms.map(({ t, coef }) => ({ t, coef: coef ? node('Mul', [coef, amount]) : amount }));
      else {
        const v = e.op === 'noise' ? scaledNoise(weightValues(w), e.seed) : new Float32Array(elementCount(dims)).fill(1);
        const t = chain.initializer(create(TensorProtoSchema, { name: `netbend_${e.op}:${e.id}:${name}`, dataType: DataType.FLOAT, dims: w.tensor.dims, rawData: new Uint8Array(v.buffer) }));
        terms.push({ t, coef: amount });
        values.push(() => v);
      }
      linear++;
    }
    const path = w.format.kind === 'float' && w.format.type === DataType.FLOAT && linear === edits.length ? gemmPath(w.tensor, uses, scalarConstant, outputs) : undefined;
    if (path) {
      // Bent after its product (see linear-split.ts).
      inPlace.set(path.gemm, splitGemm(path, name, terms, chain));
      for (const n of path.chain) replaced.add(n);
      continue;
    }
    // A consumer that transposes the weight (a ConvTranspose's, in StyleGAN2's exports) reads its
    // own sum of transposed terms (folded at load): one pass, where a strided Transpose was a second.
    const float32 = w.format.kind === 'float' && w.format.type === DataType.FLOAT;
    const demods =
      float32 && linear === edits.length
        ? demodPaths(
            name,
            dims,
            uses,
            (t) => constants.get(t),
            (t) => shapes.get(t),
            outputs,
          )
        : [];
    if (demods.length) {
      demodulate(demods, name, dims, terms, values, !!b, chain, inPlace, replaced);
      // The demodulations read Q under its own name, which zero-safe.ts follows to their divisions.
      nodes[nodes.length - 1]!.output = [gramOutput(name)];
    }
    const readers = (uses.get(name) ?? []).filter((n) => !demods.some((d) => d.unsqueeze === n));
    const transposes = readers.filter((n) => n.opType === 'Transpose' && n.input[0] === name && !outputs.has(n.output[0]!));
    // With the demodulation reading Q, a transposing conv may be the weight's only reader: its sum
    // of transposed terms is then the one pass over the weight.
    const transposed = terms.length > 1 && linear === edits.length && float32 && (transposes.length < readers.length || (demods.length > 0 && transposes.length > 0));
    if (transposed)
      transposes.forEach((n, i) => {
        const perm = n.attribute.find((a) => a.name === 'perm')?.ints.map(Number) ?? dims.map((_, j) => dims.length - 1 - j);
        combine(
          terms.map(({ t, coef }) => ({ t: chain.node('Transpose', [t], n.attribute), coef })),
          perm.map((p) => dims[p]!),
          `${name}:T${i}`,
          chain,
        );
        nodes[nodes.length - 1]!.output = [n.output[0]!];
        replaced.add(n);
      });
    if (demods.length && !outputs.has(name) && readers.length === (transposed ? transposes.length : 0)) continue;
    let cur = combine(terms, dims, name, chain);
    for (const e of edits.slice(linear)) {
      const amount = editInput(e.id);
      if (e.op === 'scale') cur = node('Mul', [cur, amount]);
      else if (e.op === 'offset') cur = node('Add', [cur, amount]);
      else if (e.op === 'set') cur = node('Add', [cur, node('Mul', [setOnInput(e.id), node('Sub', [amount, cur])])]);
      else if (e.op === 'noise') {
        const noise = `netbend_noise:${e.id}:${name}`;
        initializers.push(create(TensorProtoSchema, { name: noise, dataType: DataType.FLOAT, dims: w.tensor.dims, rawData: new Uint8Array(scaledNoise(weightValues(w), e.seed).buffer) }));
        cur = node('Add', [cur, node('Mul', [noise, amount])]);
      } else {
        const mask = maskInput(e.id, name);
        inputs.push(valueInfo(mask, DataType.FLOAT, [dims[0] ?? 1, ...dims.slice(1).map(() => 1)]));
        cur = node('Mul', [cur, mask]);
      }
    }
    const out = io.write(chain, cur);
    // The last node of the chain takes the name the consumers read, so they are untouched.
    const last = nodes[nodes.length - 1];
    if (last?.output[0] === out) last.output = [io.target];
    else nodes.push(create(NodeProtoSchema, { opType: 'Identity', input: [out], output: [io.target], name: `netbend_id:${name}` }));
    if (io.replaces) replaced.add(io.replaces);
  }
  return { ...model, graph: { ...g, initializer: initializers, input: inputs, node: [...nodes, ...g.node.flatMap((n) => inPlace.get(n) ?? (replaced.has(n) ? [] : [n]))] } };
}

const AXIS0 = [create(AttributeProtoSchema, { name: 'axis', type: 2, i: 0n })];

/** A 1-D int64 initializer (a shape for Reshape). */
const int64s = (chain: ChainBuilder, name: string, v: number[]) => chain.initializer(tensorProto(name, BigInt64Array.from(v, BigInt), [v.length]));

/** A constant tensor (folded at load) and the scalar input it is scaled by (none: 1). */
interface Term {
  t: string;
  coef?: string;
}

/**
 * The weight from its terms in one op: the terms flattened and stacked as rows (folded at load),
 * and the row of coefficients times that stack, [1, t] . [A; D] = A + t D, read in one pass.
 */
function combine(terms: Term[], dims: number[], weight: string, chain: ChainBuilder): string {
  const [first] = terms;
  if (terms.length === 1) return first!.coef ? chain.node('Mul', [first!.t, first!.coef]) : first!.t;
  const shape = (tag: string, v: number[]) => int64s(chain, `netbend_${tag}:${weight}`, v);
  const one = chain.initializer(tensorProto(`netbend_one:${weight}`, new Float32Array([1]), [1]));
  const row = shape('row', [1, -1]);
  const stack = chain.node(
    'Concat',
    terms.map(({ t }) => chain.node('Reshape', [t, row])),
    AXIS0,
  );
  const coefs = chain.node(
    'Concat',
    terms.map(({ coef }) => coef ?? one),
    AXIS0,
  );
  return chain.node('Reshape', [chain.node('MatMul', [coefs, stack]), shape('dims', dims)]);
}

/**
 * The product's replacement: one Gemm (or MatMul) of the activations, each scaled by a term's
 * coefficient, side by side, with the linear path copied onto each constant term, stacked to
 * match (onnxruntime folds and prepacks that stack at load):
 *   [x, t x] . [f(A); f(D)] + bias = x f(A) + t x f(D) + bias.
 */
function splitGemm(path: GemmPath, weight: string, terms: Term[], chain: ChainBuilder): NodeProto[] {
  const { gemm } = path;
  const at: NodeProto[] = [];
  const put = (op: string, input: string[], attribute: NodeProto['attribute'] = []) => {
    const name = `netbend_split${at.length}:${weight}`;
    at.push(create(NodeProtoSchema, { opType: op, input, output: [name], name, attribute }));
    return name;
  };
  const flag = (name: string) => Number(gemm.attribute.find((a) => a.name === name)?.i ?? 0);
  // Gemm's x is [M, K] ([K, M] under transA) and B [K, N] ([N, K] under transB); MatMul's x is
  // [..., M, K] and B (the weight, 2-D) [K, N].
  const [xAxis, bAxis] = gemm.opType === 'Gemm' ? [flag('transA') ? 0 : 1, flag('transB') ? 1 : 0] : [-1, 0];
  const axis = (v: number) => [create(AttributeProtoSchema, { name: 'axis', type: 2, i: BigInt(v) })];
  const [x, , bias] = gemm.input;
  const xs: string[] = [];
  const bs: string[] = [];
  for (const { t, coef } of terms) {
    let f = t;
    let prev = weight;
    for (const n of path.chain) {
      f = chain.node(
        n.opType,
        n.input.map((input) => (input === prev ? f : input)),
        n.attribute,
      );
      prev = n.output[0]!;
    }
    bs.push(f);
    xs.push(coef ? put('Mul', [x!, coef]) : x!);
  }
  const stacked = chain.node('Concat', bs, axis(bAxis));
  const inputs = [put('Concat', xs, axis(xAxis)), stacked, ...(bias ? [bias] : [])];
  at.push(create(NodeProtoSchema, { ...gemm, input: inputs, name: `netbend_split:${gemm.name || weight}` }));
  return at;
}

/**
 * The demodulations of a weight bent as a sum of terms read its Q (demod-split.ts): Q's coefficients
 * are the outer product of the terms' (the blend's taken in the basis A, B, so Q at t = 0 and t = 1
 * is each model's own, free of cancellation), times the constant Gram stack, clipped at 0.
 */
function demodulate(
  demods: DemodPath[],
  weight: string,
  dims: number[],
  terms: Term[],
  values: Array<() => Float32Array>,
  blended: boolean,
  chain: ChainBuilder,
  inPlace: Map<NodeProto, NodeProto[]>,
  replaced: Set<NodeProto>,
): void {
  const k = terms.length;
  const [o, i] = dims as [number, number];
  const one = chain.initializer(tensorProto(`netbend_gone:${weight}`, new Float32Array([1]), [1]));
  const ints = (tag: string, v: number[]) => int64s(chain, `netbend_g${tag}:${weight}`, v);
  const coefs = terms.map(({ coef }) => coef ?? one);
  // A + t D = (1 - t) A + t B: with a partner, term 1 is D and its values are B's.
  if (blended) coefs[0] = chain.node('Sub', [coefs[0]!, coefs[1]!]);
  const cv = chain.node('Concat', coefs, AXIS0);
  const outer = chain.node('Mul', [chain.node('Reshape', [cv, ints('col', [k, 1])]), chain.node('Reshape', [cv, ints('row', [1, k])])]);
  const gram = gramTerms(
    values.map((v) => v()),
    dims,
  );
  const g = chain.initializer(
    create(TensorProtoSchema, { name: `netbend_gram_terms:${weight}`, dataType: DataType.FLOAT, dims: [BigInt(k * k), BigInt(o * i)], rawData: new Uint8Array(gram.buffer) }),
  );
  const q = chain.node('Relu', [chain.node('MatMul', [chain.node('Reshape', [outer, ints('pairs', [1, k * k])]), g])]);
  // The caller names this last node's output gramOutput(weight).
  chain.node('Reshape', [q, ints('q', [1, o, i, 1, 1])]);
  demods.forEach((d, n) => {
    const name = (tag: string) => `netbend_demod${n}${tag}:${weight}`;
    const sq = create(NodeProtoSchema, { opType: 'Mul', input: [d.styles, d.styles], output: [name('sq')], name: name('sq') });
    const m = create(NodeProtoSchema, { opType: 'Mul', input: [gramOutput(weight), name('sq')], output: [name('m')], name: name('m') });
    inPlace.set(d.reduce, [sq, m, { ...d.reduce, input: [name('m'), ...d.reduce.input.slice(1)] }]);
    replaced.add(d.unsqueeze).add(d.mul).add(d.pow);
  });
}

/** Gaussian noise scaled by the weight's own spread, so one amount means the same on every layer. */
function scaledNoise(v: Float32Array, seed: number): Float32Array {
  let sum = 0;
  let sq = 0;
  for (const x of v) (sum += x), (sq += x * x);
  const mean = sum / v.length;
  const std = Math.sqrt(Math.max(0, sq / v.length - mean * mean)) || 1;
  const n = gaussianArray(v.length, seed);
  for (let i = 0; i < n.length; i++) n[i]! *= std;
  return n;
}
