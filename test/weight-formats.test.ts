// Issue 12 item 5: weights stored as float16, or quantized to int8/uint8 (QDQ and dynamic
// MatMulInteger graphs), are listed under their own names and bent in float32 inside the graph,
// then written back in the model's own type. Real onnxruntime, through the CLI and the session API.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { BLEND_ALL } from '../app/core/addresses.ts';
import { bendGraph, blendInput, editInput, maskInput, type StructuralEdit, setOnInput } from '../app/engine/bend/bend-graph.ts';
import type { EditOp } from '../app/engine/bend/edit-ops.ts';
import ort from '../app/engine/inference/ort.ts';
import { quantizeWeights, weightsToFloat16 } from '../app/engine/onnx/convert-weights.ts';
import { halfBits, halfValue } from '../app/engine/onnx/float16.ts';
import { attr, GraphBuilder, SeededRandom } from '../app/engine/onnx/graph-builder.ts';
import { buildLayerTree } from '../app/engine/onnx/layer-tree.ts';
import { encodeModel, readModelFile } from '../app/engine/onnx/model-file.ts';
import { describeModel } from '../app/engine/onnx/model-info.ts';
import { valueInfo } from '../app/engine/onnx/rewrite.ts';
import type { ModelProto, TensorProto } from '../app/engine/onnx/schema/onnx_pb.ts';
import { DataType, dequantize, floatTensor, floatValues, intTensor, intValues } from '../app/engine/onnx/tensor-data.ts';
import { storedWeights } from '../app/engine/onnx/weight-format.ts';
import { cli, fixture, maxDiff, tempDir } from './helpers.ts';

const A = fixture('stylegan2-64-tiny.onnx');
const B = fixture('stylegan2-64-tiny-b.onnx');
const TAP = 'G.synthesis';

const load = async (file: string) => (await readModelFile(file)).model;
const pixels = (dir: string) => PNG.sync.read(readFileSync(join(dir, 'frame-00000.png'))).data;
const image = (dir: string) => {
  const b = readFileSync(join(dir, `tap-${TAP}-00000.f32`));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const meanDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
};

const layers = (m: ModelProto) =>
  buildLayerTree(m)
    .all()
    .map((l) => [l.path, l.weights, l.output]);

async function derive(dir: string, name: string, file: string, convert: (m: ModelProto) => ModelProto): Promise<string> {
  const out = join(dir, name);
  writeFileSync(out, encodeModel(convert(await load(file))));
  return out;
}

async function play(dir: string, name: string, model: string, ...args: string[]): Promise<string> {
  const out = join(dir, name);
  const r = await cli(['play', model, '--frames', '1', '--seed', '5', '--ep', 'cpu', '--out', out, ...args]);
  assert.equal(r.code, 0, `${name}: ${r.stderr}`);
  return out;
}

interface Bend {
  edits?: Array<[target: string, op: EditOp, amount: number]>;
  partner?: string;
  amount?: number;
}
interface Shot {
  image: Float32Array;
  rgba: Uint8Array;
  values: Record<string, number[]>;
}

/** Frame 0 of `model` under each bend in turn, from one engine (a CLI run per frame costs seconds here). */
async function shots(model: string, bends: Bend[], taps: string[] = [TAP]): Promise<Shot[]> {
  const { Engine } = await import('../app/engine/engine.ts');
  const { engine } = await Engine.open({ model, ep: 'cpu', seed: 5 });
  try {
    if (taps.length) engine.setTaps(taps);
    const out: Shot[] = [];
    for (const b of bends) {
      for (const [target, op, amount] of b.edits ?? []) engine.addEdit(target, op, amount);
      if (b.partner) {
        await engine.loadPartner(b.partner);
        engine.params.set(BLEND_ALL, b.amount ?? 0, 'api');
      }
      await engine.settled();
      const f = await engine.render({ index: 0, time: 0, dt: 0 });
      out.push({ image: f.taps[TAP]?.data.slice() ?? new Float32Array(0), rgba: f.rgba?.slice() ?? new Uint8Array(0), values: f.values });
      engine.restoreOriginals();
      if (b.partner) await engine.loadPartner(undefined);
      await engine.settled();
    }
    return out;
  } finally {
    await engine.close();
  }
}

