// Graph rewrites that make a model playable live. Each returns a new ModelProto; the decoded
// original is never mutated, so a failed rewrite leaves the last good model in place.
import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type GraphProto,
  type ModelProto,
  type TensorProto,
  type ValueInfoProto,
} from './schema/onnx_pb.ts';
import { DataType } from './tensor-data.ts';

export function valueInfo(name: string, elemType: number, dims: readonly (number | bigint | string)[] | undefined): ValueInfoProto {
  const shape = dims
    ? create(TensorShapeProtoSchema, {
        dim: dims.map((d) =>
          create(TensorShapeProto_DimensionSchema, {
            value: typeof d === 'string' ? { case: 'dimParam', value: d } : { case: 'dimValue', value: BigInt(d) },
          }),
        ),
      })
    : undefined;
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, { value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType, shape }) } }),
  });
}

/**
 * Copies the model and its graph's lists, so the caller's decoded model stays intact. The big
 * initializer tensors are shared, not cloned (megabytes); rewrites only add or drop list entries.
 */
function copyModel(model: ModelProto): ModelProto {
  const g = model.graph!;
  const graph = { ...g, initializer: [...g.initializer], node: [...g.node], input: [...g.input], output: [...g.output] };
  return { ...model, graph };
}

/**
 * Turns named initializers into plain graph inputs (no initializer of the same name: onnxruntime
 * ignores a feed for an initializer that is also an input), so their values can be fed per run.
 */
export function weightsToInputs(model: ModelProto, names: Iterable<string>): ModelProto {
  const wanted = new Set(names);
  if (wanted.size === 0) return model;
  const m = copyModel(model);
  const g = m.graph!;
  const moved = g.initializer.filter((t) => wanted.has(t.name));
  g.initializer = g.initializer.filter((t) => !wanted.has(t.name));
  g.input = g.input.filter((v) => !wanted.has(v.name));
  for (const t of moved) g.input.push(valueInfo(t.name, t.dataType, t.dims));
  return m;
}

/** Exposes intermediate tensors as extra graph outputs (layer taps). */
export function addOutputs(model: ModelProto, tensors: Iterable<string>): ModelProto {
  const m = copyModel(model);
  const g = m.graph!;
  const have = new Set(g.output.map((o) => o.name));
  const known = new Map(g.valueInfo.map((v) => [v.name, v]));
  for (const t of tensors) {
    if (have.has(t)) continue;
    have.add(t);
    g.output.push(known.get(t) ?? valueInfo(t, DataType.FLOAT, undefined));
  }
  return m;
}

export const RGBA_OUTPUT = 'netbend_rgba';
export const RGBA_SCALE = 'netbend_rgba_scale';
export const RGBA_BIAS = 'netbend_rgba_bias';

export interface ImageLayout {
  output: string;
  layout: 'nchw' | 'nhwc';
  channels: 1 | 3 | 4;
  height: number;
  width: number;
}

/**
 * Appends the float-image -> RGBA8 conversion to the graph, so a GPU EP reads back 4 bytes a pixel
 * instead of 12 (or 16) and the host does no per-pixel work. Scale and bias are tiny inputs, so a
 * range override ([-1,1] vs [0,1]) never needs a new session. +0.5 in the bias rounds, since Cast
 * truncates.
 */
export function appendRgbaOutput(model: ModelProto, img: ImageLayout): ModelProto {
  const m = copyModel(model);
  const g = m.graph!;
  const axis = img.layout === 'nchw' ? 1 : 3;
  const n = (op: string, inputs: string[], output: string, attrs: Record<string, number | number[]> = {}) =>
    g.node.push(
      create(NodeProtoSchema, {
        opType: op,
        name: `netbend_${output}`,
        input: inputs,
        output: [output],
        attribute: Object.entries(attrs).map(([name, v]) =>
          Array.isArray(v) ? create(AttributeProtoSchema, { name, type: 7, ints: v.map(BigInt) }) : create(AttributeProtoSchema, { name, type: 2, i: BigInt(v) }),
        ),
      }),
    );
  const scalar = (name: string, v: number) => {
    const raw = new Uint8Array(new Float32Array([v]).buffer);
    g.initializer.push(create(TensorProtoSchema, { name, dataType: DataType.FLOAT, dims: [], rawData: raw }));
  };
  g.input.push(valueInfo(RGBA_SCALE, DataType.FLOAT, [1]), valueInfo(RGBA_BIAS, DataType.FLOAT, [1]));
  scalar('netbend_rgba_lo', 0);
  scalar('netbend_rgba_hi', 255);
  n('Mul', [img.output, RGBA_SCALE], 'netbend_rgba_scaled');
  n('Add', ['netbend_rgba_scaled', RGBA_BIAS], 'netbend_rgba_biased');
  n('Clip', ['netbend_rgba_biased', 'netbend_rgba_lo', 'netbend_rgba_hi'], 'netbend_rgba_clipped');
  n('Cast', ['netbend_rgba_clipped'], 'netbend_rgba_u8', { to: DataType.UINT8 });
  const alphaDims = img.layout === 'nchw' ? [1, 1, img.height, img.width] : [1, img.height, img.width, 1];
  const alpha = new Uint8Array(img.height * img.width).fill(255);
  g.initializer.push(create(TensorProtoSchema, { name: 'netbend_rgba_alpha', dataType: DataType.UINT8, dims: alphaDims.map(BigInt), rawData: alpha }));
  const parts =
    img.channels === 1 ? ['netbend_rgba_u8', 'netbend_rgba_u8', 'netbend_rgba_u8', 'netbend_rgba_alpha'] : img.channels === 3 ? ['netbend_rgba_u8', 'netbend_rgba_alpha'] : ['netbend_rgba_u8'];
  const joined = parts.length > 1 ? 'netbend_rgba_joined' : 'netbend_rgba_u8';
  if (parts.length > 1) n('Concat', parts, joined, { axis });
  if (img.layout === 'nchw') n('Transpose', [joined], RGBA_OUTPUT, { perm: [0, 2, 3, 1] });
  else n('Identity', [joined], RGBA_OUTPUT);
  g.output.push(valueInfo(RGBA_OUTPUT, DataType.UINT8, [1, img.height, img.width, 4]));
  return m;
}

/** The graph's constant tensors by name: its initializers and the values of its Constant nodes. */
export function constantTensors(g: GraphProto): Map<string, TensorProto> {
  const out = new Map<string, TensorProto>(g.initializer.map((t) => [t.name, t]));
  for (const n of g.node) if (n.opType === 'Constant' && n.attribute[0]?.t) out.set(n.output[0]!, n.attribute[0].t);
  return out;
}
