// Is a frame finite? The picture leaves the graph as RGBA8, where Clip and Cast turn a NaN into 0
// (black) and an Inf into 0 or 255, so the check is made in the graph, on the float image, next to
// that conversion: ReduceSum(image * 0) is 0 when every value is finite and NaN when one is not
// (NaN * 0 and Inf * 0 are both NaN). One multiply and one reduction on the execution provider, and
// one float read back per frame.
import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, NodeProtoSchema, TensorProtoSchema, type ModelProto } from './schema/onnx_pb.ts';
import { valueInfo } from './rewrite.ts';
import { DataType } from './tensor-data.ts';

/** Output holding 0 for a finite image and NaN otherwise. */
export const FINITE_OUTPUT = 'netbend_finite';

export function appendFiniteFlag(model: ModelProto, image: string): ModelProto {
  const g = model.graph!;
  const zero = create(TensorProtoSchema, { name: 'netbend_finite_zero', dataType: DataType.FLOAT, dims: [], rawData: new Uint8Array(4) });
  const zeroed = create(NodeProtoSchema, { opType: 'Mul', name: 'netbend_finite_zeroed', input: [image, zero.name], output: ['netbend_finite_zeroed'] });
  // No axes: every axis, in every opset. keepdims=0 gives a scalar.
  const keepdims = create(AttributeProtoSchema, { name: 'keepdims', type: 2, i: 0n });
  const sum = create(NodeProtoSchema, { opType: 'ReduceSum', name: FINITE_OUTPUT, input: ['netbend_finite_zeroed'], output: [FINITE_OUTPUT], attribute: [keepdims] });
  return {
    ...model,
    graph: { ...g, node: [...g.node, zeroed, sum], initializer: [...g.initializer, zero], output: [...g.output, valueInfo(FINITE_OUTPUT, DataType.FLOAT, [])] },
  };
}

/** Whether every value is finite: one pass, no branch per value (x * 0 is NaN exactly for NaN and Inf). */
export function allFinite(data: ArrayLike<number>): boolean {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i]! * 0;
  return s === 0;
}
