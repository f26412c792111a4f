// `netbend render`: a clip on the offline driver. Every frame at exactly n / fps, every frame
// encoded (the recorder is awaited, never skipped), so two renders give the same frames. With
// --audio the track's features move the show frame for frame (each frame reads the windows ending
// at its time), the clip is as long as the track unless --seconds says otherwise, and the track is
// muxed in: AAC in MP4, PCM in MOV, audio.wav beside the frames of a PNG folder.
import { resolve } from 'node:path';
import { openTarget } from './open-target.ts';
import { OfflineClock } from '../engine/clock.ts';
import type { EpChoice } from '../engine/inference/protocol.ts';
import { startRecording, type RecordFormat } from '../record/video-recorder.ts';
import { progress } from './progress.ts';
import { applyBendOptions, UsageError, type BendOptions } from './bend-options.ts';
import { loadTake } from '../scene/take.ts';
import { renderTake } from '../scene/take-render.ts';
import { Tempo } from '../control/tempo.ts';
import { openTrack, type AudioOptions } from './audio-track.ts';

export interface RenderOptions extends BendOptions, AudioOptions {
  seconds?: number;
  fps?: number;
  take?: string;
  size?: string;
  out: string;
  format: RecordFormat;
  seed?: number;
  ep?: EpChoice;
}

export function parseSize(spec: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/i.exec(spec.trim());
  const width = Number(m?.[1]);
  const height = Number(m?.[2]);
  if (!m || width < 2 || height < 2 || width > 8192 || height > 8192) throw new UsageError(`--size "${spec}": expected WIDTHxHEIGHT, e.g. 1920x1080`);
  return { width, height };
}

export async function render(model: string | undefined, o: RenderOptions): Promise<void> {
  const scaleTo = o.size ? parseSize(o.size) : undefined;
  if (o.take) {
    if (model) throw new UsageError('--take renders the model the take names: give no model with it');
    if (o.seconds !== undefined || o.edit?.length || o.bend?.length || o.blend || o.animate?.length || o.tap?.length || o.seed !== undefined || o.audio)
      throw new UsageError('--take replays the performance as it was: --seconds, --seed, --audio and bending flags do not apply');
    return renderTakeFile(o.take, { ...o, size: scaleTo });
  }
  if (!model) throw new UsageError('render needs a model or preset, or --take <take.json>');
  const fps = o.fps ?? 30;
  const track = await openTrack(o);
  const seconds = o.seconds ?? track?.seconds ?? 10;
  const frames = Math.round(seconds * fps);
  if (frames < 1) throw new UsageError(`--seconds ${seconds} at --fps ${fps} is less than one frame`);
  const tempo = new Tempo();
  const { engine, modulators, warnings } = await openTarget(model, o, tempo, (e) => track?.attach(e.params, tempo));
  warnings.forEach((w) => console.error(`netbend: warning: ${w}`));
  try {
    if (!engine.image) throw new Error(`${engine.file}: this model has no image output to render`);
    const animate = await applyBendOptions(engine, o, { tempo });
    await engine.settled();
    const out = resolve(o.out);
    const audio = track ? { path: track.file, seconds: frames / fps } : undefined;
    const rec = await startRecording({ path: out, format: o.format, width: engine.image.width, height: engine.image.height, scaleTo, fps, audio });
    const clock = new OfflineClock(fps, frames);
    const bar = progress(frames, 'frames');
    const t0 = performance.now();
    try {
      await clock.run(async (t) => {
        track?.features?.update(t);
        modulators.apply(t.time, t.index);
        animate(t.time, t.index);
        const frame = await engine.render(t);
        await rec.ready();
        rec.writeFrame(frame.rgba!, t.index);
        bar.tick();
      });
    } catch (err) {
      await rec.abort();
      throw err;
    } finally {
      bar.done();
    }
    const summary = await rec.stop();
    const secs = (performance.now() - t0) / 1000;
    const withAudio = track ? ` with ${track.file} (${Math.min(track.seconds, frames / fps).toFixed(2)}s of it)` : '';
    console.error(`netbend: rendered ${summary.frames} frames (${seconds}s at ${fps} fps)${withAudio} to ${summary.path} in ${secs.toFixed(1)}s`);
  } finally {
    await engine.close();
  }
}

async function renderTakeFile(file: string, o: Omit<RenderOptions, 'size'> & { size?: { width: number; height: number } }): Promise<void> {
  const take = await loadTake(file);
  const t0 = performance.now();
  let bar: ReturnType<typeof progress> | undefined;
  try {
    const summary = await renderTake(take, {
      out: resolve(o.out),
      format: o.format,
      fps: o.fps,
      size: o.size,
      ep: o.ep,
      onFrame: (_done, total) => {
        bar ??= progress(total, 'frames');
        bar.tick();
      },
    });
    bar?.done();
    console.error(`netbend: rendered take ${file}: ${summary.frames} frames at ${o.fps ?? take.fps} fps to ${summary.path} in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  } catch (err) {
    bar?.done();
    throw err;
  }
}
