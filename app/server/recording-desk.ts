/**
 * The live show's recording control: turns "record on / off" wishes, however fast they come,
 * into takes that never overlap.
 *
 * Wishes go through one queue that keeps only the newest: set() records what is wanted now, and
 * a single worker moves the desk towards it one whole step at a time (start a take, or stop one,
 * remux included), each step a job in the show's queue. 50 toggles while a take is starting collapse into at most one stop and one
 * start, so there is never more than one ffmpeg: the next take's encoder starts only after the
 * previous take's encoder and remux have exited.
 */
import { killOnExit } from '../record/kill-on-exit.ts';
import { RecorderError, type Recording, type RecordingSummary } from '../record/video-recorder.ts';
import type { TakeRecorder, TakeShape } from '../record/take-recorder.ts';

export type { TakeShape } from '../record/take-recorder.ts';

/** Everything that happens to takes. 'refused' and 'broke' mean the desk turned itself off. */
export type DeskEvent =
  | { kind: 'started'; path: string }
  | { kind: 'saved'; summary: RecordingSummary }
  /** Stopped before its first frame: no file was written. */
  | { kind: 'empty'; path: string }
  /** Finishing the take failed (what ffmpeg wrote may remain as the partial). */
  | { kind: 'lost'; path: string; error: Error }
  /** A take could not start (no ffmpeg, bad folder, no image output). */
  | { kind: 'refused'; error: Error }
  /** The take failed while recording (ffmpeg died, frame size changed). */
  | { kind: 'broke'; path: string; error: Error };

export interface DeskOptions {
  /** Starts each take's encoder (ffmpegTakes on stage). */
  recorder: TakeRecorder;
  /** Asked at each start: the frames' size and rate, or why nothing can be recorded now. */
  shape: () => TakeShape | string;
  onEvent: (e: DeskEvent) => void;
  /**
   * Runs the desk's work (a take's start or stop, one at a time): the show's one queue, so a take
   * never starts in the middle of a model switch. Default: at once.
   */
  queue?: <T>(job: () => Promise<T>) => Promise<T>;
}

export interface TakeStats {
  path: string;
  frames: number;
  filled: number;
}

interface Take {
  path: string;
  rec: Recording;
  /** stop() has been asked for: errors from here on are the stop's to report. */
  stopping: boolean;
  /** Failed while recording and already reported as 'broke'. */
  broke: boolean;
}

export class RecordingDesk {
  private wanted = false;
  private take: Take | undefined;
  /** The worker, while it runs; every set() during that time returns it. */
  private work: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly opts: DeskOptions) {}

  /** Whether a take is recording frames now. */
  get recording(): boolean {
    return this.liveTake() !== undefined;
  }

  /**
   * Asks for recording on or off. Resolves once the desk has caught up with the newest wish,
   * which may be a later call's. Never rejects; outcomes are reported through onEvent.
   */
  set(on: boolean): Promise<void> {
    this.wanted = on && !this.closed;
    return this.settle();
  }

  /** Hands one engine frame to the take that is recording, if any. Never throws, never waits. */
  writeFrame(rgba: Uint8Array, frameIndex: number): void {
    this.liveTake()?.rec.writeFrame(rgba, frameIndex);
  }

  stats(): TakeStats | null {
    const t = this.liveTake();
    if (!t) return null;
    const s = t.rec.stats();
    return { path: t.path, frames: s.frames, filled: s.filled };
  }

  /** Stops the take, if any (finishing its file), and refuses new ones. Resolves when ffmpeg is gone. */
  close(): Promise<void> {
    this.closed = true;
    return this.set(false);
  }

  private liveTake(): Take | undefined {
    const t = this.take;
    return t && !t.stopping && !t.broke ? t : undefined;
  }

  private needsWork(): boolean {
    return this.take ? !this.wanted || this.take.broke : this.wanted;
  }

  private settle(): Promise<void> {
    if (!this.work && this.needsWork()) this.work = this.run();
    return this.work ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    // Yield first, so settle() has stored this promise before the loop can finish and clear it.
    await undefined;
    const queue = this.opts.queue ?? ((job) => job());
    try {
      while (this.needsWork()) {
        // The wish may change while the step waits in the queue: it is read again when it runs.
        await queue(async () => {
          if (!this.needsWork()) return;
          if (this.take) await this.stopTake(this.take);
          else await this.startTake();
        });
      }
    } catch (error) {
      // The show's queue is full: no take starts (one recording stays on until asked again).
      if (!this.take) this.giveUp({ kind: 'refused', error: error as Error });
    } finally {
      this.work = undefined;
    }
  }

  private emit(e: DeskEvent): void {
    try {
      this.opts.onEvent(e);
    } catch {
      // a throwing listener must not wedge the queue
    }
  }

  /** The desk turns itself off: the show's RECORD switch must not say "on" while nothing records. */
  private giveUp(e: DeskEvent): void {
    this.wanted = false;
    this.emit(e);
  }

  private async startTake(): Promise<void> {
    const shape = this.opts.shape();
    if (typeof shape === 'string') return this.giveUp({ kind: 'refused', error: new Error(shape) });
    let take: Take | undefined;
    try {
      const { path, rec } = await this.opts.recorder.start(shape, (error) => {
        if (!take || take.stopping || take.broke) return; // a stop in progress reports its own failure
        take.broke = true;
        this.giveUp({ kind: 'broke', path: take.path, error });
        void this.settle();
      });
      take = { path, rec, stopping: false, broke: false };
      this.take = take;
      const release = rec.pid === undefined ? () => false : killOnExit(rec.pid);
      void rec.ffmpegExited().then(release);
      this.emit({ kind: 'started', path });
    } catch (error) {
      this.giveUp({ kind: 'refused', error: error as Error });
    }
  }

  private async stopTake(take: Take): Promise<void> {
    take.stopping = true;
    try {
      this.emit({ kind: 'saved', summary: await take.rec.stop() });
    } catch (err) {
      const error = err as Error;
      if (error instanceof RecorderError && error.code === 'NOTHING_RECORDED') this.emit({ kind: 'empty', path: take.path });
      else if (!take.broke) this.emit({ kind: 'lost', path: take.path, error });
    } finally {
      // stop() of a failed take rejects before ffmpeg has closed its fragment: wait for it.
      await take.rec.ffmpegExited();
      this.take = undefined;
    }
  }
}

/** How a desk event reads in the show's notices. */
export function describeDeskEvent(e: DeskEvent): { level: 'info' | 'error'; text: string } {
  switch (e.kind) {
    case 'started':
      return { level: 'info', text: `recording to ${e.path}` };
    case 'saved':
      return { level: 'info', text: `recorded ${e.summary.frames} frames (${e.summary.filled} filled) to ${e.summary.path}` };
    case 'empty':
      return { level: 'info', text: `take ${e.path} ended before its first frame; nothing saved` };
    case 'lost':
      return { level: 'error', text: `recording ${e.path} failed: ${e.error.message}` };
    case 'refused':
      return { level: 'error', text: `cannot record: ${e.error.message}` };
    case 'broke':
      return { level: 'error', text: `recording stopped: ${e.error.message}` };
  }
}
