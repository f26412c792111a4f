// Issue 12: feature-map ops after a layer's output, checked in a real onnxruntime session against
// the same ops written plainly in TypeScript (test/feature-reference.ts), then live in the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import ort from '../app/engine/inference/ort.ts';
import { encodeModel, readModelFile } from '../app/engine/onnx/model-file.ts';
import { buildLayerTree } from '../app/engine/onnx/layer-tree.ts';
import { describeModel } from '../app/engine/onnx/model-info.ts';
import { addOutputs } from '../app/engine/onnx/rewrite.ts';
import type { ModelProto } from '../app/engine/onnx/schema/onnx_pb.ts';
import { featureGraph, featureInput, featureInputs, preBendName, type StructuralFeature } from '../app/engine/bend/feature-graph.ts';
import { featureFeeds } from '../app/engine/bend/feature-feeds.ts';
import { FEATURE_OP_NAMES, FEATURE_OPS, type FeatureOp, type FeatureValues } from '../app/engine/bend/feature-ops.ts';
import { gaussianArray } from '../app/core/seeded-random.ts';
import { Engine } from '../app/engine/engine.ts';
import { cli, fixture, SWIFTSHADER_ICD, tempDir } from './helpers.ts';
import * as ref from './feature-reference.ts';

const SG2 = fixture('stylegan2-64-tiny.onnx');
const SG3 = fixture('stylegan3t-128-tiny.onnx');

interface Probe {
  model: ModelProto;
  run(ops: Array<{ op: FeatureOp; values: FeatureValues; channels?: number[] | null }>): Promise<{ pre: ref.Map3; post: ref.Map3 }>;
}

/** A session of `file` with ops after `layer`, the map exposed before and after them. */
async function probe(file: string, layer: string): Promise<Probe> {
  const model = (await readModelFile(file)).model;
  const l = buildLayerTree(model).resolve(layer);
  const dims = l.outputShape as [number, number, number, number];
  const inputs = describeModel(model).inputs;
  return {
    model,
    async run(ops) {
      const features: StructuralFeature[] = ops.map((o, i) => ({ id: `t${i}`, op: o.op, tensor: l.output!, dims }));
      const graph = addOutputs(featureGraph(model, features), [preBendName(l.output!), l.output!]);
      const session = await ort.InferenceSession.create(encodeModel(graph), { logSeverityLevel: 3 });
      try {
        const feeds: Record<string, ort.Tensor> = {};
        for (const i of inputs) {
          const shape = i.shape.map((d) => (typeof d === 'number' ? d : 1));
          feeds[i.name] = new ort.Tensor(
            'float32',
            gaussianArray(
              shape.reduce((a, b) => a * b, 1),
              7,
            ),
            shape,
          );
        }
        features.forEach((f, i) => {
          const data = featureFeeds(f, ops[i]!.values, ops[i]!.channels ?? null);
          for (const input of featureInputs(f)) feeds[featureInput(f.id, input.suffix)] = new ort.Tensor(input.type, data[input.suffix] as Float32Array & BigInt64Array, input.dims);
        });
        const out = await session.run(feeds, [preBendName(l.output!), l.output!]);
        const map = (name: string): ref.Map3 => ({ c: dims[1], h: dims[2], w: dims[3], data: out[name]!.data as Float32Array });
        return { pre: map(preBendName(l.output!)), post: map(l.output!) };
      } finally {
        await session.release();
      }
    },
  };
}

const exact = (got: ref.Map3, want: ref.Map3, what: string) => assert.equal(ref.differing(got, want), 0, `${what}: bit-exact (max diff ${ref.maxDiff(got, want)})`);
const close = (got: ref.Map3, want: ref.Map3, what: string, tol = 1e-4) => {
  const d = ref.maxDiff(got, want);
  assert.ok(d <= tol, `${what}: max diff ${d} > ${tol}`);
};

