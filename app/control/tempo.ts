// Musical time for beat-synced modulators: a tempo set directly, by tap, or by MIDI clock (24
// pulses per quarter note). Time is always passed in, never read from a clock here.
export class Tempo {
  bpm: number;
  /** Seconds at which beat 0 fell (start message or first tap). */
  private originAt = 0;
  private taps: number[] = [];
  private pulses: number[] = [];

  constructor(bpm = 120) {
    this.bpm = clampBpm(bpm);
  }

  /** Tap tempo: the average of the last taps; a pause over 2 s starts a new count. */
  tap(now: number): void {
    if (this.taps.length && now - this.taps[this.taps.length - 1]! > 2) this.taps = [];
    this.taps.push(now);
    if (this.taps.length > 8) this.taps.shift();
    if (this.taps.length >= 2) {
      const span = this.taps[this.taps.length - 1]! - this.taps[0]!;
      this.bpm = clampBpm((60 * (this.taps.length - 1)) / span);
    }
    this.originAt = now;
  }

  /** MIDI clock 0xF8: tempo from the last beat's worth of pulses. */
  clockTick(now: number): void {
    this.pulses.push(now);
    if (this.pulses.length > 25) this.pulses.shift();
    if (this.pulses.length === 25) this.bpm = clampBpm(60 / (this.pulses[24]! - this.pulses[0]!));
  }

  /** MIDI start 0xFA (or stop 0xFC then start): beat 0 is now. */
  start(now: number): void {
    this.originAt = now;
    this.pulses = [];
  }

  /** The time beat 0 fell at (a take keeps it, so beat-synced modulators replay in phase). */
  get origin(): number {
    return this.originAt;
  }

  set origin(t: number) {
    this.originAt = t;
  }

  beats(now: number): number {
    return ((now - this.originAt) * this.bpm) / 60;
  }
}

function clampBpm(bpm: number): number {
  return Number.isFinite(bpm) ? Math.min(300, Math.max(20, bpm)) : 120;
}
