// An animated noise texture for image inputs: fractal 3D simplex noise over (x, y, time * speed),
// one z offset per channel so channels differ. The expensive source (3x256x256 every frame), so:
//   - the simplex kernel is inlined into a row loop over typed arrays (no closure call per sample);
//     it is the same noise as simplex-noise's createNoise3D for the same seeded random function;
//   - when the noise is smooth relative to the image (low scale / few octaves) it is evaluated on
//     a coarser grid, `samplesPerCell` samples per finest noise cell, and resized with separable
//     Catmull-Rom (cubic) interpolation, far closer to the real noise than bilinear at that density;
//   - pixel coordinates and resize tables are precomputed, buffers are allocated once.
// fBm: octave o samples the 3D field at 2^o times the base frequency with weight 2^-o; the sum is
// divided by the total weight, so the raw value stays within [-1, 1] before amplitude and offset.
import { F3, G3, gradients3, seededPermutation, seedOf } from './simplex-tables.ts';
import type { InputSource, SourceFrameTime } from './source.ts';

export type NoiseRange = '-1..1' | '0..1';
export type ImageLayoutFlag = 'nchw' | 'nhwc';

export interface NoiseTextureParams {
  /** Noise cells across the image width (features get smaller as it grows); default 3. */
  scale: number;
  /** Fractal octaves, 1..8 (rounded and clamped); default 3. */
  octaves: number;
  /** Base-octave noise cells per second along the time axis; default 0.3. */
  speed: number;
  /** Integer; each seed is a different noise field. Default 0. */
  seed: number;
  /** Scales the noise around the middle of `range`; default 1. */
  amplitude: number;
  /** Added last; default 0. */
  offset: number;
  /** '-1..1' (default): offset + amplitude * n; '0..1': offset + amplitude * (n + 1) / 2. */
  range: NoiseRange;
  /**
   * Samples per noise cell of the finest octave. The noise is evaluated on a grid that fine (never
   * finer than the image) and resized with cubic interpolation; 0 evaluates every pixel. Default 8
   * (about 1% rms difference from every-pixel noise at one octave, less with more octaves).
   */
  samplesPerCell: number;
}

export const NOISE_TEXTURE_DEFAULTS: Readonly<NoiseTextureParams> = Object.freeze({
  scale: 3,
  octaves: 3,
  speed: 0.3,
  seed: 0,
  amplitude: 1,
  offset: 0,
  range: '-1..1',
  samplesPerCell: 8,
});

/** z distance between channels and between octaves, so they read unrelated parts of the field. */
const CHANNEL_Z = 17.31;
const OCTAVE_Z = 5.7;

export class NoiseTexture implements InputSource<NoiseTextureParams> {
  readonly kind = 'noise';
  readonly shape: readonly number[];
  readonly layout: ImageLayoutFlag;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  params: NoiseTextureParams;

  // Permutation and per-entry gradients (as simplex-noise builds them), rebuilt when the seed changes.
  private readonly perm = new Uint8Array(512);
  private readonly gx = new Float64Array(512);
  private readonly gy = new Float64Array(512);
  private readonly gz = new Float64Array(512);
  private permSeed = Number.NaN;
  /** This frame's scale, z of the time, mul, add (see render). */
  private readonly frameArgs = new Float64Array(4);
  /** Scratch for the doubles noiseRow and resolve take: fu, v, z, amp, mul, add. */
  private readonly rowArgs = new Float64Array(6);

  // How each axis is sampled: every pixel, or a coarser grid resized with Catmull-Rom (see AxisPlan).
  private readonly ax: AxisPlan;
  private readonly ay: AxisPlan;
  /** One channel of raw fBm (in [-1, 1]) on the evaluation grid, ax.count x ay.count. */
  private readonly grid: Float32Array;
  /** The grid resized along x only: ay.count rows of `width`. */
  private readonly rows: Float32Array;

  constructor(shape: readonly number[], layout: ImageLayoutFlag = 'nchw', params: Partial<NoiseTextureParams> = {}) {
    if (shape.length !== 4 || shape[0] !== 1) throw new Error(`noise texture needs a [1,C,H,W] or [1,H,W,C] shape, got [${shape.join(', ')}]`);
    const [, a, b, c] = shape as [number, number, number, number];
    this.shape = Object.freeze(shape.slice());
    this.layout = layout;
    [this.channels, this.height, this.width] = layout === 'nchw' ? [a, b, c] : [c, a, b];
    if (![this.channels, this.height, this.width].every((d) => Number.isInteger(d) && d >= 1)) throw new Error(`noise texture: bad shape [${shape.join(', ')}]`);
    this.params = { ...NOISE_TEXTURE_DEFAULTS, ...params };
    const W = this.width;
    const H = this.height;
    this.ax = new AxisPlan(W, W);
    this.ay = new AxisPlan(H, W);
    this.grid = new Float32Array((W + 2) * (H + 2));
    this.rows = new Float32Array(W * (H + 2));
    this.buildPermutation(seedOf(this.params.seed));
  }

