// What `netbend inspect` shows and what the engine binds sources to: the graph's own inputs,
// outputs, opset and weights, read from the file rather than assumed.
import type { ModelProto, TensorProto, ValueInfoProto } from './schema/onnx_pb.ts';
import { dataTypeName, elementCount } from './tensor-data.ts';
import { formatNote, storedWeights } from './weight-format.ts';

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
  /** The type it is stored in (float32, float16, int8, uint8); bends compute in float32 either way. */
  dtype: string;
  /** How it is stored when not plain float32: `float16`, `int8 per channel (axis 0), DequantizeLinear`. */
  storage?: string;
  /** Why it cannot be bent or blended: an integer layout netbend cannot turn back into floats. */
  unbendable?: string;
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

/** The weight initializers (see storedWeights for which those are and how they are stored). */
export function weightInitializers(model: ModelProto): TensorProto[] {
  return storedWeights(model).map((w) => w.tensor);
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
    weights: storedWeights(model).map(({ tensor: t, format }) => {
      const storage = formatNote(format);
      return {
        name: t.name,
        shape: t.dims.map(Number),
        count: elementCount(t.dims),
        dtype: dataTypeName(t.dataType),
        ...(storage ? { storage } : {}),
        ...(format.kind === 'unknown' ? { unbendable: format.why } : {}),
      };
    }),
    nodeCount: g.node.length,
  };
}

/**
 * Why `b` cannot be blended with `a`: every weight of `a` needs one of the same name and shape in
 * `b`, both readable as floats. Stored types may differ (a float16 model blends toward a float32 one).
 */
export function partnerMismatches(a: ModelInfo, b: ModelInfo): string[] {
  const theirs = new Map(b.weights.map((w) => [w.name, w]));
  const out: string[] = [];
  for (const w of a.weights) {
    const t = theirs.get(w.name);
    const s = t?.shape.join('x');
    if (s === undefined) out.push(`${w.name} (${w.shape.join('x')}) is missing in the partner`);
    else if (s !== w.shape.join('x')) out.push(`${w.name} is ${s} in the partner, ${w.shape.join('x')} here`);
    else if (w.unbendable) out.push(`${w.name} cannot be blended here: ${w.unbendable}`);
    else if (t?.unbendable) out.push(`${w.name} cannot be blended in the partner: ${t.unbendable}`);
  }
  return out;
}
