// The sound that drove a take's features, written beside it as it records: the samples each
// frame's analysis read (a capture's ring or the track), in a 32-bit float WAV, so `render --take`
// analyses the very samples again. A run of sound the analysis read without a break is written
// once, in order; where it breaks (the first frame, a seek, another source) the seconds of history
// the analysis looks back over come first, aligned to its hop grid, so the features come out the
// same. Beside it, per frame, the WAV sample its analysis ended at (`ends`), and where each part
// was heard in show time (`heard`: [first WAV sample, show sample minus WAV sample]), from which
// the re-render lays the sound as the show played it (a pause is silence, a seek jumps).
// Written to a temporary file, the header last, renamed into place: never half a file.
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { HOP } from './analyser.ts';
import type { PcmSource } from './pcm-source.ts';
import { AUDIO_RATE } from './pcm-source.ts';
import { WAV_HEADER_BYTES, f32, wavHeader } from './wav.ts';

/** What one frame's analysis read: from which source, up to which sample, and where that source is heard (show sample - source sample). */
export interface AudioRead {
  source: PcmSource;
  end: number;
  shift: number;
}

/** Seconds of history before a break: more than the tempo's window (6 s) and the onset mean's. */
const HISTORY = 8 * AUDIO_RATE;
/** Breaks start on this grid, so hops and tempo updates (every 64 hops) fall where they fell live. */
const ALIGN = 64 * HOP;
/** A forward jump longer than this is a break, not sound to write out. */
const MAX_RUN = 10 * AUDIO_RATE;

export interface TakeAudio {
  file: string;
  rate: number;
  ends: number[];
  heard: Array<[number, number]>;
  /** Where each feature's envelope stood before the first frame. */
  start?: Record<string, number>;
}

export class TakeAudioWriter {
  private written = 0;
  private source: PcmSource | undefined;
  /** The source sample the next WAV sample holds. */
  private next = 0;
  private shift = Number.NaN;
  private heardAny = false;
  private start: Record<string, number> | undefined;
  private frames = 0;
  readonly ends: number[] = [];
  readonly heard: Array<[number, number]> = [];
  private chain: Promise<unknown>;
  private failed: Error | undefined;
  private fh: FileHandle | undefined;
  private readonly temp: string;

  /** Starts at once (frames may come before the file is open: their samples wait in order). */
  constructor(readonly path: string) {
    this.temp = `${path}.${process.pid}.tmp`;
    this.chain = open(this.temp, 'w').then(
      (fh) => void (this.fh = fh),
      (err: Error) => void (this.failed = err),
    );
    this.queue(wavHeader(0, AUDIO_RATE, true));
  }

  /** Samples written so far. */
  get length(): number {
    return this.written;
  }

  /** One recorded frame: what its analysis read (undefined when nothing drove the features), and for the first, where the envelopes stood before it. */
  frame(read: AudioRead | undefined, envelopes?: Record<string, number>): void {
    if (this.frames++ === 0) this.start = envelopes;
    if (!read) {
      this.ends.push(this.written);
      return;
    }
    const { source, end, shift } = read;
    const before = this.written;
    if (source !== this.source || end < this.next || end - this.next > MAX_RUN) {
      const from = Math.floor((end - HISTORY) / ALIGN) * ALIGN;
      this.write(source, from, end);
      this.source = source;
      this.heard.push([this.written, end - this.written + shift]);
    } else {
      // Heard elsewhere from here on (the transport paused and played): a new part, same samples.
      if (shift !== this.shift) this.heard.push([before, this.next - before + shift]);
      this.write(source, this.next, end);
    }
    this.shift = shift;
    this.next = end;
    this.heardAny = true;
    this.ends.push(this.written);
  }

  /** Finishes the file (header, rename) and says what a take keeps of it; undefined (and no file) when no sound drove a frame. */
  async close(keepFrames: number): Promise<TakeAudio | undefined> {
    await this.chain;
    if (!this.heardAny || this.failed) {
      await this.abort();
      if (this.failed) throw this.failed;
      return undefined;
    }
    const fh = this.fh!;
    await fh.write(wavHeader(this.written, AUDIO_RATE, true), 0, WAV_HEADER_BYTES, 0);
    await fh.sync();
    await fh.close();
    await rename(this.temp, this.path);
    return { file: this.path, rate: AUDIO_RATE, ends: this.ends.slice(0, keepFrames), heard: this.heard, ...(this.start ? { start: this.start } : {}) };
  }

  async abort(): Promise<void> {
    await this.chain;
    await this.fh?.close().catch(() => {});
    await rm(this.temp, { force: true });
  }

  private write(source: PcmSource, from: number, end: number): void {
    if (end <= from) return;
    const out = new Float64Array(end - from);
    source.read(end, out);
    this.queue(f32(Float32Array.from(out)));
    this.written += end - from;
  }

  private queue(buf: Buffer): void {
    // Never rejects: the first failure is kept and said at close.
    this.chain = this.chain
      .then(() => (this.failed || !this.fh ? undefined : this.fh.write(buf)))
      .catch((err: Error) => {
        this.failed ??= err;
      });
  }
}
