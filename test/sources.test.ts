// Input sources: determinism, ranges, continuity, looping, the exact definitions (checked against
// simplex-noise itself and the seeded gaussians), no allocation per frame, PNG round trips, and
// binding by shape with errors that name the shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { PNG } from 'pngjs';
import { createNoise2D, createNoise3D } from 'simplex-noise';
import { gaussianArray, mulberry32 } from '../app/core/seeded-random.ts';
import type { InputSource, SourceFrameTime } from '../app/engine/sources/source.ts';
import { SimplexStrip, STRIP_ROW } from '../app/engine/sources/simplex-strip.ts';
import { GaussianWalk, slerp } from '../app/engine/sources/gaussian-walk.ts';
import { KeyframeLoop } from '../app/engine/sources/keyframe-loop.ts';
import { NoiseTexture } from '../app/engine/sources/noise-texture.ts';
import { ImageFile } from '../app/engine/sources/image-file.ts';
import { VectorSource } from '../app/engine/sources/vector-params.ts';
import { chooseSource } from '../app/engine/sources/bind.ts';
import { tempDir } from './helpers.ts';

const at = (time: number, frame = 0): SourceFrameTime => ({ time, frame });
const sizeOf = (s: InputSource<unknown>) => s.shape.reduce((a, b) => a * b, 1);
function run(s: InputSource<unknown>, time: number): Float32Array {
  const out = new Float32Array(sizeOf(s));
  s.fill(out, at(time));
  return out;
}
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const minMax = (a: ArrayLike<number>) => {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) (lo = Math.min(lo, a[i]!)), (hi = Math.max(hi, a[i]!));
  return [lo, hi] as const;
};
const norm = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
};
const countDiffering = (a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-6) => {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > eps) n++;
  return n;
};

// --- simplex strip -------------------------------------------------------------------------------

test('strip: value[i] = offset + amplitude * noise2D(i * spacing + time * speed, row), noise2D seeded by mulberry32(seed)', () => {
  for (const seed of [0, 7]) {
    const params = { amplitude: 1.5, offset: 0.25, speed: 0.7, spacing: 0.13, seed };
    const strip = new SimplexStrip([1, 96], params);
    const noise = createNoise2D(mulberry32(seed));
    for (const time of [0, 1.7, 123.4]) {
      const out = run(strip, time);
      for (let i = 0; i < out.length; i++) {
        const want = params.offset + params.amplitude * noise(i * params.spacing + time * params.speed, STRIP_ROW);
        assert.ok(Math.abs(out[i]! - want) < 1e-5, `seed ${seed} t ${time} [${i}]: ${out[i]} vs ${want}`);
      }
    }
  }
});

test('strip: same seed and time give identical values; another seed gives another strip; a live seed change rebuilds', () => {
  const a = new SimplexStrip([1, 512], { seed: 3 });
  const b = new SimplexStrip([1, 512], { seed: 3 });
  assert.deepEqual(run(a, 2.5), run(b, 2.5));
  const other = run(new SimplexStrip([1, 512], { seed: 4 }), 2.5);
  assert.ok(countDiffering(run(a, 2.5), other) > 400, 'seed 4 differs from seed 3 almost everywhere');
  a.params.seed = 4;
  assert.deepEqual(run(a, 2.5), other, 'changing seed live equals a fresh strip with that seed');
  a.params.seed = 3;
  assert.deepEqual(run(a, 2.5), run(b, 2.5), 'and changing it back restores the first strip');
});

