// A scene is the engine's whole bendable state; presets capture and restore it. Everything goes
// through the engine API and the registry, as from any other control.
import type { Engine } from '../engine/engine.ts';
import { nameEdits, type EditOp } from '../engine/bend/edit-ops.ts';
import { canonicalPath } from '../engine/onnx/model-file.ts';
import { blendAmountSpec, editAmountSpec } from '../engine/bend/bend-plan.ts';
import { bendRoot, featureParamSpecs } from '../engine/bend/feature-plan.ts';
import type { FeatureOp } from '../engine/bend/feature-ops.ts';
import { PRESET_VERSION, PresetError, type Modulator, type Preset } from './preset.ts';
import { coerce, isTransient, type ParameterRegistry, type ParamSpec, type ParamValue } from '../core/registry.ts';

/**
 * Parameters a preset does not store as params: edits and blends have their own sections, and a
 * controller net's inputs follow what they are bound to (a mapping played gets a new name each time).
 */
const OWN_SECTIONS = ['/netbend/edit/', '/netbend/blend/', '/netbend/outputs/', '/netbend/transport/', '/netbend/record/', '/netbend/ctl/'];

export function captureScene(engine: Engine, name: string, extra: { modulators?: Modulator[]; mappings?: Preset['mappings'] } = {}): Preset {
  const params: Preset['params'] = {};
  for (const s of engine.params.list()) {
    if (s.readOnly || isTransient(s) || OWN_SECTIONS.some((p) => s.address.startsWith(p))) continue;
    params[s.address] = engine.params.target(s.address);
  }
  return {
    netbend: 'preset',
    version: PRESET_VERSION,
    name,
    model: { path: engine.file },
    partner: engine.bend.partner ? { path: engine.bend.partner } : null,
    params,
    edits: engine.bend.listEdits().map((e) => ({ name: e.name, target: e.target, op: e.op, amount: e.amount, seed: e.seed, ...(e.channels ? { channels: e.channels } : {}) })),
    blend: engine.bend.partner ? engine.bend.blendAmounts() : {},
    bends: engine.bend.features.list().map(({ name, layer, op }) => ({ name, layer, op })),
    taps: engine.tapped(),
    keyframes: engine.keyframes(),
    held: engine.held(),
    directions: engine.latent.loadedSet ?? null,
    modulators: extra.modulators ?? [],
    mappings: extra.mappings ?? { midi: [], osc: [] },
  };
}

/**
 * The values a preset would set, each checked against its parameter: a preset with one refused
 * value (1e308, NaN, out of bounds) is refused whole, before anything changes, so the show keeps
 * its scene. Unknown parameters (from another model) and transient ones (record, recall) are
 * skipped with a warning: loading a scene never starts a recording or jumps to another scene.
 */
export function sceneParams(params: ParameterRegistry, p: Preset): { values: Record<string, ParamValue>; warnings: string[] } {
  const values: Record<string, ParamValue> = {};
  const warnings: string[] = [];
  // coerce() names what it refused by the address it is given: the field of the preset here.
  const check = (spec: ParamSpec, v: unknown): ParamValue => {
    try {
      return coerce(spec, v);
    } catch (err) {
      throw new PresetError(`preset "${p.name}": ${(err as Error).message}`);
    }
  };
  // A preset's feature-map ops may not exist yet: their values are checked against their op's own.
  const bendSpecs = new Map(p.bends.flatMap((b) => featureParamSpecs(b.op as FeatureOp, bendRoot(b.name)).map((s) => [s.address, s] as const)));
  for (const [address, v] of Object.entries(p.params)) {
    const spec = params.spec(address) ?? bendSpecs.get(address);
    if (!spec) warnings.push(`preset "${p.name}": no parameter ${address} in this model, skipped`);
    else if (isTransient(spec)) warnings.push(`preset "${p.name}": ${address} is an action, not part of a scene; not applied`);
    else if (spec.readOnly) warnings.push(`preset "${p.name}": ${address} is read-only, skipped`);
    else values[address] = check(spec, v);
  }
  p.edits.forEach((e, i) => check(editAmountSpec(e.op as EditOp, `edits[${i}].amount`), e.amount));
  for (const [layer, t] of Object.entries(p.blend)) check(blendAmountSpec(`blend.${layer}`), t);
  return { values, warnings };
}

/** The edits a preset holds, each with its slot name (given, or derived as the engine would). */
export function presetEdits(p: Preset): Array<Preset['edits'][number] & { name: string }> {
  const names = nameEdits(p.edits as Array<{ target: string; op: EditOp; name?: string }>);
  return p.edits.map((e, i) => ({ ...e, name: names[i]! }));
}

/** Whether two feature-map slots are the same op on the same layer (their values aside). */
const sameBend = (engine: Engine, a: { name: string; layer: string; op: string }, b: typeof a) => {
  try {
    return a.name === b.name && a.op === b.op && engine.tree.resolve(a.layer).path === engine.tree.resolve(b.layer).path;
  } catch {
    return false;
  }
};

/** Whether two edit slots bend the same weights the same way (their names and amounts aside). */
export const sameEdit = (a: { target: string; op: string; seed: number; channels?: number[] }, b: typeof a) =>
  a.target === b.target && a.op === b.op && a.seed === b.seed && JSON.stringify(a.channels ?? null) === JSON.stringify(b.channels ?? null);

