// A small typed builder for ONNX graphs, so netbend can ship and test its own models without
// Python or PyTorch. Nodes can carry the module scopes PyTorch's dynamo exporter writes, because
// netbend recovers its layer tree from them; a hand-built model then looks like an exported one.
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './schema/onnx_pb.ts';
import { mulberry32 } from '../../core/seeded-random.ts';

/** A dimension is a size or a symbolic name (`'batch'`). */
export type Shape = readonly (number | string)[];
/** Int32Array is widened to int64: ONNX shape/axis tensors (Reshape, Resize sizes) must be int64. */
export type TensorData = Float32Array | BigInt64Array | Int32Array;
/** An attribute without its name; `node()` names it after its key in the attrs object. */
export type Attr = Omit<AttributeProto, 'name' | '$typeName'>;

export const DataType = { FLOAT: 1, INT64: 7 } as const;
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;
/** IR version 8 is the one that goes with opsets 14..18, which every current runtime reads. */
const IR_VERSION = 8n;
export const NAME_SCOPES_KEY = 'pkg.torch.onnx.name_scopes';

/** Attribute helpers: ONNX distinguishes INT from FLOAT, so the caller says which it means. */
export const attr = {
  int: (i: number | bigint): Attr => mkAttr({ type: AttrType.INT, i: BigInt(i) }),
  ints: (v: readonly (number | bigint)[]): Attr => mkAttr({ type: AttrType.INTS, ints: v.map((x) => BigInt(x)) }),
  float: (f: number): Attr => mkAttr({ type: AttrType.FLOAT, f }),
  floats: (v: readonly number[]): Attr => mkAttr({ type: AttrType.FLOATS, floats: [...v] }),
  string: (s: string): Attr => mkAttr({ type: AttrType.STRING, s: new TextEncoder().encode(s) }),
  tensor: (t: TensorProto): Attr => mkAttr({ type: AttrType.TENSOR, t }),
};

function mkAttr(init: MessageInitShape<typeof AttributeProtoSchema>): Attr {
  const { $typeName: _t, name: _n, ...rest } = create(AttributeProtoSchema, init);
  return rest;
}

/** A TensorProto with its values as little-endian raw_data (compact, and what exporters write). */
export function tensorProto(name: string, data: TensorData, dims: readonly number[]): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`tensor ${name}: dims [${dims.join(',')}] hold ${count} values, got ${data.length}`);
  const isFloat = data instanceof Float32Array;
  const buf = new DataView(new ArrayBuffer(data.length * (isFloat ? 4 : 8)));
  // Written value by value through a DataView so the bytes are little-endian on any host.
  for (let i = 0; i < data.length; i++) {
    if (isFloat) buf.setFloat32(i * 4, data[i]!, true);
    else buf.setBigInt64(i * 8, BigInt(data[i]!), true);
  }
  return create(TensorProtoSchema, {
    name,
    dims: dims.map((d) => BigInt(d)),
    dataType: isFloat ? DataType.FLOAT : DataType.INT64,
    rawData: new Uint8Array(buf.buffer),
  });
}

function valueInfo(name: string, shape: Shape | undefined, elemType: number = DataType.FLOAT): ValueInfoProto {
  const dim = (shape ?? []).map((d) => ({ value: typeof d === 'number' ? { case: 'dimValue' as const, value: BigInt(d) } : { case: 'dimParam' as const, value: d } }));
  return create(ValueInfoProtoSchema, {
    name,
    // Without a shape the tensor type carries none (rank unknown), rather than rank 0.
    type: { value: { case: 'tensorType', value: { elemType, ...(shape ? { shape: { dim } } : {}) } } },
  });
}