test('strip: within [-1.05, 1.05] at amplitude 1, using most of it, and amplitude/offset are affine', () => {
  const strip = new SimplexStrip([1, 512]);
  let lo = Infinity;
  let hi = -Infinity;
  for (let f = 0; f < 200; f++) {
    const [l, h] = minMax(run(strip, f * 0.37));
    (lo = Math.min(lo, l)), (hi = Math.max(hi, h));
  }
  assert.ok(lo >= -1.05 && hi <= 1.05, `range ${lo}..${hi}`);
  assert.ok(lo < -0.5 && hi > 0.5, `spans most of [-1, 1]: ${lo}..${hi}`);
  const base = run(strip, 3.3);
  const scaled = run(new SimplexStrip([1, 512], { amplitude: 2, offset: -0.5 }), 3.3);
  assert.ok(
    maxAbsDiff(
      scaled,
      Array.from(base, (v) => -0.5 + 2 * v),
    ) < 1e-5,
  );
});

test('strip: scrolling by speed * dt = k * spacing shifts the row by k entries', () => {
  // Dyadic spacing/speed/times keep every coordinate exact, so the shift is exact.
  const strip = new SimplexStrip([1, 128], { spacing: 0.125, speed: 0.5, seed: 11 });
  const t0 = 1.5;
  const before = run(strip, t0);
  for (const k of [1, 2, 5]) {
    const after = run(strip, t0 + (k * 0.125) / 0.5);
    for (let i = 0; i + k < before.length; i++) assert.equal(after[i], before[i + k], `k ${k}, entry ${i}`);
  }
  // Negative speed scrolls the other way.
  strip.params.speed = -0.5;
  const back = run(strip, 0.25);
  const origin = run(strip, 0);
  for (let i = 1; i < origin.length; i++) assert.equal(back[i], origin[i - 1]);
});

test('strip: continuous in time, changes over time, neighbours correlated', () => {
  const strip = new SimplexStrip([1, 512]);
  const a = run(strip, 10);
  assert.ok(maxAbsDiff(a, run(strip, 10 + 1 / 600)) < 0.02, 'a tenth of a frame moves values a little');
  assert.ok(maxAbsDiff(a, run(strip, 10 + 1 / 60)) < 0.1, 'a frame moves values a little');
  assert.ok(countDiffering(a, run(strip, 14)) > 400, 'four seconds later the row is different');
  // Pearson correlation of adjacent entries at the default spacing (0.1 cells): strongly positive.
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  let sx = 0;
  let sy = 0;
  const n = a.length - 1;
  for (let i = 0; i < n; i++) (sx += a[i]!), (sy += a[i + 1]!), (sxy += a[i]! * a[i + 1]!), (sxx += a[i]! ** 2), (syy += a[i + 1]! ** 2);
  const r = (sxy - (sx * sy) / n) / Math.sqrt((sxx - (sx * sx) / n) * (syy - (sy * sy) / n));
  assert.ok(r > 0.8, `adjacent correlation ${r}`);
});

// --- gaussian walk -------------------------------------------------------------------------------

test('walk: passes through each seed vector at integer positions; vectors are the seeded N(0,1) draws', () => {
  const walk = new GaussianWalk([1, 256], { seeds: [5, 9, 2], secondsPerSeed: 2 });
  for (let k = 0; k < 3; k++) {
    const want = gaussianArray(256, [5, 9, 2][k]!);
    assert.deepEqual(walk.seedVector(k), want);
    assert.ok(maxAbsDiff(run(walk, k * 2), want) < 1e-6, `seed ${k} at t = ${k * 2}`);
  }
  // N(0,1) statistics over a long vector.
  const z = run(new GaussianWalk([1, 8192], { seeds: [42] }), 0);
  const mean = z.reduce((a, b) => a + b, 0) / z.length;
  const sd = Math.sqrt(z.reduce((a, b) => a + (b - mean) ** 2, 0) / z.length);
  assert.ok(Math.abs(mean) < 0.05 && Math.abs(sd - 1) < 0.05, `mean ${mean}, sd ${sd}`);
});

