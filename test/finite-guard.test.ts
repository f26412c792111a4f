// Issue 12 item 6: no black frames. Ablate on a demodulated conv silences channels without NaN
// (StyleGAN2, StyleGAN3, a hand-built weight-normalised conv); a bend that does break the net is
// counted, reported once per incident naming the layer where the NaN first appears, and the
// picture holds the last good frame. Real onnxruntime sessions throughout, through the engine and
// the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { cli, fixture, tempDir, until } from './helpers.ts';
import { writeModel } from './models/make-test-models.ts';
import { GraphBuilder, SeededRandom, attr } from '../app/engine/onnx/graph-builder.ts';
import { ablatedChannels } from '../app/engine/bend/edit-ops.ts';
import { readModelFile } from '../app/engine/onnx/model-file.ts';
import { buildLayerTree } from '../app/engine/onnx/layer-tree.ts';
import type { Engine as EngineType } from '../app/engine/engine.ts';
import type { Frame } from '../app/engine/frame.ts';

const SG2 = fixture('stylegan2-64-tiny.onnx');
const { Engine } = await import('../app/engine/engine.ts');

const finite = (a: ArrayLike<number>) => Array.prototype.every.call(a, (x: number) => Number.isFinite(x));
const png = (dir: string, i = 0) => PNG.sync.read(readFileSync(join(dir, `frame-${String(i).padStart(5, '0')}.png`)));
/** Share of pixels with any colour at all: a NaN frame is all black (0, 0, 0). */
const lit = (rgba: ArrayLike<number>) => {
  let n = 0;
  for (let i = 0; i < rgba.length; i += 4) if (rgba[i]! + rgba[i + 1]! + rgba[i + 2]! > 0) n++;
  return n / (rgba.length / 4);
};
const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) => !!a && !!b && Buffer.from(a).equals(Buffer.from(b));

async function play(dir: string, name: string, model: string, ...args: string[]): Promise<{ out: string; stderr: string; stats: { nonFinite: number } }> {
  const out = join(dir, name);
  const r = await cli(['play', model, '--frames', '3', '--fps', '4', '--seed', '5', '--ep', 'cpu', '--out', out, ...args]);
  assert.equal(r.code, 0, `${name}: ${r.stderr}`);
  return { out, stderr: r.stderr, stats: JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) };
}

/**
 * An engine with its warnings collected; `frame(i)` renders frame i at 30 fps; `close()` (also run
 * after the test) waits for any diagnosis still running, so every warning is in by then.
 */
async function open(model: string, t: { after(fn: () => Promise<void>): void }): Promise<{ engine: EngineType; warnings: string[]; frame: (i: number) => Promise<Frame>; close: () => Promise<void> }> {
  const { engine } = await Engine.open({ model, ep: 'cpu', seed: 5 });
  const warnings: string[] = [];
  engine.on('warning', (w) => warnings.push(w));
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= engine.close());
  t.after(close);
  return { engine, warnings, frame: (i) => engine.render({ index: i, time: i / 30, dt: 1 / 30 }), close };
}

/**
 * A small net built here: `z` [1,64] -> G.fc (Gemm, reshaped to 3x8x8) -> G.norm (a weight-normalised
 * 1x1 conv: w / ReduceL2(w) per output channel, another exporter's way to normalise) -> G.log
 * (Log of a positive conv) -> G.out (Tanh). With `sanitize`, G.out replaces NaN by 0 first, so
 * a broken G.log shows only in its tap.
 */