/** Runs a bent graph with the given per-frame inputs and returns the tensors its weights' consumers read. */
async function bentTensors(model: ModelProto, bend: Parameters<typeof bendGraph>[1], feeds: Record<string, ort.Tensor>, outputs: Array<[string, number]>): Promise<Record<string, ort.Tensor>> {
  const bent = bendGraph(model, bend);
  const g = bent.graph!;
  const graph = { ...g, output: [...g.output, ...outputs.map(([name, type]) => valueInfo(name, type, undefined))] };
  const s = await ort.InferenceSession.create(encodeModel({ ...bent, graph }), { executionProviders: ['cpu'], logSeverityLevel: 3 });
  try {
    return await s.run(
      feeds,
      outputs.map(([n]) => n),
    );
  } finally {
    await s.release();
  }
}
const scalar = (v: number) => new ort.Tensor('float32', new Float32Array([v]), [1]);
const latent = () => new ort.Tensor('float32', new SeededRandom(3).normal(512), [1, 512]);

test('a float16 copy lists the same weights and layers, plays within 1e-2 of float32, and scale=1 on it is bit-exact', async (t) => {
  const dir = tempDir(t);
  const f16 = await derive(dir, 'a16.onnx', A, weightsToFloat16);
  const b16 = await derive(dir, 'b16.onnx', B, weightsToFloat16);
  for (const [orig, copy] of [
    [A, f16],
    [B, b16],
  ] as const) {
    const [m32, m16] = [await load(orig), await load(copy)];
    const [w32, w16] = [describeModel(m32).weights, describeModel(m16).weights];
    assert.equal(w16.length, 36);
    assert.deepEqual(
      w16.map((w) => [w.name, w.shape]),
      w32.map((w) => [w.name, w.shape]),
    );
    assert.ok(
      w16.every((w) => w.dtype === 'float16' && w.storage === 'float16'),
      'stored as float16',
    );
    assert.ok(
      w32.every((w) => w.dtype === 'float32' && w.storage === undefined),
      'float32 weights carry no storage note',
    );
    assert.deepEqual(layers(m16), layers(m32), 'the same layer tree, taps included');
    // Every stored half is the float32 weight rounded to nearest (ties to even).
    const halves = new Map(storedWeights(m16).map((w) => [w.tensor.name, floatValues(w.tensor)]));
    for (const w of storedWeights(m32).slice(0, 4)) {
      const x = floatValues(w.tensor);
      const h = halves.get(w.tensor.name)!;
      for (let i = 0; i < x.length; i++) assert.equal(h[i], halfValue(halfBits(x[i]!)));
    }
  }
  const tap = ['--tap', TAP];
  const [plain32, plain16, scaled16] = await Promise.all([
    play(dir, 'p32', A, ...tap),
    play(dir, 'p16', f16, ...tap),
    play(dir, 's16', f16, '--edit', 'b16:scale=1', '--edit', 'G.mapping.fc*.weight:scale=1', ...tap),
  ]);
  const d = maxDiff(image(plain16), image(plain32));
  const px = maxDiff(pixels(plain16), pixels(plain32));
  t.diagnostic(`float16 vs float32: image max diff ${d.toExponential(2)}, RGBA max diff ${px} levels`);
  assert.ok(d < 1e-2, `float16 plays within 1e-2 of float32 (max diff ${d})`);
  assert.ok(px <= 3, `RGBA within 3 levels (${px})`);
  assert.deepEqual(pixels(scaled16), pixels(plain16), 'scale=1 on float16 weights is bit-exact');
  assert.deepEqual(image(scaled16), image(plain16));
});

