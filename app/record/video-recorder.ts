/**
 * Recording edge of netbend: RGBA8 frames in, a video file out, through the system ffmpeg.
 *
 *   const rec = await startRecording({ path: 'show.mp4', width, height, fps: 60, onError });
 *   engine.onFrame((f) => rec.writeFrame(f.rgba, f.index));   // never blocks, never throws
 *   const summary = await rec.stop();
 *
 * Timing: one video frame per engine frame-index step (constant frame rate); gaps in the index
 * (frames the live loop dropped) repeat the previous frame. Frames are copied into a small bounded
 * queue and written to ffmpeg's stdin as it drains; when the queue is full the new frame is
 * skipped and its slot filled with the previous one, so the show never waits on the encoder.
 *
 * Files: ffmpeg writes a crash-safe partial next to the target (`show.partial.mp4`, see
 * formats.ts); stop() remuxes it to a temp file and renames that over `path`, so an earlier
 * recording at `path` is replaced in one step, and only by a complete file.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { RecorderError, StderrTail, defaultFfmpegPath, ensureFfmpeg, listEncoders, notFoundError, runTool } from './ffmpeg.ts';
import { PNG_AUDIO, RECORD_FORMATS, audioCodec, planFormat, type AudioTrack, type FormatPlan, type RecordFormat } from './formats.ts';

export { RecorderError, decodeFrames, listEncoders, probeVideo } from './ffmpeg.ts';
export type { RecorderErrorCode, ToolOptions, VideoInfo } from './ffmpeg.ts';
export { PNG_AUDIO, partialPathFor, type AudioTrack, type RecordFormat } from './formats.ts';

export interface RecordingOptions {
  /** Output file (h264: .mp4, prores/hap: .mov) or, for png, the folder to fill with frame-00000.png ... */
  path: string;
  /** Default 'h264'. */
  format?: RecordFormat;
  width: number;
  height: number;
  /** Encode at this size instead of the frames' own (ffmpeg scales). */
  scaleTo?: { width: number; height: number };
  fps: number;
  /** Default $FFMPEG_PATH or `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** Called once, outside the frame loop, if the recording fails while running (stop() then rejects with it). */
  onError?: (err: Error) => void;
  /** Frames waiting for ffmpeg at most; default about 64 MB worth, between 2 and 16 frames. */
  maxQueuedFrames?: number;
  /** Longest index gap filled with repeats (default fps * 60); larger jumps are clamped to it. */
  maxGapFrames?: number;
  /** Remux MP4/MOV to a regular (non-fragmented, moov-first) file at stop(). Default true. */
  faststart?: boolean;
  /**
   * A sound track to mux beside the frames, its first `seconds` (an offline render's --audio):
   * AAC in MP4, PCM in MOV, audio.wav in a PNG folder. Its time 0 is frame 0's.
   */
  audio?: AudioTrack;
}

export interface RecordingSummary {
  /** Final output (file, or folder for png). */
  path: string;
  format: RecordFormat;
  /** Video frames written: one per frame-index step from the first frame to the last. */
  frames: number;
  /** Frames that repeat the previous one: index gaps plus frames skipped under backpressure. */
  filled: number;
  /** Part of `filled`: frames that arrived while the queue was full. */
  skipped: number;
  /** frames / fps. */
  seconds: number;
  /** Whether the fragmented recording was remuxed to a regular faststart file. */
  remuxed: boolean;
}

export interface RecordingStats {
  frames: number;
  filled: number;
  skipped: number;
  /** Frames (distinct buffers) waiting for ffmpeg right now. */
  queued: number;
}