function makeLogNet(path: string, sanitize: boolean): void {
  const rng = new SeededRandom(1201);
  const g = new GraphBuilder({ opset: 17, producer: 'netbend finite-guard test' });
  const z = g.input('z', [1, 64]);
  const fcw = g.initializer('G.fc.weight', rng.normal(192 * 64, 0.25), [192, 64]);
  const fc = g.op('Gemm', [z, fcw], { transB: attr.int(1) }, { scope: 'G.fc', shapes: [[1, 192]] });
  const x = g.op('Reshape', [fc, g.constant(new BigInt64Array([1n, 3n, 8n, 8n]))], {}, { scope: 'G.fc', shapes: [[1, 3, 8, 8]] });
  const nw = g.initializer('G.norm.weight', rng.normal(8 * 3, 1), [8, 3, 1, 1]);
  const nb = g.initializer('G.norm.bias', rng.normal(8, 0.1), [8]);
  const norm = g.op('ReduceL2', [nw], { axes: attr.ints([1, 2, 3]), keepdims: attr.int(1) }, { scope: 'G.norm', shapes: [[8, 1, 1, 1]] });
  const wn = g.op('Div', [nw, norm], {}, { scope: 'G.norm', shapes: [[8, 3, 1, 1]] });
  const h = g.op('Conv', [x, wn, nb], {}, { scope: 'G.norm', shapes: [[1, 8, 8, 8]] });
  const a = g.op('Abs', [h], {}, { scope: 'G.log', shapes: [[1, 8, 8, 8]] });
  const lw = g.initializer(
    'G.log.weight',
    Float32Array.from(rng.normal(3 * 8, 0.1), (v) => Math.abs(v) + 0.01),
    [3, 8, 1, 1],
  );
  const lb = g.initializer('G.log.bias', new Float32Array([0.5, 0.5, 0.5]), [3]);
  const c = g.op('Conv', [a, lw, lb], {}, { scope: 'G.log', shapes: [[1, 3, 8, 8]] });
  let y = g.op('Log', [c], {}, { scope: 'G.log', shapes: [[1, 3, 8, 8]] });
  if (sanitize) y = g.op('Where', [g.op('IsNaN', [y], {}, { scope: 'G.out' }), g.constant(new Float32Array([0]), []), y], {}, { scope: 'G.out', shapes: [[1, 3, 8, 8]] });
  g.op('Tanh', [y], {}, { scope: 'G.out', out: 'img' });
  g.output('img', [1, 3, 8, 8]);
  writeModel(path, g.toBytes());
}

test('the README edit b32.conv0:ablate=0.25 on stylegan2-64-tiny gives a finite, lit frame that differs from the plain one; so do scale=0 and set=0', async (t) => {
  const dir = tempDir(t);
  // Independent runs, side by side (each is mostly a process starting and a model loading).
  const [plain, ablated, zeroed] = await Promise.all([
    play(dir, 'plain', SG2),
    play(dir, 'ablated', SG2, '--edit', 'b32.conv0:ablate=0.25', '--tap', 'b32.conv0'),
    play(dir, 'zeroed', SG2, '--edit', 'b32.conv0:scale=0', '--edit', 'b64.conv1:set=0', '--frames', '1'),
  ]);
  assert.equal(ablated.stats.nonFinite, 0, 'no frame held a NaN');
  assert.doesNotMatch(ablated.stderr, /non-finite/);
  for (const i of [0, 1, 2]) {
    const px = png(ablated.out, i).data;
    assert.ok(lit(px) > 0.9, `frame ${i} is not black (${(lit(px) * 100).toFixed(1)}% lit)`);
    assert.notDeepEqual(px, png(plain.out, i).data, `frame ${i} shows the ablation`);
    const tap = readFileSync(join(ablated.out, `tap-G.synthesis.b32.conv0-0000${i}.f32`));
    assert.ok(finite(new Float32Array(tap.buffer, tap.byteOffset, tap.byteLength / 4)), 'the ablated layer is finite');
  }
  // A whole layer to 0 is the layer silenced, not a NaN: its demodulation is zero-safe too.
  assert.equal(zeroed.stats.nonFinite, 0, zeroed.stderr);
  const px = png(zeroed.out).data;
  assert.ok(lit(px) > 0.5, `scale=0 and set=0 leave a picture (${(lit(px) * 100).toFixed(1)}% lit)`);
  assert.notDeepEqual(px, png(plain.out).data);
});

