// Initializer payloads as typed arrays. Weights are bent as float32 values whatever their stored
// type (float32, float16, int8/uint8 with a scale), so these decode each; everything else
// (exporter constants, shapes) is only ever copied through.
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, type TensorProto } from './schema/onnx_pb.ts';
import { halfBits, halfValue } from './float16.ts';

export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;

const NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
};
export function dataTypeName(t: number): string {
  return NAMES[t] ?? `type ${t}`;
}

/** Bytes per element in raw_data; 4-bit types pack two to a byte (handled in rawBytes). */
const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2, 17: 1, 18: 1, 19: 1, 20: 1 };

export function elementCount(dims: readonly (number | bigint)[]): number {
  let n = 1;
  for (const d of dims) n *= Number(d);
  return n;
}

function rawBytes(t: TensorProto): number | undefined {
  const n = elementCount(t.dims);
  if (t.dataType === 21 || t.dataType === 22) return Math.ceil(n / 2);
  const size = ELEMENT_BYTES[t.dataType];
  return size === undefined ? undefined : n * size;
}

/**
 * Why a tensor's raw_data cannot hold its dims (a truncated or hand-edited file), or undefined.
 * Checked when a model is read, so a bad weight is refused by name instead of failing later
 * inside onnxruntime or reading past the values.
 */
export function rawDataProblem(t: TensorProto): string | undefined {
  if (t.rawData.length === 0) return undefined;
  const want = rawBytes(t);
  if (want === undefined || want === t.rawData.length) return undefined;
  return `tensor ${t.name} (${dataTypeName(t.dataType)} [${t.dims.join(', ')}]): raw data holds ${t.rawData.length} bytes, expected ${want}`;
}

function checkCount(t: TensorProto, have: number, n: number, field: string): void {
  if (have !== n) throw new Error(`tensor ${t.name} (${dataTypeName(t.dataType)} [${t.dims.join(', ')}]): ${field} holds ${have} values, expected ${n}`);
}

/** The raw bytes copied into a fresh aligned buffer (raw_data sits at any offset in the file). */
function rawCopy(t: TensorProto): ArrayBuffer {
  const problem = rawDataProblem(t);
  if (problem) throw new Error(problem);
  const buf = new ArrayBuffer(t.rawData.length);
  new Uint8Array(buf).set(t.rawData);
  return buf;
}

/** A fresh Float32Array of a float32 or float16 initializer's values (raw_data or the typed field). */
export function floatValues(t: TensorProto): Float32Array {
  const n = elementCount(t.dims);
  if (t.dataType === DataType.FLOAT) {
    if (t.rawData.length > 0) return new Float32Array(rawCopy(t));
    checkCount(t, t.floatData.length, n, 'float_data');
    return Float32Array.from(t.floatData);
  }
  if (t.dataType === DataType.FLOAT16) {
    // Without raw_data, ONNX keeps each half's 16 bits in int32_data.
    const bits = t.rawData.length > 0 ? new Uint16Array(rawCopy(t)) : t.int32Data;
    checkCount(t, bits.length, n, 'int32_data');
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = halfValue(bits[i]! & 0xffff);
    return out;
  }
  throw new Error(`${t.name} is ${dataTypeName(t.dataType)}, not float32 or float16`);
}

/** The values of an int8 or uint8 initializer. */
export function intValues(t: TensorProto): Int8Array | Uint8Array {
  const n = elementCount(t.dims);
  const Kind = t.dataType === DataType.INT8 ? Int8Array : t.dataType === DataType.UINT8 ? Uint8Array : undefined;
  if (!Kind) throw new Error(`${t.name} is ${dataTypeName(t.dataType)}, not int8 or uint8`);
  if (t.rawData.length > 0) return new Kind(rawCopy(t));
  checkCount(t, t.int32Data.length, n, 'int32_data');
  return Kind.from(t.int32Data);
}

/**
 * Quantized values as the floats they stand for, (q - zero point) * scale, rounded once to float32
 * as DequantizeLinear computes them. Scale and zero point hold one value, or one per index of `axis`.
 */
export function dequantize(q: TensorProto, scale: TensorProto, zeroPoint: TensorProto | undefined, axis: number | undefined): Float32Array {
  const v = intValues(q);
  const s = floatValues(scale);
  const z = zeroPoint ? intValues(zeroPoint) : new Int8Array(1);
  const dims = q.dims.map(Number);
  const channels = axis === undefined ? 1 : dims[axis]!;
  for (const [what, len] of [
    ['scale', s.length],
    ['zero point', z.length],
  ] as const) {
    if (len !== 1 && len !== channels) throw new Error(`${q.name}: ${len} ${what} values for ${channels} channels`);
  }
  // Elements of one channel along `axis` repeat in runs of `inner`.
  const inner = axis === undefined ? v.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const c = axis === undefined ? 0 : Math.floor(i / inner) % channels;
    out[i] = (v[i]! - z[z.length === 1 ? 0 : c]!) * s[s.length === 1 ? 0 : c]!;
  }
  return out;
}

/** A float32 or float16 initializer holding `values`, as little-endian raw_data. */
export function floatTensor(name: string, values: Float32Array, dims: readonly (number | bigint)[], dataType: number = DataType.FLOAT): TensorProto {
  if (values.length !== elementCount(dims)) throw new Error(`tensor ${name}: dims [${dims.join(', ')}] hold ${elementCount(dims)} values, got ${values.length}`);
  const view = new DataView(new ArrayBuffer(values.length * (dataType === DataType.FLOAT16 ? 2 : 4)));
  for (let i = 0; i < values.length; i++) {
    if (dataType === DataType.FLOAT16) view.setUint16(i * 2, halfBits(values[i]!), true);
    else if (dataType === DataType.FLOAT) view.setFloat32(i * 4, values[i]!, true);
    else throw new Error(`tensor ${name}: ${dataTypeName(dataType)} is not a float type`);
  }
  return create(TensorProtoSchema, { name, dataType, dims: dims.map(BigInt), rawData: new Uint8Array(view.buffer) });
}

/** An int8 or uint8 initializer holding `values`. */
export function intTensor(name: string, values: Int8Array | Uint8Array, dims: readonly (number | bigint)[]): TensorProto {
  if (values.length !== elementCount(dims)) throw new Error(`tensor ${name}: dims [${dims.join(', ')}] hold ${elementCount(dims)} values, got ${values.length}`);
  const dataType = values instanceof Int8Array ? DataType.INT8 : DataType.UINT8;
  return create(TensorProtoSchema, { name, dataType, dims: dims.map(BigInt), rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) });
}