test('edits and blends on float16 weights move the frame as they move the float32 one', async (t) => {
  const dir = tempDir(t);
  const a16 = await derive(dir, 'a16.onnx', A, weightsToFloat16);
  const b16 = await derive(dir, 'b16.onnx', B, weightsToFloat16);
  // Ablate on a modulated conv: its demodulation is zero-safe through the float16 weight's Cast too.
  const cases: Array<[string, Bend, Bend]> = [
    ['scale=0.5 on b16', { edits: [['b16', 'scale', 0.5]] }, { edits: [['b16', 'scale', 0.5]] }],
    [
      'noise and ablate',
      {
        edits: [
          ['b8', 'noise', 0.8],
          ['b32.conv0', 'ablate', 0.25],
        ],
      },
      {
        edits: [
          ['b8', 'noise', 0.8],
          ['b32.conv0', 'ablate', 0.25],
        ],
      },
    ],
    ['offset on b16.conv1.affine', { edits: [['b16.conv1.affine', 'offset', 0.02]] }, { edits: [['b16.conv1.affine', 'offset', 0.02]] }],
    ['blend 0.5, both float16', { partner: b16, amount: 0.5 }, { partner: B, amount: 0.5 }],
    ['blend 0.5, float16 toward float32', { partner: B, amount: 0.5 }, { partner: B, amount: 0.5 }],
  ];
  const [plain16, ...bent16] = await shots(a16, [{}, ...cases.map((c) => c[1]), { partner: b16, amount: 1 }]);
  const bent32 = await shots(
    A,
    cases.map((c) => c[2]),
  );
  for (const [i, [what]] of cases.entries()) {
    const moved = maxDiff(bent16[i]!.image, plain16!.image);
    const d = maxDiff(bent16[i]!.image, bent32[i]!.image);
    t.diagnostic(`${what}: float16 moved ${moved.toFixed(3)}, float16 vs float32 max diff ${d.toExponential(2)}, RGBA ${maxDiff(bent16[i]!.rgba, bent32[i]!.rgba)} levels`);
    assert.ok(moved > 0.1, `${what} changes the float16 frame (${moved})`);
    assert.ok(d < 1e-2, `${what}: float16 within 1e-2 of float32 (${d})`);
  }
  const [partner] = await shots(b16, [{}]);
  assert.deepEqual(bent16[cases.length]!.rgba, partner!.rgba, 'blend 1 between float16 models is the partner exactly');
});