export interface Recording {
  readonly path: string;
  /** Where the crash-safe recording is written until stop(). */
  readonly partialPath: string;
  readonly format: RecordFormat;
  /** ffmpeg's process id. */
  readonly pid: number | undefined;
  /** The error that ended the recording, if any. */
  readonly error: Error | null;
  /** Queue one RGBA8 frame (width * height * 4 bytes, copied) for engine frame `frameIndex`. Never throws. */
  writeFrame(rgba: Uint8Array, frameIndex: number): void;
  /** Resolves when writeFrame would queue without skipping (for offline renders that may wait). */
  ready(): Promise<void>;
  stats(): RecordingStats;
  /** Flushes, finalizes and moves the recording onto `path`. Rejects with the recording's error, if any. */
  stop(): Promise<RecordingSummary>;
  /** Kills ffmpeg and deletes the partial recording; `path` is left as it was. Never rejects. */
  abort(): Promise<void>;
  /**
   * Resolves once the encoding ffmpeg process is gone, however the recording ended. stop()
   * rejects at once for a recording that already failed, while ffmpeg may still be closing its
   * fragment: callers that must never run two encoders wait on this too. Never rejects.
   */
  ffmpegExited(): Promise<void>;
}

interface Slot {
  buf: Buffer;
  count: number;
}

type State = 'recording' | 'stopping' | 'finalizing' | 'done' | 'failed' | 'aborted';

function checkOptions(o: RecordingOptions): RecordFormat {
  const format = o.format ?? 'h264';
  const bad = (msg: string) => new RecorderError('BAD_OPTIONS', `startRecording: ${msg}`);
  if (!RECORD_FORMATS.includes(format)) throw bad(`unknown format "${format}" (use ${RECORD_FORMATS.join(', ')})`);
  if (!o.path) throw bad('path is required');
  for (const k of ['width', 'height'] as const) {
    if (!Number.isInteger(o[k]) || o[k] <= 0) throw bad(`${k} must be a positive integer, got ${o[k]}`);
  }
  if (!(o.fps >= 0.01 && o.fps <= 1000)) throw bad(`fps must be between 0.01 and 1000, got ${o.fps}`);
  if (o.audio && !(o.audio.path && o.audio.seconds > 0 && Number.isFinite(o.audio.seconds))) throw bad(`audio needs a path and a length in seconds > 0, got ${o.audio.seconds}`);
  return format;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** A partial left by a crashed session is evidence, not garbage: move it aside instead of overwriting it. */
async function keepStalePartial(partial: string): Promise<void> {
  if (!(await exists(partial))) return;
  const at = partial.lastIndexOf('.partial');
  const [before, after] = [partial.slice(0, at), partial.slice(at + '.partial'.length)];
  for (let n = 1; ; n++) {
    const aside = `${before}.recovered-${n}${after}`;
    if (!(await exists(aside))) return rename(partial, aside);
  }
}

/** Flush a finished file (or folder entry) to disk before it is renamed into place. */
async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, 'r').catch(() => null);
  if (!fh) return;
  try {
    await fh.sync();
  } catch {
    // some filesystems / platforms refuse fsync on read-only handles or folders; best effort
  } finally {
    await fh.close();
  }
}

/** Puts a finished PNG folder at `dest`, replacing what was there only once the new one is in place. */
async function replaceDir(src: string, dest: string): Promise<void> {
  const old = await stat(dest).catch(() => null);
  if (!old) return rename(src, dest);
  if (old.isDirectory() && (await readdir(dest)).length === 0) {
    await rm(dest, { recursive: true });
    return rename(src, dest);
  }
  const trash = `${dest}.old-${process.pid}-${Date.now()}`;
  await rename(dest, trash);
  try {
    await rename(src, dest);
  } catch (e) {
    await rename(trash, dest);
    throw e;
  }
  await rm(trash, { recursive: true, force: true });
}

class FfmpegRecording implements Recording {
  readonly path: string;
  readonly partialPath: string;
  readonly format: RecordFormat;
  error: Error | null = null;