test('walk: loops seamlessly and is continuous, including across the wrap', () => {
  const walk = new GaussianWalk([1, 512]); // seeds [0,1,2,3], 4 s per seed, looping
  const K = 4;
  const sps = 4;
  assert.deepEqual(run(walk, K * sps), run(walk, 0), 'value at K * secondsPerSeed equals value at 0');
  assert.deepEqual(run(walk, K * sps + 1.3), run(walk, 1.3), 'and the walk repeats');
  assert.ok(maxAbsDiff(run(walk, K * sps - 1e-3), run(walk, 0)) < 1e-3, 'approaching the wrap lands on the first seed');
  assert.ok(maxAbsDiff(run(walk, -1e-3), run(walk, 0)) < 1e-3, 'and so does leaving it backwards');
  let prev = run(walk, 0);
  let biggest = 0;
  for (let f = 1; f <= K * sps * 60; f++) {
    const cur = run(walk, f / 60);
    biggest = Math.max(biggest, maxAbsDiff(prev, cur));
    prev = cur;
  }
  assert.ok(biggest < 0.2, `largest per-frame step at 60 fps: ${biggest}`);
  assert.ok(countDiffering(run(walk, 0), run(walk, 2)) > 500, 'it moves');
});

test('walk: slerp keeps the norm of gaussian vectors (lerp would shrink it by ~1/sqrt 2)', () => {
  const walk = new GaussianWalk([1, 512], { seeds: [1, 2], secondsPerSeed: 1 });
  const a = norm(walk.seedVector(0));
  const b = norm(walk.seedVector(1));
  const mid = norm(run(walk, 0.5));
  assert.ok(mid > 0.95 * Math.min(a, b) && mid < 1.05 * Math.max(a, b), `|a| ${a}, |b| ${b}, |mid| ${mid}`);
});

test('walk: slerp is safe for parallel and nearly parallel vectors; a repeated seed holds still', () => {
  const a = Float32Array.from(gaussianArray(64, 1));
  const nearly = a.map((v, i) => v + (i === 0 ? 1e-7 : 0));
  const out = new Float32Array(64);
  for (const t of [0, 0.3, 0.5, 1]) {
    slerp(out, a, a, t);
    assert.ok(out.every(Number.isFinite) && maxAbsDiff(out, a) < 1e-6, `parallel at ${t}`);
    slerp(out, a, nearly, t);
    assert.ok(out.every(Number.isFinite) && maxAbsDiff(out, a) < 1e-5, `nearly parallel at ${t}`);
  }
  const scaled = a.map((v) => 2 * v);
  slerp(out, a, scaled, 0.5);
  assert.ok(
    maxAbsDiff(
      out,
      a.map((v) => 1.5 * v),
    ) < 1e-5,
    'parallel vectors of different length blend linearly',
  );
  const still = new GaussianWalk([1, 64], { seeds: [7, 7], secondsPerSeed: 1 });
  for (const time of [0, 0.25, 0.5, 1.7]) assert.ok(maxAbsDiff(run(still, time), gaussianArray(64, 7)) < 1e-6);
});

test('walk: seeds recompute only when changed (in place too); seed offsets the list; no loop holds the ends', () => {
  const walk = new GaussianWalk([1, 128]);
  const first = walk.seedVector(0);
  run(walk, 1);
  assert.equal(walk.seedVector(0).buffer, first.buffer, 'same seeds: the vectors are not rebuilt');
  walk.params.seeds[0] = 50;
  assert.deepEqual(run(walk, 0), gaussianArray(128, 50), 'editing the list in place takes effect');
  walk.params.seeds = [8, 9];
  assert.deepEqual(run(walk, 0), gaussianArray(128, 8), 'replacing the list takes effect');
  walk.params.seed = 100;
  assert.deepEqual(run(walk, 0), gaussianArray(128, 108), 'seed is added to every entry');
  assert.deepEqual(run(walk, 4), gaussianArray(128, 109));
  walk.params.seed = 0;
  walk.params.loop = false;
  walk.params.seeds = [1, 2, 3];
  assert.deepEqual(run(walk, 100), gaussianArray(128, 3), 'past the end: the last seed');
  assert.deepEqual(run(walk, -5), gaussianArray(128, 1), 'before the start: the first seed');
});

// --- noise texture -------------------------------------------------------------------------------

