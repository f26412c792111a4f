// The two graphs W space needs, both new ModelProtos (the decoded one is never touched):
// - the mapping graph: the mapping network alone, z -> ws, for estimating w_avg (and directions)
//   from sampled z off the frame path;
// - the latent graph: the model with the synthesis reading a ws netbend shapes per layer:
//     ws'  = (1 - psi) * w_avg + psi * ws              truncation (psi = 1 and 0 both exact)
//     mix  = ws'_a * (1 - m) + ws'_b * m               m: [1, num_ws, 1], 1 from the mix layer on
//     ws'' = mix + offset                              offset: [1, num_ws, w_dim], the directions
//   The mix latent's ws_b comes from a second copy of the mapping nodes inside the same graph,
//   fed the mix seed's z (LATENT_Z2 + input name): one run per frame, no second session and no
//   round trip, and the copy computes exactly what the mapping computes for that z, so mixing
//   from layer 0 is the mix seed's own frame. Weights are shared by the copy, not duplicated.
import { create } from '@bufbuild/protobuf';
import { NodeProtoSchema, TensorProtoSchema, type ModelProto, type NodeProto } from '../onnx/schema/onnx_pb.ts';
import { valueInfo } from '../onnx/rewrite.ts';
import { DataType } from '../onnx/tensor-data.ts';
import type { WSplit } from './w-split.ts';

export const LATENT_PSI = 'netbend_latent_psi';
export const LATENT_WAVG = 'netbend_latent_wavg';
export const LATENT_MASK = 'netbend_latent_mix_mask';
export const LATENT_OFFSET = 'netbend_latent_offset';
/** The mix latent's feed for graph input `name`. */
export const latentZ2 = (name: string) => `netbend_latent_z2_${name}`;
const MIX = '__netbend_mix';

function copyGraph(model: ModelProto): ModelProto {
  const g = model.graph!;
  return { ...model, graph: { ...g, initializer: [...g.initializer], node: [...g.node], input: [...g.input], output: [...g.output], valueInfo: [...g.valueInfo] } };
}

/** The mapping network alone: the split's inputs in, ws out. */
export function mappingGraph(model: ModelProto, split: WSplit): ModelProto {
  const m = copyGraph(model);
  const g = m.graph!;
  g.node = split.mapping.map((i) => model.graph!.node[i]!);
  const used = new Set(g.node.flatMap((n) => n.input));
  g.initializer = g.initializer.filter((t) => used.has(t.name));
  g.input = g.input.filter((v) => split.inputs.includes(v.name));
  g.output = [valueInfo(split.tensor, DataType.FLOAT, [1, split.numWs, split.wDim])];
  g.valueInfo = [];
  return m;
}

export function latentGraph(model: ModelProto, split: WSplit): ModelProto {
  const m = copyGraph(model);
  const g = m.graph!;
  const src = model.graph!;
  const out = 'netbend_latent_ws';
  // Everything after the split reads the shaped ws instead (a tap on the mapping's output still sees
  // the unshaped ws). Node indices are the decoded model's: the playable graph only appends nodes.
  const after = new Set(split.mapping);
  g.node = g.node.map((n, i) => (after.has(i) || !n.input.includes(split.tensor) ? n : { ...n, input: n.input.map((x) => (x === split.tensor ? out : x)) }));
  // The mix copy: mapping nodes that depend on an input, renamed; constant-only nodes are shared.
  const renamed = new Map(split.inputs.map((n) => [n, latentZ2(n)]));
  const copies: NodeProto[] = [];
  for (const i of split.mapping) {
    const n = src.node[i]!;
    if (!n.input.some((x) => renamed.has(x))) continue;
    for (const o of n.output) renamed.set(o, `${o}${MIX}`);
    copies.push({ ...n, name: `${n.name}${MIX}`, input: n.input.map((x) => renamed.get(x) ?? x), output: n.output.map((x) => renamed.get(x)!) });
  }
  const ws2 = renamed.get(split.tensor)!;
  const node = (op: string, inputs: string[], output: string) => create(NodeProtoSchema, { opType: op, name: `netbend_${output}`, input: inputs, output: [output] });
  const one = 'netbend_latent_one';
  g.initializer.push(create(TensorProtoSchema, { name: one, dataType: DataType.FLOAT, dims: [], rawData: new Uint8Array(new Float32Array([1]).buffer) }));
  for (const v of src.input) if (split.inputs.includes(v.name)) g.input.push({ ...v, name: latentZ2(v.name) });
  g.input.push(
    valueInfo(LATENT_PSI, DataType.FLOAT, [1]),
    valueInfo(LATENT_WAVG, DataType.FLOAT, [1, split.numWs, split.wDim]),
    valueInfo(LATENT_MASK, DataType.FLOAT, [1, split.numWs, 1]),
    valueInfo(LATENT_OFFSET, DataType.FLOAT, [1, split.numWs, split.wDim]),
  );
  // Inserted right after the mapping, so the node list stays in topological order.
  const last = split.mapping[split.mapping.length - 1]!;
  const added = [
    ...copies,
    node('Sub', [one, LATENT_PSI], 'netbend_latent_keep'),
    node('Mul', ['netbend_latent_keep', LATENT_WAVG], 'netbend_latent_avg_part'),
    node('Mul', [LATENT_PSI, split.tensor], 'netbend_latent_a_part'),
    node('Add', ['netbend_latent_avg_part', 'netbend_latent_a_part'], 'netbend_latent_a'),
    node('Mul', [LATENT_PSI, ws2], 'netbend_latent_b_part'),
    node('Add', ['netbend_latent_avg_part', 'netbend_latent_b_part'], 'netbend_latent_b'),
    node('Sub', [one, LATENT_MASK], 'netbend_latent_unmask'),
    node('Mul', ['netbend_latent_a', 'netbend_latent_unmask'], 'netbend_latent_a_kept'),
    node('Mul', ['netbend_latent_b', LATENT_MASK], 'netbend_latent_b_kept'),
    node('Add', ['netbend_latent_a_kept', 'netbend_latent_b_kept'], 'netbend_latent_mixed'),
    node('Add', ['netbend_latent_mixed', LATENT_OFFSET], out),
  ];
  const at = g.node.indexOf(src.node[last]!) + 1;
  g.node.splice(at, 0, ...added);
  return m;
}
