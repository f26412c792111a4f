// Feature-map ops in place, in their order: which layer, which op, and the parameters that hold
// their live values (/netbend/bend/<name>/amount, /channels, /bypass, ...). The plan turns them
// into the session's structure (what the graph computes) and each frame's values (what it is fed).
import type { ParameterRegistry, ParamSpec } from '../../core/registry.ts';
import type { LayerTree } from '../onnx/layer-tree.ts';
import { EDIT_NAME } from './edit-ops.ts';
import { COMMON_VALUES, FEATURE_OP_NAMES, FEATURE_OPS, isFeatureOp, type FeatureOp, type FeatureValues } from './feature-ops.ts';
import type { StructuralFeature } from './feature-graph.ts';
import { CHANNELS_HINT, CHANNELS_PATTERN, parseChannels, resolveChannels, type ChannelGroupsLike, type ChannelSelection } from './channel-select.ts';

import { BEND_PREFIX } from '../../core/addresses.ts';

export const bendRoot = (name: string) => `${BEND_PREFIX}${name}`;

/** One op's values this frame, as the worker takes them. */
export interface FeatureFrame {
  values: FeatureValues;
  /** Sorted channel indices, or null for every channel. */
  channels: number[] | null;
}

export interface FeatureSlot {
  name: string;
  layer: string;
  op: FeatureOp;
}

interface Slot extends FeatureSlot, StructuralFeature {
  root: string;
  specs: ParamSpec[];
  /** The channels resolved last, and from what (selection text, seed, groups): reused until one changes. */
  resolved?: { key: string; groups: ChannelGroupsLike | undefined; channels: number[] | null };
}

/** Every parameter of an op, by key: amount, its own extras, channels, seed, bypass. */
export function featureParamSpecs(op: FeatureOp, root: string): ParamSpec[] {
  const info = FEATURE_OPS[op];
  return [
    { ...info.amount, address: `${root}/amount`, description: `${op}: ${info.description}` } as ParamSpec,
    ...info.extra.map((e) => ({ ...e.spec, address: `${root}/${e.key}`, description: `${op}: ${e.description}` }) as ParamSpec),
    { address: `${root}/channels`, type: 'string', default: 'all', pattern: CHANNELS_PATTERN, patternHint: CHANNELS_HINT, description: `which channels: ${CHANNELS_HINT}` },
    ...COMMON_VALUES.map((e) => ({ ...e.spec, address: `${root}/${e.key}`, description: e.description }) as ParamSpec),
  ];
}

/** A readable slot name from layer and op: `G.synthesis.b32.conv0` + `rotate` -> `b32.conv0-rotate`. */
export function deriveBendName(layer: string, op: FeatureOp): string {
  const short = layer.replace(/^G\.(synthesis\.)?/, '').replace(/[^A-Za-z0-9_.-]+/g, '_');
  return `${(short || 'map').slice(0, 48)}-${op}`;
}

export class FeaturePlan {
  private slots: Slot[] = [];
  private readonly retired = new Map<string, Slot>();
  private nextId = 1;
  private readonly parsed = new Map<string, ChannelSelection>();
  private readonly off: () => void;

  constructor(
    private readonly tree: LayerTree,
    private readonly params: ParameterRegistry,
    /** A layer's channel groups for `cluster:` and `pc:`; undefined while they are being found. */
    private readonly groups: (layer: string) => ChannelGroupsLike | undefined = () => undefined,
  ) {
    // A selection that needs groups asks for them when it is chosen, not at the first frame.
    this.off = params.on('change', (c) => {
      const slot = this.slots.find((s) => c.address === `${s.root}/channels`);
      if (slot) this.askGroups(slot.layer, String(c.value));
    });
  }

  dispose(): void {
    this.off();
  }

  private askGroups(layer: string, channels: string): void {
    if (/^(cluster|pc):/.test(channels.trim())) this.groups(layer);
  }

  /** The layer an op can bend: one with a [1, C, H, W] output of known size. */
  mapLayer(name: string): { path: string; tensor: string; dims: [number, number, number, number] } {
    const layer = this.tree.resolve(name);
    const s = layer.outputShape;
    if (!layer.output) throw new Error(`layer ${layer.path} has no output tensor to bend`);
    if (s?.length !== 4 || s.some((d) => typeof d !== 'number') || s[0] !== 1)
      throw new Error(`layer ${layer.path} hands on ${s ? `[${s.join(', ')}]` : 'a tensor of unknown shape'}; feature-map ops need a [1, C, H, W] map`);
    return { path: layer.path, tensor: layer.output, dims: s as [number, number, number, number] };
  }

