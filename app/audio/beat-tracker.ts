// Tempo and beat phase from the onset envelope (spectral flux on the analyser's hop grid): the
// autocorrelation of the last few seconds, weighted towards 120 bpm so the octave is the one people
// tap (a log-normal prior one octave wide, as librosa does), the peak refined between lags by a
// parabola; the phase is the offset whose comb of beats at that period collects the most flux.
// It runs every few hops on the grid, never per frame, so it is the same at any frame rate.

export interface BeatEstimate {
  /** Beats per minute; 0 until the envelope has shown a steady pulse. */
  bpm: number;
  /** Period in hops (fractional). */
  period: number;
  /** A hop at which a beat fell (the most recent one found). */
  anchor: number;
  /** Peak autocorrelation over energy, 0..1: how periodic the envelope is. */
  confidence: number;
}

export interface BeatTrackerOptions {
  /** Hops per second of the envelope. */
  hopRate: number;
  /** Seconds of envelope looked at; default 6. */
  window?: number;
  /** Seconds needed before a first estimate; default 2. */
  minimum?: number;
  minBpm?: number;
  maxBpm?: number;
  /** Below this confidence an estimate is not taken (the last one holds); default 0.1. */
  minConfidence?: number;
}

export class BeatTracker {
  estimate: BeatEstimate = { bpm: 0, period: 0, anchor: 0, confidence: 0 };
  private readonly hopRate: number;
  private readonly size: number;
  private readonly minimum: number;
  private readonly lagMin: number;
  private readonly lagMax: number;
  private readonly minConfidence: number;
  /** The prior per lag, from lagMin to lagMax. */
  private readonly prior: Float64Array;
  private readonly x: Float64Array;
  private readonly r: Float64Array;

  constructor(o: BeatTrackerOptions) {
    this.hopRate = o.hopRate;
    this.size = Math.round((o.window ?? 6) * o.hopRate);
    this.minimum = Math.round((o.minimum ?? 2) * o.hopRate);
    this.lagMin = Math.floor((60 * o.hopRate) / (o.maxBpm ?? 200));
    this.lagMax = Math.ceil((60 * o.hopRate) / (o.minBpm ?? 50));
    this.minConfidence = o.minConfidence ?? 0.1;
    this.prior = new Float64Array(this.lagMax - this.lagMin + 1);
    for (let lag = this.lagMin; lag <= this.lagMax; lag++) {
      const octaves = Math.log2((60 * o.hopRate) / lag / 120);
      this.prior[lag - this.lagMin] = Math.exp(-0.5 * octaves * octaves);
    }
    this.x = new Float64Array(this.size);
    this.r = new Float64Array(this.lagMax + 2);
  }

  /** Envelope values it needs to be kept: the caller's ring must hold at least this many hops. */
  get span(): number {
    return this.size;
  }

  /** Re-estimates from the envelope up to hop `last` (`env(h)` is the flux of hop h). */
  update(last: number, env: (hop: number) => number): BeatEstimate {
    const n = Math.min(this.size, last + 1);
    if (n < this.minimum || n <= this.lagMax + 1) return this.estimate;
    const { x, r } = this;
    const from = last - n + 1;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i] = env(from + i);
    mean /= n;
    let energy = 0;
    for (let i = 0; i < n; i++) {
      x[i]! -= mean;
      energy += x[i]! * x[i]!;
    }
    energy /= n;
    if (!(energy > 1e-12)) return this.estimate;
    let best = -1;
    let bestScore = -Infinity;
    for (let lag = this.lagMin - 1; lag <= this.lagMax + 1; lag++) {
      let s = 0;
      for (let i = lag; i < n; i++) s += x[i]! * x[i - lag]!;
      r[lag] = s / (n - lag);
      if (lag < this.lagMin || lag > this.lagMax) continue;
      const score = r[lag]! * this.prior[lag - this.lagMin]!;
      if (score > bestScore) (bestScore = score), (best = lag);
    }
    const confidence = Math.max(0, r[best]! / energy);
    if (confidence < this.minConfidence) return this.estimate;
    // Parabola through the three lags around the peak: the period between whole hops.
    const [a, b, c] = [r[best - 1]!, r[best]!, r[best + 1]!];
    const curve = a - 2 * b + c;
    const period = best + (curve < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / curve)) : 0);
    // The phase: of the offsets back from the newest hop, the one whose comb collects the most flux.
    let anchor = last;
    let most = -Infinity;
    for (let off = 0; off < Math.ceil(period); off++) {
      let s = 0;
      for (let pos = n - 1 - off; pos >= 0; pos -= period) s += x[Math.round(pos)] ?? 0;
      if (s > most) (most = s), (anchor = last - off);
    }
    this.estimate = { bpm: (60 * this.hopRate) / period, period, anchor, confidence };
    return this.estimate;
  }

  reset(): void {
    this.estimate = { bpm: 0, period: 0, anchor: 0, confidence: 0 };
  }
}
