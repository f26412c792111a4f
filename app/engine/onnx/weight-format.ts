// Which initializers are weights, and how each is stored: float32, float16, or int8/uint8 with
// the scale and zero point that turn it back into floats. Listing, bending and blending all go
// through this, so a half-float or quantized copy of a model has the same weights, by the same
// names, as its float32 original.
import type { ModelProto, NodeProto, TensorProto } from './schema/onnx_pb.ts';
import { DataType, dataTypeName, dequantize, elementCount, floatTensor, floatValues } from './tensor-data.ts';

export type QuantizedBy = 'DequantizeLinear' | 'MatMulInteger' | 'ConvInteger';

export type WeightFormat =
  | { kind: 'float'; type: number }
  | {
      kind: 'quantized';
      type: number;
      /** The node that reads the integer values: a QDQ weight's DequantizeLinear, or the integer op itself. */
      via: QuantizedBy;
      node: NodeProto;
      scale: TensorProto;
      zeroPoint: TensorProto | undefined;
      /** The axis scale and zero point run along; undefined: one of each for the whole tensor. */
      axis: number | undefined;
    }
  /** An integer weight stored in a layout netbend cannot turn back into floats: listed, never bent. */
  | { kind: 'unknown'; type: number; why: string };

export interface StoredWeight {
  tensor: TensorProto;
  format: WeightFormat;
}

interface Use {
  node: NodeProto;
  index: number;
}

const DOTTED = /^[A-Za-z_][\w-]*(\.[\w-]+)+$/;
const isIntegerOp = (n: NodeProto) => n.opType === 'MatMulInteger' || n.opType === 'ConvInteger';

/**
 * Weights are the initializers a person trained: exporters name them after module paths
 * (`G.synthesis.L6_84_128.weight`), while their own constants get flat names (`val_3`, `view`).
 * A graph with no dotted names at all (hand-built nets) counts every float tensor above 1 element.
 * Integer tensors count only where a DequantizeLinear, MatMulInteger or ConvInteger reads them as
 * its weight; scales and zero points are never weights, whatever their names.
 */
export function storedWeights(model: ModelProto): StoredWeight[] {
  const g = model.graph;
  if (!g) return [];
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const uses = new Map<string, Use[]>();
  const producer = new Map<string, NodeProto>();
  for (const node of g.node) {
    node.input.forEach((name, index) => {
      if (!name) return;
      const list = uses.get(name) ?? [];
      list.push({ node, index });
      uses.set(name, list);
    });
    for (const o of node.output) producer.set(o, node);
  }
  const params = new Set<string>();
  for (const n of g.node) {
    if (n.opType === 'DequantizeLinear' || n.opType === 'QuantizeLinear') n.input.slice(1).forEach((i) => params.add(i));
    if (isIntegerOp(n)) n.input.slice(2).forEach((i) => params.add(i));
  }
  const scales = new Map<NodeProto, TensorProto | string>();
  for (const n of g.node) {
    if (!isIntegerOp(n)) continue;
    const s = integerOpScale(n, uses, producer, inits);
    scales.set(n, s);
    if (typeof s !== 'string') params.add(s.name);
  }
  const candidates: StoredWeight[] = [];
  for (const t of g.initializer) {
    if (t.dataLocation === 1 || params.has(t.name)) continue;
    if (t.dataType === DataType.FLOAT || t.dataType === DataType.FLOAT16) candidates.push({ tensor: t, format: { kind: 'float', type: t.dataType } });
    else if (t.dataType === DataType.INT8 || t.dataType === DataType.UINT8) {
      const u = uses.get(t.name) ?? [];
      if (u.some(isWeightUse)) candidates.push({ tensor: t, format: quantizedFormat(t, u, inits, scales, model) });
    }
  }
  const dotted = candidates.filter((w) => DOTTED.test(w.tensor.name) && elementCount(w.tensor.dims) > 1);
  return dotted.length > 0 ? dotted : candidates.filter((w) => elementCount(w.tensor.dims) > 1);
}

function isWeightUse(u: Use): boolean {
  return (u.node.opType === 'DequantizeLinear' && u.index === 0) || (isIntegerOp(u.node) && u.index === 1);
}

function intAttr(n: NodeProto, name: string): number | undefined {
  const a = n.attribute.find((x) => x.name === name);
  return a ? Number(a.i) : undefined;
}

/**
 * A MatMulInteger or ConvInteger multiplies integers; the weight's scale is applied after it.
 * onnxruntime's quantize_dynamic writes `Cast(to float) -> Mul(by input scale x weight scale)`,
 * the weight scale being the one stored operand of that second Mul. Anything else: a reason.
 */
function integerOpScale(n: NodeProto, uses: Map<string, Use[]>, producer: Map<string, NodeProto>, inits: Map<string, TensorProto>): TensorProto | string {
  const expected = `netbend expects ${n.opType} -> Cast(to float) -> Mul by (input scale x weight scale), as onnxruntime's quantize_dynamic writes it`;
  const only = (name: string | undefined) => {
    const u = name ? (uses.get(name) ?? []) : [];
    return u.length === 1 ? u[0]!.node : undefined;
  };
  const cast = only(n.output[0]);
  if (cast?.opType !== 'Cast' || intAttr(cast, 'to') !== DataType.FLOAT) return `its scale was not found (${expected})`;
  const mul = only(cast.output[0]);
  const other = mul?.opType === 'Mul' ? mul.input.find((i) => i !== cast.output[0]) : undefined;
  const scaleMul = other === undefined ? undefined : producer.get(other);
  if (scaleMul?.opType !== 'Mul') return `its scale was not found (${expected})`;
  const stored = scaleMul.input.map((i) => inits.get(i)).filter((t) => t !== undefined);
  if (stored.length !== 1 || stored[0]!.dataType !== DataType.FLOAT) return `its scale was not found (${expected})`;
  return stored[0]!;
}

