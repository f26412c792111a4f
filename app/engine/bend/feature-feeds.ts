// The host tensors each feature-map op is fed, computed from its values and channel selection.
// Computed only when those change (the worker keeps the last per op), never per frame otherwise.
import { gaussianArray } from '../../core/seeded-random.ts';
import { FEATURE_OPS, isNeutral, type FeatureValues } from './feature-ops.ts';
import type { StructuralFeature } from './feature-graph.ts';
import { BLUR_RADIUS, gaussianKernel, gridCanvas } from './feature-kernels.ts';

export type FeatureFeeds = Record<string, Float32Array | BigInt64Array>;

/**
 * `channels`: the sorted channel indices the op touches, or null for all of them. A neutral or
 * bypassed op is fed its identity (it may share a session with ops that are not neutral).
 */
export function featureFeeds(f: StructuralFeature, values: FeatureValues, channels: readonly number[] | null): FeatureFeeds {
  const [, c, h, w] = f.dims;
  const on = new Float32Array(c);
  if (!isNeutral(f.op, values)) {
    if (channels === null) on.fill(1);
    else for (const ch of channels) if (ch >= 0 && ch < c) on[ch] = 1;
  }
  const a = values.amount ?? Number(FEATURE_OPS[f.op].amount.default);
  const perChannel = (fn: (m: number) => number) => Float32Array.from(on, fn);
  const mixed = (amount: number) => ({ keep: perChannel((m) => 1 - amount * m), w: perChannel((m) => amount * m) });
  switch (FEATURE_OPS[f.op].kind) {
    case 'grid': {
      const mixAmount = f.op === 'flip' || f.op === 'mirror' ? a : 1;
      return { grid: samplingGrid(f, values, h, w), wrap: new Float32Array([values.wrap === 1 ? 1 : 0]), ...mixed(mixAmount) };
    }
    case 'morph': {
      const r = Math.min(3, Math.max(0, a));
      const lo = Math.floor(r);
      const frac = r - lo;
      const feeds: FeatureFeeds = {};
      for (let k = 0; k <= 3; k++) feeds[`w${k}`] = perChannel((m) => (m === 0 ? (k === 0 ? 1 : 0) : k === lo ? 1 - frac : k === lo + 1 ? frac : 0));
      return feeds;
    }
    case 'blur': {
      const blur = gaussianKernel(a, BLUR_RADIUS);
      const delta = gaussianKernel(0, BLUR_RADIUS);
      const k = new Float32Array(c * blur.length);
      for (let ch = 0; ch < c; ch++) k.set(on[ch] ? blur : delta, ch * blur.length);
      return { kh: k, kv: k };
    }
    case 'sharpen':
      return { p: perChannel((m) => 1 + a * m), q: perChannel((m) => -a * m) };
    case 'invert':
      return { p: perChannel((m) => 1 - 2 * a * m), q: perChannel((m) => 2 * a * m) };
    case 'edges':
      return mixed(a);
    case 'threshold':
      return { level: new Float32Array([values.level ?? 0]), ...mixed(a) };
    case 'multiply':
      return { f: perChannel((m) => (m ? (f.op === 'ablate' ? 1 - a : a) : 1)) };
    case 'add':
      return { b: perChannel((m) => m * a) };
    case 'noise':
      return { noise: gaussianArray(c * h * w, values.seed ?? 0), s: perChannel((m) => m * a) };
    case 'swap':
      return { perm: swapPermutation(c, on, values.seed ?? 0), ...mixed(a) };
  }
}

/**
 * Where each output pixel samples the map, in pixels (x right, y down), for the geometric ops.
 * Rotation is clockwise as seen; zoom scales about the centre; translate moves by shares of the size.
 */
function sourcePixel(f: StructuralFeature, v: FeatureValues, x: number, y: number, h: number, w: number): [number, number] {
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const a = v.amount ?? 0;
  switch (f.op) {
    case 'translate':
      return [x - a * w, y - (v.y ?? 0) * h];
    case 'rotate': {
      const t = (a * Math.PI) / 180;
      const [cos, sin] = [Math.cos(t), Math.sin(t)];
      const dx = x - cx;
      const dy = y - cy;
      return [cx + cos * dx + sin * dy, cy - sin * dx + cos * dy];
    }
    case 'zoom':
      return [cx + (x - cx) / a, cy + (y - cy) / a];
    case 'flip': {
      const axis = v.axis ?? 0; // h, v, hv
      return [axis !== 1 ? w - 1 - x : x, axis !== 0 ? h - 1 - y : y];
    }
    default: {
      // mirror: the left (top) half is kept and reflected onto the other
      const vertical = v.axis === 1;
      return [!vertical && x >= w / 2 ? w - 1 - x : x, vertical && y >= h / 2 ? h - 1 - y : y];
    }
  }
}

/**
 * The normalised grid GridSample reads (align_corners 0) over the canvas (gridCanvas: the map at
 * (1, 1) in a power-of-two square). Sample points within 1e-6 of a pixel centre are snapped onto
 * it, and the coordinate is checked against onnxruntime's own float arithmetic, so a quarter
 * turn, a flip or a whole-pixel shift copies values bit for bit.
 */
function samplingGrid(f: StructuralFeature, v: FeatureValues, h: number, w: number): Float32Array {
  const grid = new Float32Array(h * w * 2);
  const wrap = v.wrap === 1;
  const canvas = gridCanvas(h, w);
  const xs = new Map<number, number>();
  const ys = new Map<number, number>();
  const coord = (cache: Map<number, number>, p: number, size: number) => {
    let g = cache.get(p);
    if (g === undefined) cache.set(p, (g = normalised(p, size)));
    return g;
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let [sx, sy] = sourcePixel(f, v, x, y, h, w);
      sx = snap(sx);
      sy = snap(sy);
      if (wrap) {
        sx = ((sx % w) + w) % w;
        sy = ((sy % h) + h) % h;
      }
      const i = (y * w + x) * 2;
      grid[i] = coord(xs, sx + 1, canvas.w);
      grid[i + 1] = coord(ys, sy + 1, canvas.h);
    }
  }
  return grid;
}

const snap = (p: number) => {
  const r = Math.round(p);
  return Math.abs(p - r) < 1e-6 ? r : p;
};

/** gx such that onnxruntime's ((gx + 1) * size - 1) / 2 is pixel p: exact in float32 for a power-of-two size. */
function normalised(p: number, size: number): number {
  return Math.fround((2 * p + 1) / size - 1);
}

/** A seeded cycle through the chosen channels, so every one of them takes another's place. */
function swapPermutation(c: number, on: Float32Array, seed: number): BigInt64Array {
  const perm = BigInt64Array.from({ length: c }, (_, i) => BigInt(i));
  const chosen = [...on.keys()].filter((i) => on[i] === 1);
  const key = gaussianArray(c, seed);
  chosen.sort((x, y) => key[x]! - key[y]!);
  for (let i = 0; i < chosen.length; i++) perm[chosen[i]!] = BigInt(chosen[(i + 1) % chosen.length]!);
  return perm;
}
