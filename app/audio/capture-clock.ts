// Where a live capture's samples fall in show time. The show clock is the time base (as in Tone.js,
// the context's clock rules, not the source's): a page counts its samples from 0, and the first
// block to arrive is taken to end "now". Later blocks keep that offset, so the capture's own
// spacing is kept exactly, except that a block may never end after now (it would be sound from the
// future: the offset is pulled back, which a page whose clock runs fast needs) and a capture that
// has fallen steadily behind (every block of the last window late by more than SLACK: a slow page
// clock, a stall) is moved up to now. What remains, each block's lateness, is transport jitter.
//
//   const clock = new CaptureClock();
//   const at = clock.place(frame.index, frame.samples.length, Math.round(show.now() * AUDIO_RATE));
//   input.push(frame.samples, at);

export interface CaptureClockOptions {
  /** Samples the steady lateness may reach before the capture is moved up to now. Default 0.05 s at 48 kHz. */
  slack?: number;
  /** Samples of show time over which the smallest lateness is watched. Default 2 s at 48 kHz. */
  window?: number;
}

export class CaptureClock {
  /** Show sample index minus page sample index; undefined until the first block. */
  private offset: number | undefined;
  private readonly slack: number;
  private readonly window: number;
  private windowStart = 0;
  private windowMin = Number.POSITIVE_INFINITY;
  /** Samples the last block ended before now (0 for the block that set the offset). */
  lateness = 0;
  /** How often the offset moved after the first block (pulled back or moved up). */
  moves = 0;

  constructor(o: CaptureClockOptions = {}) {
    this.slack = o.slack ?? 2400;
    this.window = o.window ?? 96_000;
  }

  /** The show-time index of the first sample of a block that starts at `index` in the page's stream and arrived at show sample `now`. */
  place(index: number, count: number, now: number): number {
    if (this.offset === undefined) {
      this.offset = now - (index + count);
      this.windowStart = now;
    }
    let late = now - (index + count + this.offset);
    if (late < 0) {
      this.offset += late;
      late = 0;
      this.moves++;
    }
    this.windowMin = Math.min(this.windowMin, late);
    if (now - this.windowStart >= this.window) {
      if (this.windowMin > this.slack) {
        this.offset += this.windowMin;
        late -= this.windowMin;
        this.moves++;
      }
      this.windowStart = now;
      this.windowMin = Number.POSITIVE_INFINITY;
    }
    this.lateness = late;
    return index + this.offset;
  }
}
