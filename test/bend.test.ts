// Issue 3: weight edits, blending and taps on real StyleGAN exports, through the real CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { cli, fixture, maxDiff, tempDir } from './helpers.ts';
import { readModelFile, encodeModel } from '../app/engine/onnx/model-file.ts';
import { weightInitializers } from '../app/engine/onnx/model-info.ts';
import { floatValues } from '../app/engine/onnx/tensor-data.ts';

const A = fixture('stylegan2-64-tiny.onnx');
const B = fixture('stylegan2-64-tiny-b.onnx');
const pixels = (dir: string, i = 0) => PNG.sync.read(readFileSync(join(dir, `frame-${String(i).padStart(5, '0')}.png`))).data;
const f32 = (path: string) => {
  const b = readFileSync(path);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

async function play(dir: string, name: string, model: string, ...args: string[]): Promise<string> {
  const out = join(dir, name);
  const r = await cli(['play', model, '--frames', '2', '--fps', '4', '--seed', '5', '--ep', 'cpu', '--out', out, ...args]);
  assert.equal(r.code, 0, `${name}: ${r.stderr}`);
  return out;
}

test('identity edits and restore give the unedited frames; scale=0 changes them', async (t) => {
  const dir = tempDir(t);
  // Independent runs, side by side (each is mostly a process starting and a model loading).
  const [plain, identity, zero, noise] = await Promise.all([
    play(dir, 'plain', A),
    play(dir, 'identity', A, '--edit', 'b16:scale=1', '--edit', 'G.synthesis.b32.conv1.weight:offset=0', '--edit', 'G.mapping.fc*.weight:scale=1'),
    play(dir, 'zero', A, '--edit', 'b16.conv1:scale=0'),
    play(dir, 'noise', A, '--edit', 'b8:noise=0.8', '--edit', 'b32.conv0:ablate=0.5'),
  ]);
  for (const i of [0, 1]) assert.deepEqual(pixels(identity, i), pixels(plain, i), `frame ${i} identical`);
  assert.notDeepEqual(pixels(zero), pixels(plain));
  assert.notDeepEqual(pixels(noise), pixels(plain));
});

test('restore in the engine gives back the exact original frame', async () => {
  const { Engine } = await import('../app/engine/engine.ts');
  const { engine } = await Engine.open({ model: A, ep: 'cpu', seed: 5 });
  try {
    assert.throws(() => engine.addEdit('nothing.here*', 'scale', 1), /matches no weight/);
    assert.throws(() => engine.addEdit('b999', 'scale', 1), /no layer "b999"/);
    const t = { index: 0, time: 0, dt: 0 };
    const before = Array.from((await engine.render(t)).rgba!);
    engine.addEdit('b8', 'noise', 1);
    await engine.settled();
    const edited = Array.from((await engine.render(t)).rgba!);
    assert.notDeepEqual(edited, before, 'the noise edit shows');
    engine.bend.restore();
    assert.deepEqual(Array.from((await engine.render(t)).rgba!), before);
  } finally {
    await engine.close();
  }
});

test('blend: t=0 is A, t=1 is B, 0.5 and 1.5 are neither, 0.5 equals offline-averaged weights', async (t) => {
  const dir = tempDir(t);
  const tap = ['--tap', 'G.synthesis'];
  // The same blend written offline with our ONNX writer, then played.
  const playAveraged = async () => {
    const ma = (await readModelFile(A)).model;
    const mb = (await readModelFile(B)).model;
    const theirs = new Map(weightInitializers(mb).map((w) => [w.name, floatValues(w)]));
    for (const w of weightInitializers(ma)) {
      const x = floatValues(w);
      const y = theirs.get(w.name)!;
      const avg = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) avg[i] = x[i]! + 0.5 * (y[i]! - x[i]!);
      w.rawData = new Uint8Array(avg.buffer);
      w.floatData = [];
    }
    const averaged = join(dir, 'averaged.onnx');
    writeFileSync(averaged, encodeModel(ma));
    return play(dir, 'offline', averaged, ...tap);
  };
  // Independent runs, side by side (each is mostly a process starting and a model loading).
  const [a, b, t0, t1, half, over, offline] = await Promise.all([
    play(dir, 'a', A, ...tap),
    play(dir, 'b', B, ...tap),
    play(dir, 't0', A, '--blend', B, '--blend-amount', '0', ...tap),
    play(dir, 't1', A, '--blend', B, '--blend-amount', '1', ...tap),
    play(dir, 'half', A, '--blend', B, '--blend-amount', '0.5', ...tap),
    play(dir, 'over', A, '--blend', B, '--blend-amount', '1.5', ...tap),
    playAveraged(),
  ]);
  assert.deepEqual(pixels(t0), pixels(a), 't=0 gives A exactly');
  assert.ok(maxDiff(pixels(t1), pixels(b)) <= 1, 't=1 gives B within 1 level');
  for (const mid of [half, over]) {
    assert.ok(maxDiff(pixels(mid), pixels(a)) > 10);
    assert.ok(maxDiff(pixels(mid), pixels(b)) > 10);
  }
  const live = f32(join(half, 'tap-G.synthesis-00000.f32'));
  const baked = f32(join(offline, 'tap-G.synthesis-00000.f32'));
  assert.ok(maxDiff(live, baked) < 1e-4, `t=0.5 equals the averaged model (max diff ${maxDiff(live, baked)})`);
});