test('bent float16 and QDQ int8 weights are their stored values at identity, and the rounding back matches onnxruntime', async () => {
  const a16 = weightsToFloat16(await load(A));
  const b16 = weightsToFloat16(await load(B));
  const a8 = quantizeWeights(await load(A), { perChannel: true });
  const names = ['G.synthesis.b16.conv1.weight', 'G.mapping.fc0.weight'];
  const partner = new Map(storedWeights(b16).map((w) => [w.tensor.name, w.tensor]));
  // Every op at its identity amount, chained on the same weights, with the partner at 0.
  const edits: StructuralEdit[] = [
    { id: 's', op: 'scale', weights: names, seed: 0 },
    { id: 'o', op: 'offset', weights: names, seed: 0 },
    { id: 'n', op: 'noise', weights: names, seed: 4 },
    { id: 'x', op: 'set', weights: names, seed: 0 },
    { id: 'm', op: 'ablate', weights: names, seed: 0 },
  ];
  const feeds = (model: ModelProto, partnerOf: ReadonlyMap<string, unknown>): Record<string, ort.Tensor> => {
    const f: Record<string, ort.Tensor> = {
      z: latent(),
      [editInput('s')]: scalar(1),
      [editInput('o')]: scalar(0),
      [editInput('n')]: scalar(0),
      [editInput('x')]: scalar(0.3),
      [setOnInput('x')]: scalar(0),
      [editInput('m')]: scalar(0),
    };
    for (const name of partnerOf.keys()) f[blendInput(name)] = scalar(0);
    for (const w of storedWeights(model).filter((x) => names.includes(x.tensor.name))) {
      const dims = w.tensor.dims.map(Number);
      f[maskInput('m', w.tensor.name)] = new ort.Tensor('float32', new Float32Array(dims[0]!).fill(1), [dims[0]!, ...dims.slice(1).map(() => 1)]);
    }
    return f;
  };
  const halves = (m: ModelProto, name: string) => {
    const w = storedWeights(m).find((x) => x.tensor.name === name)!;
    return new Uint16Array(w.tensor.rawData.slice().buffer);
  };
  const out16 = await bentTensors(
    a16,
    { partner, edits },
    feeds(a16, partner),
    names.map((n) => [n, DataType.FLOAT16]),
  );
  for (const n of names) assert.deepEqual(new Uint16Array(out16[n]!.data as Uint16Array), halves(a16, n), `${n} comes back bit for bit`);
  // Off identity the chain computes in float32 and Cast rounds to half: the same bits halfBits gives.
  const third = await bentTensors(
    a16,
    { partner: undefined, edits: edits.slice(0, 1) },
    { z: latent(), [editInput('s')]: scalar(0.3) },
    names.map((n) => [n, DataType.FLOAT16]),
  );
  for (const n of names) {
    const want = Uint16Array.from(halves(a16, n), (h) => halfBits(Math.fround(halfValue(h) * Math.fround(0.3))));
    assert.deepEqual(new Uint16Array(third[n]!.data as Uint16Array), want, `${n} x 0.3 rounds as onnxruntime's Cast does`);
  }
  // A QDQ weight's chain hands its consumers floats: at identity exactly the DequantizeLinear's.
  const partner32 = new Map(storedWeights(await load(B)).map((w) => [w.tensor.name, w.tensor]));
  const dq = storedWeights(a8).flatMap((w) => (names.includes(w.tensor.name) && w.format.kind === 'quantized' ? [{ tensor: w.tensor, f: w.format }] : []));
  assert.equal(dq.length, names.length);
  const out8 = await bentTensors(
    a8,
    { partner: partner32, edits },
    feeds(a8, partner32),
    dq.map((w) => [w.f.node.output[0]!, DataType.FLOAT]),
  );
  for (const { tensor, f } of dq)
    assert.deepEqual(new Float32Array(out8[f.node.output[0]!]!.data as Float32Array), dequantize(tensor, f.scale, f.zeroPoint, f.axis), `${tensor.name}: the DequantizeLinear's floats`);
});