test('noise texture: one octave at full resolution is simplex-noise noise3D at pixel centres', () => {
  const W = 24;
  const H = 16;
  const scale = 5;
  const speed = 0.3;
  const tex = new NoiseTexture([1, 2, H, W], 'nchw', { octaves: 1, samplesPerCell: 0, scale, speed, seed: 9 });
  const noise = createNoise3D(mulberry32(9));
  const time = 2.2;
  const out = run(tex, time);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const want = noise(((x + 0.5) / W) * scale, ((y + 0.5) / W) * scale, time * speed);
      assert.ok(Math.abs(out[y * W + x]! - want) < 1e-6, `(${x}, ${y}): ${out[y * W + x]} vs ${want}`);
    }
  }
  assert.ok(countDiffering(out.subarray(0, H * W), out.subarray(H * W)) > H * W * 0.9, 'channel 1 differs from channel 0');
});

test('noise texture: stays in its range for any octaves, and uses it; 0..1 range; amplitude/offset', () => {
  for (let octaves = 1; octaves <= 8; octaves++) {
    const tex = new NoiseTexture([1, 3, 24, 24], 'nchw', { octaves, scale: 4 });
    let lo = Infinity;
    let hi = -Infinity;
    for (const time of [0, 3.1, 17.9]) {
      const [l, h] = minMax(run(tex, time));
      (lo = Math.min(lo, l)), (hi = Math.max(hi, h));
    }
    assert.ok(lo >= -1 && hi <= 1, `octaves ${octaves}: ${lo}..${hi}`);
    assert.ok(hi - lo > 0.6, `octaves ${octaves}: not flat (${lo}..${hi})`);
    tex.params.range = '0..1';
    const [l01, h01] = minMax(run(tex, 3.1));
    assert.ok(l01 >= 0 && h01 <= 1 && h01 - l01 > 0.3, `octaves ${octaves} 0..1: ${l01}..${h01}`);
  }
  const base = run(new NoiseTexture([1, 1, 16, 16]), 1);
  const mapped = run(new NoiseTexture([1, 1, 16, 16], 'nchw', { amplitude: 0.5, offset: 2 }), 1);
  assert.ok(
    maxAbsDiff(
      mapped,
      Array.from(base, (v) => 2 + 0.5 * v),
    ) < 1e-5,
  );
});

test('noise texture: deterministic, seeded, continuous in time, changing over time', () => {
  const a = new NoiseTexture([1, 3, 32, 32], 'nchw', { seed: 5 });
  const b = new NoiseTexture([1, 3, 32, 32], 'nchw', { seed: 5 });
  assert.deepEqual(run(a, 4.2), run(b, 4.2));
  const c = new NoiseTexture([1, 3, 32, 32], 'nchw', { seed: 6 });
  assert.ok(countDiffering(run(a, 4.2), run(c, 4.2)) > 3000, 'another seed, another texture');
  a.params.seed = 6;
  assert.deepEqual(run(a, 4.2), run(c, 4.2), 'live seed change');
  assert.ok(maxAbsDiff(run(a, 4.2), run(a, 4.2 + 1 / 120)) < 0.05, 'half a frame moves pixels a little');
  assert.ok(maxAbsDiff(run(a, 4.2), run(a, 9)) > 0.3, 'seconds later it looks different');
});

test('noise texture: NHWC holds the same values as NCHW, transposed', () => {
  const C = 3;
  const H = 10;
  const W = 14;
  const nchw = run(new NoiseTexture([1, C, H, W], 'nchw', { seed: 2 }), 1.5);
  const nhwc = run(new NoiseTexture([1, H, W, C], 'nhwc', { seed: 2 }), 1.5);
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) assert.equal(nhwc[(y * W + x) * C + c], nchw[(c * H + y) * W + x]);
});