test('geometric ops copy values exactly: quarter and half turns, flips, mirror, whole-pixel shifts', async () => {
  for (const [file, layer] of [
    [SG2, 'b16'],
    [SG2, 'b32.conv0'],
    [SG3, 'L3_52_128'],
  ] as const) {
    const p = await probe(file, layer);
    const at = `${layer} of ${file.split('/').pop()}`;
    const one = (op: FeatureOp, values: FeatureValues) => p.run([{ op, values }]);
    let r = await one('rotate', { amount: 90, wrap: 0 });
    exact(r.post, ref.rotate90(r.pre), `rotate 90, ${at}`);
    r = await one('rotate', { amount: 180, wrap: 1 });
    exact(r.post, ref.rotate180(r.pre), `rotate 180, ${at}`);
    for (const [axis, name] of [
      [0, 'h'],
      [1, 'v'],
      [2, 'hv'],
    ] as const) {
      r = await one('flip', { amount: 1, axis });
      exact(r.post, ref.flip(r.pre, name), `flip ${name}, ${at}`);
    }
    r = await one('mirror', { amount: 1, axis: 0 });
    exact(r.post, ref.mirrorH(r.pre), `mirror, ${at}`);
    const [w, h] = [r.pre.w, r.pre.h];
    for (const wrap of [1, 0]) {
      // 3 pixels right, 2 up: shares of the size that land on whole pixels.
      r = await one('translate', { amount: 3 / w, y: -2 / h, wrap });
      exact(r.post, ref.shift(r.pre, 3, -2, wrap === 1), `translate 3,-2 ${wrap ? 'wrapped' : 'zero-filled'}, ${at}`);
    }
  }
});

test('filters and sampling match the TypeScript reference within 1e-4', async () => {
  const p = await probe(SG2, 'b32.conv0');
  const r = async (op: FeatureOp, values: FeatureValues) => p.run([{ op, values }]);
  let x = await r('blur', { amount: 1.3 });
  close(x.post, ref.blur(x.pre, 1.3, 9), 'blur 1.3');
  x = await r('blur', { amount: 3 });
  close(x.post, ref.blur(x.pre, 3, 9), 'blur 3');
  for (const kind of ['erode', 'dilate'] as const) {
    x = await r(kind, { amount: 2 });
    close(x.post, ref.morph(x.pre, 2, kind), `${kind} 2`);
    x = await r(kind, { amount: 1.5 });
    const [a, b] = [ref.morph(x.pre, 1, kind), ref.morph(x.pre, 2, kind)];
    close(
      x.post,
      ref.mapOf(a, (c, yy, xx) => 0.5 * ref.at(a, c, yy, xx) + 0.5 * ref.at(b, c, yy, xx)),
      `${kind} 1.5 mixes radius 1 and 2`,
    );
  }
  x = await r('rotate', { amount: 30, wrap: 0 });
  close(x.post, ref.rotate(x.pre, 30), 'rotate 30');
  x = await r('zoom', { amount: 1.7, wrap: 0 });
  close(x.post, ref.zoom(x.pre, 1.7), 'zoom 1.7');
  x = await r('sharpen', { amount: 2 });
  const soft = ref.blur(x.pre, 1, 3);
  close(
    x.post,
    ref.mapOf(x.pre, (c, yy, xx) => ref.at(x.pre, c, yy, xx) + 2 * (ref.at(x.pre, c, yy, xx) - ref.at(soft, c, yy, xx))),
    'sharpen 2',
  );
  x = await r('edges', { amount: 1 });
  close(x.post, ref.sobel(x.pre), 'edges');
  x = await r('threshold', { amount: 1, level: 0.2 });
  exact(
    x.post,
    ref.mapOf(x.pre, (c, yy, xx) => (ref.at(x.pre, c, yy, xx) > Math.fround(0.2) ? 1 : 0)),
    'threshold at 0.2',
  );
  x = await r('invert', { amount: 1 });
  close(x.post, ref.invert(x.pre), 'invert');
  x = await r('multiply', { amount: -1.5 });
  exact(
    x.post,
    ref.mapOf(x.pre, (c, yy, xx) => Math.fround(ref.at(x.pre, c, yy, xx) * Math.fround(-1.5))),
    'multiply -1.5',
  );
  x = await r('add', { amount: 0.75 });
  exact(
    x.post,
    ref.mapOf(x.pre, (c, yy, xx) => Math.fround(ref.at(x.pre, c, yy, xx) + 0.75)),
    'add 0.75',
  );
  x = await r('ablate', { amount: 1 });
  assert.ok(
    x.post.data.every((v) => v === 0),
    'ablate 1 zeroes the map',
  );
  x = await r('noise', { amount: 0.5, seed: 3 });
  const n = gaussianArray(x.pre.data.length, 3);
  close(
    x.post,
    ref.mapOf(x.pre, (c, yy, xx) => ref.at(x.pre, c, yy, xx) + 0.5 * n[(c * x.pre.h + yy) * x.pre.w + xx]!),
    'noise 0.5, seed 3',
    1e-5,
  );
  // Half an amount mixes halfway for the ops that mix.
  x = await r('edges', { amount: 0.5 });
  const e = ref.sobel(x.pre);
  close(
    x.post,
    ref.mapOf(x.pre, (c, yy, xx) => 0.5 * ref.at(x.pre, c, yy, xx) + 0.5 * ref.at(e, c, yy, xx)),
    'edges at 0.5',
  );
});

