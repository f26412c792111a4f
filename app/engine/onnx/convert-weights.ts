// Float32 weights rewritten in the smaller types models ship in, without Python: float16 storage
// (each weight cast to float32 before its consumers) and int8/uint8 QDQ (each weight through a
// DequantizeLinear before its consumers). Activations stay float32 either way, so the copy runs
// everywhere the original does, and its weights keep their names (the same weights to bend).
import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, type ModelProto, type NodeProto, NodeProtoSchema, type TensorProto } from './schema/onnx_pb.ts';
import { DataType, floatTensor, floatValues, intTensor } from './tensor-data.ts';
import { storedWeights } from './weight-format.ts';

export interface QuantizeOptions {
  /** int8: symmetric, zero point 0 (onnxruntime's default for weights); uint8: asymmetric. */
  type?: 'int8' | 'uint8';
  /** One scale per output channel (axis 0) rather than one per weight; needs opset 13. */
  perChannel?: boolean;
}

/** A copy whose float32 weights are stored as float16. */
export function weightsToFloat16(model: ModelProto): ModelProto {
  return restore(model, (w) => ({
    tensors: [floatTensor(w.name, floatValues(w), w.dims, DataType.FLOAT16)],
    node: (out) =>
      create(NodeProtoSchema, { opType: 'Cast', input: [w.name], output: [out], name: out, attribute: [create(AttributeProtoSchema, { name: 'to', type: 2, i: BigInt(DataType.FLOAT) })] }),
    suffix: 'float',
  }));
}

/** A copy whose float32 weights are quantized to int8 or uint8, each read through a DequantizeLinear. */
export function quantizeWeights(model: ModelProto, opts: QuantizeOptions = {}): ModelProto {
  const type = opts.type ?? 'int8';
  const opset = Number(model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0);
  if (opset < (opts.perChannel ? 13 : 10)) throw new Error(`quantizing weights ${opts.perChannel ? 'per channel' : ''} needs opset ${opts.perChannel ? 13 : 10}; this graph is opset ${opset}`);
  return restore(model, (w) => {
    const dims = w.dims.map(Number);
    const values = floatValues(w);
    const channels = opts.perChannel && dims.length > 0 ? dims[0]! : 1;
    const q = quantize(values, channels, type);
    const shape = channels === 1 && !opts.perChannel ? [] : [channels];
    const scale = floatTensor(`${w.name}_scale`, q.scales, shape);
    const zero = intTensor(`${w.name}_zero_point`, q.zeros, shape);
    return {
      tensors: [intTensor(w.name, q.values, dims), scale, zero],
      node: (out) =>
        create(NodeProtoSchema, {
          opType: 'DequantizeLinear',
          input: [w.name, scale.name, zero.name],
          output: [out],
          name: out,
          attribute: opts.perChannel ? [create(AttributeProtoSchema, { name: 'axis', type: 2, i: 0n })] : [],
        }),
      suffix: 'dequantized',
    };
  });
}

/** Values on a grid of `channels` runs (along axis 0): scale and zero point per run, as QuantizeLinear rounds. */
function quantize(v: Float32Array, channels: number, type: 'int8' | 'uint8'): { values: Int8Array | Uint8Array; scales: Float32Array; zeros: Int8Array | Uint8Array } {
  const [qlo, qhi] = type === 'int8' ? [-127, 127] : [0, 255];
  const values = type === 'int8' ? new Int8Array(v.length) : new Uint8Array(v.length);
  const zeros = type === 'int8' ? new Int8Array(channels) : new Uint8Array(channels);
  const scales = new Float32Array(channels);
  const run = v.length / channels;
  for (let c = 0; c < channels; c++) {
    const part = v.subarray(c * run, (c + 1) * run);
    let lo = 0;
    let hi = 0;
    for (const x of part) (lo = Math.min(lo, x)), (hi = Math.max(hi, x));
    // Symmetric int8 keeps 0 exact with zero point 0; uint8 spans [min, max] with 0 on the grid.
    const span = type === 'int8' ? Math.max(-lo, hi) / qhi : (hi - lo) / (qhi - qlo);
    const s = Math.fround(span || 1);
    const z = type === 'int8' ? 0 : Math.min(qhi, Math.max(qlo, roundEven(-lo / s)));
    scales[c] = s;
    zeros[c] = z;
    for (let i = 0; i < part.length; i++) values[c * run + i] = Math.min(qhi, Math.max(qlo, roundEven(part[i]! / s) + z));
  }
  return { values, scales, zeros };
}

function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface Restored {
  /** The weight under its own name in the new type, and any tensors its reading node needs. */
  tensors: TensorProto[];
  /** The node turning it back into the float32 tensor `out`. */
  node: (out: string) => NodeProto;
  suffix: string;
}

/**
 * Replaces every float32 weight by what `f` makes of it, and gives its consumers the float32
 * tensor its new node computes. The node goes right before the weight's first consumer, so the
 * node order (which a graph without module scopes derives its layers from) stays the original's.
 */
function restore(model: ModelProto, f: (w: TensorProto) => Restored): ModelProto {
  const g = model.graph!;
  const weights = storedWeights(model).filter((w) => w.format.kind === 'float' && w.format.type === DataType.FLOAT);
  const made = new Map(weights.map((w) => [w.tensor.name, f(w.tensor)]));
  const taken = new Set([...g.initializer.map((t) => t.name), ...g.node.flatMap((n) => n.output), ...g.input.map((i) => i.name)]);
  const renamed = new Map<string, string>();
  for (const name of made.keys()) {
    let out = `${name}_${made.get(name)!.suffix}`;
    for (let n = 2; taken.has(out); n++) out = `${name}_${made.get(name)!.suffix}_${n}`;
    taken.add(out);
    renamed.set(name, out);
  }
  for (const [name, m] of made) {
    for (const t of m.tensors) {
      if (t.name === name) continue;
      if (taken.has(t.name)) throw new Error(`cannot convert ${name}: the graph already has a tensor named ${t.name}`);
      taken.add(t.name);
    }
  }
  const initializer = g.initializer.flatMap((t) => made.get(t.name)?.tensors ?? [t]);
  const node: NodeProto[] = [];
  const placed = new Set<string>();
  for (const n of g.node) {
    for (const i of n.input) {
      const out = renamed.get(i);
      if (!out || placed.has(i)) continue;
      node.push(made.get(i)!.node(out));
      placed.add(i);
    }
    node.push(n.input.some((i) => renamed.has(i)) ? { ...n, input: n.input.map((i) => renamed.get(i) ?? i) } : n);
  }
  // A weight also listed as a graph input (old exporters) could be fed float32 over its new type.
  const input = g.input.filter((i) => !made.has(i.name));
  // Exporters record the weights' types too; a stale float32 there fails the graph's type check.
  const valueInfo = g.valueInfo.map((v) => {
    const t = made.get(v.name)?.tensors[0];
    if (!t || v.type?.value.case !== 'tensorType') return v;
    return { ...v, type: { ...v.type, value: { case: 'tensorType' as const, value: { ...v.type.value.value, elemType: t.dataType } } } };
  });
  return { ...model, graph: { ...g, initializer, node, input, valueInfo } };
}