  private state: State = 'recording';
  private readonly frameBytes: number;
  private readonly maxQueue: number;
  private readonly maxGap: number;
  private readonly queue: Slot[] = [];
  private lastBuf: Buffer | null = null;
  private lastIndex: number | null = null;
  private frames = 0;
  private filled = 0;
  private skipped = 0;
  private blocked = false;
  private stdinBroken = false;
  private endRequested = false;
  private readyWaiters: (() => void)[] = [];
  private stopPromise: Promise<RecordingSummary> | null = null;
  private readonly stderr = new StderrTail();
  private readonly child: ChildProcessByStdio<Writable, null, Readable>;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    private readonly opts: RecordingOptions,
    private readonly plan: FormatPlan,
    private readonly ffmpeg: string,
  ) {
    this.path = opts.path;
    this.partialPath = plan.partialPath;
    this.format = plan.format;
    this.frameBytes = opts.width * opts.height * 4;
    this.maxQueue = Math.max(1, Math.floor(opts.maxQueuedFrames ?? Math.min(16, Math.max(2, Math.floor((64 * 2 ** 20) / this.frameBytes)))));
    this.maxGap = Math.max(0, Math.floor(opts.maxGapFrames ?? Math.ceil(opts.fps * 60)));

    const args = ['-hide_banner', '-nostats', '-loglevel', 'warning', '-y'];
    args.push('-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${opts.width}x${opts.height}`, '-r', String(opts.fps), '-i', 'pipe:0');
    args.push(...plan.outputArgs);
    // Own process group: a Ctrl+C meant for netbend does not kill the encoder mid-fragment; if
    // netbend dies, ffmpeg sees EOF on stdin and closes the file properly.
    this.child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'], detached: process.platform !== 'win32', windowsHide: true });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => resolve({ code, signal }));
      this.child.on('error', () => resolve({ code: null, signal: null })); // never spawned
    });
    this.child.stderr.on('data', (c: Buffer) => this.stderr.push(c));
    this.child.stdin.on('error', () => {
      // EPIPE: ffmpeg is gone; its exit status (reported on 'close') says why.
      this.stdinBroken = true;
      this.queue.length = 0;
    });
    this.child.on('error', (e: NodeJS.ErrnoException) => {
      this.fail(e.code === 'ENOENT' || e.code === 'EACCES' ? notFoundError('ffmpeg', ffmpeg, e) : new RecorderError('FFMPEG_FAILED', `could not run ffmpeg: ${e.message}`, { cause: e }));
    });
    void this.exited.then(({ code, signal }) => {
      if (this.state === 'recording') this.fail(this.exitError(code, signal, 'stopped unexpectedly while recording'));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  ffmpegExited(): Promise<void> {
    return this.exited.then(() => undefined);
  }

  stats(): RecordingStats {
    return { frames: this.frames, filled: this.filled, skipped: this.skipped, queued: this.queue.length };
  }

  writeFrame(rgba: Uint8Array, frameIndex: number): void {
    if (this.state !== 'recording' || !Number.isFinite(frameIndex)) return;
    if (rgba?.length !== this.frameBytes) {
      const { width, height } = this.opts;
      this.fail(
        new RecorderError(
          'BAD_FRAME',
          `writeFrame: expected ${width}x${height} RGBA (${this.frameBytes} bytes), got ${rgba?.length ?? 0} bytes; recording stopped, what was recorded so far is in ${this.partialPath}`,
        ),
      );
      return;
    }
    const index = Math.floor(frameIndex);
    if (this.lastIndex !== null) {
      let step = index - this.lastIndex;
      if (step === 0) return; // same engine frame twice
      if (step < 0) step = 1; // engine index restarted: carry on with the next frame
      const gap = Math.min(step - 1, this.maxGap);
      if (gap > 0) {
        this.repeatLast(gap);
        this.filled += gap;
      }
    }
    this.lastIndex = index;
    if (this.queue.length >= this.maxQueue) {
      this.repeatLast(1);
      this.filled++;
      this.skipped++;
    } else {
      const buf = Buffer.from(rgba); // copy: callers reuse their frame buffers
      this.queue.push({ buf, count: 1 });
      this.lastBuf = buf;
      this.frames++;
    }
    this.pump();
  }

  ready(): Promise<void> {
    if (this.state !== 'recording' || this.queue.length < this.maxQueue) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  stop(): Promise<RecordingSummary> {
    this.stopPromise ??= this.finish();
    return this.stopPromise;
  }

  async abort(): Promise<void> {
    if (this.state === 'finalizing' || this.state === 'done') {
      await this.stopPromise?.catch(() => undefined);
      return;
    }
    if (this.state === 'aborted') return;
    this.state = 'aborted';
    this.error ??= new RecorderError('ABORTED', 'recording was aborted');
    this.queue.length = 0;
    this.wakeReady();
    this.child.kill('SIGKILL');
    await this.exited;
    await rm(this.partialPath, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Repeat the newest frame `n` more times (gap fill / skip): it is the queue tail, or the last one written. */
  private repeatLast(n: number): void {
    const tail = this.queue[this.queue.length - 1];
    if (tail) tail.count += n;
    else if (this.lastBuf) this.queue.push({ buf: this.lastBuf, count: n });
    else return;
    this.frames += n;
  }

  private pump(): void {
    const stdin = this.child.stdin;
    while (!this.blocked && !this.stdinBroken && this.queue.length > 0) {
      const slot = this.queue[0]!;
      slot.count--;
      if (slot.count === 0) this.queue.shift();
      if (!stdin.write(slot.buf)) {
        this.blocked = true;
        stdin.once('drain', () => {
          this.blocked = false;
          this.pump();
        });
      }
    }
    if (this.queue.length < this.maxQueue) this.wakeReady();
    if (this.endRequested && this.queue.length === 0 && !this.blocked && !stdin.writableEnded && !stdin.destroyed) stdin.end();
  }

  private wakeReady(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  private exitError(code: number | null, signal: NodeJS.Signals | null, what: string): RecorderError {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const tail = this.stderr.lines();
    return new RecorderError('FFMPEG_FAILED', `ffmpeg ${how} (${what}); what was recorded so far is in ${this.partialPath}` + (tail ? `\nffmpeg said:\n${tail}` : ''));
  }

  /** Ends the recording with `err`. Reported once: through onError while recording, else by stop()'s rejection. */
  private fail(err: Error): void {
    if (this.error || this.state === 'done' || this.state === 'aborted') return;
    const report = this.state === 'recording';
    this.error = err;
    this.state = 'failed';
    this.queue.length = 0;
    this.wakeReady();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      // Let ffmpeg close the fragment it is writing; what it has written stays playable.
      this.child.stdin.destroy();
      this.child.kill('SIGTERM');
    }
    const onError = this.opts.onError;
    if (report && onError) {
      // Deferred: the failure may be noticed inside writeFrame, i.e. inside the caller's frame loop.
      queueMicrotask(() => {
        try {
          onError(err);
        } catch {
          // a throwing error handler must not take the show down with it
        }
      });
    }
  }

  private async finish(): Promise<RecordingSummary> {
    if (this.state !== 'recording') throw this.error ?? new RecorderError('ABORTED', 'recording is not running');
    this.state = 'stopping';
    this.wakeReady();
    this.endRequested = true;
    this.pump();
    const { code, signal } = await this.exited;
    if (this.error) throw this.error; // failed or aborted while flushing
    if (code !== 0) {
      this.state = 'failed';
      throw (this.error = this.exitError(code, signal, 'while finishing the recording'));
    }
    this.state = 'finalizing';
    try {
      if (this.frames === 0) {
        await rm(this.partialPath, { recursive: true, force: true });
        throw new RecorderError('NOTHING_RECORDED', `recording stopped before any frame was written; nothing was saved to ${this.path}`);
      }
      const remuxed = await this.moveIntoPlace();
      this.state = 'done';
      return {
        path: this.path,
        format: this.format,
        frames: this.frames,
        filled: this.filled,
        skipped: this.skipped,
        seconds: this.frames / this.opts.fps,
        remuxed,
      };
    } catch (e) {
      this.state = 'failed';
      throw (this.error = e as Error);
    }
  }

  /** Partial -> final path, atomically. Returns whether the file was remuxed. */
  private async moveIntoPlace(): Promise<boolean> {
    const { partialPath, path: dest } = this;
    const audio = this.opts.audio;
    const trackIn = audio ? ['-t', String(audio.seconds), '-i', audio.path] : [];
    if (this.plan.kind === 'dir') {
      if (audio) await runTool(this.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...trackIn, '-map', '0:a:0', ...audioCodec(this.format).args, path.join(partialPath, PNG_AUDIO)]);
      await replaceDir(partialPath, dest);
      return false;
    }
    const faststart = this.opts.faststart !== false;
    if (this.plan.remuxMuxer && (faststart || audio)) {
      const ext = path.extname(dest);
      const tmp = path.join(path.dirname(dest), `.${path.basename(dest, ext)}.${process.pid}-${Date.now()}.tmp${ext}`);
      // The track joins the video here, in a regular (not fragmented) file: its edit lists start
      // both streams at 0 (a fragmented MP4 would shift the video by the encoder's B-frame delay).
      const streams = audio ? ['-map', '0:v:0', '-map', '1:a:0', '-c:v', 'copy', ...audioCodec(this.format).args] : ['-map', '0', '-c', 'copy'];
      try {
        await runTool(this.ffmpeg, [
          '-hide_banner',
          '-loglevel',
          'error',
          '-y',
          '-i',
          partialPath,
          ...trackIn,
          ...streams,
          ...(faststart ? ['-movflags', '+faststart'] : []),
          '-f',
          this.plan.remuxMuxer,
          tmp,
        ]);
        await fsyncPath(tmp);
        await rename(tmp, dest);
        await rm(partialPath, { force: true });
        await fsyncPath(path.dirname(dest));
        return true;
      } catch (err) {
        // The fragmented recording is a valid file in its own right: keep it rather than lose the take.
        await rm(tmp, { force: true }).catch(() => undefined);
        if (audio) {
          await rename(partialPath, dest);
          throw new RecorderError('FFMPEG_FAILED', `could not mux the sound track ${audio.path}; ${dest} holds the video without it: ${(err as Error).message}`);
        }
      }
    }
    await fsyncPath(partialPath);
    await rename(partialPath, dest);
    await fsyncPath(path.dirname(dest));
    return false;
  }
}

/**
 * Starts ffmpeg for a recording. Rejects before spawning anything when ffmpeg is missing
 * (FFMPEG_NOT_FOUND, with install instructions), the format's encoder is not in this ffmpeg
 * build (ENCODER_UNAVAILABLE, e.g. no HAP) or the options are invalid (BAD_OPTIONS).
 */
export async function startRecording(opts: RecordingOptions): Promise<Recording> {
  const format = checkOptions(opts);
  const ffmpeg = opts.ffmpegPath ?? defaultFfmpegPath();
  const version = await ensureFfmpeg(ffmpeg);
  const plan = planFormat(format, opts.path, opts.fps, opts.scaleTo);
  const encoders = await listEncoders(ffmpeg);
  const audioEncoder = opts.audio && audioCodec(format).encoder;
  if (audioEncoder && !encoders.has(audioEncoder)) {
    throw new RecorderError('ENCODER_UNAVAILABLE', `cannot mux the sound track into ${format}: "${ffmpeg} -encoders" does not list ${audioEncoder} (${version}); install a full ffmpeg build.`);
  }
  if (!encoders.has(plan.encoder)) {
    const hint =
      format === 'hap'
        ? 'This ffmpeg build has no HAP encoder (it needs ffmpeg built with --enable-libsnappy); record as prores or h264, or install an ffmpeg that lists "hap" in `ffmpeg -encoders`.'
        : `This ffmpeg build has no ${plan.encoder} encoder; install a full ffmpeg build (e.g. sudo apt install ffmpeg).`;
    throw new RecorderError('ENCODER_UNAVAILABLE', `cannot record ${format}: "${ffmpeg} -encoders" does not list ${plan.encoder} (${version}). ${hint}`);
  }
  await mkdir(path.dirname(path.resolve(opts.path)), { recursive: true });
  await keepStalePartial(plan.partialPath);
  if (plan.kind === 'dir') await mkdir(plan.partialPath, { recursive: true });
  return new FfmpegRecording({ ...opts, format }, plan, ffmpeg);
}