test('noise texture: low scale evaluates a coarser grid, close to every-pixel noise', () => {
  const S = 96;
  const full = new NoiseTexture([1, 3, S, S], 'nchw', { scale: 1.5, octaves: 2, samplesPerCell: 0 });
  const coarse = new NoiseTexture([1, 3, S, S], 'nchw', { scale: 1.5, octaves: 2 });
  const [gw, gh] = coarse.gridSize();
  assert.ok(gw < S / 2 && gh < S / 2, `grid ${gw}x${gh} for a ${S}x${S} image`);
  assert.deepEqual(full.gridSize(), [S, S]);
  const a = run(full, 2);
  const b = run(coarse, 2);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  const rms = Math.sqrt(se / a.length);
  assert.ok(rms < 0.01 && maxAbsDiff(a, b) < 0.05, `rms ${rms}, max ${maxAbsDiff(a, b)}`);
  coarse.params.scale = 40;
  assert.deepEqual(coarse.gridSize(), [S, S], 'fine noise is evaluated at every pixel');
});

// --- image file ----------------------------------------------------------------------------------

function writePng(path: string, width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]) {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) png.data.set(pixel(x, y), (y * width + x) * 4);
  writeFileSync(path, PNG.sync.write(png));
}

test('image file: a PNG at the input size round-trips into NCHW/NHWC and each range', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'a.png');
  const W = 5;
  const H = 3;
  const px = (x: number, y: number): [number, number, number, number] => [x * 50, y * 100, (x * 37 + y * 91) % 256, 255 - x * 10];
  writePng(file, W, H, px);
  const nchw = run(new ImageFile([1, 3, H, W], 'nchw', file), 0);
  const nhwc = run(new ImageFile([1, H, W, 4], 'nhwc', file), 0);
  const unit = run(new ImageFile([1, 3, H, W], 'nchw', file, { range: '0..1' }), 0);
  const bytes = run(new ImageFile([1, 3, H, W], 'nchw', file, { range: '0..255' }), 0);
  const gray = run(new ImageFile([1, 1, H, W], 'nchw', file, { range: '0..255' }), 0);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = px(x, y);
      for (let c = 0; c < 3; c++) {
        const i = (c * H + y) * W + x;
        assert.ok(Math.abs(nchw[i]! - (p[c]! / 255) * 2 + 1) < 1e-6);
        assert.ok(Math.abs(unit[i]! - p[c]! / 255) < 1e-6);
        assert.ok(Math.abs(bytes[i]! - p[c]!) < 1e-4);
      }
      for (let c = 0; c < 4; c++) assert.ok(Math.abs(nhwc[(y * W + x) * 4 + c]! - (p[c]! / 255) * 2 + 1) < 1e-6, 'NHWC RGBA');
      assert.ok(Math.abs(gray[y * W + x]! - (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2])) < 1e-3, 'one channel is luminance');
    }
  }
  const src = new ImageFile([1, 3, H, W], 'nchw', file);
  src.params.range = '0..1';
  assert.deepEqual(run(src, 0), unit, 'the range can change after loading');
});

test('image file: bilinear resize keeps flat colours, halves 2x2 blocks exactly, and interpolates monotonically', (t) => {
  const dir = tempDir(t);
  const flat = join(dir, 'flat.png');
  writePng(flat, 7, 5, () => [200, 100, 50, 255]);
  const up = run(new ImageFile([1, 3, 33, 20], 'nchw', flat, { range: '0..255' }), 0);
  for (let c = 0; c < 3; c++) for (let i = 0; i < 33 * 20; i++) assert.ok(Math.abs(up[c * 33 * 20 + i]! - [200, 100, 50][c]!) < 1e-3);

  const blocks = join(dir, 'blocks.png');
  const colour = (bx: number, by: number) => (bx * 40 + by * 90) % 256;
  writePng(blocks, 8, 6, (x, y) => [colour(x >> 1, y >> 1), 0, 0, 255]);
  const half = run(new ImageFile([1, 3, 3, 4], 'nchw', blocks, { range: '0..255' }), 0);
  for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) assert.ok(Math.abs(half[y * 4 + x]! - colour(x, y)) < 1e-3, `block ${x},${y}`);

  const ramp = join(dir, 'ramp.png');
  writePng(ramp, 4, 2, (x) => [x * 80, 0, 0, 255]);
  const wide = run(new ImageFile([1, 1, 2, 40], 'nchw', ramp, { range: '0..1' }), 0);
  for (let x = 1; x < 40; x++) assert.ok(wide[x]! >= wide[x - 1]! - 1e-7, 'left to right it only gets brighter');
  assert.ok(wide[39]! - wide[0]! > 0.2, 'and it does get brighter');
});

