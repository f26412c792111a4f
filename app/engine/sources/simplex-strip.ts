// The classic TouchDesigner latent: a 1xN row of 2D simplex noise, scrolled along x by time.
// Neighbouring entries are `spacing` noise cells apart, so they are correlated the way a noise TOP
// row is, and the picture moves smoothly as the row scrolls:
//   value[i] = offset + amplitude * noise2D(i * spacing + time * speed, ROW)
// noise2D is simplex-noise's createNoise2D(mulberry32(seed)): each seed is a different strip. Its
// permutation is refilled in place when the seed changes, never per frame, and the kernel is
// inlined into fill() so a frame allocates nothing (see simplex-tables.ts).
import { F2, G2, gradients2, seededPermutation, seedOf } from './simplex-tables.ts';
import type { InputSource, SourceFrameTime } from './source.ts';

export interface SimplexStripParams {
  /** Scales the noise (about [-1, 1]); default 1. */
  amplitude: number;
  /** Added after scaling; default 0. */
  offset: number;
  /** Noise cells per second the row scrolls by (negative scrolls the other way); default 0.5. */
  speed: number;
  /** Noise cells between neighbouring latent entries; default 0.1. */
  spacing: number;
  /** Integer; each seed is a different noise field. Default 0. */
  seed: number;
}

export const SIMPLEX_STRIP_DEFAULTS: Readonly<SimplexStripParams> = Object.freeze({ amplitude: 1, offset: 0, speed: 0.5, spacing: 0.1, seed: 0 });

/** The y of the row read from the 2D noise field. */
export const STRIP_ROW = 0.5;

export class SimplexStrip implements InputSource<SimplexStripParams> {
  readonly kind = 'strip';
  readonly shape: readonly number[];
  /** Number of values filled (the product of the shape). */
  readonly length: number;
  params: SimplexStripParams;
  private readonly perm = new Uint8Array(512);
  private readonly gx = new Float64Array(512);
  private readonly gy = new Float64Array(512);
  private permSeed = Number.NaN;
  /** This frame's x0 = time * speed, spacing, amplitude, offset. */
  private readonly args = new Float64Array(4);

  constructor(shape: readonly number[], params: Partial<SimplexStripParams> = {}) {
    this.shape = Object.freeze(shape.slice());
    this.length = shape.reduce((a, b) => a * b, 1);
    this.params = { ...SIMPLEX_STRIP_DEFAULTS, ...params };
    this.buildPermutation(seedOf(this.params.seed));
  }

  fill(out: Float32Array, t: SourceFrameTime): void {
    const p = this.params;
    const seed = seedOf(p.seed);
    // A new seed is a new permutation table: built once when the seed changes, not per frame.
    if (seed !== this.permSeed) this.buildPermutation(seed);
    if (out.length < this.length) throw new Error(`simplex strip ${this.shape.join('x')}: output holds ${out.length} values, needs ${this.length}`);
    const args = this.args;
    args[0] = t.time * p.speed;
    args[1] = p.spacing;
    args[2] = p.amplitude;
    args[3] = p.offset;
    this.render(out);
  }

  /**
   * The loop, apart from fill: it reads only this source's typed arrays, so its optimised code does
   * not depend on the shapes of the params and time objects (a slider turning 1 into 1.5 changes
   * those), and it takes no double arguments, which V8 would box when the call is not inlined.
   */
  private render(out: Float32Array): void {
    const n = this.length;
    const x0 = this.args[0]!;
    const spacing = this.args[1]!;
    const amplitude = this.args[2]!;
    const offset = this.args[3]!;
    const perm = this.perm;
    const gx = this.gx;
    const gy = this.gy;
    const y = STRIP_ROW;
    for (let e = 0; e < n; e++) {
      // noise2D(x, y), as in simplex-noise 4.
      const x = e * spacing + x0;
      const s = (x + y) * F2;
      const i = Math.floor(x + s) | 0;
      const j = Math.floor(y + s) | 0;
      const t0 = (i + j) * G2;
      const xa = x - (i - t0);
      const ya = y - (j - t0);
      const i1 = xa > ya ? 1 : 0;
      const j1 = 1 - i1;
      const xb = xa - i1 + G2;
      const yb = ya - j1 + G2;
      const xc = xa - 1 + 2 * G2;
      const yc = ya - 1 + 2 * G2;
      const ii = i & 255;
      const jj = j & 255;
      let sum = 0;
      let ta = 0.5 - xa * xa - ya * ya;
      if (ta >= 0) {
        const g = ii + perm[jj]!;
        ta *= ta;
        sum += ta * ta * (gx[g]! * xa + gy[g]! * ya);
      }
      let tb = 0.5 - xb * xb - yb * yb;
      if (tb >= 0) {
        const g = ii + i1 + perm[jj + j1]!;
        tb *= tb;
        sum += tb * tb * (gx[g]! * xb + gy[g]! * yb);
      }
      let tc = 0.5 - xc * xc - yc * yc;
      if (tc >= 0) {
        const g = ii + 1 + perm[jj + 1]!;
        tc *= tc;
        sum += tc * tc * (gx[g]! * xc + gy[g]! * yc);
      }
      out[e] = offset + amplitude * (70 * sum);
    }
  }

  private buildPermutation(seed: number): void {
    seededPermutation(seed, this.perm);
    gradients2(this.perm, this.gx, this.gy);
    this.permSeed = seed;
  }
}