test('an int8 QDQ copy lists the same weights, plays close to float32, and edits and blends move it as they move float32', async (t) => {
  const dir = tempDir(t);
  const half: Bend = { edits: [['b16', 'scale', 0.5]] };
  const qb = await derive(dir, 'b-int8.onnx', B, (m) => quantizeWeights(m, { perChannel: true }));
  const [p32, h32, bl32] = await shots(A, [{}, half, { partner: B, amount: 0.5 }]);
  const variants: Array<[string, { type: 'int8' | 'uint8'; perChannel: boolean }, number]> = [
    // Measured on this fixture (image in [-1, 1]): max diff 0.20 / 0.45 / 0.23 unbent, 0.16 / 0.38 /
    // 0.24 with scale=0.5 on b16; the bounds sit a little above, per-tensor int8 being the coarsest.
    ['int8 per channel', { type: 'int8', perChannel: true }, 0.3],
    ['int8 per tensor', { type: 'int8', perChannel: false }, 0.6],
    ['uint8 per channel', { type: 'uint8', perChannel: true }, 0.3],
  ];
  const listed = describeModel(await load(A)).weights.map((x) => [x.name, x.shape]);
  for (const [what, opts, bound] of variants) {
    const q = await derive(dir, `${what}.onnx`, A, (m) => quantizeWeights(m, opts));
    const qm = await load(q);
    const w = describeModel(qm).weights;
    assert.deepEqual(layers(qm), layers(await load(A)), `${what}: the same layer tree, taps included`);
    assert.deepEqual(
      w.map((x) => [x.name, x.shape]),
      listed,
      `${what}: the same weights (no scales or zero points among them)`,
    );
    assert.ok(
      w.every((x) => x.dtype === opts.type && x.storage === `${opts.type} ${opts.perChannel ? 'per channel (axis 0)' : 'per tensor'}, DequantizeLinear`),
      `${what}: ${w[0]!.storage}`,
    );
    const blends = what === 'int8 per channel' ? [{ partner: qb, amount: 0.5 }] : [];
    const [plain, bent, blend] = await shots(q, [{}, half, ...blends]);
    const d = maxDiff(plain!.image, p32!.image);
    const dh = maxDiff(bent!.image, h32!.image);
    const moved = maxDiff(bent!.image, plain!.image);
    t.diagnostic(
      `${what}: image max diff ${d.toFixed(3)} (mean ${meanDiff(plain!.image, p32!.image).toExponential(2)}), RGBA max ${maxDiff(plain!.rgba, p32!.rgba)} levels; scale=0.5 on b16 moved ${moved.toFixed(3)}, vs float32's ${dh.toFixed(3)}`,
    );
    assert.ok(d < bound, `${what} plays close to float32 (${d})`);
    assert.ok(dh < bound, `${what}: scale=0.5 lands close to float32's (${dh})`);
    assert.ok(moved > 4 * dh, `${what}: the edit moves the frame well beyond the quantization error (${moved} vs ${dh})`);
    if (!blend) continue;
    const db = maxDiff(blend.image, bl32!.image);
    t.diagnostic(`${what}: blend 0.5 between int8 copies vs float32 blend: image max diff ${db.toFixed(3)}, RGBA ${maxDiff(blend.rgba, bl32!.rgba)} levels`);
    assert.ok(db < bound, `blend between int8 copies lands close to the float32 blend (${db})`);
    assert.ok(maxDiff(blend.image, plain!.image) > 4 * db, 'and far from the unblended frame');
  }
});

/**
 * A dynamically quantized layer as onnxruntime's quantize_dynamic writes it: DynamicQuantizeLinear
 * on the input, MatMulInteger with an int8 weight (one scale and zero point per column), then Cast
 * and Mul by input scale x weight scale. `float` gives the float32 twin on the same (dequantized)
 * weights; `storedScale` multiplies by one stored constant instead, which hides the weight's scale.
 */
function dynamicNet(seed: number, kind: 'quantized' | 'float' | 'storedScale'): ModelProto {
  const rng = new SeededRandom(seed);
  const [K, N] = [64, 8];
  const w = rng.normal(K * N, 1 / Math.sqrt(K));
  const q = new Int8Array(K * N);
  const scale = new Float32Array(N);
  const zero = new Int8Array(N);
  for (let c = 0; c < N; c++) {
    let hi = 0;
    for (let k = 0; k < K; k++) hi = Math.max(hi, Math.abs(w[k * N + c]!));
    scale[c] = Math.fround(hi / 120);
    zero[c] = (c % 3) - 1; // non-zero zero points, so reading them back matters
    for (let k = 0; k < K; k++) q[k * N + c] = Math.max(-128, Math.min(127, Math.round(w[k * N + c]! / scale[c]!) + zero[c]!));
  }
  const g = new GraphBuilder({ opset: 17, producer: 'netbend weight-format tests' });
  const x = g.input('x', [1, K]);
  const bias = g.initializer('net.fc.bias', rng.normal(N, 0.1), [N]);
  const extra: TensorProto[] = [];
  let y: string;
  if (kind === 'float') {
    const wq = intTensor('q', q, [K, N]);
    const real = dequantize(wq, floatTensor('s', scale, [N]), intTensor('z', zero, [N]), 1);
    y = g.op('MatMul', [x, g.initializer('net.fc.weight', real, [K, N])]);
  } else {
    const [xq, xs, xz] = g.node('DynamicQuantizeLinear', [x], 3);
    extra.push(intTensor('net.fc.weight', q, [K, N]), intTensor('net.fc.weight_zero_point', zero, [N]));
    const acc = g.op('MatMulInteger', [xq!, 'net.fc.weight', xz!, 'net.fc.weight_zero_point']);
    const accf = g.op('Cast', [acc], { to: attr.int(DataType.FLOAT) });
    const ws = g.initializer('net.fc.weight_scale', scale, [N]);
    // A stored product of some fixed input scale and the weight's: nothing says which is which.
    const s = kind === 'quantized' ? g.op('Mul', [xs!, ws]) : g.op('Mul', [g.constant(new Float32Array([0.02])), ws]);
    y = g.op('Mul', [accf, s]);
  }
  g.op('Add', [y, bias], {}, { out: 'y' });
  g.output('y', [1, N]);
  const m = g.toModel();
  m.graph!.initializer.push(...extra);
  return m;
}

