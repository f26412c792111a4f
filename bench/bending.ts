// Issue 3's bench: stylegan2-256-slim on the CPU with every layer blending toward a partner (the
// amount animated every frame), three animated edits and one tap, against a bare onnxruntime loop.
import ort from '../app/engine/inference/ort.ts';
import { join } from 'node:path';
import { Engine } from '../app/engine/engine.ts';
import { BLEND_ALL } from '../app/engine/bend/bend-plan.ts';
import { FIXTURES, sideBySide, writeResult } from './util.ts';
import { hostFedBlendFps } from './host-fed-blend.ts';
import { FEATURE_WORKLOAD, featureBendFps } from './feature-bending.ts';

const MODEL = 'stylegan2-256-slim.onnx';
const FRAMES = 40;
// The bending comparison in short rounds, many of them: this machine's speed drifts within seconds,
// and each pair of rounds sees the same drift.
const ROUND_FRAMES = 12;
const ROUNDS = 15;

export async function benchBending(): Promise<void> {
  const file = join(FIXTURES, MODEL);
  // A partner of the same architecture: the model's own weights, scaled, written beside the bench.
  const partner = await makePartner(file);
  const bare = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const z = new ort.Tensor(
    'float32',
    new Float32Array(512).map((_, i) => Math.sin(i)),
    [1, 512],
  );
  await bare.run({ z });
  const { engine } = await Engine.open({ model: file, ep: 'cpu' });
  await engine.loadPartner(partner);
  const edits = [engine.addEdit('b32.conv1', 'scale', 1.2), engine.addEdit('b64', 'noise', 0.1), engine.addEdit('b128.conv0', 'ablate', 0.2)];
  engine.setTaps(['b64.conv1']);
  await engine.settled();
  let index = 0;
  const frame = async () => {
    const time = index / 30;
    engine.params.set(BLEND_ALL, 0.5 + 0.5 * Math.sin(time), 'modulator');
    edits.forEach((id, k) => engine.params.set(`/netbend/edit/${id}/amount`, 0.2 + 0.1 * k + 0.05 * Math.sin(time * (k + 1)), 'modulator'));
    const f = await engine.render({ index: index++, time, dt: 1 / 30 });
    if (!f.taps['G.synthesis.b64.conv1']) throw new Error('tap missing');
  };
  await frame();
  const bareFps = async () => {
    const t0 = performance.now();
    for (let i = 0; i < ROUND_FRAMES; i++) await bare.run({ z });
    return (ROUND_FRAMES * 1000) / (performance.now() - t0);
  };
  const bentFps = async () => {
    const t0 = performance.now();
    for (let i = 0; i < ROUND_FRAMES; i++) await frame();
    return (ROUND_FRAMES * 1000) / (performance.now() - t0);
  };
  const r = await sideBySide(ROUNDS, bareFps, bentFps);
  await engine.close();
  console.log(`${MODEL}: bare ${r.a.toFixed(1)} fps, bending (in-graph) ${r.b.toFixed(1)} fps, ratio ${r.ratio.toFixed(3)}`);
  const host = await hostFedBlendFps(file, partner, FRAMES, bare, z);
  console.log(`${MODEL}: host-fed blend (blend only, weights recomputed in JS and fed) ratio ${host.ratio.toFixed(3)}`);
  const fm = await featureBendFps(file, FRAMES, bare, z);
  console.log(`${MODEL}: feature-map bending (3 animated ops on 3 layers) ratio ${fm.ratio.toFixed(3)}`);
  await bare.release();
  writeResult('bending', {
    model: MODEL,
    ep: 'cpu',
    goal: 'ratio >= 0.9',
    workload: 'all layers blending with the amount animated every frame, 3 animated edits (scale, noise, ablate), 1 tap',
    bareFps: r.a,
    bendingFps: r.b,
    ratioBendingOverBare: r.ratio,
    mechanism:
      'in-graph: a bent weight is a sum of constant terms (original, partner - original, noise) with scalar amount inputs as coefficients; weights reaching a Gemm/MatMul through linear ops are bent after the product (stacked terms folded and prepacked at load), others are computed in one MatMul per weight (and per transposed reader); a StyleGAN2 demodulation reads Q = sum over the kernel of W^2 from the constant Gram of the terms (k^2 passes over [O,I] instead of three over [1,O,I,k,k], and an up-conv weight is then computed transposed only); frames with every bend at identity run a session with the original weights',
    featureBend: {
      goal: 'ratio >= 0.9',
      workload: FEATURE_WORKLOAD,
      bareFps: fm.bareFps,
      fps: fm.fps,
    },
    ratioFeatureBendOverBare: fm.ratio,
    hostFedComparison: {
      note: 'blend only (no edits, no tap): every weight recomputed in JS as A + t(B - A) each frame and fed as a graph input',
      bareFps: host.bareFps,
      fps: host.fps,
      ratioHostFedOverBare: host.ratio,
    },
  });
}

async function makePartner(file: string): Promise<string> {
  const { readModelFile, encodeModel } = await import('../app/engine/onnx/model-file.ts');
  const { weightInitializers } = await import('../app/engine/onnx/model-info.ts');
  const { floatValues } = await import('../app/engine/onnx/tensor-data.ts');
  const { gaussianArray } = await import('../app/core/seeded-random.ts');
  const { writeFileSync, mkdirSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { model } = await readModelFile(file);
  for (const w of weightInitializers(model)) {
    const v = floatValues(w);
    const n = gaussianArray(v.length, 7);
    for (let i = 0; i < v.length; i++) v[i] = v[i]! * 0.5 + n[i]! * 0.5;
    w.rawData = new Uint8Array(v.buffer);
  }
  const dir = join(tmpdir(), 'netbend-bench');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'partner.onnx');
  writeFileSync(out, encodeModel(model));
  return out;
}
