// A take: what a recorded performance was made of, so it can be rendered again, exactly or at
// another size or frame rate. The scene at the first recorded frame, the frames the show rendered
// (its slot index, time and step), and every change with the frame that first saw it: values as
// they were set, and the structure (partner, edit slots) when a new session came into play.
// Saved beside the video as <video>.take.json, atomically; paths relative to the take's folder.
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { EDIT_OPS } from '../engine/bend/edit-ops.ts';
import { FEATURE_OP_NAMES } from '../engine/bend/feature-ops.ts';
import { atomicWrite } from '../control/preset-store.ts';
import { DirectionsChoiceSchema, HeldSchema, KeyframesSchema, parsePreset, PresetSchema } from '../control/preset.ts';

export const TAKE_VERSION = 1;

const value = z.union([z.number().finite(), z.boolean(), z.string()]);

export const TakeStructureSchema = z.object({
  model: z.string().min(1),
  partner: z.string().min(1).nullable(),
  edits: z.array(
    z.object({
      name: z.string().min(1),
      target: z.string().min(1),
      op: z.enum(EDIT_OPS as unknown as [string, ...string[]]),
      seed: z.number().int(),
      channels: z.array(z.number().int().nonnegative()).optional(),
      /** Its amount when the structure was logged: where a slot coming into play starts. */
      amount: z.number().finite(),
      /** Removed, but still in the playing session at its identity amount. */
      retired: z.boolean().default(false),
    }),
  ),
  blendLayers: z.array(z.string()),
  /** Feature-map ops in the order the session applies them. */
  bends: z
    .array(
      z.object({
        name: z.string().min(1),
        layer: z.string().min(1),
        op: z.enum(FEATURE_OP_NAMES as unknown as [string, ...string[]]),
        /** Its values when the structure was logged: where an op coming into play starts. */
        values: z.record(z.string(), value),
        /** Removed, but still in the playing session, bypassed. */
        retired: z.boolean().default(false),
      }),
    )
    .default([]),
});

/** [frame, address, value, source, glide or null]: a value set before that frame rendered. */
const ValueEntry = z.tuple([z.number().int().nonnegative(), z.literal('v'), z.string().startsWith('/netbend/'), value, z.string(), z.number().nonnegative().nullable()]);
/** [frame, structure]: the structure that frame rendered with, logged when it changed. */
const StructureEntry = z.tuple([z.number().int().nonnegative(), z.literal('s'), TakeStructureSchema]);

/** [frame, keyframes]: every keyframe loop's keyframes from that frame on, logged when a list changed. */
const KeyframesEntry = z.tuple([z.number().int().nonnegative(), z.literal('k'), KeyframesSchema]);
/** [frame, held]: every keyframe loop's held latent from that frame on (a seed grid jump), logged when one changed. */
const HeldEntry = z.tuple([z.number().int().nonnegative(), z.literal('h'), HeldSchema]);
/** [frame, directions]: the direction set played from that frame on, logged when it changed. */
const DirectionsEntry = z.tuple([z.number().int().nonnegative(), z.literal('d'), DirectionsChoiceSchema]);

export const TakeSchema = z
  .object({
    netbend: z.literal('take'),
    version: z.literal(TAKE_VERSION),
    fps: z.number().positive().max(1000),
    width: z.number().int().positive().max(16384),
    height: z.number().int().positive().max(16384),
    /** The recording this take was logged beside (a file, or a folder of PNG frames). */
    video: z.string().optional(),
    start: z.object({
      /** The scene before the first recorded frame, as a preset holds it. */
      scene: PresetSchema,
      /** Values caught mid-glide (smoothing) at that moment. */
      current: z.record(z.string(), value),
      structure: TakeStructureSchema,
      tempo: z.object({ bpm: z.number().finite(), origin: z.number().finite() }),
      /** The show's source choices (per input, a kind: `keyframes`, `walk`, `image:<path>`...); older takes: their keyframe loops. */
      sources: z.record(z.string().max(256), z.string().min(1).max(4096)).optional(),
    }),
    /** Every rendered frame in order: [slot index, time, dt]; dropped slots are absent. */
    frames: z.array(z.tuple([z.number().int().nonnegative(), z.number().finite(), z.number().finite()])),
    log: z.array(z.union([ValueEntry, StructureEntry, KeyframesEntry, HeldEntry, DirectionsEntry])),
    /** The sound that drove the features (app/audio/take-audio.ts): a float WAV, each frame's analysis end in it, and where its parts were heard. */
    audio: z
      .object({
        file: z.string().min(1),
        rate: z.number().int().min(8000).max(384_000),
        ends: z.array(z.number().int().nonnegative()),
        heard: z.array(z.tuple([z.number().int().nonnegative(), z.number().int()])).max(1_000_000),
        start: z.record(z.string().max(64), z.number().finite()).optional(),
      })
      .optional(),
  })
  .refine((t) => !t.audio || t.audio.ends.length === t.frames.length, { message: 'audio.ends must hold one sample index per frame', path: ['audio', 'ends'] });

export type Take = z.infer<typeof TakeSchema>;
export type TakeStructure = z.infer<typeof TakeStructureSchema>;
export type TakeEntry = Take['log'][number];

export class TakeError extends Error {}

/** Larger than a long set's take (an hour of a few modulated values is tens of MB). */
const MAX_TAKE_BYTES = 512 * 1024 * 1024;

/** Maps every file path a take names (model, partner, image sources) through `f`. */
function mapPaths(take: Take, f: (p: string) => string): Take {
  const st = (s: TakeStructure): TakeStructure => ({ ...s, model: f(s.model), partner: s.partner === null ? null : f(s.partner) });
  const scene = take.start.scene;
  return {
    ...take,
    video: take.video === undefined ? undefined : f(take.video),
    ...(take.audio ? { audio: { ...take.audio, file: f(take.audio.file) } } : {}),
    start: {
      ...take.start,
      scene: { ...scene, model: { ...scene.model, path: f(scene.model.path) }, partner: scene.partner ? { path: f(scene.partner.path) } : null },
      structure: st(take.start.structure),
      // An image source names a file as well.
      ...(take.start.sources
        ? { sources: Object.fromEntries(Object.entries(take.start.sources).map(([input, kind]) => [input, kind.startsWith('image:') ? `image:${f(kind.slice(6).trim())}` : kind])) }
        : {}),
    },
    log: take.log.map((e) => (e[1] === 's' ? ([e[0], 's', st(e[2])] as TakeEntry) : e)),
  };
}

export async function saveTake(file: string, take: Take): Promise<void> {
  const dir = dirname(resolve(file));
  const body = mapPaths(take, (p) => relative(dir, p) || '.');
  TakeSchema.parse(body);
  await atomicWrite(file, JSON.stringify(body) + '\n');
}

export async function loadTake(file: string): Promise<Take> {
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > MAX_TAKE_BYTES) throw new TakeError(`${file}: ${(size / 1048576).toFixed(0)} MB is too large for a take`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof TakeError) throw err;
    throw new TakeError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TakeError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = TakeSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TakeError(`${file}: ${issue.path.join('.') || 'take'}: ${issue.message}`);
  }
  // The scene is a preset: the same checks (and migrations) apply.
  parsePreset(parsed.data.start.scene, file);
  const dir = dirname(resolve(file));
  return mapPaths(parsed.data, (p) => (isAbsolute(p) ? p : resolve(dir, p)));
}