  /** The grid the noise is evaluated on for the current params: [columns, rows] (the image size when every pixel is). */
  gridSize(): [number, number] {
    this.ax.plan(this.params);
    this.ay.plan(this.params);
    return [this.ax.count, this.ay.count];
  }

  fill(out: Float32Array, t: SourceFrameTime): void {
    const C = this.channels;
    const H = this.height;
    const W = this.width;
    if (out.length < C * H * W) throw new Error(`noise texture ${this.shape.join('x')}: output holds ${out.length} values, needs ${C * H * W}`);
    const p = this.params;
    const seed = seedOf(p.seed);
    if (seed !== this.permSeed) this.buildPermutation(seed);
    this.ax.plan(p);
    this.ay.plan(p);
    const octaves = clampOctaves(p.octaves);
    const time = Number.isFinite(t.time) ? t.time : 0;
    // n -> offset + amplitude * n  (or * (n + 1) / 2 for '0..1').
    const half = p.range === '0..1';
    const args = this.frameArgs;
    args[0] = Number.isFinite(p.scale) ? p.scale : 0;
    args[1] = time * (Number.isFinite(p.speed) ? p.speed : 0);
    args[2] = (half ? 0.5 : 1) * p.amplitude;
    args[3] = p.offset + (half ? 0.5 * p.amplitude : 0);
    this.render(out, octaves);
  }

  /**
   * The frame, apart from fill: it reads only this source's typed arrays (frameArgs: scale, z of the
   * time, mul, add), so its optimised code does not depend on the shapes of the params and time
   * objects (a slider turning 1 into 1.5 changes those).
   */
  private render(out: Float32Array, octaves: number): void {
    const scale = this.frameArgs[0]!;
    const zt = this.frameArgs[1]!;
    // Octave weights 1, 1/2, 1/4 ... divided by their sum keep the raw fBm n within [-1, 1].
    const norm = 1 / (2 - 2 ** (1 - octaves));
    const grid = this.grid;
    const gv = this.ay.coords;
    const ew = this.ax.count;
    const eh = this.ay.count;
    const args = this.rowArgs;
    args[4] = this.frameArgs[2]!;
    args[5] = this.frameArgs[3]!;
    for (let c = 0; c < this.channels; c++) {
      const zc = zt + c * CHANNEL_Z;
      for (let y = 0; y < eh; y++) {
        const row = y * ew;
        for (let x = 0; x < ew; x++) grid[row + x] = 0;
        let f = scale;
        let zf = 1;
        let amp = norm;
        for (let o = 0; o < octaves; o++) {
          args[0] = f;
          args[1] = gv[y]! * f;
          args[2] = zc * zf + o * OCTAVE_Z;
          args[3] = amp;
          this.noiseRow(row, ew);
          f *= 2;
          zf *= 2;
          amp *= 0.5;
        }
      }
      this.resolve(out, c);
    }
  }