export interface ApplyOptions {
  /** false: structure only (edits, partner, blends, taps), no parameter values (a morph glides them). */
  params?: boolean;
  /** false: keep the amounts of edits that stay (a morph glides them); new edits start at the preset's. */
  amounts?: boolean;
}

/**
 * Feature-map ops as the preset has them: the run of slots, from the first, that matches in name,
 * layer and op stays (its values glide in a morph); the rest are replaced. New slots take the
 * preset's values, or start neutral when only the structure lands (a morph glides them in).
 */
function applyBends(engine: Engine, p: Preset, values: Record<string, ParamValue>, withValues: boolean): void {
  const plan = engine.bend.features;
  const have = plan.list();
  let same = 0;
  while (same < have.length && same < p.bends.length && sameBend(engine, have[same]!, p.bends[same]!)) same++;
  for (const b of have.slice(same)) engine.removeBend(b.name);
  for (const b of p.bends.slice(same)) {
    const root = `${bendRoot(b.name)}/`;
    const start = withValues ? Object.fromEntries(Object.entries(values).flatMap(([a, v]) => (a.startsWith(root) ? [[a.slice(root.length), v]] : []))) : {};
    engine.addBend(b.layer, b.op, start, b.name);
  }
}

/**
 * The keyframe lists and the direction set a preset holds (structure: a morph applies them at its
 * structural point). Lists already in place stay as they are (a loop keeps its built vectors).
 */
export function applyLatent(engine: Engine, p: Pick<Preset, 'keyframes' | 'directions'> & { held?: Preset['held'] }): void {
  const now = engine.keyframes();
  const held = engine.held();
  for (const input of engine.keyframeInputs()) {
    const list = p.keyframes[input] ?? [];
    if (JSON.stringify(list) !== JSON.stringify(now[input] ?? [])) engine.setKeyframes(input, list);
    // Without `held` (a take's keyframe entry) the holds stay; with it, a loop absent holds its seed.
    if (p.held && !sameValues(p.held[input], held[input])) engine.setHeld(input, p.held[input]);
  }
  if (!engine.latent.shape) return;
  const d = p.directions;
  if (!d) engine.latent.unloadSet();
  else if (engine.latent.loadedSet?.set !== d.set) engine.latent.loadSet(d.set, d.name);
}

function sameValues(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  if (!a || !b) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Brings an engine that already has the preset's model loaded to the preset's scene, changing
 * only what differs: edit slots the preset starts with, in order, with the same names, targets
 * and ops, stay (and glide in a morph); the others are removed and the preset's added; the
 * partner loads only if it is another file. Mappings point at names, so they hold either way.
 * Everything is checked first (sceneParams), so a refused preset changes nothing.
 */
export async function applyScene(engine: Engine, p: Preset, opts: ApplyOptions = {}): Promise<string[]> {
  const { values, warnings } = sceneParams(engine.params, p);
  for (const b of p.bends) {
    try {
      engine.bend.features.mapLayer(b.layer);
    } catch (err) {
      throw new PresetError(`preset "${p.name}": bend ${b.name}: ${(err as Error).message}`);
    }
  }
  try {
    warnings.push(...engine.checkKeyframes(p.keyframes), ...engine.checkHeld(p.held));
  } catch (err) {
    throw new PresetError(`preset "${p.name}": ${(err as Error).message}`);
  }
  const directions = p.directions && engine.latent.refuses(p.directions.set);
  if (directions) {
    if (engine.latent.shape) throw new PresetError(`preset "${p.name}": directions "${p.directions!.name}": ${directions}`);
    warnings.push(`preset "${p.name}": its direction set "${p.directions!.name}" not applied (${directions})`);
  }
  const wanted = presetEdits(p);
  const partner = p.partner?.path ? canonicalPath(p.partner.path) : undefined;
  if (partner !== engine.bend.partner) await engine.loadPartner(partner);
  // The slots that stay are the longest run, from the first, that the preset has in the same
  // order: edits apply in order, so a scene comes back with the very graph it had.
  const have = engine.bend.listEdits();
  let same = 0;
  while (same < have.length && same < wanted.length && have[same]!.name === wanted[same]!.name && sameEdit({ ...wanted[same]!, seed: wanted[same]!.seed ?? 0 }, have[same]!)) same++;
  for (const e of have.slice(same)) engine.removeEdit(e.name);
  const kept = new Set(have.slice(0, same).map((e) => e.name));
  for (const e of wanted) {
    if (!kept.has(e.name)) engine.addEdit(e.target, e.op as EditOp, e.amount, { name: e.name, seed: e.seed, channels: e.channels });
    else if (opts.amounts !== false) engine.params.set(`/netbend/edit/${e.name}/amount`, e.amount, 'preset');
  }
  if (partner) engine.bend.setBlends(opts.params === false && opts.amounts === false ? {} : p.blend, 'preset');
  applyBends(engine, p, values, opts.params !== false);
  if (JSON.stringify(engine.tapped()) !== JSON.stringify(p.taps.map((l) => engine.tree.resolve(l).path))) engine.setTaps(p.taps);
  applyLatent(engine, p);
  if (opts.params !== false) for (const [address, v] of Object.entries(values)) engine.params.set(address, v, 'preset');
  return warnings;
}
