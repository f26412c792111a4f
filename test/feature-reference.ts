// The feature-map ops written plainly in TypeScript, pixel by pixel, as a reference the graph's
// results are checked against. Written from the ops' definitions, not from netbend's graph code.

export interface Map3 {
  c: number;
  h: number;
  w: number;
  data: Float32Array;
}

export const at = (m: Map3, c: number, y: number, x: number) => m.data[(c * m.h + y) * m.w + x]!;

export function mapOf(m: Map3, fn: (c: number, y: number, x: number) => number): Map3 {
  const data = new Float32Array(m.data.length);
  for (let c = 0; c < m.c; c++) for (let y = 0; y < m.h; y++) for (let x = 0; x < m.w; x++) data[(c * m.h + y) * m.w + x] = fn(c, y, x);
  return { ...m, data };
}

/** Only the channels in `chosen` take the op; the others keep their values. */
export const onChannels = (m: Map3, chosen: Set<number> | null, bent: Map3): Map3 => mapOf(m, (c, y, x) => (chosen === null || chosen.has(c) ? at(bent, c, y, x) : at(m, c, y, x)));

export const rotate90 = (m: Map3) => mapOf(m, (c, y, x) => at(m, c, m.h - 1 - x, y));
export const rotate180 = (m: Map3) => mapOf(m, (c, y, x) => at(m, c, m.h - 1 - y, m.w - 1 - x));
export const flip = (m: Map3, axis: 'h' | 'v' | 'hv') => mapOf(m, (c, y, x) => at(m, c, axis === 'h' ? y : m.h - 1 - y, axis === 'v' ? x : m.w - 1 - x));
export const mirrorH = (m: Map3) => mapOf(m, (c, y, x) => at(m, c, y, x < m.w / 2 ? x : m.w - 1 - x));

export function shift(m: Map3, dx: number, dy: number, wrap: boolean): Map3 {
  const mod = (a: number, n: number) => ((a % n) + n) % n;
  return mapOf(m, (c, y, x) => {
    const sx = x - dx;
    const sy = y - dy;
    if (wrap) return at(m, c, mod(sy, m.h), mod(sx, m.w));
    return sx < 0 || sy < 0 || sx >= m.w || sy >= m.h ? 0 : at(m, c, sy, sx);
  });
}

/** Bilinear sampling with zeros outside, at pixel-centre coordinates. */
function sample(m: Map3, c: number, sy: number, sx: number): number {
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  const fx = sx - x0;
  const fy = sy - y0;
  const px = (y: number, x: number) => (x < 0 || y < 0 || x >= m.w || y >= m.h ? 0 : at(m, c, y, x));
  return px(y0, x0) * (1 - fx) * (1 - fy) + px(y0, x0 + 1) * fx * (1 - fy) + px(y0 + 1, x0) * (1 - fx) * fy + px(y0 + 1, x0 + 1) * fx * fy;
}

/** Rotation by `deg` clockwise as seen (y down), about the centre, zeros outside. */
export function rotate(m: Map3, deg: number): Map3 {
  const t = (deg * Math.PI) / 180;
  const cx = (m.w - 1) / 2;
  const cy = (m.h - 1) / 2;
  // The output pixel shows what lies `deg` counter-clockwise from it.
  return mapOf(m, (c, y, x) => sample(m, c, cy - Math.sin(t) * (x - cx) + Math.cos(t) * (y - cy), cx + Math.cos(t) * (x - cx) + Math.sin(t) * (y - cy)));
}

export function zoom(m: Map3, z: number): Map3 {
  const cx = (m.w - 1) / 2;
  const cy = (m.h - 1) / 2;
  return mapOf(m, (c, y, x) => sample(m, c, cy + (y - cy) / z, cx + (x - cx) / z));
}

const clampAt = (m: Map3, c: number, y: number, x: number) => at(m, c, Math.min(m.h - 1, Math.max(0, y)), Math.min(m.w - 1, Math.max(0, x)));

/** Gaussian blur over a (2r+1) window per axis, the edge pixel repeated beyond the border. */
export function blur(m: Map3, sigma: number, r: number): Map3 {
  const k: number[] = [];
  for (let i = -r; i <= r; i++) k.push(Math.exp(-(i * i) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  const across = mapOf(m, (c, y, x) => k.reduce((s, v, i) => s + (v / sum) * clampAt(m, c, y, x + i - r), 0));
  return mapOf(across, (c, y, x) => k.reduce((s, v, i) => s + (v / sum) * clampAt(across, c, y + i - r, x), 0));
}

/** Max (dilate) or min (erode) over the (2r+1)^2 window inside the map. */
export function morph(m: Map3, r: number, kind: 'erode' | 'dilate'): Map3 {
  return mapOf(m, (c, y, x) => {
    let best = kind === 'dilate' ? -Infinity : Infinity;
    for (let dy = -r; dy <= r; dy++)
      for (let dx = -r; dx <= r; dx++) {
        const yy = y + dy;
        const xx = x + dx;
        if (yy < 0 || xx < 0 || yy >= m.h || xx >= m.w) continue;
        best = kind === 'dilate' ? Math.max(best, at(m, c, yy, xx)) : Math.min(best, at(m, c, yy, xx));
      }
    return best;
  });
}

export function sobel(m: Map3): Map3 {
  const g = (c: number, y: number, x: number, dy: number, dx: number) => clampAt(m, c, y + dy, x + dx);
  return mapOf(m, (c, y, x) => {
    const gx = -g(c, y, x, -1, -1) + g(c, y, x, -1, 1) - 2 * g(c, y, x, 0, -1) + 2 * g(c, y, x, 0, 1) - g(c, y, x, 1, -1) + g(c, y, x, 1, 1);
    const gy = -g(c, y, x, -1, -1) - 2 * g(c, y, x, -1, 0) - g(c, y, x, -1, 1) + g(c, y, x, 1, -1) + 2 * g(c, y, x, 1, 0) + g(c, y, x, 1, 1);
    return Math.sqrt(gx * gx + gy * gy);
  });
}

export function invert(m: Map3): Map3 {
  const means: number[] = [];
  for (let c = 0; c < m.c; c++) {
    let s = 0;
    for (let i = 0; i < m.h * m.w; i++) s += m.data[c * m.h * m.w + i]!;
    means.push(s / (m.h * m.w));
  }
  return mapOf(m, (c, y, x) => 2 * means[c]! - at(m, c, y, x));
}

export function maxDiff(a: Map3, b: Map3): number {
  let d = 0;
  for (let i = 0; i < a.data.length; i++) d = Math.max(d, Math.abs(a.data[i]! - b.data[i]!));
  return Number.isNaN(d) ? Infinity : d;
}

/** Indices where the two differ at all (bit-exact comparison, 0 and -0 equal). */
export function differing(a: Map3, b: Map3): number {
  let n = 0;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) n++;
  return n;
}