test('ablate silences exactly the ablated channels: they equal the fully ablated layer, the others the plain one', async (t) => {
  const { engine, warnings, frame } = await open(SG2, t);
  const layer = engine.tree.resolve('b32.conv0');
  engine.setTaps([layer.path]);
  await engine.settled();
  const plain = (await frame(0)).taps[layer.path]!;
  const name = engine.addEdit('G.synthesis.b32.conv0.weight', 'ablate', 1);
  await engine.settled();
  const all = (await frame(0)).taps[layer.path]!;
  engine.params.set(`/netbend/edit/${name}/amount`, 0.25);
  const quarter = await frame(0);
  const part = quarter.taps[layer.path]!;
  const [, channels, h, w] = part.dims as [number, number, number, number];
  const off = new Set(ablatedChannels(channels, 0.25, 0));
  assert.equal(off.size, channels / 4);
  assert.ok(finite(all.data) && finite(part.data), 'no NaN at 25% or at 100%');
  let ablatedDiffers = 0;
  for (let c = 0; c < channels; c++) {
    const at = (t: Float32Array) => t.subarray(c * h * w, (c + 1) * h * w);
    const ref = off.has(c) ? at(all.data) : at(plain.data);
    const got = at(part.data);
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - ref[i]!) < 1e-4, `channel ${c} (${off.has(c) ? 'ablated' : 'kept'}) at ${i}: ${got[i]} vs ${ref[i]}`);
    if (off.has(c) && at(plain.data).some((v, i) => Math.abs(v - got[i]!) > 1e-3)) ablatedDiffers++;
  }
  assert.equal(ablatedDiffers, off.size, 'every ablated channel changed');
  assert.ok(lit(quarter.rgba!) > 0.9);
  assert.equal(quarter.stats.nonFinite, 0);
  assert.deepEqual(warnings, []);
});

test('ablate keeps StyleGAN3 and a hand-built weight-normalised conv finite', async (t) => {
  const dir = tempDir(t);
  const model = join(dir, 'lognet.onnx');
  makeLogNet(model, false);
  const [sg3, plain, hand] = await Promise.all([
    play(dir, 'sg3', fixture('stylegan3r-64-tiny.onnx'), '--edit', 'L6:ablate=0.25', '--frames', '1'),
    play(dir, 'hand-plain', model),
    play(dir, 'hand', model, '--edit', 'G.norm.weight:ablate=0.5'),
  ]);
  assert.equal(sg3.stats.nonFinite, 0);
  assert.ok(lit(png(sg3.out).data) > 0.9);
  assert.equal(hand.stats.nonFinite, 0);
  assert.doesNotMatch(hand.stderr, /non-finite/);
  assert.notDeepEqual(png(hand.out).data, png(plain.out).data);
});

test('a NaN bend is reported once per incident naming its layer; frames hold the last good picture; the count grows; recovery plays again', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'log.onnx');
  makeLogNet(file, false);
  const { engine, warnings, frame, close } = await open(file, t);
  const layer = engine.tree.resolve('G.log');
  const upstream = engine.tree.resolve('G.norm');
  const good = await frame(0);
  assert.equal(good.stats.nonFinite, 0);
  // Weights and bias of G.log to -1: its Log reads negatives only (NaN everywhere after it).
  const name = engine.addEdit('G.log', 'set', -1);
  engine.setTaps([layer.path, upstream.path]);
  await engine.settled();
  for (let i = 1; i <= 4; i++) {
    const f = await frame(i);
    assert.equal(f.stats.nonFinite, i, 'each broken frame is counted');
    assert.ok(same(f.rgba, good.rgba), `frame ${i} holds the last good picture`);
    assert.ok(!finite(f.taps[layer.path]!.data), 'the tap of the broken layer shows it');
    assert.ok(finite(f.taps[upstream.path]!.data), 'the layer before it is fine');
  }
  await until(() => warnings.length > 0, 'the warning of the first incident', 60_000);
  for (let i = 5; i <= 7; i++) assert.ok(same((await frame(i)).rgba, good.rgba));
  assert.equal(warnings.length, 1, `one warning for the incident: ${warnings.join(' | ')}`);
  assert.match(warnings[0]!, /frame 1: non-finite values/);
  assert.ok(warnings[0]!.includes(`first appear in layer ${layer.path};`), warnings[0]);
  assert.match(warnings[0]!, /the picture/);
  assert.match(warnings[0]!, /showing the last good picture/);

  // The amount back to something finite: the net plays again, no longer the held picture.
  engine.params.set(`/netbend/edit/${name}/amount`, 0.05);
  const back = await frame(8);
  assert.equal(back.stats.nonFinite, 7, 'good frames are not counted');
  assert.ok(!same(back.rgba, good.rgba), 'a new picture');
  assert.ok(finite(back.taps[layer.path]!.data));
  // Broken again: a second incident, its own warning, holding the picture of frame 8.
  engine.params.set(`/netbend/edit/${name}/amount`, -1);
  for (let i = 9; i <= 11; i++) assert.ok(same((await frame(i)).rgba, back.rgba), `frame ${i} holds frame 8`);
  await until(() => warnings.length > 1, 'the warning of the second incident', 60_000);
  await frame(12);
  await close();
  assert.equal(warnings.length, 2, warnings.join(' | '));
  assert.match(warnings[1]!, /^frame 9: /);
  assert.ok(warnings[1]!.includes(layer.path));
});

