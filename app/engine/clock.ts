// Two drivers behind one interface, as in Tone.js: the live one follows the wall clock and never
// drifts (each tick is scheduled from the start time, not from the last wake-up), dropping the
// slots it missed; the offline one renders every frame at exactly n / fps, as fast as it can.
export interface FrameTime {
  /** Frame index: live frames skip indices when they drop, offline frames never do. */
  index: number;
  /** Seconds since the clock started, always index / fps. */
  time: number;
  /** Seconds since the previous rendered frame. */
  dt: number;
}

export interface FrameClock {
  readonly fps: number;
  /** Runs `tick` for each frame until stop() or (offline) the last frame; resolves when done. */
  run(tick: (t: FrameTime) => Promise<void>): Promise<void>;
  stop(): void;
  readonly dropped: number;
}

export class LiveClock implements FrameClock {
  private stopped = false;
  dropped = 0;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    public fps: number,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {}

  async run(tick: (t: FrameTime) => Promise<void>): Promise<void> {
    this.stopped = false;
    let start = this.now();
    let index = 0;
    let last = 0;
    let fps = this.fps;
    while (!this.stopped) {
      if (fps !== this.fps) {
        // A new target rate re-bases the schedule at the current frame, so the index stays monotonic.
        start = this.now() - index / this.fps;
        fps = this.fps;
      }
      const time = index / fps;
      await tick({ index, time, dt: time - last });
      last = time;
      const elapsed = this.now() - start;
      // Latest wins: the next frame is the next slot still ahead of the clock.
      const next = Math.max(index + 1, Math.floor(elapsed * fps) + 1);
      this.dropped += next - index - 1;
      index = next;
      const wait = (start + index / fps - this.now()) * 1000;
      if (wait > 1 && !this.stopped) await new Promise<void>((r) => ((this.wake = r), (this.timer = setTimeout(r, wait))));
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
  }
}

export class OfflineClock implements FrameClock {
  readonly dropped = 0;
  private stopped = false;

  constructor(
    readonly fps: number,
    private readonly frames: number,
  ) {}

  async run(tick: (t: FrameTime) => Promise<void>): Promise<void> {
    this.stopped = false;
    for (let index = 0; index < this.frames && !this.stopped; index++) {
      await tick({ index, time: index / this.fps, dt: index === 0 ? 0 : 1 / this.fps });
    }
  }

  stop(): void {
    this.stopped = true;
  }
}
