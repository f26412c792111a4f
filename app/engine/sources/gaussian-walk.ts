// A latent walk: one N(0,1) vector per seed, visited in turn and joined by spherical interpolation,
// the way GAN latent walks are usually played. Position p = time / secondsPerSeed; between seed k
// and the next one z = slerp(z[k], z[k+1 mod K], smoothstep(fract(p))). Looping, the walk returns
// to the first seed after K * secondsPerSeed seconds with no seam; the eased step makes it rest for
// a moment on each seed.
//
// The K vectors (and the angle between each pair) are computed when the seed list changes, never
// per frame; fill() only blends two precomputed vectors into the output.
import { gaussianArray } from '../../core/seeded-random.ts';
import type { InputSource, SourceFrameTime } from './source.ts';

export interface GaussianWalkParams {
  /** The seeds visited in order (integers); default [0, 1, 2, 3]. May be replaced or edited in place. */
  seeds: number[];
  /** Seconds from one seed to the next; default 4. */
  secondsPerSeed: number;
  /** Loop back from the last seed to the first (default true); otherwise hold the first/last seed outside the walk. */
  loop: boolean;
  /** Added to every entry of `seeds` (integer), so one number moves the whole walk elsewhere; default 0. */
  seed: number;
}

export const GAUSSIAN_WALK_DEFAULTS: Readonly<Omit<GaussianWalkParams, 'seeds'>> & { readonly seeds: readonly number[] } = Object.freeze({
  seeds: Object.freeze([0, 1, 2, 3]),
  secondsPerSeed: 4,
  loop: true,
  seed: 0,
});

/** Below this sin(angle) two vectors count as parallel (or opposite) and are blended linearly. */
const PARALLEL_EPS = 1e-6;

export class GaussianWalk implements InputSource<GaussianWalkParams> {
  readonly kind = 'walk';
  readonly shape: readonly number[];
  /** Number of values filled (the product of the shape). */
  readonly length: number;
  params: GaussianWalkParams;
  /** The seeds the vectors below were made from (effective: list entry + seed). */
  private builtSeeds: number[] = [];
  /** K vectors of `length` values, back to back. */
  private vectors = new Float32Array(0);
  /** Per pair (k, k+1 mod K): the angle between the vectors and 1 / sin(angle) (0 when parallel). */
  private omega = new Float64Array(0);
  private invSin = new Float64Array(0);
  /** Scratch for fill: the two seeds blended now and their weights. */
  private readonly pair = new Int32Array(2);
  private readonly blend = new Float64Array(2);

  constructor(shape: readonly number[], params: Partial<GaussianWalkParams> = {}) {
    this.shape = Object.freeze(shape.slice());
    this.length = shape.reduce((a, b) => a * b, 1);
    this.params = { ...GAUSSIAN_WALK_DEFAULTS, seeds: GAUSSIAN_WALK_DEFAULTS.seeds.slice(), ...params };
    this.rebuildIfChanged();
  }

  /** The N(0,1) vector the walk uses for its k-th seed (a view, not a copy). */
  seedVector(k: number): Float32Array {
    this.rebuildIfChanged();
    const K = this.builtSeeds.length;
    const i = ((k % K) + K) % K;
    return this.vectors.subarray(i * this.length, (i + 1) * this.length);
  }

  fill(out: Float32Array, t: SourceFrameTime): void {
    this.rebuildIfChanged();
    if (out.length < this.length) throw new Error(`gaussian walk ${this.shape.join('x')}: output holds ${out.length} values, needs ${this.length}`);
    this.locate(t);
    this.render(out);
  }

  /**
   * The blend, apart from fill: it reads only this walk's typed arrays, so its optimised code does
   * not depend on the shapes of the params and time objects.
   */
  private render(out: Float32Array): void {
    const n = this.length;
    const v = this.vectors;
    const a0 = this.pair[0]! * n;
    const b0 = this.pair[1]! * n;
    const wa = this.blend[0]!;
    const wb = this.blend[1]!;
    if (wb === 0) {
      for (let i = 0; i < n; i++) out[i] = v[a0 + i]!;
    } else {
      for (let i = 0; i < n; i++) out[i] = wa * v[a0 + i]! + wb * v[b0 + i]!;
    }
  }

