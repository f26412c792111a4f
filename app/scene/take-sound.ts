// A take's sound in its re-render (see app/audio/take-audio.ts): the WAV the live analysis read,
// decoded again, its features set before each frame from the sample that frame's analysis ended at
// (at the take's own rate, exactly; at another, where the take's frames place that time), and the
// sound laid out as the show played it, for the video's audio stream.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rm, writeFile } from 'node:fs/promises';
import type { ParameterRegistry } from '../core/registry.ts';
import type { Tempo } from '../control/tempo.ts';
import type { FrameTime } from '../engine/clock.ts';
import { AudioAnalyser } from '../audio/analyser.ts';
import { AudioParams } from '../audio/audio-params.ts';
import { decodePcm } from '../audio/pcm-file.ts';
import type { PcmBuffer } from '../audio/pcm-source.ts';
import { f32, wavHeader } from '../audio/wav.ts';
import type { Take } from './take.ts';

export class TakeSound {
  features: AudioParams | undefined;

  private constructor(
    private readonly take: Take,
    private readonly audio: NonNullable<Take['audio']>,
    readonly pcm: PcmBuffer,
  ) {}

  /** The take's sound, or undefined for a take without one; a missing or unreadable file is said in one line. */
  static async open(take: Take): Promise<TakeSound | undefined> {
    if (!take.audio) return undefined;
    const pcm = await decodePcm(take.audio.file, { rate: take.audio.rate });
    return new TakeSound(take, take.audio, pcm);
  }

  /** Defines the features on the re-render's registry: before its scene is applied, so the scene's audio settings take. */
  attach(params: ParameterRegistry, tempo: Tempo): void {
    this.features = new AudioParams(params, new AudioAnalyser(this.pcm), { tempo });
    if (this.audio.start) this.features.seedShapers(this.audio.start);
  }

  /** Features for the take's frame `i` (its own rate): the windows ending where that live frame's ended. */
  frame(i: number, t: FrameTime): void {
    const { ends, rate } = this.audio;
    const step = Math.round(t.dt * rate);
    // What the live analysis had taken in before this frame (onsets and flux count since then):
    // the frame before the take, or the place a seek moved to (analysed at once, see ShowTrack).
    if (i === 0) this.prime(ends[0]! - step);
    else if (ends[i]! - ends[i - 1]! - step > rate / 4) this.prime(ends[i]!);
    this.features?.update({ ...t, time: ends[i]! / rate }, t.time);
  }

  private prime(end: number): void {
    if (end > 0) this.features?.analyser.at(end / this.audio.rate);
  }

  /** Features at show time `time` at another rate: from the take frame before it, on by the time since (up to the next one's end). */
  at(time: number, t: FrameTime): void {
    const frames = this.take.frames;
    let lo = 0;
    let hi = frames.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (frames[mid]![1] <= time) lo = mid;
      else hi = mid - 1;
    }
    const ends = this.audio.ends;
    const since = Math.max(0, Math.round((time - frames[lo]![1]) * this.audio.rate));
    const end = Math.min(ends[lo]! + since, ends[lo + 1] ?? Number.POSITIVE_INFINITY);
    if (t.index === 0) this.prime(end - Math.round(t.dt * this.audio.rate));
    this.features?.update({ ...t, time: end / this.audio.rate }, t.time);
  }

  /** The sound as the show played it, from show time `t0` for `seconds`, as a temporary WAV (removed by the returned function). */
  async heard(t0: number, seconds: number): Promise<{ path: string; seconds: number; remove: () => Promise<void> }> {
    const rate = this.audio.rate;
    const out = new Float32Array(Math.max(1, Math.round(seconds * rate)));
    const s0 = Math.round(t0 * rate);
    const wav = this.pcm.samples;
    const parts = this.audio.heard;
    parts.forEach(([from, offset], k) => {
      const to = Math.min(wav.length, parts[k + 1]?.[0] ?? wav.length);
      for (let i = Math.max(from, s0 - offset); i < to; i++) {
        const j = i + offset - s0;
        if (j >= out.length) break;
        out[j] = wav[i]!;
      }
    });
    const path = join(tmpdir(), `netbend-take-sound-${process.pid}-${Date.now()}.wav`);
    await writeFile(path, Buffer.concat([wavHeader(out.length, rate, true), f32(out)]));
    return { path, seconds, remove: () => rm(path, { force: true }) };
  }
}
