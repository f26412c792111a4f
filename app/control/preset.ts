// A preset is a whole scene as JSON: models, sources, edits, blends, taps, modulators, mappings.
// The schema validates (errors name the field) and its version number drives migrations, so a
// preset saved today still loads after the format grows.
import { z } from 'zod';
import { EDIT_NAME, EDIT_OPS, nameEdits, type EditOp } from '../engine/bend/edit-ops.ts';
import { EP_CHOICES } from '../engine/inference/protocol.ts';
import { FEATURE_OP_NAMES } from '../engine/bend/feature-ops.ts';
import { KeyframeListSchema } from '../engine/sources/keyframe-loop.ts';
import { DirectionSetSchema } from '../engine/latent/direction-set.ts';

export const PRESET_VERSION = 2;

const value = z.union([z.number().finite(), z.boolean(), z.string()]);

export const ModulatorSchema = z.object({
  id: z.string().min(1),
  target: z.string().startsWith('/netbend/'),
  kind: z.enum(['lfo', 'expr']),
  source: z.string().min(1),
  enabled: z.boolean().default(true),
});

/** Each keyframe loop's keyframes, by input. */
export const KeyframesSchema = z.record(z.string().max(256), KeyframeListSchema);
/** The latent each keyframe loop holds while it has no keyframes (a seed grid cell around the current one), by input. */
export const HeldSchema = z.record(z.string().max(256), z.array(z.number().finite()).max(1 << 20));
/** The direction set played and its name; null: the directions estimated from sampled z. */
export const DirectionsChoiceSchema = z.object({ name: z.string().min(1).max(64), set: DirectionSetSchema }).nullable();

export const PresetSchema = z.object({
  netbend: z.literal('preset'),
  version: z.literal(PRESET_VERSION),
  name: z.string().min(1),
  model: z.object({ path: z.string().min(1), ep: z.enum(EP_CHOICES as unknown as [string, ...string[]]).optional() }),
  partner: z
    .object({ path: z.string().min(1) })
    .nullable()
    .default(null),
  params: z.record(z.string().startsWith('/netbend/'), value).default({}),
  edits: z
    .array(
      z.object({
        /** The slot's name (its address /netbend/edit/<name>/amount); derived from target and op when absent. */
        name: z.string().regex(EDIT_NAME, "one address segment: letters, digits, '_', '.' or '-'").optional(),
        target: z.string().min(1),
        op: z.enum(EDIT_OPS as unknown as [string, ...string[]]),
        amount: z.number().finite(),
        seed: z.number().int().default(0),
        channels: z.array(z.number().int().nonnegative()).optional(),
      }),
    )
    .default([]),
  blend: z.record(z.string(), z.number().finite()).default({}),
  /** Feature-map ops in the order they apply; their values are parameters (/netbend/bend/<name>/...). */
  bends: z
    .array(
      z.object({
        name: z.string().regex(EDIT_NAME, "one address segment: letters, digits, '_', '.' or '-'"),
        layer: z.string().min(1),
        op: z.enum(FEATURE_OP_NAMES as unknown as [string, ...string[]]),
      }),
    )
    .max(256)
    .default([]),
  taps: z.array(z.string()).default([]),
  /** Each keyframe loop's keyframes, by input (a seed, or the latent itself, with its leg and pulse). */
  keyframes: KeyframesSchema.default({}),
  /** The latent a keyframe loop holds while it has no keyframes (a seed grid cell jumped to), by input; absent: it holds its seed. */
  held: HeldSchema.default({}),
  /** The direction set W space plays and the name it was loaded under; null: the estimated directions. */
  directions: DirectionsChoiceSchema.default(null),
  modulators: z.array(ModulatorSchema).default([]),
  mappings: z.object({ midi: z.array(z.record(z.string(), z.unknown())).default([]), osc: z.array(z.record(z.string(), z.unknown())).default([]) }).default({ midi: [], osc: [] }),
});

export type Preset = z.infer<typeof PresetSchema>;
export type Modulator = z.infer<typeof ModulatorSchema>;

