// Feature-map bending inside the graph: the tensor a layer hands on is renamed, and a chain of nodes
// computes the bent map under its old name, so every consumer (and a tap) reads the bent one. Each
// op's values arrive as small host tensors (per-channel factors, a sampling grid, blur kernels),
// so moving an amount or the channel selection never needs a new session.
import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, NodeProtoSchema, type ModelProto, type NodeProto, type TensorProto } from '../onnx/schema/onnx_pb.ts';
import { tensorProto } from '../onnx/graph-builder.ts';
import { valueInfo } from '../onnx/rewrite.ts';
import { DataType } from '../onnx/tensor-data.ts';
import { FEATURE_OPS, type FeatureOp } from './feature-ops.ts';
import { BLUR_RADIUS, gaussianKernel, gridCanvas, SHARPEN_RADIUS, SHARPEN_SIGMA } from './feature-kernels.ts';

export interface StructuralFeature {
  id: string;
  op: FeatureOp;
  /** The tensor the op bends: its layer's output. */
  tensor: string;
  /** The map's shape, [1, C, H, W]. */
  dims: [number, number, number, number];
}

export interface FeatureInput {
  suffix: string;
  dims: number[];
  type: 'float32' | 'int64';
}

export const featureInput = (id: string, suffix: string) => `netbend_fm:${id}:${suffix}`;
/** What a bent tensor is called before its ops: a diagnostic or a test can expose it. */
export const preBendName = (tensor: string) => `netbend_pre:${tensor}`;

/** The host tensors an op is fed each frame, by kind. */
export function featureInputs(f: StructuralFeature): FeatureInput[] {
  const [, c, h, w] = f.dims;
  const ch = (suffix: string): FeatureInput => ({ suffix, dims: [1, c, 1, 1], type: 'float32' });
  switch (FEATURE_OPS[f.op].kind) {
    case 'grid':
      return [{ suffix: 'grid', dims: [1, h, w, 2], type: 'float32' }, { suffix: 'wrap', dims: [1], type: 'float32' }, ch('keep'), ch('w')];
    case 'morph':
      return [ch('w0'), ch('w1'), ch('w2'), ch('w3')];
    case 'blur':
      return [
        { suffix: 'kh', dims: [c, 1, 1, 2 * BLUR_RADIUS + 1], type: 'float32' },
        { suffix: 'kv', dims: [c, 1, 2 * BLUR_RADIUS + 1, 1], type: 'float32' },
      ];
    case 'sharpen':
    case 'invert':
      return [ch('p'), ch('q')];
    case 'edges':
      return [ch('keep'), ch('w')];
    case 'threshold':
      return [{ suffix: 'level', dims: [1], type: 'float32' }, ch('keep'), ch('w')];
    case 'multiply':
      return [ch('f')];
    case 'add':
      return [ch('b')];
    case 'noise':
      return [{ suffix: 'noise', dims: [1, c, h, w], type: 'float32' }, ch('s')];
    case 'swap':
      return [{ suffix: 'perm', dims: [c], type: 'int64' }, ch('keep'), ch('w')];
  }
}

/** The oldest opset each kind's nodes need as written here (GridSample came in 16). */
const MIN_OPSET = { grid: 16 } as Partial<Record<string, number>>;

