// Issue 13's bench: training a mapper must not cost the show its frames. A 32x32 tanh MLP on 500
// examples (4 inputs -> 3 targets, smooth functions) trains in its worker while netbend's frame
// loop plays models/default.onnx at a 30 fps target on the CPU; the live fps meanwhile over the
// live fps without training (goal >= 0.9), rounds alternated. Also: the training's seconds alone
// and under the show, and the unthrottled render rate with and without (every core busy).
import { join } from 'node:path';
import { mulberry32 } from '../app/core/seeded-random.ts';
import { LiveClock } from '../app/engine/clock.ts';
import { Engine } from '../app/engine/engine.ts';
import { FPS, FrameLoop } from '../app/engine/frame-loop.ts';
import type { Dataset } from '../app/learn/dataset.ts';
import { type TrainOptions, trainInWorker } from '../app/learn/train.ts';
import { ROOT, sideBySide, writeResult } from './util.ts';

const TARGET_FPS = 30;
const EXAMPLES = 500;
const OPTS: TrainOptions = { inputs: ['a', 'b', 'c', 'd'], targets: ['s', 'k', 'm'], model: 'mlp', hidden: [32, 32] };

function examples(): Dataset {
  const rand = mulberry32(13);
  const rows = Array.from({ length: EXAMPLES }, () => {
    const [a, b, c, d] = Array.from({ length: 4 }, () => rand() * 2 - 1) as [number, number, number, number];
    return [a, b, c, d, Math.sin(2 * a + b), Math.cos(c - d + a), Math.sin(a * b + 2 * d)];
  });
  return { columns: ['a', 'b', 'c', 'd', 's', 'k', 'm'], rows };
}

export async function benchTrain(): Promise<void> {
  const data = examples();
  const t0 = performance.now();
  const alone = await trainInWorker(data, OPTS);
  const trainSecondsAlone = (performance.now() - t0) / 1000;
  const { engine } = await Engine.open({ model: join(ROOT, 'models', 'default.onnx'), ep: 'cpu' });
  const loop = new FrameLoop(engine, new LiveClock(TARGET_FPS));
  engine.params.set(FPS, TARGET_FPS);
  const underShow: number[] = [];
  let epochs = 0;
  /** Frames per second of the live loop while `work` runs (a training run, or a wait as long as one). */
  const live = async (work: () => Promise<unknown>) => {
    let frames = 0;
    const off = loop.on('frame', () => frames++);
    loop.start();
    const start = performance.now();
    await work();
    const seconds = (performance.now() - start) / 1000;
    await loop.stop();
    off();
    return frames / seconds;
  };
  const training = async () => {
    const start = performance.now();
    const m = await trainInWorker(data, OPTS);
    underShow.push((performance.now() - start) / 1000);
    epochs = m.card.settings.epochs as number;
  };
  const waitOneRun = () => new Promise((r) => setTimeout(r, trainSecondsAlone * 1000));
  await live(() => new Promise((r) => setTimeout(r, 1000))); // warm-up
  const l = await sideBySide(
    2,
    () => live(waitOneRun),
    () => live(training),
  );
  // Unthrottled: frames back to back, so the training worker and inference share the 2 cores.
  let index = 0;
  const flat = async (work: () => Promise<unknown>) => {
    let done = false;
    let frames = 0;
    const w = work().then(() => (done = true));
    const start = performance.now();
    while (!done) {
      await engine.render({ index: index++, time: index / 30, dt: 1 / 30 });
      frames++;
    }
    await w;
    return (frames * 1000) / (performance.now() - start);
  };
  const u = await sideBySide(
    1,
    () => flat(waitOneRun),
    () => flat(training),
  );
  await engine.close();
  const sorted = [...underShow].sort((a, b) => a - b);
  console.log(
    `mlp 32x32 on ${EXAMPLES} examples: ${trainSecondsAlone.toFixed(1)} s alone, ${sorted[0]!.toFixed(1)}-${sorted.at(-1)!.toFixed(1)} s under the show (${epochs} epochs kept, refit on all)`,
  );
  console.log(`live at ${TARGET_FPS} fps target: ${l.a.toFixed(1)} fps alone, ${l.b.toFixed(1)} fps while training, ratio ${l.ratio.toFixed(3)}`);
  console.log(`unthrottled: ${u.a.toFixed(1)} fps alone, ${u.b.toFixed(1)} fps while training (${u.ratio.toFixed(3)})`);
  writeResult('train', {
    model: 'models/default.onnx',
    ep: 'cpu',
    mapper: { kind: 'mlp', hidden: [32, 32], examples: EXAMPLES, inputs: 4, targets: 3, epochsKept: epochs, validationRmse: alone.card.validationRmse },
    goal: 'live fps while training / live fps alone >= 0.9',
    targetFps: TARGET_FPS,
    trainSecondsAlone,
    trainSecondsUnderShow: underShow,
    liveFpsAlone: l.a,
    liveFpsTraining: l.b,
    ratioLiveTrainingOverAlone: l.ratio,
    unthrottled: { note: 'frames back to back: inference and the training worker share the 2 cores', fpsAlone: u.a, fpsTraining: u.b, ratio: u.ratio },
  });
}
