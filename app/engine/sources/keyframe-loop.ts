// A keyframe loop: a list of latents (each a seed's N(0,1) vector, as the walk makes them, or a
// latent given outright) played as a seamless loop. Leg k runs from keyframe k to k+1 (the last
// one back to the first) in `leg` seconds, or beats at `bpm` when `beats` is on; a keyframe may
// carry its own leg length. Between two keyframes z = slerp(z[k], z[k+1], ease(f)), with ease a mix
// of linear and smoothstep. Position is time modulo the loop's length, so the frame at the loop's
// end is the frame at its start, exactly.
//
// With no keyframes it holds one latent: the one `hold` gives, or else `seed`'s; a change of it
// glides there over `glide` seconds (slerp from the latent shown at the change). This is what a
// seed grid's jump and glide set.
//
// pulse() says which keyframe the last fill arrived at (or -1): the engine turns it into trigger
// parameters (`pulse`, `loopEnd`) and the index (`keyframe`), sent over OSC like any change, while
// `pulses` is on.
import { z } from 'zod';
import { gaussianArray } from '../../core/seeded-random.ts';
import type { ParameterRegistry } from '../../core/registry.ts';
import { arc, intOf, inverseSin, slerp } from './gaussian-walk.ts';
import type { InputSource, SourceFrameTime } from './source.ts';

export interface Keyframe {
  /** The latent is this seed's, as the walk and the seed grid make it (gaussianArray). */
  seed?: number;
  /** Or the latent itself (a grid cell around the current one, a kept pick). */
  latent?: ArrayLike<number>;
  /** This keyframe's leg (to the next one), in the loop's unit; default the loop's `leg`. */
  leg?: number;
  /** Whether arriving here pulses (default true). */
  pulse?: boolean;
}

/** Keyframes a loop takes (the `keyframe` parameter counts up to 64). */
export const MAX_KEYFRAMES = 64;

/** A keyframe as presets and takes hold it: plain JSON (a latent as a list of numbers). */
export const KeyframeSchema = z.strictObject({
  seed: z
    .number()
    .int()
    .min(-(2 ** 31))
    .max(2 ** 31 - 1)
    .optional(),
  latent: z
    .array(z.number().finite())
    .max(1 << 20)
    .optional(),
  leg: z.number().finite().positive().max(86400).optional(),
  pulse: z.boolean().optional(),
});
export const KeyframeListSchema = z.array(KeyframeSchema).max(MAX_KEYFRAMES);
export type KeyframeData = z.infer<typeof KeyframeSchema>;

/** A keyframe as JSON (its latent copied into a plain list). */
export function keyframeData(k: Keyframe): KeyframeData {
  return {
    ...(k.seed !== undefined ? { seed: k.seed } : {}),
    ...(k.latent ? { latent: Array.from(k.latent) } : {}),
    ...(k.leg !== undefined ? { leg: k.leg } : {}),
    ...(k.pulse !== undefined ? { pulse: k.pulse } : {}),
  };
}

export interface KeyframeLoopParams {
  /** The loop's keyframes; empty holds `hold` or `seed`. Replace the array (or edit it in place). */
  keyframes: Keyframe[];
  /** A latent held while there are no keyframes (a grid cell jumped to); default none. */
  hold: ArrayLike<number> | undefined;
  /** Seed held while there are no keyframes and no `hold`; default 0. */
  seed: number;
  /** Leg length (seconds, or beats when `beats`); default 4. */
  leg: number;
  /** Legs in beats of `bpm` rather than seconds; default false. */
  beats: boolean;
  /** Tempo the beats are counted at; default 120. */
  bpm: number;
  /** 0 = linear legs, 1 = smoothstep (rests on each keyframe); default 1. */
  ease: number;
  /** Seconds a held latent's change glides over; default 0 (a jump). */
  glide: number;
  /** Whether keyframe arrivals pulse (parameters, OSC); default false. */
  pulses: boolean;
}

export const KEYFRAME_LOOP_DEFAULTS: Readonly<Omit<KeyframeLoopParams, 'keyframes' | 'hold'>> = Object.freeze({
  seed: 0,
  leg: 4,
  beats: false,
  bpm: 120,
  ease: 1,
  glide: 0,
  pulses: false,
});

