// Issue 15's bench: the live loop of models/default.onnx at a 30 fps target (the wall clock,
// dropping the slots it misses), alone and while a 4x4 seed grid renders on its own runner, side
// by side in one process; the grid re-renders as soon as it is done, so it runs through every
// round of its side. Goal: live fps with the grid >= 0.9 of live fps without.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../app/engine/engine.ts';
import { LiveClock } from '../app/engine/clock.ts';
import { SeedGrid } from '../app/engine/seed-grid.ts';
import { ROOT, sideBySide, writeResult } from './util.ts';

const FPS = 30;
const ROUND_S = 3;
const ROUNDS = 9;
const N = 4;

export async function benchLatent(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const { engine } = await Engine.open({ model: join(ROOT, 'models', 'default.onnx'), ep: 'cpu', sources: { z: 'keyframes' } });
  const grid = new SeedGrid(engine);
  let gridMs = 0;
  let grids = 0;
  let seed = 0;
  const live = async (): Promise<number> => {
    const clock = new LiveClock(FPS);
    let frames = 0;
    const stop = setTimeout(() => clock.stop(), ROUND_S * 1000);
    const t0 = performance.now();
    await clock.run(async (t) => {
      await engine.render(t);
      frames++;
    });
    clearTimeout(stop);
    return (frames * 1000) / (performance.now() - t0);
  };
  const withGrid = async (): Promise<number> => {
    let on = true;
    const rendering = (async () => {
      while (on) {
        const g0 = performance.now();
        await grid.render({ n: N, mode: 'seeds', seed: (seed += N * N) });
        gridMs += performance.now() - g0;
        grids++;
      }
    })();
    const fps = await live();
    on = false;
    await rendering;
    return fps;
  };
  await live();
  await grid.render({ n: N, mode: 'seeds' });
  const r = await sideBySide(ROUNDS, live, withGrid);
  await grid.close();
  await engine.close();
  const perGrid = gridMs / grids;
  console.log(
    `default.onnx live at ${FPS} fps: ${r.a.toFixed(1)} fps alone, ${r.b.toFixed(1)} fps while a ${N}x${N} grid renders (ratio ${r.ratio.toFixed(3)}); a grid every ${(perGrid / 1000).toFixed(2)} s`,
  );
  writeResult('latent', {
    model: 'models/default.onnx',
    ep: 'cpu',
    targetFps: FPS,
    roundSeconds: ROUND_S,
    rounds: ROUNDS,
    grid: `${N}x${N} seeds, own runner on one thread, duty 0.3, re-rendered back to back through each round`,
    goal: 'ratio >= 0.9',
    liveFps: r.a,
    liveFpsWithGrid: r.b,
    ratioWithGridOverAlone: r.ratio,
    gridsRendered: grids,
    secondsPerGrid: perGrid / 1000,
    /** The machine is shared: its 1-minute load average before and after (2 cores). */
    loadAverage: [loadBefore, loadavg()[0]!],
  });
}