export class PresetError extends Error {}

/**
 * Version 0 (the first sketches) kept the model as a string and the latent as
 * `latent: { seed, speed }`; everything else came later.
 */
function migrate(raw: Record<string, unknown>): Record<string, unknown> {
  let p = raw;
  if (p.version === 0) {
    const latent = (p.latent ?? {}) as { seed?: unknown; speed?: unknown; input?: unknown };
    const input = typeof latent.input === 'string' ? latent.input : 'z';
    const params: Record<string, unknown> = {};
    if (latent.seed !== undefined) params[`/netbend/source/${input}/seed`] = latent.seed;
    if (latent.speed !== undefined) params[`/netbend/source/${input}/speed`] = latent.speed;
    const { latent: _drop, ...rest } = p;
    p = { ...rest, netbend: 'preset', version: 1, model: typeof p.model === 'string' ? { path: p.model } : p.model, params };
  }
  if (p.version === 1) p = { ...nameV1Edits(p), version: 2 };
  return p;
}

/** Deeper than any real preset; a 100,000-deep file would overflow the stack when saved again. */
export const MAX_PRESET_DEPTH = 32;

/** How deeply a parsed JSON value nests, walked without recursion (the input may be hostile). */
function depthOf(json: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[json, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    deepest = Math.max(deepest, d);
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return deepest;
}

/**
 * Version 1 addressed edits by the order they were made in (`/netbend/edit/e1/amount` for the
 * first edit of a fresh engine); version 2 names them. Each edit gets its derived name, and every
 * `eN` address in the preset (params, modulator targets, MIDI mappings) follows its edit.
 */
function nameV1Edits(p: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(p.edits)) return p;
  const edits = p.edits as Array<Record<string, unknown>>;
  const valid = edits.every((e) => typeof e === 'object' && e !== null && typeof e.target === 'string' && EDIT_OPS.includes(e.op as EditOp));
  if (!valid) return p; // the schema will say what is wrong
  const names = nameEdits(edits as Array<{ target: string; op: EditOp; name?: string }>);
  const rename = (address: unknown) =>
    typeof address === 'string' ? address.replace(/^\/netbend\/edit\/e(\d+)\//, (whole, n: string) => (names[Number(n) - 1] ? `/netbend/edit/${names[Number(n) - 1]}/` : whole)) : address;
  const params = typeof p.params === 'object' && p.params !== null ? Object.fromEntries(Object.entries(p.params).map(([a, v]) => [rename(a), v])) : p.params;
  const modulators = Array.isArray(p.modulators) ? p.modulators.map((m) => (typeof m === 'object' && m !== null ? { ...m, target: rename((m as { target?: unknown }).target) } : m)) : p.modulators;
  const mappings = p.mappings as { midi?: unknown } | undefined;
  const midi = Array.isArray(mappings?.midi) ? mappings.midi.map((m) => (typeof m === 'object' && m !== null ? { ...m, param: rename((m as { param?: unknown }).param) } : m)) : mappings?.midi;
  return { ...p, edits: edits.map((e, i) => ({ ...e, name: names[i] })), params, modulators, ...(mappings ? { mappings: { ...mappings, midi } } : {}) };
}

/** Validates a parsed preset; `file` names it in errors. Paths stay as written (see preset-store). */
export function parsePreset(json: unknown, file: string): Preset {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new PresetError(`${file}: a preset is a JSON object`);
  if (depthOf(json, MAX_PRESET_DEPTH) > MAX_PRESET_DEPTH) throw new PresetError(`${file}: nested deeper than ${MAX_PRESET_DEPTH} levels; not a netbend preset`);
  const raw = json as Record<string, unknown>;
  if (typeof raw.version === 'number' && raw.version > PRESET_VERSION)
    throw new PresetError(`${file}: preset version ${raw.version} is newer than this netbend understands (${PRESET_VERSION}); update netbend`);
  const result = PresetSchema.safeParse(migrate(raw));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');
    throw new PresetError(`${file}: ${path || 'preset'}: ${issue.message}`);
  }
  return result.data;
}