export class KeyframeLoop implements InputSource<KeyframeLoopParams> {
  readonly kind = 'keyframes';
  readonly shape: readonly number[];
  readonly length: number;
  params: KeyframeLoopParams;
  /** What the vectors below were made from, per keyframe: a seed or a latent's reference. */
  private built: Array<number | ArrayLike<number>> = [];
  private vectors: Float32Array[] = [];
  /** Held mode: the latent held, what it was made from, and the glide under way. */
  private held: Float32Array;
  private heldFrom: number | ArrayLike<number> = Number.NaN;
  private readonly shown: Float32Array;
  private readonly glideFrom: Float32Array;
  private glideStart = Number.NaN;
  /** Absolute leg index (counting loops) of the last fill; NaN before the first. */
  private readonly lastLeg = new Float64Array([Number.NaN]);
  private arrived = -1;
  /** Scratch for fill: leg lengths, [leg, absolute leg], the two keyframes' weights; per pair the angle and 1 / sin(angle) (0 when parallel). */
  private legs = new Float64Array(0);
  private readonly at = new Float64Array(2);
  private readonly blend = new Float64Array(2);
  private omega = new Float64Array(0);
  private invSin = new Float64Array(0);

  constructor(shape: readonly number[], params: Partial<KeyframeLoopParams> = {}) {
    this.shape = Object.freeze(shape.slice());
    this.length = shape.reduce((a, b) => a * b, 1);
    this.params = { ...KEYFRAME_LOOP_DEFAULTS, keyframes: [], hold: undefined, ...params };
    this.held = new Float32Array(this.length);
    this.shown = new Float32Array(this.length);
    this.glideFrom = new Float32Array(this.length);
  }

  /** The latent a keyframe stands for (a copy). */
  latentOf(k: Keyframe): Float32Array {
    return k.latent ? Float32Array.from(k.latent) : gaussianArray(this.length, intOf(k.seed ?? 0));
  }

  /** The loop's length in its unit (seconds or beats); 0 without keyframes. */
  total(): number {
    let sum = 0;
    for (const k of this.params.keyframes) sum += this.legOf(k);
    return sum;
  }

  /** The loop's length in seconds. */
  seconds(): number {
    return this.params.beats ? (this.total() * 60) / this.bpm() : this.total();
  }

  /** The keyframe index the last fill arrived at (once per arrival), or -1. */
  pulse(): number {
    const k = this.arrived;
    this.arrived = -1;
    return k;
  }

  fill(out: Float32Array, t: SourceFrameTime): void {
    if (out.length < this.length) throw new Error(`keyframe loop ${this.shape.join('x')}: output holds ${out.length} values, needs ${this.length}`);
    const keys = this.params.keyframes;
    if (keys.length === 0) {
      this.lastLeg[0] = Number.NaN;
      this.fillHeld(out, t.time);
      return;
    }
    this.rebuildIfChanged(keys);
    this.locate(keys, t.time);
    this.render(out);
    const k = this.at[0]!;
    const abs = this.at[1]!;
    if (abs > this.lastLeg[0]! && this.params.pulses && keys[k]!.pulse !== false) this.arrived = k;
    this.lastLeg[0] = abs;
  }

  /**
   * Where the loop is at `time`: the leg (this.at[0]), the absolute leg counting loops (this.at[1])
   * and the slerp weights of its two keyframes (this.blend). Everything goes through typed arrays
   * and nothing here calls a function with a number, which V8 could box (allocate) per frame.
   */
  private locate(keys: readonly Keyframe[], rawTime: number): void {
    const p = this.params;
    const K = keys.length;
    const legs = this.legs;
    let total = 0;
    for (let i = 0; i < K; i++) {
      const v = keys[i]!.leg ?? p.leg;
      const len = Number.isFinite(v) && v > 0 ? v : 0;
      legs[i] = len;
      total += len;
    }
    const bpm = Number.isFinite(p.bpm) && p.bpm > 0 ? p.bpm : 120;
    const time = Number.isFinite(rawTime) ? rawTime : 0;
    const unit = p.beats ? (time * bpm) / 60 : time;
    const loops = total > 0 ? Math.floor(unit / total) : 0;
    const pos = total > 0 ? unit - loops * total : 0;
    let k = 0;
    let start = 0;
    while (k < K - 1 && start + legs[k]! <= pos) start += legs[k++]!;
    const len = legs[k]!;
    const f = len > 0 ? Math.min(1, Math.max(0, (pos - start) / len)) : 0;
    const e = Math.min(1, Math.max(0, Number.isFinite(p.ease) ? p.ease : 1));
    const s = (1 - e) * f + e * f * f * (3 - 2 * f);
    const om = this.omega[k]!;
    const inv = this.invSin[k]!;
    // At a keyframe (s = 0) exactly its vector; parallel or opposite neighbours (inv = 0): lerp.
    this.blend[0] = s === 0 || K === 1 ? 1 : inv === 0 ? 1 - s : Math.sin((1 - s) * om) * inv;
    this.blend[1] = s === 0 || K === 1 ? 0 : inv === 0 ? s : Math.sin(s * om) * inv;
    this.at[0] = k;
    this.at[1] = loops * K + k;
  }

