// The ONNX side of a mapper: a graph computed in float64 between a float32 input `x` [1, inputs]
// and a float32 output `y` [1, targets]. Doubles inside, so the exported net gives what the
// JavaScript prediction gives (1e-12, not float32's 1e-4 once a kernel's alphas grow large) and a
// kNN's exact hit stays exact. Constants are Constant nodes (GraphBuilder's initializers are
// float32); onnxruntime's CPU kernels cover every op used here in double.
import { create } from '@bufbuild/protobuf';
import { attr, type GraphBuilder } from '../engine/onnx/graph-builder.ts';
import { TensorProtoSchema } from '../engine/onnx/schema/onnx_pb.ts';

const DOUBLE = 11;
export const FLOAT = 1;

/** Float64 constants and int64 shapes on a GraphBuilder. */
export class DoubleGraph {
  private counter = 0;
  constructor(readonly g: GraphBuilder) {}

  /** A float64 constant, `dims` [] for a scalar. */
  const(name: string, data: ArrayLike<number>, dims: readonly number[]): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`mapper constant ${name}: dims [${dims.join(',')}] hold ${count} values, got ${data.length}`);
    const bytes = new DataView(new ArrayBuffer(data.length * 8));
    for (let i = 0; i < data.length; i++) bytes.setFloat64(i * 8, data[i]!, true);
    const out = `${name}_${this.counter++}`;
    const value = create(TensorProtoSchema, { name: out, dims: dims.map((d) => BigInt(d)), dataType: DOUBLE, rawData: new Uint8Array(bytes.buffer) });
    this.g.node('Constant', [], [out], { value: attr.tensor(value) });
    return out;
  }

  /** An int64 vector (axes, shapes, counts). */
  ints(values: readonly number[]): string {
    return this.g.constant(
      BigInt64Array.from(values, (v) => BigInt(v)),
      [values.length],
    );
  }

  op(type: string, inputs: readonly string[], attrs: Parameters<GraphBuilder['op']>[2] = {}): string {
    return this.g.op(type, inputs, attrs);
  }

  toDouble(x: string): string {
    return this.g.op('Cast', [x], { to: attr.int(DOUBLE) });
  }

  /** Squared distances [1, n] from `xn` [1, d] to each row of `points` (n x d, row-major). */
  squaredDistances(xn: string, points: Float64Array, n: number, d: number): string {
    const diff = this.op('Sub', [xn, this.const('points', points, [n, d])]);
    const d2 = this.op('ReduceSum', [this.op('Mul', [diff, diff]), this.ints([1])], { keepdims: attr.int(0) });
    return this.op('Reshape', [d2, this.ints([1, n])]);
  }
}
