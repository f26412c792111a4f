// What `netbend inspect` shows and what the engine binds sources to: the graph's own inputs,
// outputs, opset and weights, read from the file rather than assumed.
import type { ModelProto, TensorProto, ValueInfoProto } from './schema/onnx_pb.ts';
import { DataType, dataTypeName, elementCount } from './tensor-data.ts';

/** A dimension is a number, or a symbolic name (e.g. 'batch') for dynamic axes. */
export type Dim = number | string;

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: Dim[];
}

export interface WeightInfo {
  name: string;
  shape: number[];
  count: number;
}

export interface ModelInfo {
  producer: string;
  irVersion: number;
  opset: number;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  weights: WeightInfo[];
  nodeCount: number;
}

export function tensorInfo(v: ValueInfoProto): TensorInfo {
  const t = v.type?.value.case === 'tensorType' ? v.type.value.value : undefined;
  const shape: Dim[] = (t?.shape?.dim ?? []).map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : '?'));
  return { name: v.name, dtype: t ? dataTypeName(t.elemType) : 'unknown', shape };
}

/**
 * Weights are the float initializers a person trained: exporters name them after module paths
 * (`G.synthesis.L6_84_128.weight`), while their own constants get flat names (`val_3`, `view`).
 * A graph with no dotted names at all (hand-built nets) counts every float tensor above 1 element.
 */
export function weightInitializers(model: ModelProto): TensorProto[] {
  const floats = (model.graph?.initializer ?? []).filter((t) => t.dataType === DataType.FLOAT && t.dataLocation !== 1);
  const dotted = floats.filter((t) => /^[A-Za-z_][\w-]*(\.[\w-]+)+$/.test(t.name) && elementCount(t.dims) > 1);
  return dotted.length > 0 ? dotted : floats.filter((t) => elementCount(t.dims) > 1);
}

export function describeModel(model: ModelProto): ModelInfo {
  const g = model.graph!;
  const initNames = new Set(g.initializer.map((t) => t.name));
  const opset = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  return {
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    irVersion: Number(model.irVersion),
    opset: opset ? Number(opset.version) : 0,
    // Old exporters list initializers as inputs too; those are not inputs a source can feed.
    inputs: g.input.filter((v) => !initNames.has(v.name)).map(tensorInfo),
    outputs: g.output.map(tensorInfo),
    weights: weightInitializers(model).map((t) => ({ name: t.name, shape: t.dims.map(Number), count: elementCount(t.dims) })),
    nodeCount: g.node.length,
  };
}

/** Why `b` cannot be blended with `a`: every weight of `a` needs one of the same name and shape in `b`. */
export function partnerMismatches(a: ModelInfo, b: ModelInfo): string[] {
  const theirs = new Map(b.weights.map((w) => [w.name, w.shape.join('x')]));
  const out: string[] = [];
  for (const w of a.weights) {
    const s = theirs.get(w.name);
    if (s === undefined) out.push(`${w.name} (${w.shape.join('x')}) is missing in the partner`);
    else if (s !== w.shape.join('x')) out.push(`${w.name} is ${s} in the partner, ${w.shape.join('x')} here`);
  }
  return out;
}
