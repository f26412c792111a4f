// Where a StyleGAN-style graph hands w from its mapping network to its synthesis network, found
// from the graph itself (no scope metadata needed, so re-encoded graphs work too): the synthesis
// side is every node that reads a weight named like a synthesis weight, or a tensor such a node
// made; the mapping side is every node whose values depend on a graph input and not on the
// synthesis side (Shape/Size read only a tensor's shape, so they pass no values on). The split is
// the latest mapping-side tensor of shape [1, num_ws, w_dim] from which every mapping tensor the
// synthesis reads is made (StyleGAN's broadcast `ws`, before it is unbound into per-layer w's).
import type { ModelProto, NodeProto } from '../onnx/schema/onnx_pb.ts';

export interface WSplit {
  /** The ws tensor [1, numWs, wDim] the synthesis reads. */
  tensor: string;
  numWs: number;
  wDim: number;
  /** Graph inputs the mapping reads (z; a conditional net's label too). */
  inputs: string[];
  /** Indices of the nodes ws is computed from (the mapping network), in graph order. */
  mapping: number[];
}

export type WFinding = { split: WSplit } | { note: string };

const SHAPE_ONLY = new Set(['Shape', 'Size']);
const SYNTHESIS_WEIGHT = /(^|[./_])synthesis([./_]|$)/i;

function dims(model: ModelProto, name: string): number[] | undefined {
  const g = model.graph!;
  const v = [...g.valueInfo, ...g.output, ...g.input].find((x) => x.name === name);
  const t = v?.type?.value;
  if (t?.case !== 'tensorType' || !t.value.shape) return undefined;
  const out: number[] = [];
  for (const d of t.value.shape.dim) {
    if (d.value.case !== 'dimValue') return undefined;
    out.push(Number(d.value.value));
  }
  return out;
}

export function findWSplit(model: ModelProto): WFinding {
  const g = model.graph!;
  const inits = new Set(g.initializer.map((t) => t.name));
  const graphInputs = g.input.map((i) => i.name).filter((n) => !inits.has(n));
  if (![...inits].some((n) => SYNTHESIS_WEIGHT.test(n))) return { note: 'W features off: no synthesis weights (named *synthesis*) in this graph, so no mapping/synthesis split to take w at' };
  // Per tensor: the graph inputs its values depend on, and whether it is synthesis-side.
  const fromInput = new Map<string, Set<string>>(graphInputs.map((n) => [n, new Set([n])]));
  const synthesis = new Set<string>();
  const nodeSyn: boolean[] = [];
  g.node.forEach((n: NodeProto) => {
    const syn = n.input.some((x) => synthesis.has(x) || (inits.has(x) && SYNTHESIS_WEIGHT.test(x)));
    nodeSyn.push(syn);
    const deps = new Set<string>();
    if (!SHAPE_ONLY.has(n.opType)) for (const x of n.input) for (const d of fromInput.get(x) ?? []) deps.add(d);
    for (const o of n.output) {
      if (syn) synthesis.add(o);
      if (deps.size) fromInput.set(o, deps);
    }
  });
  const mappingSide = (t: string) => fromInput.has(t) && !synthesis.has(t);
  // Mapping tensors the synthesis reads.
  const frontier = new Set<string>();
  g.node.forEach((n, i) => {
    if (nodeSyn[i]) for (const x of n.input) if (mappingSide(x) && !graphInputs.includes(x)) frontier.add(x);
  });
  if (frontier.size === 0) return { note: 'W features off: the synthesis reads no tensor made from the inputs by a separate mapping network' };
  // Ancestors (tensor names) of each tensor, for the mapping side only.
  const producer = new Map<string, number>();
  g.node.forEach((n, i) => n.output.forEach((o) => producer.set(o, i)));
  const ancestors = (t: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [t];
    while (stack.length) {
      const x = stack.pop()!;
      if (seen.has(x)) continue;
      seen.add(x);
      const p = producer.get(x);
      if (p !== undefined) for (const y of g.node[p]!.input) if (fromInput.has(y)) stack.push(y);
    }
    return seen;
  };
  const frontierAncestors = [...frontier].map(ancestors);
  let best: { tensor: string; node: number; d: number[] } | undefined;
  g.node.forEach((n, i) => {
    if (nodeSyn[i] || SHAPE_ONLY.has(n.opType)) return;
    for (const o of n.output) {
      if (!mappingSide(o)) continue;
      const d = dims(model, o);
      if (d?.length !== 3 || d[0] !== 1 || d[1]! < 2) continue;
      if (frontierAncestors.every((a) => a.has(o))) best = { tensor: o, node: i, d };
    }
  });
  if (!best) return { note: 'W features off: no single [1, num_ws, w_dim] tensor between the mapping and the synthesis network' };
  // The mapping network: every node ws is computed from.
  const need = new Set<number>();
  const stack = [best.tensor];
  const seen = new Set<string>();
  while (stack.length) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    const p = producer.get(x);
    if (p === undefined) continue;
    need.add(p);
    for (const y of g.node[p]!.input) stack.push(y);
  }
  const inputs = graphInputs.filter((n) => seen.has(n));
  return { split: { tensor: best.tensor, numWs: best.d[1]!, wDim: best.d[2]!, inputs, mapping: [...need].sort((a, b) => a - b) } };
}
