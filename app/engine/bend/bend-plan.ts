// What the performer asked the net to be: edits by weight name, glob or layer, and per-layer blend
// amounts toward a partner. Amounts live in the registry (so MIDI/OSC/UI drive them); the plan
// turns them into one WeightRecipe per live weight each frame.
import type { ChangeSource, ParameterRegistry, ParamSpec } from '../../core/registry.ts';
import type { LayerTree } from '../onnx/layer-tree.ts';
import { BLEND_ALL, BLEND_PREFIX } from '../../core/addresses.ts';
import { deriveEditName, EDIT_NAME, EDIT_OPS, type EditOp } from './edit-ops.ts';
import type { BendAmounts, BendSpec } from '../inference/protocol.ts';
import { FeaturePlan } from './feature-plan.ts';
import type { ChannelGroupsLike } from './channel-select.ts';

export interface EditTarget {
  target: string;
  op: EditOp;
  seed: number;
  channels?: number[];
}

interface Edit extends EditTarget {
  /** Unique for the process: sessions are built per id, so a re-added name never reuses one. */
  id: string;
  /** The slot's name, stable across preset loads and morphs: /netbend/edit/<name>/amount. */
  name: string;
  weights: string[];
  address: string;
}

/** Slider ranges of edit amounts; soft ones are refused only beyond their limit. */
const EDIT_RANGES: Record<EditOp, Partial<ParamSpec>> = {
  scale: { min: -1, max: 3, clamp: false, limit: [-100, 100] },
  offset: { min: -1, max: 1, clamp: false, limit: [-100, 100] },
  set: { min: -1, max: 1, clamp: false, limit: [-100, 100] },
  noise: { min: 0, max: 2, clamp: false, limit: [-100, 100] },
  ablate: { min: 0, max: 1, clamp: true },
};
/** Blend amounts extrapolate (-0.5, 1.5), within reason. */
const BLEND_LIMIT = [-10, 10] as const;

export { BLEND_ALL };

/** The parameter an edit's amount lives in; presets check their amounts against it before applying. */
export function editAmountSpec(op: EditOp, address: string, amount = 0): ParamSpec {
  return { address, type: 'float', default: amount, ...EDIT_RANGES[op] };
}

/** The parameter of a blend amount (every layer's and `all`). */
export function blendAmountSpec(address: string): ParamSpec {
  return { address, type: 'float', default: 0, min: -0.5, max: 1.5, clamp: false, limit: BLEND_LIMIT };
}

export class BendPlan {
  partner: string | undefined;
  private readonly edits = new Map<string, Edit>();
  private nextId = 1;
  /** Layers whose own blend amount was set; others follow their parent, then `all`. */
  private readonly activeBlends = new Set<string>();
  /** Edits removed while a session that holds them still plays. */
  private readonly retired = new Map<string, Edit>();
  private readonly offs: Array<() => void>;
  /** Feature-map ops: they bend activations, not weights, but share the session's structure. */
  readonly features: FeaturePlan;

  constructor(
    private readonly tree: LayerTree,
    private readonly weights: string[],
    private readonly params: ParameterRegistry,
    groups?: (layer: string) => ChannelGroupsLike | undefined,
  ) {
    this.features = new FeaturePlan(tree, params, groups);
    // A layer amount someone set is the layer's own from then on, even one set to what it was
    // (typing 0 into a layer that followed `all` at 0 gives it its own 0, as Backspace does).
    const own = (c: { address: string; source: ChangeSource }) => {
      const layer = this.blendLayerOf(c.address);
      if (layer && c.source !== 'engine') this.activeBlends.add(layer);
    };
    this.offs = [params.on('change', own), params.on('touch', own)];
  }

  /** Stops listening to the registry: the registry outlives a model switch, this plan does not. */
  dispose(): void {
    this.features.dispose();
    for (const off of this.offs) off();
  }