export function featureGraph(model: ModelProto, features: readonly StructuralFeature[]): ModelProto {
  if (features.length === 0) return model;
  const g = model.graph!;
  const opset = Number(model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0);
  const nodes: NodeProto[] = [...g.node];
  const inits: TensorProto[] = [...g.initializer];
  const inputs = [...g.input];
  let k = 0;
  const add = (op: string, input: string[], attrs: Record<string, number | number[] | string> = {}, out?: string): string => {
    const name = out ?? `netbend_fm${k++}`;
    const attribute = Object.entries(attrs).map(([n, v]) =>
      typeof v === 'string'
        ? create(AttributeProtoSchema, { name: n, type: 3, s: new TextEncoder().encode(v) })
        : Array.isArray(v)
          ? create(AttributeProtoSchema, { name: n, type: 7, ints: v.map(BigInt) })
          : create(AttributeProtoSchema, { name: n, type: 2, i: BigInt(v) }),
    );
    nodes.push(create(NodeProtoSchema, { opType: op, input, output: [name], name: `${name}_node`, attribute }));
    return name;
  };
  const constant = (data: Float32Array | BigInt64Array, dims: number[]): string => {
    const name = `netbend_fmc${k++}`;
    inits.push(tensorProto(name, data, dims));
    return name;
  };
  const ints = (...v: number[]) => constant(BigInt64Array.from(v.map(BigInt)), [v.length]);
  const slice = (x: string, from: number, to: number, axis: number) => add('Slice', [x, ints(from), ints(to), ints(axis)]);
  const edgePad = (x: string, top: number, left: number) => add('Pad', [x, ints(0, 0, top, left, 0, 0, top, left)], { mode: 'edge' });
  const depthwise = (x: string, kernel: string, c: number) => add('Conv', [x, kernel], { group: c });
  const mix = (x: string, keep: string, y: string, w: string, out?: string) => add('Add', [add('Mul', [x, keep]), add('Mul', [y, w])], {}, out);

  const byTensor = new Map<string, StructuralFeature[]>();
  for (const f of features) byTensor.set(f.tensor, [...(byTensor.get(f.tensor) ?? []), f]);
  for (const [tensor, list] of byTensor) {
    const at = nodes.findIndex((n) => n.output.includes(tensor));
    if (at < 0) throw new Error(`no node computes ${tensor}: a feature-map op needs a layer output inside the graph`);
    const producer = nodes[at]!;
    nodes[at] = { ...producer, output: producer.output.map((o) => (o === tensor ? preBendName(tensor) : o)) };
    let x = preBendName(tensor);
    list.forEach((f, i) => {
      const need = MIN_OPSET[FEATURE_OPS[f.op].kind];
      if (need && opset < need) throw new Error(`${f.op} needs ONNX opset ${need} or later; this model is opset ${opset}`);
      for (const input of featureInputs(f)) inputs.push(valueInfo(featureInput(f.id, input.suffix), input.type === 'int64' ? DataType.INT64 : DataType.FLOAT, input.dims));
      const v = (suffix: string) => featureInput(f.id, suffix);
      const out = i === list.length - 1 ? tensor : undefined;
      x = opNodes(f, x, v, out);
    });
  }

  function opNodes(f: StructuralFeature, x: string, v: (suffix: string) => string, out: string | undefined): string {
    const [, c, h, w] = f.dims;
    switch (FEATURE_OPS[f.op].kind) {
      case 'grid': {
        // One pixel of border, wrapped around when `wrap` is 1 and zero when 0, so bilinear sampling
        // across an edge reads the other side (tiling) or black, as the performer chose, live.
        const wrap = v('wrap');
        const cols = add('Concat', [add('Mul', [slice(x, w - 1, w, 3), wrap]), x, add('Mul', [slice(x, 0, 1, 3), wrap])], { axis: 3 });
        const ringed = add('Concat', [add('Mul', [slice(cols, h - 1, h, 2), wrap]), cols, add('Mul', [slice(cols, 0, 1, 2), wrap])], { axis: 2 });
        const canvas = gridCanvas(h, w);
        const padded = add('Pad', [ringed, ints(0, 0, 0, 0, 0, 0, canvas.h - h - 2, canvas.w - w - 2)]);
        const sampled = add('GridSample', [padded, v('grid')], { align_corners: 0, mode: opset >= 20 ? 'linear' : 'bilinear', padding_mode: 'zeros' });
        return mix(x, v('keep'), sampled, v('w'), out);
      }
      case 'morph': {
        // Radius r in [0, 3] mixes the two nearest of 0..3 passes of a 3x3 max (erode: of the negated map).
        const erode = f.op === 'erode';
        let cur = erode ? add('Neg', [x]) : x;
        const steps = [x];
        for (let r = 1; r <= 3; r++) {
          cur = add('MaxPool', [cur], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] });
          steps.push(erode ? add('Neg', [cur]) : cur);
        }
        const terms = steps.map((s, r) => add('Mul', [s, v(`w${r}`)]));
        return add('Add', [add('Add', [terms[0]!, terms[1]!]), add('Add', [terms[2]!, terms[3]!])], {}, out);
      }
      case 'blur': {
        const across = depthwise(edgePad(x, 0, BLUR_RADIUS), v('kh'), c);
        return add('Conv', [edgePad(across, BLUR_RADIUS, 0), v('kv')], { group: c }, out);
      }
      case 'sharpen': {
        const kernel = gaussianKernel(SHARPEN_SIGMA, SHARPEN_RADIUS);
        const K = kernel.length;
        const kh = constant(repeat(kernel, c), [c, 1, 1, K]);
        const kv = constant(repeat(kernel, c), [c, 1, K, 1]);
        const blurred = depthwise(edgePad(depthwise(edgePad(x, 0, SHARPEN_RADIUS), kh, c), SHARPEN_RADIUS, 0), kv, c);
        return mix(x, v('p'), blurred, v('q'), out);
      }
      case 'edges': {
        const sx = new Float32Array([-1, 0, 1, -2, 0, 2, -1, 0, 1]);
        const sy = new Float32Array([-1, -2, -1, 0, 0, 0, 1, 2, 1]);
        const p = edgePad(x, 1, 1);
        const gx = depthwise(p, constant(repeat(sx, c), [c, 1, 3, 3]), c);
        const gy = depthwise(p, constant(repeat(sy, c), [c, 1, 3, 3]), c);
        const magnitude = add('Sqrt', [add('Add', [add('Mul', [gx, gx]), add('Mul', [gy, gy])])]);
        return mix(x, v('keep'), magnitude, v('w'), out);
      }
      case 'threshold': {
        const binary = add('Cast', [add('Greater', [x, v('level')])], { to: DataType.FLOAT });
        return mix(x, v('keep'), binary, v('w'), out);
      }
      case 'invert': {
        // p = 1 - 2w, q = 2w: x p + mean q is x, or 2 mean - x at w = 1.
        const mean = opset >= 18 ? add('ReduceMean', [x, ints(2, 3)], { keepdims: 1 }) : add('ReduceMean', [x], { axes: [2, 3], keepdims: 1 });
        return mix(x, v('p'), mean, v('q'), out);
      }
      case 'multiply':
        return add('Mul', [x, v('f')], {}, out);
      case 'add':
        return add('Add', [x, v('b')], {}, out);
      case 'noise':
        return add('Add', [x, add('Mul', [v('noise'), v('s')])], {}, out);
      case 'swap':
        return mix(x, v('keep'), add('Gather', [x, v('perm')], { axis: 1 }), v('w'), out);
    }
  }

  return { ...model, graph: { ...g, node: topoOrder(nodes), initializer: inits, input: inputs } };
}

function repeat(kernel: Float32Array, times: number): Float32Array {
  const out = new Float32Array(kernel.length * times);
  for (let i = 0; i < times; i++) out.set(kernel, i * kernel.length);
  return out;
}

/** ONNX wants nodes in topological order; the ops were appended after the graph's own nodes. */
function topoOrder(nodes: NodeProto[]): NodeProto[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.output.forEach((o) => producer.set(o, i)));
  const done = new Uint8Array(nodes.length);
  const out: NodeProto[] = [];
  const visit = (i: number) => {
    // Iterative, so a deep graph cannot overflow the stack.
    const stack: Array<[number, number]> = [[i, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [n, next] = top;
      if (done[n] === 2) {
        stack.pop();
        continue;
      }
      done[n] = 1;
      const inputs = nodes[n]!.input;
      if (next < inputs.length) {
        top[1]++;
        const p = producer.get(inputs[next]!);
        if (p !== undefined && done[p] === 0) stack.push([p, 0]);
        continue;
      }
      done[n] = 2;
      out.push(nodes[n]!);
      stack.pop();
    }
  };
  for (let i = 0; i < nodes.length; i++) if (done[i] === 0) visit(i);
  return out;
}