  /**
   * grid[row + x] += amp * noise3D(gu[x] * fu, v, z) for x < n, with [fu, v, z, amp] in rowArgs: the
   * simplex-noise kernel, inlined. Doubles travel in a typed array because a call that V8 does not
   * inline boxes each double argument (an allocation per call).
   */
  private noiseRow(row: number, n: number): void {
    const grid = this.grid;
    const gu = this.ax.coords;
    const fu = this.rowArgs[0]!;
    const v = this.rowArgs[1]!;
    const z = this.rowArgs[2]!;
    const amp = this.rowArgs[3]!;
    const perm = this.perm;
    const gx = this.gx;
    const gy = this.gy;
    const gz = this.gz;
    const ampOut = 32 * amp;
    for (let xi = 0; xi < n; xi++) {
      const x = gu[xi]! * fu;
      const s = (x + v + z) * F3;
      const i = Math.floor(x + s) | 0;
      const j = Math.floor(v + s) | 0;
      const k = Math.floor(z + s) | 0;
      const t = (i + j + k) * G3;
      const x0 = x - (i - t);
      const y0 = v - (j - t);
      const z0 = z - (k - t);
      let i1: number, j1: number, k1: number, i2: number, j2: number, k2: number;
      if (x0 >= y0) {
        if (y0 >= z0) {
          i1 = 1;
          j1 = 0;
          k1 = 0;
          i2 = 1;
          j2 = 1;
          k2 = 0;
        } else if (x0 >= z0) {
          i1 = 1;
          j1 = 0;
          k1 = 0;
          i2 = 1;
          j2 = 0;
          k2 = 1;
        } else {
          i1 = 0;
          j1 = 0;
          k1 = 1;
          i2 = 1;
          j2 = 0;
          k2 = 1;
        }
      } else if (y0 < z0) {
        i1 = 0;
        j1 = 0;
        k1 = 1;
        i2 = 0;
        j2 = 1;
        k2 = 1;
      } else if (x0 < z0) {
        i1 = 0;
        j1 = 1;
        k1 = 0;
        i2 = 0;
        j2 = 1;
        k2 = 1;
      } else {
        i1 = 0;
        j1 = 1;
        k1 = 0;
        i2 = 1;
        j2 = 1;
        k2 = 0;
      }
      const x1 = x0 - i1 + G3;
      const y1 = y0 - j1 + G3;
      const z1 = z0 - k1 + G3;
      const x2 = x0 - i2 + 2 * G3;
      const y2 = y0 - j2 + 2 * G3;
      const z2 = z0 - k2 + 2 * G3;
      const x3 = x0 - 1 + 3 * G3;
      const y3 = y0 - 1 + 3 * G3;
      const z3 = z0 - 1 + 3 * G3;
      const ii = i & 255;
      const jj = j & 255;
      const kk = k & 255;
      let sum = 0;
      let t0 = 0.6 - x0 * x0 - y0 * y0 - z0 * z0;
      if (t0 >= 0) {
        const g = ii + perm[jj + perm[kk]!]!;
        t0 *= t0;
        sum += t0 * t0 * (gx[g]! * x0 + gy[g]! * y0 + gz[g]! * z0);
      }
      let t1 = 0.6 - x1 * x1 - y1 * y1 - z1 * z1;
      if (t1 >= 0) {
        const g = ii + i1 + perm[jj + j1 + perm[kk + k1]!]!;
        t1 *= t1;
        sum += t1 * t1 * (gx[g]! * x1 + gy[g]! * y1 + gz[g]! * z1);
      }
      let t2 = 0.6 - x2 * x2 - y2 * y2 - z2 * z2;
      if (t2 >= 0) {
        const g = ii + i2 + perm[jj + j2 + perm[kk + k2]!]!;
        t2 *= t2;
        sum += t2 * t2 * (gx[g]! * x2 + gy[g]! * y2 + gz[g]! * z2);
      }
      let t3 = 0.6 - x3 * x3 - y3 * y3 - z3 * z3;
      if (t3 >= 0) {
        const g = ii + 1 + perm[jj + 1 + perm[kk + 1]!]!;
        t3 *= t3;
        sum += t3 * t3 * (gx[g]! * x3 + gy[g]! * y3 + gz[g]! * z3);
      }
      grid[row + xi] = grid[row + xi]! + ampOut * sum;
    }
  }

  /** Writes channel c of the grid, resized to the image and mapped by add + mul * n (rowArgs 4, 5), into out in the input's layout. */
  private resolve(out: Float32Array, c: number): void {
    const mul = this.rowArgs[4]!;
    const add = this.rowArgs[5]!;
    const C = this.channels;
    const H = this.height;
    const W = this.width;
    const ax = this.ax;
    const ay = this.ay;
    const planar = this.layout === 'nchw';
    const stride = planar ? 1 : C;
    const grid = this.grid;
    if (ax.direct && ay.direct) {
      for (let y = 0; y < H; y++) {
        let o = planar ? (c * H + y) * W : y * W * C + c;
        const row = y * W;
        for (let x = 0; x < W; x++, o += stride) out[o] = add + mul * grid[row + x]!;
      }
      return;
    }
    // Separable Catmull-Rom: along x into `rows` (unless x is sampled at every pixel), then along y.
    let src = grid;
    if (!ax.direct) {
      const rows = this.rows;
      const ew = ax.count;
      const idx = ax.taps;
      const w = ax.weights;
      for (let r = 0; r < ay.count; r++) {
        const g = r * ew;
        const d = r * W;
        for (let x = 0, q = 0; x < W; x++, q += 4) {
          rows[d + x] = w[q]! * grid[g + idx[q]!]! + w[q + 1]! * grid[g + idx[q + 1]!]! + w[q + 2]! * grid[g + idx[q + 2]!]! + w[q + 3]! * grid[g + idx[q + 3]!]!;
        }
      }
      src = rows;
    }
    const idy = ay.taps;
    const wy = ay.weights;
    for (let y = 0, q = 0; y < H; y++, q += 4) {
      const r0 = idy[q]! * W;
      const r1 = idy[q + 1]! * W;
      const r2 = idy[q + 2]! * W;
      const r3 = idy[q + 3]! * W;
      const w0 = wy[q]!;
      const w1 = wy[q + 1]!;
      const w2 = wy[q + 2]!;
      const w3 = wy[q + 3]!;
      let o = planar ? (c * H + y) * W : y * W * C + c;
      for (let x = 0; x < W; x++, o += stride) {
        let v = w0 * src[r0 + x]! + w1 * src[r1 + x]! + w2 * src[r2 + x]! + w3 * src[r3 + x]!;
        // Cubic resizing may overshoot a little; the raw noise never leaves [-1, 1].
        v = v > 1 ? 1 : v < -1 ? -1 : v;
        out[o] = add + mul * v;
      }
    }
  }