  /** Weight names a target means: an exact weight, a glob over weight names, or a layer. */
  resolveTarget(target: string): string[] {
    if (this.weights.includes(target)) return [target];
    if (/[*?[]/.test(target)) {
      const re = new RegExp(
        '^' +
          target
            .replace(/[.+^${}()|\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.') +
          '$',
      );
      const hits = this.weights.filter((w) => re.test(w));
      if (hits.length === 0) throw new Error(`edit target "${target}" matches no weight`);
      return hits;
    }
    const layer = this.tree.resolve(target);
    if (layer.weights.length === 0) throw new Error(`layer ${layer.path} has no weights to edit`);
    return layer.weights;
  }

  /**
   * Adds an edit slot and returns its name: the one given, or one derived from target and op
   * (`-2`, `-3` ... when taken). A given name that is taken or not one address segment is refused.
   */
  addEdit(target: string, op: EditOp, amount: number, extra: Partial<EditTarget> & { name?: string } = {}): string {
    if (!EDIT_OPS.includes(op)) throw new Error(`unknown edit op "${op}"; use one of ${EDIT_OPS.join(', ')}`);
    const weights = this.resolveTarget(target);
    const taken = (n: string) => [...this.edits.values()].some((e) => e.name === n);
    let name = extra.name;
    if (name !== undefined) {
      if (!EDIT_NAME.test(name)) throw new Error(`edit name "${name}": use 1-64 letters, digits, '_', '.' or '-'`);
      if (taken(name)) throw new Error(`there is already an edit named "${name}"`);
    } else {
      const base = deriveEditName(target, op);
      name = base;
      for (let n = 2; taken(name); n++) name = `${base}-${n}`;
    }
    const id = `e${this.nextId++}`;
    const address = `/netbend/edit/${name}/amount`;
    this.params.define({ ...editAmountSpec(op, address, amount), description: `${op} ${target}` });
    this.edits.set(id, { id, name, target, op, seed: extra.seed ?? 0, channels: extra.channels, weights, address });
    return name;
  }

  removeEdit(name: string): void {
    const e = [...this.edits.values()].find((x) => x.name === name);
    if (!e) throw new Error(`no edit named "${name}"`);
    this.edits.delete(e.id);
    // A session built with it keeps it at its identity amount until the next one is built.
    this.retired.set(e.id, e);
    this.params.remove(e.address);
  }

  /**
   * The edits a session built for `ids` holds: those in place, and those removed since (which
   * it runs at their identity amount), marked retired.
   */
  editsIn(ids: readonly string[]): Array<EditTarget & { name: string; retired: boolean }> {
    const out: Array<EditTarget & { name: string; retired: boolean }> = [];
    for (const id of ids) {
      const e = this.edits.get(id) ?? this.retired.get(id);
      if (e) out.push({ name: e.name, target: e.target, op: e.op, seed: e.seed, ...(e.channels ? { channels: e.channels } : {}), retired: !this.edits.has(id) });
    }
    return out;
  }

  /** A new session holds only `ids`: removed edits outside it are gone for good. */
  forgetRetired(ids: readonly string[]): void {
    for (const id of [...this.retired.keys()]) if (!ids.includes(id)) this.retired.delete(id);
  }

  /** Whether a session built for `ids` holds edits that are no longer in place. */
  holdsRetired(ids: readonly string[]): boolean {
    return ids.some((id) => !this.edits.has(id));
  }

  listEdits(): Array<EditTarget & { name: string; address: string; amount: number; weights: string[] }> {
    return [...this.edits.values()].map((e) => ({
      name: e.name,
      address: e.address,
      target: e.target,
      op: e.op,
      seed: e.seed,
      channels: e.channels,
      weights: e.weights,
      amount: this.params.number(e.address),
    }));
  }

  /** Every edit removed and every blend amount back to 0: the original weights, exactly. */
  restore(): void {
    for (const e of [...this.edits.values()]) this.removeEdit(e.name);
    for (const s of this.params.list()) if (s.address.startsWith('/netbend/blend/')) this.params.set(s.address, 0, 'engine');
    this.activeBlends.clear();
  }

  defineBlendParams(): void {
    const spec = (address: string, description: string): ParamSpec => ({ ...blendAmountSpec(address), description });
    this.params.define(spec(BLEND_ALL, 'blend toward the partner, every layer (0 = this model, 1 = partner)'));
    for (const l of this.tree.all()) if (l.weights.length) this.params.define(spec(`/netbend/blend/${l.path}`, `blend amount of ${l.path}`));
  }

  /** No partner: no blend amounts (their addresses come back with the next partner, at 0). */
  dropBlendParams(): void {
    this.params.removeUnder(BLEND_PREFIX);
    this.activeBlends.clear();
  }

  blendAddress(layer: string): string {
    return layer === 'all' ? BLEND_ALL : `/netbend/blend/${this.tree.resolve(layer).path}`;
  }

  /** Sets a layer's own amount, which from now on overrides `all` for it (even when equal). */
  setBlend(layer: string, t: number, source: ChangeSource = 'api'): void {
    const address = this.blendAddress(layer);
    this.params.set(address, t, source);
    const own = this.blendLayerOf(address);
    if (own) this.activeBlends.add(own);
  }

  /**
   * Sets the blend amounts a scene holds (`all` and the layers with their own); any other layer
   * that had its own amount follows `all` again.
   */
  setBlends(amounts: Record<string, number>, source: ChangeSource = 'api'): void {
    const wanted = new Set(
      Object.keys(amounts)
        .filter((l) => l !== 'all')
        .map((l) => this.tree.resolve(l).path),
    );
    for (const l of [...this.activeBlends]) {
      if (wanted.has(l)) continue;
      this.params.set(`/netbend/blend/${l}`, 0, 'engine');
      this.activeBlends.delete(l);
    }
    for (const [layer, t] of Object.entries(amounts)) this.setBlend(layer, t, source);
  }

  /** Layers with their own amount, for presets. */
  blendAmounts(): Record<string, number> {
    const out: Record<string, number> = {};
    if (this.params.has(BLEND_ALL)) out.all = this.params.number(BLEND_ALL);
    for (const l of this.activeBlends) out[l] = this.params.number(`/netbend/blend/${l}`);
    return out;
  }

  /** What the live session must be built for: the partner and the edits now in place. */
  spec(): BendSpec | undefined {
    if (!this.partner && this.edits.size === 0 && this.features.size === 0) return undefined;
    return {
      partnerFile: this.partner,
      edits: [...this.edits.values()].map(({ id, op, weights, seed }) => ({ id, op, weights, seed })),
      features: this.features.spec(),
    };
  }

  /**
   * This frame's amounts for a session built for `edits`. Edits removed since that session was
   * built get their identity amount, so removing one needs no new session.
   */
  amounts(session: BendSpec): BendAmounts {
    const out: BendAmounts = { blend: {}, edits: {}, on: {}, channels: {}, features: this.features.frame(session.features) };
    if (this.partner && session.partnerFile === this.partner) {
      const all = this.params.has(BLEND_ALL) ? this.params.number(BLEND_ALL) : 0;
      const layers = [...this.activeBlends].sort((a, b) => b.length - a.length);
      for (const w of this.weights) {
        const layer = layers.find((l) => w.startsWith(l + '.'));
        out.blend[w] = layer ? this.params.number(`/netbend/blend/${layer}`) : all;
      }
    } else if (session.partnerFile) {
      // The partner went (or another is loading) while this session blends toward it: at 0 its
      // weights are this model's own, until the session built without it swaps in.
      for (const w of this.weights) out.blend[w] = 0;
    }
    for (const e of session.edits) {
      const active = this.edits.get(e.id);
      if (!active) {
        if (e.op === 'set') out.on[e.id] = 0;
        continue;
      }
      out.edits[e.id] = this.params.number(active.address);
      if (e.op === 'set') out.on[e.id] = 1;
      if (active.channels) out.channels[e.id] = active.channels;
    }
    return out;
  }

  private blendLayerOf(address: string): string | undefined {
    if (!address.startsWith('/netbend/blend/') || address === BLEND_ALL) return undefined;
    return address.slice('/netbend/blend/'.length);
  }
}
