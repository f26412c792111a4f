// Host-side preparation of a layer tap [C,H,W] for the tap shaders:
//  - packAtlas: the channels laid out as a cols x rows atlas (a copy of rows; the grid lines and
//    the normalisation are the shader's);
//  - robustRange: percentiles of a subsample, so one hot pixel does not grey out the whole view;
//  - Pca: the first three principal components of the channels. The basis comes from power
//    (subspace) iteration on the CxC covariance of a pixel subsample, warm-started from the last
//    frame's basis so it costs a few iterations and its signs stay put (no colour flips between
//    frames). The projection of every pixel onto the basis is done here too, on the CPU: it is
//    N*C*3 multiply-adds (84*84*128*3 = 2.7M for StyleGAN3's L6), cheaper than uploading C
//    channels for the shader to loop over; the shader (tap-pca.frag) only maps it to colour.
// Pure functions and plain arrays: no DOM, so the tests can run them in Node too.

export interface Atlas {
  /** Atlas size in texels. */
  width: number;
  height: number;
  cols: number;
  rows: number;
  /** One cell (a channel, subsampled by `stride` if the full atlas would not fit a texture). */
  cellW: number;
  cellH: number;
  stride: number;
  data: Float32Array;
}

/**
 * Columns that make the channel cells biggest in a view of viewW x viewH pixels; among layouts
 * within 5% of the biggest cells, the one with the fewest empty cells (8x8 for 64, not 7x10).
 */
export function bestColumns(c: number, h: number, w: number, viewW: number, viewH: number): number {
  const cellOf = (cols: number) => Math.min(viewW / (cols * w), viewH / (Math.ceil(c / cols) * h));
  let biggest = 0;
  for (let cols = 1; cols <= c; cols++) biggest = Math.max(biggest, cellOf(cols));
  let best = 1;
  let bestEmpty = Infinity;
  for (let cols = 1; cols <= c; cols++) {
    if (cellOf(cols) < biggest * 0.95) continue;
    const empty = cols * Math.ceil(c / cols) - c;
    if (empty < bestEmpty) (best = cols), (bestEmpty = empty);
  }
  return best;
}

export function packAtlas(t: Float32Array, c: number, h: number, w: number, cols: number, maxTexture: number): Atlas {
  const rows = Math.ceil(c / cols);
  const stride = Math.max(1, Math.ceil(Math.max((cols * w) / maxTexture, (rows * h) / maxTexture)));
  const cellW = Math.ceil(w / stride);
  const cellH = Math.ceil(h / stride);
  const width = cols * cellW;
  const height = rows * cellH;
  const data = new Float32Array(width * height);
  const n = h * w;
  for (let ch = 0; ch < c; ch++) {
    const ox = (ch % cols) * cellW;
    const oy = Math.floor(ch / cols) * cellH;
    const base = ch * n;
    for (let y = 0; y < cellH; y++) {
      const src = base + y * stride * w;
      const dst = (oy + y) * width + ox;
      if (stride === 1) data.set(t.subarray(src, src + w), dst);
      else for (let x = 0; x < cellW; x++) data[dst + x] = t[src + x * stride]!;
    }
  }
  return { width, height, cols, rows, cellW, cellH, stride, data };
}

/**
 * The [lowQ, highQ] quantiles of t[from..to) from at most `samples` evenly spaced values.
 * Non-finite values are skipped; a flat range is widened so it still maps somewhere.
 */
export function robustRange(t: Float32Array, from = 0, to = t.length, samples = 4096, lowQ = 0.005, highQ = 0.995): [number, number] {
  const n = to - from;
  if (n <= 0) return [0, 1];
  const m = Math.min(n, samples);
  const s = new Float32Array(m);
  let k = 0;
  for (let i = 0; i < m; i++) {
    const v = t[from + Math.floor(((i + 0.5) * n) / m)]!;
    if (Number.isFinite(v)) s[k++] = v;
  }
  if (k === 0) return [0, 1];
  const sorted = s.subarray(0, k).sort();
  const lo = sorted[Math.floor(lowQ * (k - 1))]!;
  const hi = sorted[Math.ceil(highQ * (k - 1))]!;
  if (hi - lo > 1e-12) return [lo, hi];
  const pad = Math.max(1e-6, Math.abs(lo) * 0.01);
  return [lo - pad, hi + pad];
}

export interface PcaResult {
  /** N*3: pixel i's projections on components 0..2 (0 where C < 3). */
  data: Float32Array;
  /** Standard deviation of each component over the subsample. */
  sigma: [number, number, number];
  /** The basis, row k = component k (C values each), for tests and the curious. */
  basis: Float64Array[];
}

/** Deterministic start vectors (no Math.random: the same tap gives the same picture). */
function seedVector(c: number, k: number): Float64Array {
  const v = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    const x = Math.sin((i + 1) * 12.9898 + (k + 1) * 78.233) * 43758.5453;
    v[i] = x - Math.floor(x) - 0.5;
  }
  return v;
}

/** Tracks the principal components of one layer's taps from frame to frame. */
export class Pca {
  private basis: Float64Array[] | undefined;
  private channels = -1;
  /** Pixels in the covariance subsample (the projection uses every pixel). */
  samples = 768;
  /**
   * Iterations from cold, and from last frame's basis. Two per frame keep tracking a layer that
   * changes smoothly (the iteration simply continues across frames) at a fraction of the cost.
   */
  coldIterations = 30;
  warmIterations = 2;