test('a dynamically quantized MatMulInteger net: its int8 weight is listed and bends and blends as its float32 twin does', async (t) => {
  const dir = tempDir(t);
  const write = (name: string, m: ModelProto) => {
    const f = join(dir, name);
    writeFileSync(f, encodeModel(m));
    return f;
  };
  const q = write('q.onnx', dynamicNet(11, 'quantized'));
  const f = write('f.onnx', dynamicNet(11, 'float'));
  const qb = write('qb.onnx', dynamicNet(12, 'quantized'));
  const fb = write('fb.onnx', dynamicNet(12, 'float'));
  const info = describeModel(await load(q));
  assert.deepEqual(
    info.weights.map((w) => [w.name, w.dtype, w.storage]),
    [
      ['net.fc.bias', 'float32', undefined],
      ['net.fc.weight', 'int8', 'int8 per channel (axis 1), MatMulInteger'],
    ],
    'the weight is listed; its scale and zero point are not',
  );
  const y = (shot: Shot | undefined) => shot!.values.y!;
  const edits: Array<[string, EditOp, number]> = [
    ['net.fc.weight', 'scale', 0.5],
    ['net.fc.weight', 'offset', 0.05],
    ['net.fc.weight', 'noise', 0.5],
    ['net.fc.weight', 'ablate', 0.5],
  ];
  const bends: Bend[] = [{}, { edits: [['net.fc.weight', 'scale', 1]] }, ...edits.map((e) => ({ edits: [e] }))];
  const [plainQ, identityQ, ...bentQ] = await shots(q, [...bends, { partner: qb, amount: 0.5 }], []);
  const [plainF, , ...bentF] = await shots(f, [...bends, { partner: fb, amount: 0.5 }], []);
  // scale=1 runs the untouched session; the bent chain's own exactness is checked below.
  assert.deepEqual(y(identityQ), y(plainQ), 'scale=1 is exact');
  // The input is quantized to uint8 on the fly, so the twins differ by that rounding alone.
  const base = maxDiff(y(plainQ), y(plainF));
  const spread = Math.max(...y(plainF).map(Math.abs));
  t.diagnostic(`MatMulInteger vs float32 twin: max diff ${base.toExponential(2)} (outputs up to ${spread.toFixed(2)})`);
  assert.ok(base < 0.02 * spread, `close to the float32 twin (${base})`);
  for (const [i, what] of [...edits.map((e) => `${e[1]}=${e[2]}`), 'blend 0.5'].entries()) {
    const moved = maxDiff(y(bentF[i]), y(plainF));
    const d = maxDiff(y(bentQ[i]), y(bentF[i]));
    t.diagnostic(`${what}: moved ${moved.toFixed(3)}, MatMulInteger vs float32 twin ${d.toExponential(2)}`);
    assert.ok(moved > 0.05, `${what} moves the output (${moved})`);
    assert.ok(d < 0.2 * moved, `${what} moves it as on the float32 twin (${d} vs ${moved})`);
  }

  // The bent integers go back onto the weight's own grid, rounded and saturated as QuantizeLinear does.
  const model = await load(q);
  const w = storedWeights(model).find((x) => x.tensor.name === 'net.fc.weight')!;
  assert.equal(w.format.kind, 'quantized');
  if (w.format.kind !== 'quantized') return;
  const stored = intValues(w.tensor);
  const s = floatValues(w.format.scale);
  const z = intValues(w.format.zeroPoint!);
  for (const a of [1, 0.37, 3]) {
    const out = await bentTensors(model, { partner: undefined, edits: [{ id: 'e', op: 'scale', weights: ['net.fc.weight'], seed: 0 }] }, { x: latentOf(64), [editInput('e')]: scalar(a) }, [
      ['net.fc.weight', DataType.INT8],
    ]);
    const want = Int8Array.from(stored, (v, i) => {
      const c = i % 8;
      const bent = Math.fround(Math.fround((v - z[c]!) * s[c]!) * Math.fround(a));
      return Math.max(-128, Math.min(127, roundEven(Math.fround(bent / s[c]!)) + z[c]!));
    });
    assert.deepEqual(new Int8Array(out['net.fc.weight']!.data as Int8Array), want, `scale ${a}`);
  }
});