test('a hand-built Log of a negative: the layer is named, in the picture and in a tap the picture does not show', async (t) => {
  const dir = tempDir(t);
  for (const sanitize of [false, true]) {
    const model = join(dir, `lognet-${sanitize}.onnx`);
    makeLogNet(model, sanitize);
    const { engine, warnings, frame, close } = await open(model, t);
    const log = engine.tree.resolve('G.log');
    engine.setTaps([log.path]);
    await engine.settled();
    const good = await frame(0);
    assert.ok(finite(good.taps[log.path]!.data));
    engine.addEdit('G.log', 'set', -1); // weights and bias: the Log's input is negative everywhere
    await engine.settled();
    const bad = await frame(1);
    assert.equal(bad.stats.nonFinite, 1);
    assert.ok(!finite(bad.taps[log.path]!.data));
    // Unsanitised, the picture breaks and is held; sanitised, it is a new (finite) picture.
    assert.equal(same(bad.rgba, good.rgba), !sanitize, `sanitize=${sanitize}: held iff the picture broke`);
    await frame(2);
    await until(() => warnings.length > 0, 'the warning', 60_000);
    await close();
    assert.equal(warnings.length, 1, warnings.join(' | '));
    assert.match(warnings[0]!, new RegExp(`first appear in layer ${log.path.replace('.', '\\.')}(;|$)`));
    assert.equal(/the picture/.test(warnings[0]!), !sanitize, warnings[0]);
    assert.ok(warnings[0]!.includes(`the tap ${log.path}`), warnings[0]);
  }
});

test('the CLI reports a NaN bend once, naming the layer, and counts the frames', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'log.onnx');
  makeLogNet(file, false);
  const r = await play(dir, 'nan', file, '--edit', 'G.log:set=-1', '--frames', '4');
  const layer = buildLayerTree((await readModelFile(file)).model).resolve('G.log').path;
  const lines = r.stderr.split('\n').filter((l) => /non-finite/.test(l));
  assert.equal(lines.length, 1, r.stderr);
  assert.ok(lines[0]!.includes(`warning: frame 0: non-finite values (NaN or Inf) in the picture; they first appear in layer ${layer}; there is no good picture yet`), lines[0]);
  assert.equal(r.stats.nonFinite, 4);
});

test('a frame W space broke is diagnosed with its latent feeds: the layer where the NaN first appears is named', async (t) => {
  const { engine, warnings, frame, close } = await open(SG2, t);
  const { DIRECTION_SET_FORMAT } = await import('../app/engine/latent/direction-set.ts');
  const L = '/netbend/latent';
  // A set whose direction 0 moves w past what a float holds (1e38 x 100: Inf). No file may hold
  // it (sigma is bounded there, see test/latent.test.ts), so it is handed to the engine as built.
  const [numWs, wDim] = [engine.latent.shape!.numWs, engine.latent.shape!.wDim];
  const vector = Array.from({ length: wDim }, (_, j) => (j === 0 ? 1 : 0));
  engine.latent.loadSet({ format: DIRECTION_SET_FORMAT, version: 1, numWs, wDim, directions: [{ sigma: 1e38, from: 0, to: numWs, vector }] }, 'huge');
  engine.params.set(`${L}/truncation`, 0.9);
  engine.params.set(`${L}/direction/0/amount`, 100);
  await engine.settled();
  const f = await frame(0);
  assert.equal(f.stats.nonFinite, 1, 'the frame is not finite');
  await close();
  assert.equal(warnings.length, 1, warnings.join(' | '));
  assert.match(warnings[0]!, /frame 0: non-finite values \(NaN or Inf\) in the picture; they first appear in layer \S+/);
});