  reset(): void {
    this.basis = undefined;
    this.channels = -1;
  }

  run(t: Float32Array, c: number, h: number, w: number): PcaResult {
    const n = h * w;
    const k = Math.min(3, c);
    // Channel means over every pixel.
    const mean = new Float64Array(c);
    for (let a = 0; a < c; a++) {
      let s = 0;
      const base = a * n;
      for (let i = 0; i < n; i++) s += t[base + i]!;
      mean[a] = s / n;
    }
    // Centred subsample X (m x C), sample-major so X·v and Xᵀ·y run along rows.
    const m = Math.min(n, this.samples);
    const X = new Float32Array(m * c);
    for (let j = 0; j < m; j++) {
      const i = Math.floor(((j + 0.5) * n) / m);
      for (let a = 0; a < c; a++) {
        const v = t[a * n + i]!;
        X[j * c + a] = Number.isFinite(v) ? v - mean[a]! : 0;
      }
    }
    const warm = this.basis !== undefined && this.channels === c;
    const prev = warm ? this.basis! : undefined;
    let V = prev ? prev.map((v) => Float64Array.from(v)) : Array.from({ length: k }, (_, i) => seedVector(c, i));
    const lambda = [0, 0, 0];
    const iterations = warm ? this.warmIterations : this.coldIterations;
    const y = new Float64Array(m);
    // Subspace iteration: V <- orth(Cov V), Cov = XᵀX / (m-1), never formed (C up to 512 would
    // make it 262k entries and m*C² work; X·v then Xᵀ·y is 2*m*C per vector).
    for (let it = 0; it < iterations; it++) {
      const next: Float64Array[] = [];
      for (let q = 0; q < k; q++) {
        const v = V[q]!;
        for (let j = 0; j < m; j++) {
          let s = 0;
          const row = j * c;
          for (let a = 0; a < c; a++) s += X[row + a]! * v[a]!;
          y[j] = s;
        }
        const z = new Float64Array(c);
        for (let j = 0; j < m; j++) {
          const yj = y[j]!;
          if (yj === 0) continue;
          const row = j * c;
          for (let a = 0; a < c; a++) z[a] = z[a]! + X[row + a]! * yj;
        }
        // Gram-Schmidt against the components before it: ordered eigenvectors, not just the span.
        for (const u of next) {
          let d = 0;
          for (let a = 0; a < c; a++) d += z[a]! * u[a]!;
          for (let a = 0; a < c; a++) z[a] = z[a]! - d * u[a]!;
        }
        let norm = 0;
        for (let a = 0; a < c; a++) norm += z[a]! * z[a]!;
        norm = Math.sqrt(norm);
        lambda[q] = norm / Math.max(1, m - 1);
        if (norm < 1e-20) {
          // No variance left in this direction: keep any unit vector orthogonal to the rest.
          const s = seedVector(c, q + 7);
          for (const u of next) {
            let d = 0;
            for (let a = 0; a < c; a++) d += s[a]! * u[a]!;
            for (let a = 0; a < c; a++) s[a] = s[a]! - d * u[a]!;
          }
          const sn = Math.hypot(...s) || 1;
          next.push(s.map((e) => e / sn));
        } else next.push(z.map((e) => e / norm));
      }
      V = next;
    }
    // Signs: follow last frame's basis; from cold, make each vector's largest entry positive.
    for (let q = 0; q < k; q++) {
      const v = V[q]!;
      let flip: boolean;
      if (prev) {
        let d = 0;
        for (let a = 0; a < c; a++) d += v[a]! * prev[q]![a]!;
        flip = d < 0;
      } else {
        let big = 0;
        for (let a = 0; a < c; a++) if (Math.abs(v[a]!) > Math.abs(big)) big = v[a]!;
        flip = big < 0;
      }
      if (flip) for (let a = 0; a < c; a++) v[a] = -v[a]!;
    }
    this.basis = V;
    this.channels = c;
    // Project every pixel: channel-major, so each channel's row is read once, in order.
    const data = new Float32Array(n * 3);
    const acc = new Float64Array(n * 3);
    for (let a = 0; a < c; a++) {
      const base = a * n;
      const mu = mean[a]!;
      const w0 = V[0]?.[a] ?? 0;
      const w1 = V[1]?.[a] ?? 0;
      const w2 = V[2]?.[a] ?? 0;
      for (let i = 0; i < n; i++) {
        const raw = t[base + i]!;
        const v = Number.isFinite(raw) ? raw - mu : 0;
        const o = i * 3;
        acc[o] = acc[o]! + v * w0;
        acc[o + 1] = acc[o + 1]! + v * w1;
        acc[o + 2] = acc[o + 2]! + v * w2;
      }
    }
    data.set(acc);
    const sigma = lambda.map((l) => Math.sqrt(Math.max(0, l))) as [number, number, number];
    return { data, sigma, basis: V };
  }
}

/** Eases a displayed range toward a new one: widening at once, narrowing gently (no flicker). */
export function easeRange(prev: [number, number] | undefined, next: [number, number], k = 0.3): [number, number] {
  if (!prev) return next;
  const lo = next[0] < prev[0] ? next[0] : prev[0] + (next[0] - prev[0]) * k;
  const hi = next[1] > prev[1] ? next[1] : prev[1] + (next[1] - prev[1]) * k;
  return [lo, hi];
}