test('channel selections: only the chosen channels change; swap permutes them among themselves', async () => {
  const p = await probe(SG2, 'b16');
  let x = await p.run([{ op: 'rotate', values: { amount: 180 }, channels: [1, 5, 9] }]);
  exact(x.post, ref.onChannels(x.pre, new Set([1, 5, 9]), ref.rotate180(x.pre)), 'rotate 180 on 1,5,9');
  x = await p.run([{ op: 'swap', values: { amount: 1, seed: 4 }, channels: [0, 2, 4, 6, 8, 10] }]);
  const plane = (m: ref.Map3, c: number) => m.data.subarray(c * m.h * m.w, (c + 1) * m.h * m.w).join();
  const sources = new Set<number>();
  for (let c = 0; c < x.pre.c; c++) {
    const from = [...Array(x.pre.c).keys()].find((s) => plane(x.post, c) === plane(x.pre, s));
    assert.ok(from !== undefined, `channel ${c} is some channel of the map`);
    if (c % 2 === 0 && c <= 10) {
      assert.notEqual(from, c, `channel ${c} took another's place`);
      assert.ok(from % 2 === 0 && from <= 10, `channel ${c} came from a chosen channel (${from})`);
      sources.add(from);
    } else assert.equal(from, c, `channel ${c} stays`);
  }
  assert.equal(sources.size, 6, 'a permutation of the chosen channels');
});

test('ops on one layer stack in order: rotate then flip is not flip then rotate', async () => {
  const p = await probe(SG2, 'b16');
  const a = await p.run([
    { op: 'rotate', values: { amount: 90 } },
    { op: 'flip', values: { amount: 1, axis: 0 } },
  ]);
  exact(a.post, ref.flip(ref.rotate90(a.pre), 'h'), 'rotate 90, then flip');
  const b = await p.run([
    { op: 'flip', values: { amount: 1, axis: 0 } },
    { op: 'rotate', values: { amount: 90 } },
  ]);
  exact(b.post, ref.rotate90(ref.flip(b.pre, 'h')), 'flip, then rotate 90');
  assert.ok(ref.differing(a.post, b.post) > 0);
  // A bypassed op in the stack leaves the map to the others.
  const c = await p.run([
    { op: 'rotate', values: { amount: 90, bypass: 1 } },
    { op: 'flip', values: { amount: 1, axis: 1 } },
  ]);
  exact(c.post, ref.flip(c.pre, 'v'), 'bypassed rotate, then flip v');
});