const latentOf = (n: number) => new ort.Tensor('float32', new SeededRandom(9).normal(n), [1, n]);
function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

test('netbend inspect shows the stored type of weights that are not float32', async (t) => {
  const dir = tempDir(t);
  const f16 = await derive(dir, 'a16.onnx', A, weightsToFloat16);
  const i8 = await derive(dir, 'a8.onnx', A, (m) => quantizeWeights(m, { perChannel: true }));
  const run = async (file: string, ...args: string[]) => {
    const r = await cli(['inspect', file, ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const plain = await run(A);
  assert.match(plain, /\n {2}G\.mapping\.fc0\.weight {2}\[512, 512\] {2}262144\n/, 'float32 weights: no type note');
  assert.doesNotMatch(plain, /stored as/);
  const half = await run(f16);
  assert.match(half, /36 weights \(3\.70 M parameters, stored as 36 float16\)/);
  assert.match(half, /\n {2}G\.mapping\.fc0\.weight {2}\[512, 512\] {2}262144 {2}float16\n/);
  const quant = await run(i8);
  assert.match(quant, /\n {2}G\.synthesis\.b16\.conv1\.weight {2}\[128, 128, 3, 3\] {2}147456 {2}int8 per channel \(axis 0\), DequantizeLinear\n/);
  assert.doesNotMatch(quant, /_scale|_zero_point/, 'scales and zero points are not listed as weights');
  const json = JSON.parse(await run(f16, '--json'));
  assert.equal(json.weights[0].dtype, 'float16');
});

test('hostile weights are refused by name: wrong raw data length, unknown quantized layouts', async (t) => {
  const dir = tempDir(t);
  // A float16 weight two bytes short: refused when the file is read, not inside onnxruntime.
  const short = await derive(dir, 'short.onnx', A, (m) => {
    const c = weightsToFloat16(m);
    const w = c.graph!.initializer.find((x) => x.name === 'G.mapping.fc3.weight')!;
    w.rawData = w.rawData.subarray(2);
    return c;
  });
  const refused = await Promise.all([cli(['inspect', short]), cli(['play', short, '--frames', '1', '--ep', 'cpu', '--out', join(dir, 'o')])]);
  for (const r of refused) {
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /tensor G\.mapping\.fc3\.weight \(float16 \[512, 512\]\): raw data holds 524286 bytes, expected 524288/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  const bad = floatTensor('w', new Float32Array(4), [4], DataType.FLOAT16);
  bad.rawData = bad.rawData.subarray(1);
  assert.throws(() => floatValues(bad), /tensor w \(float16 \[4\]\): raw data holds 7 bytes, expected 8/);
  bad.rawData = new Uint8Array(0);
  bad.int32Data = [1, 2];
  assert.throws(() => floatValues(bad), /int32_data holds 2 values, expected 4/);

  // A MatMulInteger whose weight scale is folded into a stored constant: listed, never bent.
  const hidden = join(dir, 'hidden.onnx');
  writeFileSync(hidden, encodeModel(dynamicNet(11, 'storedScale')));
  const info = describeModel(await load(hidden));
  const w = info.weights.find((x) => x.name === 'net.fc.weight')!;
  assert.equal(w.dtype, 'int8');
  assert.match(w.unbendable!, /its scale was not found \(netbend expects MatMulInteger -> Cast\(to float\) -> Mul by \(input scale x weight scale\)/);
  const r = await cli(['inspect', hidden]);
  assert.match(r.stdout, /net\.fc\.weight {2}\[64, 8\] {2}512 {2}int8, not bendable: its scale was not found/);
  assert.throws(
    () => bendGraph(dynamicNet(11, 'storedScale'), { partner: undefined, edits: [{ id: 'e', op: 'scale', weights: ['net.fc.weight'], seed: 0 }] }),
    /cannot bend weight net\.fc\.weight \(int8\): its scale was not found/,
  );
  // `play` stops with the reason; a live engine says it and keeps playing the weight as stored.
  const edited = await cli(['play', hidden, '--frames', '1', '--ep', 'cpu', '--out', join(dir, 'edited'), '--edit', 'net.fc.weight:scale=0.5']);
  assert.notEqual(edited.code, 0);
  assert.match(edited.stderr, /cannot bend weight net\.fc\.weight \(int8\): its scale was not found/);
  assert.doesNotMatch(edited.stderr, /\n\s+at /);
  const { Engine } = await import('../app/engine/engine.ts');
  const { engine } = await Engine.open({ model: hidden, ep: 'cpu', seed: 5 });
  try {
    const frame = { index: 0, time: 0, dt: 0 };
    const before = (await engine.render(frame)).values;
    const warnings: string[] = [];
    engine.on('warning', (w) => warnings.push(w));
    engine.addEdit('net.fc.weight', 'scale', 0.5);
    await assert.rejects(engine.settled(), /cannot bend weight net\.fc\.weight/);
    assert.equal(warnings.length, 1);
    assert.deepEqual((await engine.render(frame)).values, before, 'the last good session plays on');
  } finally {
    await engine.close();
  }
  // As a partner, or blended toward one, it is refused before anything changes.
  const blend = await cli(['play', hidden, '--frames', '1', '--ep', 'cpu', '--out', join(dir, 'b'), '--blend', hidden]);
  assert.notEqual(blend.code, 0);
  assert.match(blend.stderr, /net\.fc\.weight cannot be blended here: its scale was not found/);
  assert.doesNotMatch(blend.stderr, /\n\s+at /);

  // Layouts onnxruntime may play but netbend cannot read back: blocked, computed scales, odd shapes.
  const qdq = (attrs: Record<string, ReturnType<typeof attr.int>>, scaleCount: number, computed = false): string | undefined => {
    const g = new GraphBuilder({ opset: 21 });
    const x = g.input('x', [4, 6]);
    const s = computed ? g.op('Identity', [g.constant(new Float32Array(scaleCount).fill(0.1), [scaleCount])]) : g.initializer('net.w_scale', new Float32Array(scaleCount).fill(0.1), [scaleCount]);
    const dq = g.op('DequantizeLinear', ['net.w', s], attrs);
    g.op('MatMul', [x, dq], {}, { out: 'y' });
    g.output('y', [4, 6]);
    const m = g.toModel();
    m.graph!.initializer.push(intTensor('net.w', new Int8Array(36), [6, 6]));
    return describeModel(m).weights.find((v) => v.name === 'net.w')?.unbendable;
  };
  assert.equal(qdq({}, 1), undefined, 'per tensor is known');
  assert.equal(qdq({ axis: attr.int(0) }, 6), undefined, 'per channel is known');
  assert.match(qdq({ axis: attr.int(0), block_size: attr.int(2) }, 18)!, /block_size \(blocked quantization\), a layout netbend does not know/);
  assert.match(qdq({ axis: attr.int(0) }, 4)!, /its scale holds 4 values for 6 channels along axis 0/);
  assert.match(qdq({}, 1, true)!, /scale is computed in the graph, not stored/);
});
