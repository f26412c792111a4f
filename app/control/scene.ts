// A scene is the engine's whole bendable state; presets capture and restore it. Everything goes
// through the engine API and the registry, as from any other control.
import type { Engine } from '../engine/engine.ts';
import type { EditOp } from '../engine/bend/edit-ops.ts';
import { blendAmountSpec, editAmountSpec } from '../engine/bend/bend-plan.ts';
import { PRESET_VERSION, PresetError, type Modulator, type Preset } from './preset.ts';
import { coerce, isTransient, type ParameterRegistry, type ParamSpec, type ParamValue } from './registry.ts';

/** Parameters a preset does not store as params: edits and blends have their own sections. */
const OWN_SECTIONS = ['/netbend/edit/', '/netbend/blend/', '/netbend/outputs/', '/netbend/transport/', '/netbend/record/'];

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
    taps: engine.tapped(),
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
  for (const [address, v] of Object.entries(p.params)) {
    const spec = params.spec(address);
    if (!spec) warnings.push(`preset "${p.name}": no parameter ${address} in this model, skipped`);
    else if (isTransient(spec)) warnings.push(`preset "${p.name}": ${address} is an action, not part of a scene; not applied`);
    else if (spec.readOnly) warnings.push(`preset "${p.name}": ${address} is read-only, skipped`);
    else values[address] = check(spec, v);
  }
  p.edits.forEach((e, i) => check(editAmountSpec(e.op as EditOp, `edits[${i}].amount`), e.amount));
  for (const [layer, t] of Object.entries(p.blend)) check(blendAmountSpec(`blend.${layer}`), t);
  return { values, warnings };
}

/**
 * Applies a preset to an engine that already has the preset's model loaded. Everything is checked
 * first (sceneParams); unknown parameters are reported, not fatal: the rest of the scene applies.
 */
export async function applyScene(engine: Engine, p: Preset, opts: { params?: boolean } = {}): Promise<string[]> {
  const { values, warnings } = sceneParams(engine.params, p);
  engine.bend.restore();
  await engine.loadPartner(p.partner?.path);
  for (const e of p.edits) engine.addEdit(e.target, e.op as EditOp, e.amount, { name: e.name, seed: e.seed, channels: e.channels });
  for (const [layer, t] of Object.entries(p.blend)) engine.bend.setBlend(layer, t, 'preset');
  engine.setTaps(p.taps);
  if (opts.params !== false) for (const [address, v] of Object.entries(values)) engine.params.set(address, v, 'preset');
  return warnings;
}