  /**
   * Adds an op after a layer's output and returns its slot name (given, or derived and numbered).
   * `values` sets its parameters (amount, channels, ...) before the first frame that has it.
   */
  add(layer: string, op: string, values: Record<string, unknown> = {}, name?: string): string {
    if (!isFeatureOp(op)) throw new Error(`unknown feature-map op "${op}"; use one of ${FEATURE_OP_NAMES.join(', ')}`);
    const map = this.mapLayer(layer);
    const taken = (n: string) => this.slots.some((s) => s.name === n);
    if (name !== undefined) {
      if (!EDIT_NAME.test(name)) throw new Error(`bend name "${name}": use 1-64 letters, digits, '_', '.' or '-'`);
      if (taken(name)) throw new Error(`there is already a bend named "${name}"`);
    } else {
      const base = deriveBendName(map.path, op);
      name = base;
      for (let n = 2; taken(name); n++) name = `${base}-${n}`;
    }
    const root = bendRoot(name);
    const specs = featureParamSpecs(op, root);
    // Every value is checked before anything is defined, so a refused one adds nothing.
    const start = new Map<string, unknown>();
    for (const [key, v] of Object.entries(values)) {
      const spec = specs.find((s) => s.address === `${root}/${key}`);
      if (!spec) throw new Error(`${op} has no value "${key}"; it has ${specs.map((s) => s.address.slice(root.length + 1)).join(', ')}`);
      start.set(spec.address, v);
    }
    for (const spec of specs) this.params.define(spec);
    try {
      for (const [address, v] of start) this.params.set(address, v, 'engine');
    } catch (err) {
      this.params.removeUnder(`${root}/`);
      throw err;
    }
    this.slots.push({ id: `f${this.nextId++}`, name, layer: map.path, op, tensor: map.tensor, dims: map.dims, root, specs });
    this.askGroups(map.path, String(this.params.get(`${root}/channels`)));
    return name;
  }

  remove(name: string): void {
    const slot = this.slots.find((s) => s.name === name);
    if (!slot) throw new Error(`no bend named "${name}"`);
    this.slots = this.slots.filter((s) => s !== slot);
    // A session built with it keeps it, bypassed, until the next one is built.
    this.retired.set(slot.id, slot);
    this.params.removeUnder(`${slot.root}/`);
  }

  /** Moves an op to `index` in the order ops apply (ops on one layer stack in this order). */
  move(name: string, index: number): void {
    const slot = this.slots.find((s) => s.name === name);
    if (!slot) throw new Error(`no bend named "${name}"`);
    if (!Number.isInteger(index) || index < 0 || index >= this.slots.length) throw new Error(`bend position ${index}: use 0 to ${this.slots.length - 1}`);
    const rest = this.slots.filter((s) => s !== slot);
    rest.splice(index, 0, slot);
    // A new order is a new graph: the slot takes a new id, so the session is rebuilt for it.
    this.retired.set(slot.id, slot);
    this.slots = rest.map((s) => (s === slot ? { ...s, id: `f${this.nextId++}` } : s));
  }

  list(): Array<FeatureSlot & { root: string }> {
    return this.slots.map(({ name, layer, op, root }) => ({ name, layer, op, root }));
  }

  /** The ops' parameter values a scene holds, by slot name and key. */
  values(name: string): Record<string, number | boolean | string> {
    const slot = this.slots.find((s) => s.name === name);
    if (!slot) throw new Error(`no bend named "${name}"`);
    return Object.fromEntries(slot.specs.map((s) => [s.address.slice(slot.root.length + 1), this.params.target(s.address)]));
  }

  clear(): void {
    for (const s of [...this.slots]) this.remove(s.name);
  }

  get size(): number {
    return this.slots.length;
  }

  /** What the graph is built for. */
  spec(): StructuralFeature[] {
    return this.slots.map(({ id, op, tensor, dims }) => ({ id, op, tensor, dims }));
  }

  /** The slots a session built for `ids` holds, the removed ones marked retired (takes log this). */
  slotsIn(ids: readonly string[]): Array<FeatureSlot & { retired: boolean }> {
    return ids.flatMap((id) => {
      const s = this.slots.find((x) => x.id === id) ?? this.retired.get(id);
      return s ? [{ name: s.name, layer: s.layer, op: s.op, retired: !this.slots.some((x) => x.id === id) }] : [];
    });
  }

  holdsRetired(ids: readonly string[]): boolean {
    return ids.some((id) => this.retired.has(id) && !this.slots.some((s) => s.id === id));
  }

  forgetRetired(ids: readonly string[]): void {
    for (const id of [...this.retired.keys()]) if (!ids.includes(id)) this.retired.delete(id);
  }

  /** This frame's values of the ops a session was built for; removed ones are bypassed. */
  frame(session: readonly StructuralFeature[]): Record<string, FeatureFrame> {
    const out: Record<string, FeatureFrame> = {};
    for (const f of session) {
      const slot = this.slots.find((s) => s.id === f.id);
      if (!slot) {
        out[f.id] = { values: { bypass: 1 }, channels: [] };
        continue;
      }
      const values: FeatureValues = {};
      for (const spec of slot.specs) {
        const key = spec.address.slice(slot.root.length + 1);
        if (key === 'channels') continue;
        const v = this.params.get(spec.address);
        values[key] = typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : Math.max(0, spec.options?.indexOf(v) ?? 0);
      }
      out[f.id] = { values, channels: this.channels(slot, values.seed ?? 0) };
    }
    return out;
  }

  private channels(slot: Slot, seed: number): number[] | null {
    const text = String(this.params.get(`${slot.root}/channels`));
    let sel = this.parsed.get(text);
    if (!sel) {
      sel = parseChannels(text);
      if (this.parsed.size > 256) this.parsed.clear();
      this.parsed.set(text, sel);
    }
    const groups = sel.kind === 'cluster' || sel.kind === 'pc' ? this.groups(slot.layer) : undefined;
    const key = `${text}|${seed}`;
    const r = slot.resolved;
    if (r && r.key === key && r.groups === groups) return r.channels;
    const channels = resolveChannels(sel, slot.dims[1], seed, groups);
    slot.resolved = { key, groups, channels };
    return channels;
  }
}
