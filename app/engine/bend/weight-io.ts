// Bends compute in float32 whatever type a weight is stored in: its chain starts by reading the
// stored values as floats and ends by writing them back as the tensor its consumers read, in the
// type they expect, so the rest of the graph is untouched. Both ends are exact round trips at
// identity amounts (half -> float -> half, q -> (q - z) s -> q), so an unbent weight is its stored self.
import { create } from '@bufbuild/protobuf';
import { type AttributeProto, AttributeProtoSchema, type NodeProto, type TensorProto } from '../onnx/schema/onnx_pb.ts';
import { DataType, dataTypeName, floatTensor, floatValues, intValues } from '../onnx/tensor-data.ts';
import type { StoredWeight } from '../onnx/weight-format.ts';

export interface ChainBuilder {
  /** Adds a node reading `input`; returns its one output. */
  node(op: string, input: string[], attribute?: AttributeProto[]): string;
  /** Adds an initializer; returns its name. */
  initializer(t: TensorProto): string;
}

export interface WeightIo {
  /** The tensor the weight's consumers read; the chain's last node must write it. */
  target: string;
  /** A node of the original graph the chain takes over (a QDQ weight's DequantizeLinear). */
  replaces: NodeProto | undefined;
  /** Adds the stored weight (as `base`) and the nodes reading it; returns the float32 tensor. */
  read(b: ChainBuilder, base: string): string;
  /** Adds the nodes turning the bent float32 tensor `cur` into the target's type; returns the result. */
  write(b: ChainBuilder, cur: string): string;
}

const to = (type: number) => create(AttributeProtoSchema, { name: 'to', type: 2, i: BigInt(type) });

export function weightIo(w: StoredWeight): WeightIo {
  const { tensor: t, format: f } = w;
  const name = t.name;
  const stored = (b: ChainBuilder, base: string) => b.initializer({ ...t, name: base });
  if (f.kind === 'unknown') throw new Error(`cannot bend weight ${name} (${dataTypeName(f.type)}): ${f.why}`);
  if (f.kind === 'float') {
    const half = f.type === DataType.FLOAT16;
    return {
      target: name,
      replaces: undefined,
      read: (b, base) => (half ? b.node('Cast', [stored(b, base)], [to(DataType.FLOAT)]) : stored(b, base)),
      write: (b, cur) => (half ? b.node('Cast', [cur], [to(DataType.FLOAT16)]) : cur),
    };
  }
  if (f.via === 'DequantizeLinear') {
    // The chain reads the DequantizeLinear's floats and hands its consumers floats: no requantizing,
    // so a bend is never rounded to the integer grid or clipped to its range.
    const dq = f.node;
    const half = f.scale.dataType === DataType.FLOAT16;
    return {
      target: dq.output[0]!,
      replaces: dq,
      read: (b, base) => {
        const floats = b.node('DequantizeLinear', [stored(b, base), ...dq.input.slice(1)], dq.attribute);
        return half ? b.node('Cast', [floats], [to(DataType.FLOAT)]) : floats;
      },
      write: (b, cur) => (half ? b.node('Cast', [cur], [to(DataType.FLOAT16)]) : cur),
    };
  }
  // MatMulInteger and ConvInteger read integers: the bent floats go back onto the weight's own grid
  // (same scale and zero point, rounded half to even and saturated as QuantizeLinear does).
  const dims = t.dims.map(Number);
  const along = (values: Float32Array, tag: string) => {
    const shape = values.length === 1 ? [] : dims.map((d, i) => (i === f.axis ? d : 1));
    return floatTensor(`netbend_q${tag}:${name}`, values, shape);
  };
  const scale = along(floatValues(f.scale), 's');
  const zero = f.zeroPoint ? along(Float32Array.from(intValues(f.zeroPoint)), 'z') : undefined;
  const [lo, hi] = f.type === DataType.INT8 ? [-128, 127] : [0, 255];
  return {
    target: name,
    replaces: undefined,
    read: (b, base) => {
      let x = b.node('Cast', [stored(b, base)], [to(DataType.FLOAT)]);
      if (zero) x = b.node('Sub', [x, b.initializer(zero)]);
      return b.node('Mul', [x, b.initializer(scale)]);
    },
    write: (b, cur) => {
      let q = b.node('Round', [b.node('Div', [cur, scale.name])]);
      if (zero) q = b.node('Add', [q, zero.name]);
      const bound = (tag: string, v: number) => b.initializer(floatTensor(`netbend_q${tag}:${name}`, new Float32Array([v]), []));
      q = b.node('Clip', [q, bound('lo', lo), bound('hi', hi)]);
      return b.node('Cast', [q], [to(f.type)]);
    },
  };
}

/** A partner's weight as a float32 tensor in the chain (the host hands them over as float32 or float16). */
export function readPartner(b: ChainBuilder, t: TensorProto, base: string): string {
  if (t.dataType === DataType.FLOAT) return b.initializer({ ...t, name: base });
  if (t.dataType === DataType.FLOAT16) return b.node('Cast', [b.initializer({ ...t, name: base })], [to(DataType.FLOAT)]);
  throw new Error(`partner weight ${t.name} is ${dataTypeName(t.dataType)}; partners are blended from float32 or float16 values`);
}