test('image file: errors name the file and what is wrong', (t) => {
  const dir = tempDir(t);
  const shape = [1, 3, 8, 8];
  const missing = join(dir, 'nope.png');
  assert.throws(
    () => new ImageFile(shape, 'nchw', missing),
    (e: Error) => e.message.includes(missing) && /no such file/.test(e.message),
  );
  const text = join(dir, 'notes.png');
  writeFileSync(text, 'hello, not an image');
  assert.throws(
    () => new ImageFile(shape, 'nchw', text),
    (e: Error) => e.message.includes(text) && /not a PNG/.test(e.message),
  );
  const jpeg = join(dir, 'photo.jpg');
  writeFileSync(jpeg, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]));
  assert.throws(
    () => new ImageFile(shape, 'nchw', jpeg),
    (e: Error) => e.message.includes(jpeg) && /JPEG/.test(e.message) && /only PNG/.test(e.message),
  );
  const broken = join(dir, 'broken.png');
  const good = new PNG({ width: 4, height: 4 });
  writeFileSync(broken, PNG.sync.write(good).subarray(0, 40));
  assert.throws(
    () => new ImageFile(shape, 'nchw', broken),
    (e: Error) => e.message.includes(broken) && /PNG/.test(e.message),
  );
  assert.throws(
    () => new ImageFile(shape, 'nchw', dir),
    (e: Error) => e.message.includes(dir) && /folder/.test(e.message),
  );
});

// --- vector params -------------------------------------------------------------------------------

test('vector params: p0..pK-1 default 0, settable by index, by name and through params; names overridable', () => {
  const v = new VectorSource([1, 4]);
  assert.deepEqual(v.names, ['p0', 'p1', 'p2', 'p3']);
  assert.deepEqual(Object.entries(v.params), [
    ['p0', 0],
    ['p1', 0],
    ['p2', 0],
    ['p3', 0],
  ]);
  v.set(1, 0.5);
  v.set('p3', -2);
  v.params.p2 = 1.25;
  v.values[0] = 3;
  assert.deepEqual([...v.values], [3, 0.5, 1.25, -2]);
  assert.equal(v.params.p1, 0.5);
  assert.equal(v.get('p2'), 1.25);
  const out = new Float32Array(4);
  v.fill(out, at(0));
  assert.deepEqual([...out], [3, 0.5, 1.25, -2]);
  v.params = { p0: 9 };
  assert.deepEqual([...v.values], [9, 0.5, 1.25, -2], 'assigning params sets the values it names');

  const named = new VectorSource([1, 3], ['gain', 'tilt']);
  assert.deepEqual(named.names, ['gain', 'tilt', 'p2']);
  named.set('tilt', 0.75);
  assert.equal(named.values[1], 0.75);
  assert.equal(named.indexOf('gain'), 0);
  assert.throws(() => named.set('p0', 1), /no parameter "p0"/);
  assert.throws(() => named.set(3, 1), /no parameter #3/);
  assert.throws(() => new VectorSource([1, 2], ['a', 'a']), /used twice/);
  assert.throws(() => new VectorSource([1, 2], ['a/b']), /a\/b/);
  assert.throws(() => new VectorSource([1, 1], ['a', 'b']), /2 names/);
});

// --- no allocation per frame ---------------------------------------------------------------------

/**
 * Bytes the heap grew by over `n` calls: the smallest growth over several rounds in which no garbage
 * collection ran (a collection would hide allocation). It warms up first, for at least `n` * 4 calls
 * and 100 ms, so V8 has optimised the code (on a busy machine its compiler thread may lag); before
 * that, unoptimised code boxes numbers. Infinity when every round saw a collection.
 */
async function heapGrowth(fn: () => void, n: number, rounds = 8): Promise<number> {
  const gcs: Array<[number, number]> = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => gcs.push([e.startTime, e.startTime + e.duration])));
  observer.observe({ entryTypes: ['gc'] });
  try {
    const start = performance.now();
    for (let i = 0; i < 4 * n || performance.now() - start < 100; i++) fn();
    const spans: Array<[number, number, number]> = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const h0 = process.memoryUsage().heapUsed;
      for (let i = 0; i < n; i++) fn();
      const grew = process.memoryUsage().heapUsed - h0;
      spans.push([t0, performance.now(), grew]);
    }
    await new Promise((done) => setTimeout(done, 20)); // let the observer deliver
    const clean = spans.filter(([t0, t1]) => !gcs.some(([g0, g1]) => g0 <= t1 && g1 >= t0));
    return clean.length ? Math.min(...clean.map(([, , grew]) => grew)) : Infinity;
  } finally {
    observer.disconnect();
  }
}