export interface NodeOptions {
  /** Module path the node belongs to, e.g. `G.synthesis.L2_64_32`; written as dynamo name scopes. */
  scope?: string;
  /** Static output shapes, recorded as value_info so tools can show layer sizes without inference. */
  shapes?: (Shape | undefined)[];
}

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly inits: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly infos: ValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly opts: { opset?: number; name?: string; producer?: string; docString?: string } = {}) {}

  input(name: string, shape: Shape, elemType: number = DataType.FLOAT): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, shape, elemType));
    return name;
  }

  output(name: string, shape?: Shape, elemType: number = DataType.FLOAT): string {
    this.outputs.push(valueInfo(name, shape, elemType));
    return name;
  }

  /** A named weight or constant. Dotted module names (`G.mapping.fc0.weight`) make it a weight to netbend. */
  initializer(name: string, data: TensorData, dims: readonly number[]): string {
    this.claim(name);
    this.inits.push(tensorProto(name, data, dims));
    return name;
  }

  /** An anonymous constant (flat `val_N` name, as exporters give their own constants). */
  constant(data: TensorData, dims: readonly number[] = [data.length]): string {
    return this.initializer(this.fresh('val'), data, dims);
  }

  /** Records a static shape for an intermediate tensor. */
  shape(name: string, shape: Shape): void {
    this.infos.push(valueInfo(name, shape));
  }

  /** Adds a node; returns its output names (generated `op_N` names where `outputs` is a count). */
  node(opType: string, inputs: readonly string[], outputs: readonly string[] | number = 1, attrs: Record<string, Attr> = {}, opts: NodeOptions = {}): string[] {
    const base = opType.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    const nodeName = this.fresh(base);
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => (i === 0 ? nodeName : `${nodeName}_${i}`)) : [...outputs];
    for (const o of outs) this.claim(o);
    const metadataProps = opts.scope === undefined ? [] : [{ key: NAME_SCOPES_KEY, value: scopeList(opts.scope, nodeName) }];
    this.nodes.push(
      create(NodeProtoSchema, {
        name: nodeName,
        opType,
        input: [...inputs],
        output: outs,
        attribute: Object.entries(attrs).map(([name, a]) => create(AttributeProtoSchema, { ...a, name })),
        metadataProps,
      }),
    );
    opts.shapes?.forEach((s, i) => s && outs[i] !== undefined && this.shape(outs[i]!, s));
    return outs;
  }

  /** Single-output shorthand for `node()`. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, opts: NodeOptions & { out?: string } = {}): string {
    return this.node(opType, inputs, opts.out ? [opts.out] : 1, attrs, opts)[0]!;
  }

  toModel(): ModelProto {
    return create(ModelProtoSchema, {
      irVersion: IR_VERSION,
      producerName: this.opts.producer ?? 'netbend graph-builder',
      docString: this.opts.docString ?? '',
      opsetImport: [{ domain: '', version: BigInt(this.opts.opset ?? 17) }],
      graph: {
        name: this.opts.name ?? 'main_graph',
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
        valueInfo: this.infos,
      },
    });
  }

  toBytes(): Uint8Array {
    return toBinary(ModelProtoSchema, this.toModel());
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`graph-builder: tensor name "${name}" is used twice`);
    this.names.add(name);
  }

  private fresh(base: string): string {
    let n: string;
    do n = `${base}_${this.counter++}`;
    while (this.names.has(n));
    return n;
  }
}

/** `G.synthesis.L2` + `conv_3` -> `['', 'G', 'G.synthesis', 'G.synthesis.L2', 'conv_3']`, dynamo's format. */
export function scopeList(scope: string, nodeName: string): string {
  const segs = scope.split('.').filter(Boolean);
  const prefixes = ['', ...segs.map((_, i) => segs.slice(0, i + 1).join('.')), nodeName];
  return `[${prefixes.map((p) => `'${p.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ')}]`;
}

/**
 * Seeded weights, so generated models are byte-identical on every run and machine.
 * mulberry32 for uniforms, Box-Muller for normals; plain JS doubles, rounded to float32 once.
 */
export class SeededRandom {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  uniform(): number {
    return this.next();
  }
  gaussian(): number {
    const u = 1 - this.uniform(); // in (0, 1], so log(u) is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
  /** n normals times `std`. */
  normal(n: number, std = 1): Float32Array {
    return Float32Array.from({ length: n }, () => this.gaussian() * std);
  }
  /** n uniforms in [lo, hi). */
  uniforms(n: number, lo = -1, hi = 1): Float32Array {
    return Float32Array.from({ length: n }, () => lo + (hi - lo) * this.uniform());
  }
}