  private render(out: Float32Array): void {
    const n = this.length;
    const k = this.at[0]!;
    const a = this.vectors[k]!;
    const b = this.vectors[k + 1 === this.vectors.length ? 0 : k + 1]!;
    const wa = this.blend[0]!;
    const wb = this.blend[1]!;
    const shown = this.shown;
    if (wb === 0) for (let i = 0; i < n; i++) shown[i] = out[i] = a[i]!;
    else for (let i = 0; i < n; i++) shown[i] = out[i] = wa * a[i]! + wb * b[i]!;
  }

  private fillHeld(out: Float32Array, time: number): void {
    const p = this.params;
    const from = p.hold ?? intOf(p.seed);
    if (from !== this.heldFrom) {
      const first = typeof this.heldFrom === 'number' && Number.isNaN(this.heldFrom);
      this.held = typeof from === 'number' ? gaussianArray(this.length, from) : Float32Array.from(from);
      this.heldFrom = from;
      this.glideFrom.set(this.shown);
      this.glideStart = first || !(p.glide > 0) ? Number.NaN : time;
    }
    const g = (time - this.glideStart) / p.glide;
    if (g >= 0 && g < 1) slerp(this.view(out), this.glideFrom, this.held, g * g * (3 - 2 * g));
    else {
      this.glideStart = Number.NaN;
      out.set(this.held);
    }
    this.shown.set(this.view(out));
  }

  /** `out` itself when it holds exactly this source's values (the engine's buffer: no view allocated per frame). */
  private view(out: Float32Array): Float32Array {
    return out.length === this.length ? out : out.subarray(0, this.length);
  }

  private legOf(k: Keyframe): number {
    const v = k.leg ?? this.params.leg;
    return Number.isFinite(v) && v > 0 ? v : 0;
  }

  private bpm(): number {
    const b = this.params.bpm;
    return Number.isFinite(b) && b > 0 ? b : 120;
  }

  private rebuildIfChanged(keys: readonly Keyframe[]): void {
    let same = this.built.length === keys.length;
    for (let k = 0; same && k < keys.length; k++) same = this.built[k] === fromOf(keys[k]!);
    if (same) return;
    this.built = keys.map(fromOf);
    const vectors = keys.map((k) => this.latentOf(k));
    const K = vectors.length;
    this.vectors = vectors;
    this.legs = new Float64Array(K);
    this.omega = new Float64Array(K);
    this.invSin = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      const om = arc(vectors[k]!, vectors[(k + 1) % K]!, this.length);
      this.omega[k] = om;
      this.invSin[k] = inverseSin(om);
    }
  }
}

function fromOf(k: Keyframe): number | ArrayLike<number> {
  return k.latent ?? intOf(k.seed ?? 0);
}

/** Whether an address is a keyframe loop's tempo (`/netbend/.../source/<input>/bpm`). */
export function isLoopBpm(params: ParameterRegistry, address: string): boolean {
  return /\/source\/[^/]+\/bpm$/.test(address) && params.has(address.replace(/bpm$/, 'beats')) && params.has(address.replace(/bpm$/, 'loopEnd'));
}

/**
 * Keyframe loops count beats at the show's tempo: `bpm` into every loop's own (from the engine;
 * a loop's own bpm still works where no show sets one).
 */
export function followTempo(params: ParameterRegistry, bpm: number): void {
  for (const spec of params.list()) if (isLoopBpm(params, spec.address) && params.get(spec.address) !== bpm) params.set(spec.address, bpm, 'engine');
}