function quantizedFormat(t: TensorProto, uses: Use[], inits: Map<string, TensorProto>, scales: Map<NodeProto, TensorProto | string>, model: ModelProto): WeightFormat {
  const type = t.dataType;
  const unknown = (why: string): WeightFormat => ({ kind: 'unknown', type, why });
  if (uses.length !== 1) return unknown(`it is read by ${uses.length} nodes; netbend bends a quantized weight read by one DequantizeLinear, MatMulInteger or ConvInteger`);
  const { node, index } = uses[0]!;
  const dims = t.dims.map(Number);
  const stored = (i: number) => {
    const name = node.input[i];
    return name ? inits.get(name) : undefined;
  };
  if (node.opType === 'DequantizeLinear' && index === 0) {
    for (const a of node.attribute) {
      if (a.name === 'axis' || (a.name === 'block_size' && a.i === 0n)) continue;
      return unknown(`its DequantizeLinear has ${a.name === 'block_size' ? 'block_size (blocked quantization)' : `the attribute ${a.name}`}, a layout netbend does not know`);
    }
    const scale = stored(1);
    if (!scale) return unknown('its DequantizeLinear scale is computed in the graph, not stored');
    if (scale.dataType !== DataType.FLOAT && scale.dataType !== DataType.FLOAT16) return unknown(`its scale is ${dataTypeName(scale.dataType)}; netbend reads float32 and float16 scales`);
    if (node.input[2] && !stored(2)) return unknown('its DequantizeLinear zero point is computed in the graph, not stored');
    return layout(t, node, 'DequantizeLinear', scale, stored(2), intAttr(node, 'axis') ?? 1, model);
  }
  if (isIntegerOp(node) && index === 1) {
    const scale = scales.get(node);
    if (scale === undefined || typeof scale === 'string') return unknown(scale ?? 'its scale was not found');
    if (node.input[3] && !stored(3)) return unknown(`its ${node.opType} zero point is computed in the graph, not stored`);
    // Per-channel integer weights run along the output: MatMulInteger's columns, ConvInteger's filters.
    return layout(t, node, node.opType as QuantizedBy, scale, stored(3), node.opType === 'MatMulInteger' ? dims.length - 1 : 0, model);
  }
  return unknown(`it is read by ${node.opType} as input ${index}, not as a quantized weight`);
}

function layout(t: TensorProto, node: NodeProto, via: QuantizedBy, scale: TensorProto, zeroPoint: TensorProto | undefined, rawAxis: number, model: ModelProto): WeightFormat {
  const type = t.dataType;
  const dims = t.dims.map(Number);
  const unknown = (why: string): WeightFormat => ({ kind: 'unknown', type, why });
  if (zeroPoint && zeroPoint.dataType !== type) return unknown(`its zero point is ${dataTypeName(zeroPoint.dataType)}, the weight ${dataTypeName(type)}`);
  const opset = Number(model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0);
  // The in-graph round trip back to integers needs Round and Clip with inputs (opset 11).
  if (via !== 'DequantizeLinear' && opset < 11) return unknown(`the graph is opset ${opset}; bending ${via} weights needs opset 11 or later`);
  const sc = elementCount(scale.dims);
  const zc = zeroPoint ? elementCount(zeroPoint.dims) : 1;
  if (sc === 1 && zc === 1) return { kind: 'quantized', type, via, node, scale, zeroPoint, axis: undefined };
  const axis = rawAxis < 0 ? rawAxis + dims.length : rawAxis;
  const channels = dims[axis];
  if (channels === undefined) return unknown(`its quantization axis ${rawAxis} is outside its ${dims.length} dimensions`);
  for (const [what, count] of [
    ['scale', sc],
    ['zero point', zc],
  ] as const) {
    if (count !== 1 && count !== channels) return unknown(`its ${what} holds ${count} values for ${channels} channels along axis ${axis}`);
  }
  return { kind: 'quantized', type, via, node, scale, zeroPoint, axis };
}

/** A weight's values as the floats its consumers compute with. */
export function weightValues(w: StoredWeight): Float32Array {
  const f = w.format;
  if (f.kind === 'float') return floatValues(w.tensor);
  if (f.kind === 'quantized') return dequantize(w.tensor, f.scale, f.zeroPoint, f.axis);
  throw new Error(`cannot read weight ${w.tensor.name} (${dataTypeName(f.type)}): ${f.why}`);
}

/** The weight as a float tensor of the same name and dims: float ones as they are, quantized ones dequantized. */
export function floatWeight(w: StoredWeight): TensorProto {
  return w.format.kind === 'float' ? w.tensor : floatTensor(w.tensor.name, weightValues(w), w.tensor.dims);
}

/** How a weight is stored, in words; undefined for plain float32. */
export function formatNote(f: WeightFormat): string | undefined {
  if (f.kind === 'float') return f.type === DataType.FLOAT ? undefined : dataTypeName(f.type);
  if (f.kind === 'unknown') return `${dataTypeName(f.type)}, not bendable: ${f.why}`;
  const where = f.axis === undefined ? 'per tensor' : `per channel (axis ${f.axis})`;
  return `${dataTypeName(f.type)} ${where}, ${f.via}`;
}
