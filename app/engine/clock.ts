// Two drivers behind one interface, as in Tone.js: the live one follows the wall clock and never
// drifts (each tick is scheduled from the start time, not from the last wake-up), dropping the
// slots it fell more than one behind; the offline one renders every frame at exactly n / fps, as fast as it can.
export interface FrameTime {
  /** Frame index: live frames skip indices when they drop, offline frames never do. */
  index: number;
  /** Seconds since the clock started: index / fps (after a change of rate, on from the time reached). */
  time: number;
  /** Seconds since the previous rendered frame. */
  dt: number;
}

export interface FrameClock {
  /** The target rate; setting it takes effect from the next frame, and time runs on without a jump. */
  fps: number;
  /** Runs `tick` for each frame until stop() or (offline) the last frame; resolves when done. */
  run(tick: (t: FrameTime) => Promise<void>): Promise<void>;
  stop(): void;
  readonly dropped: number;
  /**
   * The show's time now, in the frames' own seconds: what a tap, a MIDI clock pulse or any event
   * between frames is stamped with, so it lines up with FrameTime.time (beat-synced modulators).
   */
  now(): number;
}

export class LiveClock implements FrameClock {
  private stopped = false;
  dropped = 0;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Wall time (wall()) the running show started at; time since then is show time. */
  private start: number | undefined;

  constructor(
    public fps: number,
    private readonly wall: () => number = () => performance.now() / 1000,
  ) {}

  now(): number {
    return this.start === undefined ? 0 : this.wall() - this.start;
  }

  async run(tick: (t: FrameTime) => Promise<void>): Promise<void> {
    this.stopped = false;
    const start = (this.start = this.wall());
    let index = 0;
    let last = 0;
    // Slots are counted from a base: a new target rate re-bases at the current frame, so the
    // index stays monotonic and time goes on from where it was.
    let base = { index: 0, time: 0, fps: this.fps };
    const timeOf = (i: number) => base.time + (i - base.index) / base.fps;
    while (!this.stopped) {
      if (base.fps !== this.fps) base = { index, time: timeOf(index), fps: this.fps };
      const time = timeOf(index);
      await tick({ index, time, dt: time - last });
      last = time;
      const elapsed = this.wall() - start;
      // Latest wins: the next frame is the newest slot already due, rendered at once (late by less
      // than a slot), or else the next one ahead. A frame that overran its slot a little costs the
      // next one nothing; only slots more than one behind are dropped. (Waiting for the next slot
      // ahead instead halved the rate of a show whose frames take just over a slot, and put a
      // whole extra slot into the latency of every value that arrived meanwhile.)
      const due = Math.floor(base.index + (elapsed - base.time) * base.fps);
      const next = Math.max(index + 1, due);
      this.dropped += next - index - 1;
      index = next;
      const wait = (start + timeOf(index) - this.wall()) * 1000;
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
  private current = 0;

  constructor(
    public fps: number,
    private readonly frames: number,
  ) {}

  now(): number {
    return this.current;
  }

  async run(tick: (t: FrameTime) => Promise<void>): Promise<void> {
    this.stopped = false;
    for (let index = 0; index < this.frames && !this.stopped; index++) {
      this.current = index / this.fps;
      await tick({ index, time: this.current, dt: index === 0 ? 0 : 1 / this.fps });
    }
  }

  stop(): void {
    this.stopped = true;
  }
}
