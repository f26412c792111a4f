// A scene is the engine's whole bendable state; presets capture and restore it. Everything goes
// through the engine API and the registry, as from any other control.
import type { Engine } from '../engine/engine.ts';
import type { EditOp } from '../engine/bend/edit-ops.ts';
import { PRESET_VERSION, type Modulator, type Preset } from './preset.ts';

/** Parameters a preset does not store as params: edits and blends have their own sections. */
const OWN_SECTIONS = ['/netbend/edit/', '/netbend/blend/', '/netbend/outputs/', '/netbend/transport/', '/netbend/record/'];

export function captureScene(engine: Engine, name: string, extra: { modulators?: Modulator[]; mappings?: Preset['mappings'] } = {}): Preset {
  const params: Preset['params'] = {};
  for (const s of engine.params.list()) {
    if (s.readOnly || s.type === 'trigger' || OWN_SECTIONS.some((p) => s.address.startsWith(p))) continue;
    params[s.address] = engine.params.target(s.address);
  }
  return {
    netbend: 'preset',
    version: PRESET_VERSION,
    name,
    model: { path: engine.file },
    partner: engine.bend.partner ? { path: engine.bend.partner } : null,
    params,
    edits: engine.bend.listEdits().map((e) => ({ target: e.target, op: e.op, amount: e.amount, seed: e.seed, ...(e.channels ? { channels: e.channels } : {}) })),
    blend: engine.bend.partner ? engine.bend.blendAmounts() : {},
    taps: engine.tapped(),
    modulators: extra.modulators ?? [],
    mappings: extra.mappings ?? { midi: [], osc: [] },
  };
}

/**
 * Applies a preset to an engine that already has the preset's model loaded. Unknown parameters
 * (from another model) are reported, not fatal: the rest of the scene still applies.
 */
export async function applyScene(engine: Engine, p: Preset, opts: { params?: boolean } = {}): Promise<string[]> {
  const warnings: string[] = [];
  engine.bend.restore();
  await engine.loadPartner(p.partner?.path);
  for (const e of p.edits) engine.addEdit(e.target, e.op as EditOp, e.amount, { seed: e.seed, channels: e.channels });
  for (const [layer, t] of Object.entries(p.blend)) engine.bend.setBlend(layer, t, 'preset');
  engine.setTaps(p.taps);
  if (opts.params !== false) {
    for (const [address, v] of Object.entries(p.params)) {
      if (!engine.params.has(address)) warnings.push(`preset "${p.name}": no parameter ${address} in this model, skipped`);
      else engine.params.set(address, v, 'preset');
    }
  }
  return warnings;
}
