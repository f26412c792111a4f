// The alternative mechanism, measured side by side with the engine's in-graph bending: every
// weight recomputed on the host as A + t(B - A) each frame and fed as a plain graph input.
import ort from '../app/engine/inference/ort.ts';
import { readModelFile, encodeModel } from '../app/engine/onnx/model-file.ts';
import { weightInitializers } from '../app/engine/onnx/model-info.ts';
import { floatValues } from '../app/engine/onnx/tensor-data.ts';
import { weightsToInputs } from '../app/engine/onnx/rewrite.ts';

export async function hostFedBlendFps(file: string, partnerFile: string, frames: number, bare: ort.InferenceSession, z: ort.Tensor): Promise<{ bareFps: number; fps: number; ratio: number }> {
  const { model } = await readModelFile(file);
  const partner = new Map(weightInitializers((await readModelFile(partnerFile)).model).map((w) => [w.name, floatValues(w)]));
  const weights = weightInitializers(model).map((w) => ({ name: w.name, a: floatValues(w), b: partner.get(w.name)!, out: new Float32Array(floatValues(w).length), dims: w.dims.map(Number) }));
  const s = await ort.InferenceSession.create(
    encodeModel(
      weightsToInputs(
        model,
        weights.map((w) => w.name),
      ),
    ),
    { executionProviders: ['cpu'], graphOptimizationLevel: 'all' },
  );
  const feeds: Record<string, ort.Tensor> = { z };
  for (const w of weights) feeds[w.name] = new ort.Tensor('float32', w.out, w.dims);
  let frame = 0;
  const step = () => {
    const t = 0.5 + 0.5 * Math.sin(frame++ / 30);
    for (const w of weights) for (let i = 0; i < w.a.length; i++) w.out[i] = w.a[i]! + t * (w.b[i]! - w.a[i]!);
    return s.run(feeds);
  };
  await step();
  const fps = async (run: () => Promise<unknown>) => {
    const t0 = performance.now();
    for (let i = 0; i < frames; i++) await run();
    return (frames * 1000) / (performance.now() - t0);
  };
  const rounds: Array<[number, number]> = [];
  for (let r = 0; r < 3; r++) rounds.push([await fps(() => bare.run({ z })), await fps(step)]);
  await s.release();
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[1]!;
  const bareFps = med(rounds.map((r) => r[0]));
  const hostFps = med(rounds.map((r) => r[1]));
  return { bareFps, fps: hostFps, ratio: hostFps / bareFps };
}
