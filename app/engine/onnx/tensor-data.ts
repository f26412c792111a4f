// Initializer payloads as typed arrays. Float weights are what netbend bends; everything else
// (exporter constants, shapes) is only ever copied through.
import type { TensorProto } from './schema/onnx_pb.ts';

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
  16: 'bfloat16',
};
export function dataTypeName(t: number): string {
  return NAMES[t] ?? `type ${t}`;
}

export function elementCount(dims: readonly (number | bigint)[]): number {
  let n = 1;
  for (const d of dims) n *= Number(d);
  return n;
}

/** A fresh Float32Array copy of a float initializer's values (raw_data or float_data). */
export function floatValues(t: TensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT) throw new Error(`${t.name} is ${dataTypeName(t.dataType)}, not float32`);
  const n = elementCount(t.dims);
  if (t.rawData.length > 0) {
    if (t.rawData.length !== n * 4) throw new Error(`${t.name}: raw data holds ${t.rawData.length} bytes, expected ${n * 4}`);
    // Copy through a byte view: raw_data sits at an arbitrary offset inside the file buffer.
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(t.rawData);
    return out;
  }
  return Float32Array.from(t.floatData);
}
