// `netbend play`: headless frames on the offline driver, so the same seed and frame index give the
// same pixels run after run. Writes frame-NNNNN.png, taps, and stats.json.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openTarget } from './open-target.ts';
import { OfflineClock } from '../engine/clock.ts';
import type { EpChoice } from '../engine/inference/protocol.ts';
import { tapGrid } from '../engine/tap-grid.ts';
import { writePng } from './png.ts';
import { progress } from './progress.ts';
import { applyBendOptions, type BendOptions } from './bend-options.ts';
import { Tempo } from '../control/tempo.ts';
import { openTrack, type AudioOptions } from './audio-track.ts';

export interface PlayOptions extends BendOptions, AudioOptions {
  frames: number;
  out: string;
  seed?: number;
  fps: number;
  ep?: EpChoice;
}

export async function play(model: string, opts: PlayOptions): Promise<void> {
  const track = await openTrack(opts);
  const tempo = new Tempo();
  const { engine, modulators, warnings } = await openTarget(model, opts, tempo, (e) => track?.attach(e.params, tempo));
  warnings.forEach((w) => console.error(`netbend: warning: ${w}`));
  engine.on('warning', (w) => console.error(`netbend: warning: ${w}`));
  try {
    const animate = await applyBendOptions(engine, opts, { tempo });
    await engine.settled();
    await mkdir(opts.out, { recursive: true });
    const clock = new OfflineClock(opts.fps, opts.frames);
    const bar = progress(opts.frames, 'frames');
    const timings: { inferMs: number[]; frameMs: number[] } = { inferMs: [], frameMs: [] };
    const tapShapes: Record<string, number[]> = {};
    let lastValues: Record<string, number[]> = {};
    let nonFinite = 0;
    const t0 = performance.now();
    await clock.run(async (t) => {
      track?.features?.update(t);
      modulators.apply(t.time, t.index);
      animate(t.time, t.index);
      const frame = await engine.render(t);
      const n = String(t.index).padStart(5, '0');
      if (frame.rgba) await writePng(join(opts.out, `frame-${n}.png`), frame.width, frame.height, frame.rgba);
      for (const [layer, tensor] of Object.entries(frame.taps)) {
        tapShapes[layer] = tensor.dims;
        const safe = layer.replace(/[^\w.-]/g, '_');
        const grid = tapGrid(tensor);
        await writePng(join(opts.out, `tap-${safe}-${n}.png`), grid.width, grid.height, grid.rgba);
        await writeFile(join(opts.out, `tap-${safe}-${n}.f32`), new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
      }
      timings.inferMs.push(frame.stats.inferMs);
      timings.frameMs.push(frame.stats.frameMs);
      lastValues = frame.values;
      nonFinite = frame.stats.nonFinite;
      bar.tick();
    });
    bar.done();
    const seconds = (performance.now() - t0) / 1000;
    const stats = {
      model: engine.file,
      ep: engine.ep,
      frames: opts.frames,
      fps: opts.fps,
      seed: opts.seed ?? 0,
      size: engine.image ? [engine.image.width, engine.image.height] : null,
      range: engine.range ?? null,
      renderFps: opts.frames / seconds,
      inferMs: summary(timings.inferMs),
      frameMs: summary(timings.frameMs),
      dropped: clock.dropped,
      // Frames with a NaN or Inf in the picture, a tap or an output (see FrameStats.nonFinite).
      nonFinite,
      taps: Object.fromEntries(Object.entries(tapShapes).map(([k, v]) => [k, { shape: v }])),
      edits: engine.bend.listEdits().map(({ weights, ...e }) => ({ ...e, weights: weights.length })),
      bends: engine.bend.features.list().map((b) => ({ ...b, values: engine.bend.features.values(b.name) })),
      partner: engine.bend.partner ?? null,
      outputs: lastValues,
    };
    await writeFile(join(opts.out, 'stats.json'), JSON.stringify(stats, null, 2) + '\n');
    console.error(`netbend: ${opts.frames} frames from ${engine.file} on ${engine.ep} -> ${opts.out} (${stats.renderFps.toFixed(1)} fps)`);
  } finally {
    await engine.close();
  }
}

function summary(xs: number[]): { mean: number; median: number; p99: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { mean: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), median: at(0.5), p99: at(0.99) };
}
