// Host-side preparation of a layer tap for the shader: a channel-grid atlas, one channel, or the
// first three principal components of the channels (PCA by power iteration on the CxC covariance
// of a pixel subsample; the projection is done here, per pixel, the shader only colours it).

export interface TapImage {
  width: number;
  height: number;
  /** 1 value per texel (grid, channel) or 3 (pca), row-major. */
  data: Float32Array;
  components: 1 | 3;
  lo: [number, number, number];
  hi: [number, number, number];
}

function range(d: Float32Array, stride: number, k: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = k; i < d.length; i += stride) {
    const v = d[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

export function gridImage(t: Float32Array, c: number, h: number, w: number): TapImage {
  const cols = Math.ceil(Math.sqrt(c));
  const rows = Math.ceil(c / cols);
  const W = cols * (w + 1) - 1;
  const H = rows * (h + 1) - 1;
  const [lo, hi] = range(t, 1, 0);
  const data = new Float32Array(W * H).fill(lo);
  for (let ch = 0; ch < c; ch++) {
    const ox = (ch % cols) * (w + 1);
    const oy = Math.floor(ch / cols) * (h + 1);
    for (let y = 0; y < h; y++) data.set(t.subarray(ch * h * w + y * w, ch * h * w + (y + 1) * w), (oy + y) * W + ox);
  }
  return { width: W, height: H, data, components: 1, lo: [lo, lo, lo], hi: [hi, hi, hi] };
}

export function channelImage(t: Float32Array, c: number, h: number, w: number, channel: number): TapImage {
  const ch = Math.min(c - 1, Math.max(0, channel));
  const data = t.slice(ch * h * w, (ch + 1) * h * w);
  const [lo, hi] = range(data, 1, 0);
  return { width: w, height: h, data, components: 1, lo: [lo, lo, lo], hi: [hi, hi, hi] };
}

export function pcaImage(t: Float32Array, c: number, h: number, w: number): TapImage {
  const n = h * w;
  const mean = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += t[ch * n + i]!;
    mean[ch] = s / n;
  }
  // Covariance from at most 2048 pixels: enough for 3 components, cheap at 1024 channels.
  const step = Math.max(1, Math.floor(n / 2048));
  const cov = new Float64Array(c * c);
  let m = 0;
  const x = new Float64Array(c);
  for (let i = 0; i < n; i += step, m++) {
    for (let a = 0; a < c; a++) x[a] = t[a * n + i]! - mean[a]!;
    for (let a = 0; a < c; a++) {
      const xa = x[a]!;
      if (xa === 0) continue;
      for (let b = a; b < c; b++) cov[a * c + b] = cov[a * c + b]! + xa * x[b]!;
    }
  }
  for (let a = 0; a < c; a++)
    for (let b = a; b < c; b++) {
      const v = cov[a * c + b]! / Math.max(1, m - 1);
      cov[a * c + b] = v;
      cov[b * c + a] = v;
    }
  const basis: Float64Array[] = [];
  for (let k = 0; k < Math.min(3, c); k++) {
    let v = new Float64Array(c).map((_, i) => Math.sin(i * 12.9898 + k * 78.233));
    for (let it = 0; it < 40; it++) {
      const next = new Float64Array(c);
      for (let a = 0; a < c; a++) {
        let s = 0;
        for (let b = 0; b < c; b++) s += cov[a * c + b]! * v[b]!;
        next[a] = s;
      }
      // Deflate: keep orthogonal to the components already found.
      for (const u of basis) {
        let d = 0;
        for (let a = 0; a < c; a++) d += next[a]! * u[a]!;
        for (let a = 0; a < c; a++) next[a]! -= d * u[a]!;
      }
      const norm = Math.hypot(...next) || 1;
      v = next.map((e) => e / norm);
    }
    basis.push(v);
  }
  const data = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < basis.length; k++) {
      let s = 0;
      const u = basis[k]!;
      for (let a = 0; a < c; a++) s += (t[a * n + i]! - mean[a]!) * u[a]!;
      data[i * 3 + k] = s;
    }
  }
  const r = [range(data, 3, 0), range(data, 3, 1), range(data, 3, 2)];
  return { width: w, height: h, data, components: 3, lo: [r[0]![0], r[1]![0], r[2]![0]], hi: [r[0]![1], r[1]![1], r[2]![1]] };
}