test('every source fills the same preallocated array in place and allocates nothing per frame', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'still.png');
  writePng(file, 6, 6, (x, y) => [x * 40, y * 40, 128, 255]);
  const sources: InputSource<unknown>[] = [
    new SimplexStrip([1, 256]),
    new GaussianWalk([1, 512]),
    new KeyframeLoop([1, 512], { keyframes: [{ seed: 1 }, { seed: 2 }, { seed: 3 }], leg: 4 }), // between keyframes at 1/4 steps
    new NoiseTexture([1, 3, 8, 8]),
    new NoiseTexture([1, 3, 32, 32], 'nchw', { scale: 1, octaves: 1 }), // the coarse-grid path
    new ImageFile([1, 3, 8, 8], 'nchw', file),
    new VectorSource([1, 8]),
  ];
  assert.ok((sources[3] as NoiseTexture).gridSize()[0] < 32, 'the second texture takes the coarse-grid path');
  const n = 1000;
  for (const s of sources) {
    const out = new Float32Array(sizeOf(s));
    const time = { time: 0, frame: 0 };
    assert.equal(s.fill(out, time), undefined, 'fill returns nothing: it writes into out');
    // Integer times (small integers are never boxed), so the probe loop itself allocates nothing
    // even before V8 optimises it; every source still moves between them (the walk by 1/4 seed).
    const fill = () => {
      time.frame++;
      time.time = time.frame & 1023;
      s.fill(out, time);
    };
    const grew = await heapGrowth(fill, n);
    // Any object made per frame is at least 16 bytes; n frames would add >= 16 n.
    assert.ok(grew < n, `${s.kind}: heap grew ${grew} bytes over ${n} frames`);
  }
  // The probe itself notices a source that allocates a buffer per frame.
  const strip = new SimplexStrip([1, 512]);
  const wasteful = () => strip.fill(new Float32Array(512), at(1));
  const wasted = await heapGrowth(wasteful, n, 3);
  assert.ok(wasted > 16 * n, `the probe sees per-frame allocation (${wasted} bytes over ${n} frames)`);
});

// --- binding -------------------------------------------------------------------------------------