test('blend with scale edits (bent after the mapping and style products, and in one pass per conv weight) equals the same weights bent offline', async (t) => {
  const dir = tempDir(t);
  const tap = ['--tap', 'G.synthesis'];
  const scales: [RegExp, number][] = [
    [/^G\.mapping\.fc.*\.weight$/, 0.5],
    [/^G\.synthesis\.b16\..*weight$/, 0.7],
  ];
  const live = await play(dir, 'live', A, '--blend', B, '--blend-amount', '0.5', '--edit', 'G.mapping.fc*.weight:scale=0.5', '--edit', 'G.synthesis.b16.*weight:scale=0.7', ...tap);
  const ma = (await readModelFile(A)).model;
  const theirs = new Map(weightInitializers((await readModelFile(B)).model).map((w) => [w.name, floatValues(w)]));
  for (const w of weightInitializers(ma)) {
    const x = floatValues(w);
    const y = theirs.get(w.name)!;
    const s = scales.find(([re]) => re.test(w.name))?.[1] ?? 1;
    const bent = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) bent[i] = Math.fround(x[i]! + 0.5 * (y[i]! - x[i]!)) * s;
    w.rawData = new Uint8Array(bent.buffer);
    w.floatData = [];
  }
  const baked = join(dir, 'baked.onnx');
  writeFileSync(baked, encodeModel(ma));
  const offline = await play(dir, 'offline', baked, ...tap);
  const a = f32(join(live, 'tap-G.synthesis-00000.f32'));
  const b = f32(join(offline, 'tap-G.synthesis-00000.f32'));
  assert.ok(maxDiff(a, b) < 1e-4, `live bends equal the offline ones (max diff ${maxDiff(a, b)})`);
});

test('per-layer blend amounts override "all"', async (t) => {
  const dir = tempDir(t);
  const [a, onlyMapping, allButMapping] = await Promise.all([
    play(dir, 'a', A),
    play(dir, 'm', A, '--blend', B, '--blend-amount', '0', '--blend-layer', 'mapping=1'),
    play(dir, 'n', A, '--blend', B, '--blend-amount', '1', '--blend-layer', 'synthesis=0', '--blend-layer', 'mapping=0'),
  ]);
  assert.notDeepEqual(pixels(onlyMapping), pixels(a));
  assert.deepEqual(pixels(allButMapping), pixels(a), 'every layer set back to 0 is A');
});

test('a partner of another architecture is refused with a readable list', async (t) => {
  const dir = tempDir(t);
  const r = await cli(['play', fixture('stylegan3t-128-tiny.onnx'), '--frames', '1', '--ep', 'cpu', '--out', dir, '--blend', A]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /blend partner .*stylegan2-64-tiny\.onnx does not match/);
  assert.match(r.stderr, /G\.synthesis\.L6_84_128\.weight \(128x128x3x3\) is missing in the partner/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('--tap L6_84_128 writes the tap and its shape', async (t) => {
  const dir = tempDir(t);
  const r = await cli(['play', fixture('stylegan3t-128-tiny.onnx'), '--frames', '1', '--ep', 'cpu', '--out', dir, '--tap', 'L6_84_128']);
  assert.equal(r.code, 0, r.stderr);
  const stats = JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8'));
  assert.deepEqual(stats.taps['G.synthesis.L6_84_128'].shape, [1, 128, 84, 84]);
  const grid = PNG.sync.read(readFileSync(join(dir, 'tap-G.synthesis.L6_84_128-00000.png')));
  assert.ok(grid.width >= 84 * 11 && grid.height >= 84 * 11, 'a channel grid of 128 maps');
  assert.equal(readFileSync(join(dir, 'tap-G.synthesis.L6_84_128-00000.f32')).length, 128 * 84 * 84 * 4);
});

test('--animate moves an amount per frame', async (t) => {
  const dir = tempDir(t);
  const [still, moving] = await Promise.all([
    play(dir, 'still', A, '--edit', 'b16:scale=1'),
    play(dir, 'moving', A, '--edit', 'b16:scale=1', '--animate', 'b16-scale/amount=sine:1hz:depth=2:center=1'),
  ]);
  assert.deepEqual(pixels(moving, 0), pixels(still, 0), 'sine starts at its centre');
  assert.notDeepEqual(pixels(moving, 1), pixels(still, 1));
});