test('in the engine: every op at its neutral amount plays the untouched frames; amounts move without a new session', async () => {
  const { engine } = await Engine.open({ model: SG2, ep: 'cpu', seed: 5 });
  try {
    const t = { index: 3, time: 0.1, dt: 1 / 30 };
    const plain = Array.from((await engine.render(t)).rgba!);
    const layers = ['b8', 'b16', 'b32.conv0', 'b32', 'b64.conv0'];
    FEATURE_OP_NAMES.forEach((op, i) => engine.addBend(layers[i % layers.length]!, op, op === 'swap' ? {} : { channels: i % 2 ? 'share:0.5' : 'all' }));
    let swaps = 0;
    engine.on('swapped', () => swaps++);
    await engine.settled();
    assert.ok(swaps >= 1, 'the ops arrived in a new session');
    assert.equal(engine.bend.features.size, FEATURE_OP_NAMES.length);
    assert.deepEqual(Array.from((await engine.render(t)).rgba!), plain, 'every op neutral: the untouched frame');
    const swapsBefore = swaps;
    // Each op moved off neutral changes the frame, and back to neutral gives it back exactly.
    for (const b of engine.bend.features.list()) {
      const info = FEATURE_OPS[b.op];
      const moved = b.op === 'zoom' || b.op === 'multiply' ? 2.5 : b.op === 'rotate' ? 45 : b.op === 'translate' ? 0.3 : Math.min(1, Number(info.amount.max ?? 1));
      engine.params.set(`${b.root}/amount`, moved, 'api');
      if (b.op === 'threshold') engine.params.set(`${b.root}/level`, 0.5, 'api');
      const bent = Array.from((await engine.render(t)).rgba!);
      assert.notDeepEqual(bent, plain, `${b.name} at ${moved} changes the frame`);
      engine.params.set(`${b.root}/bypass`, true, 'api');
      assert.deepEqual(Array.from((await engine.render(t)).rgba!), plain, `${b.name} bypassed`);
      engine.params.set(`${b.root}/bypass`, false, 'api');
      engine.params.set(`${b.root}/amount`, Number(info.amount.default), 'api');
      assert.deepEqual(Array.from((await engine.render(t)).rgba!), plain, `${b.name} back at neutral`);
    }
    // Animating amounts and channels over frames never builds a session.
    const [rot] = engine.bend.features.list().filter((b) => b.op === 'rotate');
    for (let i = 0; i < 12; i++) {
      engine.params.set(`${rot!.root}/amount`, i * 7, 'modulator');
      engine.params.set(`${rot!.root}/channels`, i % 3 === 0 ? 'all' : `range:0-${i}`, 'modulator');
      await engine.render({ index: i, time: i / 30, dt: 1 / 30 });
    }
    assert.equal(swaps, swapsBefore, 'no session was built while amounts moved');
    assert.throws(() => engine.params.set(`${rot!.root}/channels`, 'share:2', 'osc'), /expected all, share:<0..1>/);
    assert.throws(() => engine.addBend('b16', 'melt'), /unknown feature-map op "melt"/);
    assert.throws(() => engine.addBend('G.mapping.fc0', 'blur'), /\[1, C, H, W\] map/);
    engine.removeBend(rot!.name);
    await engine.settled();
    assert.equal(swaps, swapsBefore + 1, 'removing an op builds one session without it');
  } finally {
    await engine.close();
  }
});

test('a tap of a bent layer shows the bent activations', async () => {
  const { engine } = await Engine.open({ model: SG2, ep: 'cpu', seed: 2 });
  try {
    engine.setTaps(['b16']);
    engine.addBend('b16', 'rotate', { amount: 0 });
    await engine.settled();
    const t = { index: 0, time: 0, dt: 0 };
    const tapOf = async () => {
      const tap = (await engine.render(t)).taps['G.synthesis.b16']!;
      return { c: tap.dims[1]!, h: tap.dims[2]!, w: tap.dims[3]!, data: Float32Array.from(tap.data) };
    };
    const before = await tapOf();
    engine.params.set('/netbend/bend/b16-rotate/amount', 180, 'api');
    const after = await tapOf();
    close(after, ref.rotate180(before), 'tap after rotate 180', 1e-5);
  } finally {
    await engine.close();
  }
});

