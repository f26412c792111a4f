// Issue 2's bench: for each fixture on the CPU, a bare onnxruntime-node `run` loop against
// netbend's frame loop (sources, worker, in-graph RGBA conversion) on the same model.
import ort from '../app/engine/inference/ort.ts';
import { join } from 'node:path';
import { Engine } from '../app/engine/engine.ts';
import { FIXTURES, sideBySide, writeResult } from './util.ts';

const MODELS: Array<[string, number]> = [
  ['stylegan2-64-tiny.onnx', 150],
  ['stylegan2-256-slim.onnx', 40],
  ['stylegan3t-128-tiny.onnx', 3],
  ['stylegan3r-64-tiny.onnx', 3],
];
/** Rounds alternate bare and netbend; the median of each side is kept (shared machines are noisy). */
const ROUNDS = 5;

export async function benchEngine(): Promise<void> {
  const results: Record<string, unknown> = {};
  for (const [name, frames] of MODELS) {
    const file = join(FIXTURES, name);
    const bare = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    const z = new ort.Tensor(
      'float32',
      new Float32Array(512).map((_, i) => Math.sin(i)),
      [1, 512],
    );
    await bare.run({ z });
    const { engine } = await Engine.open({ model: file, ep: 'cpu' });
    let index = 0;
    await engine.render({ index: index++, time: 0, dt: 0 });
    const bareFps = async () => {
      const t0 = performance.now();
      for (let i = 0; i < frames; i++) await bare.run({ z });
      return (frames * 1000) / (performance.now() - t0);
    };
    const netbendFps = async () => {
      const t0 = performance.now();
      for (let i = 0; i < frames; i++) {
        const t = index++ / 30;
        await engine.render({ index, time: t, dt: 1 / 30 });
      }
      return (frames * 1000) / (performance.now() - t0);
    };
    const r = await sideBySide(frames >= 40 ? ROUNDS : 3, bareFps, netbendFps);
    results[name] = { bareFps: r.a, netbendFps: r.b, ratioNetbendOverBare: r.ratio, framesPerRound: frames };
    console.log(`${name}: bare ${r.a.toFixed(1)} fps, netbend ${r.b.toFixed(1)} fps, ratio ${r.ratio.toFixed(3)}`);
    await engine.close();
    await bare.release();
  }
  writeResult('engine', { ep: 'cpu', goal: 'ratio >= 0.95', models: results });
}