test('bind: default source by shape, a dynamic batch dimension counts as 1', () => {
  const cases: Array<[(number | string)[], string, number[]]> = [
    [[1, 512], 'strip', [1, 512]],
    [[512], 'strip', [512]],
    [['batch', 64], 'strip', [1, 64]],
    [[-1, 128], 'strip', [1, 128]],
    [[1, 63], 'params', [1, 63]],
    [[1, 8], 'params', [1, 8]],
    [['N', 3], 'params', [1, 3]],
    [[1, 3, 64, 64], 'noise', [1, 3, 64, 64]],
    [['N', 1, 32, 48], 'noise', [1, 1, 32, 48]],
    [[1, 64, 64, 4], 'noise', [1, 64, 64, 4]],
    [[-1, 32, 32, 3], 'noise', [1, 32, 32, 3]],
  ];
  for (const [shape, kind, dims] of cases) {
    const s = chooseSource('x', shape, 'float32');
    assert.equal(s.kind, kind, `[${shape}]`);
    assert.deepEqual(s.shape, dims, `[${shape}]`);
    const out = new Float32Array(sizeOf(s));
    s.fill(out, at(0.5));
    assert.ok(out.every(Number.isFinite));
  }
  assert.equal((chooseSource('img', [1, 64, 64, 3], 'float32') as NoiseTexture).layout, 'nhwc');
  assert.equal((chooseSource('img', [1, 3, 64, 64], 'float32') as NoiseTexture).layout, 'nchw');
});

test('bind: unsupported shapes and types throw naming the input, its shape and what is supported', () => {
  const bad: Array<[(number | string)[], string]> = [
    [[1, 3, 'height', 'width'], 'float32'],
    [[1, -1], 'float32'],
    [[1, 3, 64], 'float32'],
    [[1, 5, 64, 64], 'float32'],
    [[2, 512], 'float32'],
    [[1, 2, 3, 4, 5], 'float32'],
    [[], 'float32'],
    [[1, 512], 'int64'],
    [[1, 3, 64, 64], 'float16'],
  ];
  for (const [shape, dtype] of bad) {
    assert.throws(
      () => chooseSource('latent_in', shape, dtype),
      (e: Error) => e.message.includes('"latent_in"') && e.message.includes(`[${shape.join(', ')}]`) && /supported/.test(e.message),
      `[${shape}] ${dtype}`,
    );
  }
});

test('bind: overrides pick walk, image, noise, params or strip where they fit, and say why where they do not', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'cover.png');
  writePng(file, 4, 4, () => [255, 0, 0, 255]);
  assert.equal(chooseSource('z', [1, 512], 'float32', 'walk').kind, 'walk');
  assert.equal(chooseSource('z', [1, 512], 'float32', 'params').kind, 'params');
  assert.equal(chooseSource('c', [1, 8], 'float32', 'strip').kind, 'strip');
  const img = chooseSource('img', ['N', 3, 16, 16], 'float32', `image:${file}`);
  assert.equal(img.kind, 'image');
  const out = run(img, 0);
  assert.ok(out.subarray(0, 256).every((v) => Math.abs(v - 1) < 1e-6) && out.subarray(256).every((v) => Math.abs(v + 1) < 1e-6), 'red in -1..1');

  const fails: Array<[(number | string)[], string, RegExp]> = [
    [[1, 512], 'noise', /cannot take a "noise" source: it needs an image/],
    [[1, 512], `image:${file}`, /needs an image/],
    [[1, 3, 16, 16], 'strip', /cannot take a "strip" source: it needs a vector/],
    [[1, 3, 16, 16], 'walk', /needs a vector/],
    [[1, 3, 16, 16], 'params', /needs a vector/],
    [[1, 3, 16, 16], 'keyframes', /cannot take a "keyframes" source: it needs a vector/],
    [[1, 3, 16, 16], 'image:', /needs a file, as image:<path>/],
    [[1, 3, 16, 16], 'sparkles', /unknown source "sparkles".*strip, walk, noise, image:<path>, params/],
    [[1, 3, 16, 16], `image:${join(dir, 'gone.png')}`, /gone\.png": no such file/],
  ];
  for (const [shape, override, pattern] of fails) {
    assert.throws(
      () => chooseSource('in0', shape, 'float32', override),
      (e: Error) => e.message.includes('"in0"') && e.message.includes(`[${shape.join(', ')}]`) && pattern.test(e.message),
      `${override} on [${shape}]`,
    );
  }
});