  /**
   * Where the walk is at t: the pair of seeds (this.pair) and their slerp weights (this.blend).
   * Results go to typed arrays rather than return values, which V8 could box (allocate) per frame.
   */
  private locate(t: SourceFrameTime): void {
    const K = this.builtSeeds.length;
    const p = this.params;
    const sps = p.secondsPerSeed;
    const time = t.time;
    const valid = sps > 0 && Number.isFinite(sps) && Number.isFinite(time);
    const raw = valid ? time / sps : 0;
    const pos = p.loop ? raw : Math.min(Math.max(raw, 0), K - 1);
    const whole = Math.floor(pos);
    const frac = pos - whole;
    const k = (((whole % K) + K) % K) | 0;
    const k1 = k + 1 === K ? 0 : k + 1;
    const s = frac * frac * (3 - 2 * frac);
    this.pair[0] = k;
    this.pair[1] = k1;
    const inv = this.invSin[k]!;
    const om = this.omega[k]!;
    // Parallel (same seed twice) or opposite vectors (inv = 0): slerp is undefined there, lerp is exact enough.
    this.blend[0] = s === 0 || k === k1 ? 1 : inv === 0 ? 1 - s : Math.sin((1 - s) * om) * inv;
    this.blend[1] = s === 0 || k === k1 ? 0 : inv === 0 ? s : Math.sin(s * om) * inv;
  }

  /**
   * Recomputes the vectors only when the effective seed list differs from the one they were made
   * from. Kept free of closures: a function that creates one allocates its context on every call.
   */
  private rebuildIfChanged(): void {
    const list = this.params.seeds;
    const base = intOf(this.params.seed);
    const K = Math.max(1, list.length);
    const built = this.builtSeeds;
    let same = built.length === K;
    for (let k = 0; same && k < K; k++) same = built[k] === effectiveSeed(list, k, base);
    if (!same) this.rebuild(list, base);
  }

  private rebuild(list: readonly number[], base: number): void {
    const n = this.length;
    const K = Math.max(1, list.length);
    const seeds = Array.from({ length: K }, (_, k) => effectiveSeed(list, k, base));
    const vectors = new Float32Array(K * n);
    seeds.forEach((seed, k) => vectors.set(gaussianArray(n, seed), k * n));
    const omega = new Float64Array(K);
    const invSin = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      const om = arc(vectors, vectors, n, k * n, ((k + 1) % K) * n);
      omega[k] = om;
      invSin[k] = inverseSin(om);
    }
    this.builtSeeds = seeds;
    this.vectors = vectors;
    this.omega = omega;
    this.invSin = invSin;
  }
}

/**
 * Spherical interpolation between a and b (any lengths, not only unit vectors) into out, allocating
 * nothing. Falls back to linear interpolation when a and b are (nearly) parallel or opposite, where
 * the slerp formula divides by ~0.
 */
export function slerp(out: Float32Array, a: ArrayLike<number>, b: ArrayLike<number>, t: number): Float32Array {
  const om = arc(a, b, out.length);
  const sin = Math.sin(om);
  const wa = sin > PARALLEL_EPS ? Math.sin((1 - t) * om) / sin : 1 - t;
  const wb = sin > PARALLEL_EPS ? Math.sin(t * om) / sin : t;
  for (let i = 0; i < out.length; i++) out[i] = wa * a[i]! + wb * b[i]!;
  return out;
}

/** The angle between n values of a (from aOffset) and of b (from bOffset); 0 when either is all zeros. */
export function arc(a: ArrayLike<number>, b: ArrayLike<number>, n: number, aOffset = 0, bOffset = 0): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[aOffset + i]!;
    const y = b[bOffset + i]!;
    dot += x * y;
    aa += x * x;
    bb += y * y;
  }
  const denom = Math.sqrt(aa * bb);
  return Math.acos(denom > 0 ? Math.min(1, Math.max(-1, dot / denom)) : 1);
}

/** 1 / sin(angle), or 0 where the two are (nearly) parallel or opposite: slerp divides by ~0 there, so it blends linearly. */
export function inverseSin(om: number): number {
  const sin = Math.sin(om);
  return sin > PARALLEL_EPS ? 1 / sin : 0;
}

function effectiveSeed(list: readonly number[], k: number, base: number): number {
  return (intOf(list[k] ?? 0) + base) | 0;
}

/** A seed from any number: truncated to an int32, 0 for NaN and infinities. */
export function intOf(x: number): number {
  return Number.isFinite(x) ? Math.trunc(x) | 0 : 0;
}
