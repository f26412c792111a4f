// The demodulation of a bent StyleGAN2 conv reads Q from the Gram of its terms (demod-split.ts):
// found on a real export, equal to the demodulation computed from the bent weight, and zero-safe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from '../app/engine/inference/ort.ts';
import { fixture } from './helpers.ts';
import { readModelFile, encodeModel } from '../app/engine/onnx/model-file.ts';
import { storedWeights, floatWeight } from '../app/engine/onnx/weight-format.ts';
import { bendGraph, blendInput, editInput, type StructuralEdit } from '../app/engine/bend/bend-graph.ts';
import { zeroSafeEdits } from '../app/engine/bend/zero-safe.ts';
import { gramOutput, gramTerms } from '../app/engine/bend/demod-split.ts';
import { floatValues } from '../app/engine/onnx/tensor-data.ts';
import { gaussianArray } from '../app/core/seeded-random.ts';

test('gramTerms sums T_j T_l over the kernel for every pair', () => {
  const dims = [2, 3, 2, 2];
  const a = gaussianArray(24, 1);
  const b = gaussianArray(24, 2);
  const g = gramTerms([a, b], dims);
  assert.equal(g.length, 4 * 6);
  for (const [j, x] of [a, b].entries())
    for (const [l, y] of [a, b].entries())
      for (let p = 0; p < 6; p++) {
        let want = 0;
        for (let q = 0; q < 4; q++) want += x[p * 4 + q]! * y[p * 4 + q]!;
        assert.ok(Math.abs(g[(j * 2 + l) * 6 + p]! - want) < 1e-5, `G[${j}${l}][${p}]`);
      }
});

test('a blended and scaled StyleGAN2 demodulates from Q: every modulated conv, the same frame as the weights bent offline, and finite at scale 0', async () => {
  const A = (await readModelFile(fixture('stylegan2-64-tiny.onnx'))).model;
  const B = (await readModelFile(fixture('stylegan2-64-tiny-b.onnx'))).model;
  const partner = new Map(storedWeights(B).map((w) => [w.tensor.name, floatWeight(w)]));
  const weights = storedWeights(A).map((w) => w.tensor.name);
  const convs = weights.filter((w) => /conv[01]\.weight$/.test(w));
  const edits: StructuralEdit[] = [{ id: 'e1', op: 'scale', weights: convs.filter((w) => w.includes('b16')), seed: 0 }];
  const live = zeroSafeEdits(bendGraph(A, { partner, edits }), edits);
  const grams = live.graph!.node.filter((n) => n.output[0]?.startsWith('netbend_gram:')).map((n) => n.output[0]!);
  assert.deepEqual(grams.sort(), convs.map(gramOutput).sort(), 'every modulated conv reads its Q');
  const pows = (m: typeof A) => m.graph!.node.filter((n) => n.opType === 'Pow').length;
  assert.equal(pows(live), pows(A) - convs.length, 'the Pow over each [1,O,I,k,k] weight is gone');

  const t = 0.3;
  const scale = 0.7;
  // The same bend done offline: W = (A + t (B - A)) * scale on b16, fed to the untouched graph.
  const offline = structuredClone(A);
  for (const w of storedWeights(offline)) {
    const a = floatValues(w.tensor);
    const b = floatValues(partner.get(w.tensor.name)!);
    const s = edits[0]!.weights.includes(w.tensor.name) ? scale : 1;
    const v = a.map((x, i) => (x + t * (b[i]! - x)) * s);
    w.tensor.rawData = new Uint8Array(v.buffer);
  }
  const z = new ort.Tensor('float32', gaussianArray(512, 3), [1, 512]);
  const opts = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' as const, logSeverityLevel: 3 as const };
  const liveSession = await ort.InferenceSession.create(encodeModel(live), opts);
  const offlineSession = await ort.InferenceSession.create(encodeModel(offline), opts);
  const feeds = (amount: number): Record<string, ort.Tensor> => {
    const f: Record<string, ort.Tensor> = { z, [editInput('e1')]: new ort.Tensor('float32', new Float32Array([amount]), [1]) };
    for (const w of weights) f[blendInput(w)] = new ort.Tensor('float32', new Float32Array([t]), [1]);
    return f;
  };
  const out = liveSession.outputNames[0]!;
  const got = (await liveSession.run(feeds(scale)))[out]!.data as Float32Array;
  const want = (await offlineSession.run({ z }))[out]!.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  assert.ok(worst < 1e-3, `max difference ${worst}`);
  const zeroed = (await liveSession.run(feeds(0)))[out]!.data as Float32Array;
  assert.ok(zeroed.every(Number.isFinite), 'scale 0 silences the channels instead of dividing by 0');
  await liveSession.release();
  await offlineSession.release();
});
