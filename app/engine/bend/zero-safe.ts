// Ablate zeroes whole output channels of a weight (scale 0 and set 0 zero all of them), and
// normalised convolutions then divide by the channel's norm: StyleGAN2's demodulation is
// Reciprocal(Sqrt(ReduceSum(Pow(w * style, 2)))) per output channel, StyleGAN3 also pre-normalises
// with Reciprocal(Sqrt(ReduceMean(Pow(w, 2)))), and the exports carry no epsilon. An all-zero
// channel gives 1/0 = inf there, and inf times the zero conv output is NaN: every value
// downstream, and the frame, went black.
//
// What a performer means by ablating a channel (or scaling a layer to 0) is that it contributes
// nothing, which is what the network's own formula gives with its epsilon (0 * 1/sqrt(eps) = 0).
// So on the weight's own path (from the weight up to the op that contracts it with activations),
// each division whose divisor comes from the weight becomes Where(divisor == 0, 0, division): bit
// for bit the same wherever the divisor is not 0, and 0 (the channel silenced) where it is.
import { create } from '@bufbuild/protobuf';
import { NodeProtoSchema, TensorProtoSchema, type ModelProto, type NodeProto, type TensorProto } from '../onnx/schema/onnx_pb.ts';
import { DataType, floatValues } from '../onnx/tensor-data.ts';
import { constantTensors } from '../onnx/rewrite.ts';
import type { StructuralEdit } from './bend-graph.ts';
import { gramOutput } from './demod-split.ts';

/**
 * Ops the weight's path is followed through: they keep the element type and never mix in
 * activations by contraction. The path ends at Conv, ConvTranspose, Gemm, MatMul and anything else.
 */
const FOLLOW = new Set(
  (
    'Identity Unsqueeze Squeeze Reshape Flatten Transpose Expand Tile Slice Concat Split Pad ' +
    'Mul Add Sub Div Pow Sqrt Reciprocal Neg Abs Max Min ReduceSum ReduceMean ReduceL2 ReduceSumSquare ReduceMax ReduceMin'
  ).split(' '),
);

/** Bytes per element of the float types a zero can be written in (all-zero bytes are 0 in each). */
const FLOAT_BYTES: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.FLOAT16]: 2, 16: 2 /* BFLOAT16 */ };

/** Edit ops that can zero a whole channel: ablate by design, scale and set at 0. */
const ZEROING = new Set(['ablate', 'scale', 'set']);

/** The live graph with the normalisations of weights an edit can zero made zero-safe (see above). */
export function zeroSafeEdits(model: ModelProto, edits: readonly StructuralEdit[]): ModelProto {
  return zeroSafeDivisions(
    model,
    edits.filter((e) => ZEROING.has(e.op)).flatMap((e) => e.weights),
  );
}

export function zeroSafeDivisions(model: ModelProto, weights: Iterable<string>): ModelProto {
  const g = model.graph!;
  const opset = Number(model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0);
  // Equal on floats needs opset 11.
  if (opset < 11) return model;
  const constants = constantTensors(g);
  const made = new Set(g.node.flatMap((n) => n.output));
  // Tensors on a weight's path, with their element type (the weight's).
  const path = new Map<string, number>();
  for (const w of weights) {
    // In the live graph the original is renamed `netbend_a:<w>` and `w` is the edited result.
    const t = constants.get(`netbend_a:${w}`) ?? constants.get(w);
    const type = t?.dataType ?? DataType.FLOAT;
    if (FLOAT_BYTES[type]) path.set(w, type);
    // A demodulation reading the weight's Q (demod-split.ts) divides by it too.
    if (made.has(gramOutput(w))) path.set(gramOutput(w), DataType.FLOAT);
  }
  if (path.size === 0) return model;
  const zeros = new Map<number, string>();
  const zero = (type: number) => {
    let name = zeros.get(type);
    if (!name) zeros.set(type, (name = `netbend_zero:${type}`));
    return name;
  };
  const nodes: NodeProto[] = [];
  let k = 0;
  for (const node of g.node) {
    const from = node.input.find((i) => path.has(i));
    const onPath = from !== undefined && (node.domain === '' || node.domain === 'ai.onnx');
    const divisor = onPath ? divisorOf(node, path, (name) => constants.get(name)) : undefined;
    if (divisor === undefined) nodes.push(node);
    else {
      const type = path.get(divisor)!;
      const out = node.output[0]!;
      const raw = `netbend_unsafe${k}:${out}`;
      const isZero = `netbend_iszero${k++}:${out}`;
      nodes.push(
        { ...node, output: [raw, ...node.output.slice(1)] },
        create(NodeProtoSchema, { opType: 'Equal', input: [divisor, zero(type)], output: [isZero], name: isZero }),
        create(NodeProtoSchema, { opType: 'Where', input: [isZero, zero(type), raw], output: [out], name: `netbend_safe:${out}` }),
      );
    }
    // A weight stored in float16 reaches its conv through a Cast to float: followed, in the new type.
    if (onPath && node.opType === 'Cast') {
      const to = Number(node.attribute.find((a) => a.name === 'to')?.i ?? 0);
      if (FLOAT_BYTES[to]) for (const o of node.output) path.set(o, to);
    }
    // Pow's type is its base's: followed only from there.
    if (onPath && FOLLOW.has(node.opType) && (node.opType !== 'Pow' || path.has(node.input[0]!))) for (const o of node.output) path.set(o, path.get(from)!);
  }
  if (zeros.size === 0) return model;
  const zeroTensors = [...zeros].map(([type, name]) => create(TensorProtoSchema, { name, dataType: type, dims: [], rawData: new Uint8Array(FLOAT_BYTES[type]!) }));
  return { ...model, graph: { ...g, node: nodes, initializer: [...g.initializer, ...zeroTensors] } };
}

/** The input a node divides by, when it comes from the weight's path; undefined when it divides by nothing there. */
function divisorOf(node: NodeProto, path: Map<string, number>, constant: (name: string) => TensorProto | undefined): string | undefined {
  const [a, b] = node.input;
  if (node.opType === 'Reciprocal' && a && path.has(a)) return a;
  if (node.opType === 'Div' && b && path.has(b)) return b;
  // x ** -0.5 (rsqrt) from other exporters: a negative constant exponent divides by x.
  if (node.opType === 'Pow' && a && b && path.has(a)) {
    const e = constant(b);
    if (e && FLOAT_BYTES[e.dataType] === 4 && floatValues(e).some((v) => v < 0)) return a;
  }
  return undefined;
}
