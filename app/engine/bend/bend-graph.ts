// Bending inside the graph: each bent weight becomes a small chain of nodes computed from the
// original (and the partner) with per-frame scalar inputs, so amounts change every frame at the
// cost of a few element-wise ops on the execution provider, weights never leave the device, and
// a new session is needed only when the set of edits or the partner changes.
//   blend:  W = A + t (B - A)          (B - A is constant-folded by onnxruntime at load)
//   scale:  W = W * a      offset: W = W + a      noise: W = W + a * (std(A) * N(seed))
//   set:    W = W + on (a - W)          ablate: W = W * mask (zeros on the ablated output channels)
// W is the weight as float32 whatever its stored type; weight-io.ts reads and writes it back.
import { create } from '@bufbuild/protobuf';
import { NodeProtoSchema, TensorProtoSchema, type ModelProto, type NodeProto, type TensorProto } from '../onnx/schema/onnx_pb.ts';
import { valueInfo } from '../onnx/rewrite.ts';
import { DataType } from '../onnx/tensor-data.ts';
import { storedWeights, weightValues } from '../onnx/weight-format.ts';
import { readPartner, weightIo, type ChainBuilder } from './weight-io.ts';
import { gaussianArray } from '../../core/seeded-random.ts';
import type { EditOp } from './edit-ops.ts';

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
  const scalar = (name: string) => inputs.push(valueInfo(name, DataType.FLOAT, [1]));
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
    let cur = io.read(chain, `netbend_a:${name}`);
    const b = s.partner?.get(name);
    if (b) {
      const theirs = readPartner(chain, b, `netbend_b:${name}`);
      scalar(blendInput(name));
      cur = node('Add', [cur, node('Mul', [node('Sub', [theirs, cur]), blendInput(name)])]);
    }
    for (const e of s.edits) {
      if (!e.weights.includes(name)) continue;
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
  return { ...model, graph: { ...g, initializer: initializers, input: inputs, node: [...nodes, ...g.node.filter((n) => !replaced.has(n))] } };
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