test('CLI --bend plays ops with channel selections and refuses malformed specs', async (t) => {
  const dir = tempDir(t);
  const play = (name: string, ...args: string[]) => cli(['play', SG2, '--frames', '1', '--seed', '5', '--ep', 'cpu', '--out', join(dir, name), ...args]);
  const png = (name: string) => PNG.sync.read(readFileSync(join(dir, name, 'frame-00000.png'))).data;
  const malformed = [
    ['b16:melt=1', /unknown op "melt"/],
    ['b16:rotate=abc', /should be one number/],
    ['b16:rotate=1@share:7', /channels "share:7"/],
    ['nolayer:rotate=1', /no layer "nolayer"/],
  ] as const;
  // Independent runs, side by side (each is mostly a process starting and a model loading).
  const [plain, neutral, bent, ...refused] = await Promise.all([
    play('plain'),
    play('neutral', '--bend', 'b16:rotate=0', '--bend', 'b32.conv0:blur=0@share:0.3', '--bend', 'b8:translate=0,0'),
    play('bent', '--bend', 'b16:rotate=90@range:0-63', '--bend', 'b32.conv0:threshold=1,0.3@list:1,5,9'),
    ...malformed.map(([spec], i) => play(`bad-${i}`, '--bend', spec)),
  ]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(neutral.code, 0, neutral.stderr);
  assert.deepEqual(png('neutral'), png('plain'), 'neutral --bend gives the plain frame');
  assert.equal(bent.code, 0, bent.stderr);
  assert.notDeepEqual(png('bent'), png('plain'));
  const stats = JSON.parse(readFileSync(join(dir, 'bent', 'stats.json'), 'utf8'));
  assert.deepEqual(
    stats.bends.map((b: { name: string; values: Record<string, unknown> }) => [b.name, b.values.amount, b.values.channels]),
    [
      ['b16-rotate', 90, 'range:0-63'],
      ['b32.conv0-threshold', 1, 'list:1,5,9'],
    ],
  );
  for (const [i, [spec, why]] of malformed.entries()) {
    const r = refused[i]!;
    assert.notEqual(r.code, 0, spec);
    assert.match(r.stderr, why, spec);
  }
});

test('feature-map ops run on the WebGPU execution provider (SwiftShader) and match the CPU', {
  skip: !existsSync(SWIFTSHADER_ICD) && 'no SwiftShader Vulkan driver (apt install chromium)',
}, async (t) => {
  const dir = tempDir(t);
  const bends = ['b8:rotate=30', 'b16:blur=1.5@share:0.5', 'b32.conv0:invert=0.5', 'b32:swap=1@range:0-31', 'b64.conv0:dilate=1.5'].flatMap((b) => ['--bend', b]);
  const run = (ep: string) => cli(['play', SG2, '--frames', '1', '--seed', '3', '--ep', ep, '--out', join(dir, ep), ...bends], ep === 'webgpu' ? { VK_ICD_FILENAMES: SWIFTSHADER_ICD } : {});
  const [gpu, cpu] = await Promise.all([run('webgpu'), run('cpu')]);
  assert.equal(gpu.code, 0, gpu.stderr);
  assert.equal(JSON.parse(readFileSync(join(dir, 'webgpu', 'stats.json'), 'utf8')).ep, 'webgpu', gpu.stderr);
  assert.equal(cpu.code, 0, cpu.stderr);
  const a = PNG.sync.read(readFileSync(join(dir, 'webgpu', 'frame-00000.png'))).data;
  const b = PNG.sync.read(readFileSync(join(dir, 'cpu', 'frame-00000.png'))).data;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  assert.ok(worst <= 8, `bent webgpu and cpu frames differ by at most 8 levels (got ${worst})`);
});

test('cluster: and pc: selections bend the channels the layer groups into, found off the frame path', async () => {
  const { engine } = await Engine.open({ model: SG2, ep: 'cpu', seed: 4 });
  try {
    engine.setTaps(['b16']);
    engine.addBend('b16', 'rotate', { amount: 0, channels: 'cluster:1' }, 'c');
    engine.addBend('b16', 'multiply', { amount: 1, channels: 'pc:0:8' }, 'p');
    let grouped = 0;
    engine.on('grouped', () => grouped++);
    await engine.settled();
    assert.equal(grouped, 1, 'the layer was grouped once, for both selections');
    const groups = engine.channelGroups('G.synthesis.b16')!;
    assert.ok(groups && groups.clusters.length > 1);
    const t = { index: 0, time: 0, dt: 0 };
    const tap = async () => {
      const x = (await engine.render(t)).taps['G.synthesis.b16']!;
      return { c: x.dims[1]!, h: x.dims[2]!, w: x.dims[3]!, data: Float32Array.from(x.data) };
    };
    const changed = (a: ref.Map3, b: ref.Map3) => {
      const out: number[] = [];
      const n = a.h * a.w;
      for (let c = 0; c < a.c; c++) if (a.data.subarray(c * n, (c + 1) * n).some((v, i) => v !== b.data[c * n + i])) out.push(c);
      return out;
    };
    const plain = await tap();
    engine.params.set('/netbend/bend/c/amount', 180, 'api');
    assert.deepEqual(
      changed(await tap(), plain),
      [...groups.clusters[1]!].sort((a, b) => a - b),
      'rotate touched exactly cluster 1',
    );
    engine.params.set('/netbend/bend/c/amount', 0, 'api');
    engine.params.set('/netbend/bend/p/amount', 3, 'api');
    assert.deepEqual(
      changed(await tap(), plain),
      groups.components[0]!.slice(0, 8).sort((a, b) => a - b),
      'multiply touched the top 8 channels of component 0',
    );
  } finally {
    await engine.close();
  }
});