  private buildPermutation(seed: number): void {
    seededPermutation(seed, this.perm);
    gradients3(this.perm, this.gx, this.gy, this.gz);
    this.permSeed = seed;
  }
}

/**
 * How one image axis of `size` pixels is sampled. Direct: the noise is evaluated at every pixel
 * centre. Otherwise at `nodes` grid nodes from the first to the last pixel centre, plus one ghost
 * node beyond each end so the cubic resize needs no edge clamping; `count` = nodes + 2 values are
 * evaluated, and each pixel blends 4 of them (`taps`, `weights`, 4 per pixel, Catmull-Rom).
 * Coordinates are in units of the image width, so noise cells are square. Recomputed (in place)
 * only when the node count changes.
 */
class AxisPlan {
  direct = true;
  count = 0;
  nodes = -1;
  readonly coords: Float64Array;
  readonly taps: Int32Array;
  readonly weights: Float32Array;

  constructor(
    readonly size: number,
    readonly width: number,
  ) {
    this.coords = new Float64Array(size + 2);
    this.taps = new Int32Array(4 * size);
    this.weights = new Float32Array(4 * size);
  }

  plan(p: NoiseTextureParams): void {
    const size = this.size;
    const spc = p.samplesPerCell;
    let nodes = size;
    if (spc > 0 && Number.isFinite(spc)) {
      const cells = (Math.abs(Number.isFinite(p.scale) ? p.scale : 0) * 2 ** (clampOctaves(p.octaves) - 1) * size) / this.width;
      // Fewer than 2 ghost nodes' worth of saving is not worth resizing for.
      nodes = Math.max(2, Math.ceil(cells * spc) + 1);
      if (nodes + 2 >= size) nodes = size;
    }
    if (nodes === this.nodes) return;
    this.nodes = nodes;
    const { coords, taps, weights, width } = this;
    if (nodes === size) {
      this.direct = true;
      this.count = size;
      for (let x = 0; x < size; x++) {
        coords[x] = (x + 0.5) / width;
        taps.fill(x, 4 * x, 4 * x + 4);
        weights[4 * x] = 1;
        weights[4 * x + 1] = weights[4 * x + 2] = weights[4 * x + 3] = 0;
      }
      return;
    }
    this.direct = false;
    this.count = nodes + 2;
    const step = (size - 1) / (nodes - 1); // pixels between nodes
    for (let j = -1; j <= nodes; j++) coords[j + 1] = (j * step + 0.5) / width;
    for (let x = 0; x < size; x++) {
      const g = x / step;
      const i = Math.min(Math.floor(g), nodes - 2);
      const t = g - i;
      const t2 = t * t;
      const t3 = t2 * t;
      // Nodes i-1 .. i+2 are evaluated values i .. i+3 (index 0 is the ghost before node 0).
      for (let k = 0; k < 4; k++) taps[4 * x + k] = i + k;
      weights[4 * x] = 0.5 * (-t3 + 2 * t2 - t);
      weights[4 * x + 1] = 0.5 * (3 * t3 - 5 * t2 + 2);
      weights[4 * x + 2] = 0.5 * (-3 * t3 + 4 * t2 + t);
      weights[4 * x + 3] = 0.5 * (t3 - t2);
    }
  }
}

function clampOctaves(octaves: number): number {
  return Number.isFinite(octaves) ? Math.max(1, Math.min(8, Math.round(octaves))) : 1;
}
