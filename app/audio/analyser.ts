// The one place sound becomes numbers, on PCM, deterministically: the same samples and the same
// frame times give the same features, live or in a render, at any machine speed.
//
// Two clocks, both in samples. The frame's features come from the window that ends exactly at the
// frame's time (end = round(time * rate)): levels over the last LEVEL_WINDOW samples, the spectrum
// (bands, centroid, chroma) over the last SPECTRUM_FFT. Onsets and the beat come from a fixed hop
// grid (a GRID_FFT window every HOP samples, ending at k * HOP), which a query catches up to its
// end: the grid never depends on when frames are asked for, so onsets and tempo are the same at
// 30 fps and 60, and a frame reports what the grid found up to its own time.
//
// Definitions (x: mono samples, full scale 1):
//   rms, peak    root mean square and largest |x| over the last 2048 samples (42.7 ms)
//   low/mid/high the RMS of the part of x in [0, lowMid), [lowMid, midHigh), [midHigh, rate/2)
//                Hz (Parseval on the Hann-windowed 2048-point spectrum of the same samples): the three squared sum to
//                about rms^2; a sine of amplitude A reads A / sqrt(2) in its band
//   flux         SuperFlux-like: the log of 1/3-octave band levels (log1p(100 * level), 30 Hz..16
//                kHz), each band's rise over the largest of it and its neighbours in the two hops
//                before, half-wave rectified and averaged over bands; the largest since the
//                previous frame. A held noise hardly rises over that reference, a new sound does
//   onset        1 when the grid found an onset since the previous frame: a flux peak (higher than
//                the hop before and not lower than the one after) over threshold * (the mean flux
//                of the last 0.25 s + 0.02), at least `gap` seconds after the previous one
//   centroid     magnitude-weighted mean frequency, on a log axis: 0 = 20 Hz, 1 = 20 kHz
//   chroma[12]   the power of spectral peaks 55 Hz..5 kHz (each at its interpolated frequency)
//                folded onto pitch classes (0 = C), over the largest class
//   bpm, phase   tempo of the onset envelope (beat-tracker.ts) and where in the beat the frame is
//                (0 at a beat, rising to 1); beat is 1 when a beat fell since the previous frame
import { z } from 'zod';
import { BeatTracker } from './beat-tracker.ts';
import { hann, RealFft } from './fft.ts';
import { AudioError } from './audio-error.ts';
import type { PcmSource } from './pcm-source.ts';

export const LEVEL_WINDOW = 2048;
export const SPECTRUM_FFT = 2048;
export const GRID_FFT = 512;
export const HOP = 256;
const LOG_GAMMA = 100;
/** Flux is taken on bands this wide (averaging bins steadies the flux of a held noise) over this range. */
const BANDS_PER_OCTAVE = 3;
const FLUX_RANGE = [30, 16000] as const;
const MEAN_SECONDS = 0.25;
const ONSET_FLOOR = 0.02;
const CHROMA_RANGE = [55, 5000] as const;
/** Onset hops kept for inspection (a long live show keeps only the latest). */
const MAX_KEPT_ONSETS = 4096;
/** Below this total power (about -120 dBFS) a window is silence: centroid and chroma read 0. */
const SILENCE = 1e-12;

export const AnalyserSettingsSchema = z
  .object({
    /** Crossover between low and mid, Hz. */
    lowMid: z.number().finite().default(250),
    /** Crossover between mid and high, Hz. */
    midHigh: z.number().finite().default(4000),
    /** Onset threshold over the mean flux (higher: fewer onsets). */
    threshold: z.number().finite().min(0).max(100).default(3),
    /** Shortest time between two onsets, seconds. */
    gap: z.number().finite().min(0).max(10).default(0.05),
  })
  .strict();
export type AnalyserSettings = z.output<typeof AnalyserSettingsSchema>;

export interface AudioFeatureValues {
  /** Show time the features are for, and the sample their windows end at. */
  time: number;
  end: number;
  rms: number;
  peak: number;
  low: number;
  mid: number;
  high: number;
  flux: number;
  onset: number;
  centroid: number;
  chroma: number[];
  bpm: number;
  phase: number;
  beat: number;
}

/** Checks settings (zod at the edge); throws AudioError BAD_OPTIONS naming what is wrong. */
export function checkSettings(s: Partial<AnalyserSettings>, rate: number): AnalyserSettings {
  const parsed = AnalyserSettingsSchema.safeParse(s);
  if (!parsed.success) throw new AudioError('BAD_OPTIONS', `audio settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const v = parsed.data;
  const nyquist = rate / 2;
  if (!(v.lowMid >= 20 && v.lowMid < v.midHigh && v.midHigh < nyquist))
    throw new AudioError('BAD_OPTIONS', `audio crossovers ${v.lowMid} Hz / ${v.midHigh} Hz: need 20 <= low/mid < mid/high < ${nyquist} Hz (half the sample rate)`);
  return v;
}

export class AudioAnalyser {
  readonly rate: number;
  private settings: AnalyserSettings;
  // Frame side.
  private readonly frameFft = new RealFft(SPECTRUM_FFT);
  private readonly frameWin = hann(SPECTRUM_FFT);
  private readonly frameWinPower: number;
  private readonly raw = new Float64Array(SPECTRUM_FFT);
  private readonly windowed = new Float64Array(SPECTRUM_FFT);
  private readonly power = new Float64Array(SPECTRUM_FFT / 2 + 1);
  private bandEdges: [number, number] = [0, 0];
  /** Bin -> its frequency, Hz; and the bins chroma looks at. */
  private readonly binHz: Float64Array;
  private readonly chromaBins: [number, number];
  // Grid side.
  private readonly gridFft = new RealFft(GRID_FFT);
  private readonly gridWin = hann(GRID_FFT);
  private readonly gridAmp: number;
  private readonly gridRaw = new Float64Array(GRID_FFT);
  private readonly gridPower = new Float64Array(GRID_FFT / 2 + 1);
  /** Grid bin -> flux band (-1: outside), and the bins per band. */
  private readonly fluxBand: Int16Array;
  private readonly bandBins: Float64Array;
  private readonly bandPower: Float64Array;
  private prev2Log: Float64Array;
  private prevLog: Float64Array;
  private curLog: Float64Array;
  private readonly env: Float64Array;
  private readonly meanHops: number;
  private readonly beats: BeatTracker;
  private nextHop = 0;
  private lastOnsetHop = -Infinity;
  private onsetsSinceQuery = 0;
  private fluxSinceQuery = 0;
  private newHops = 0;
  private prevEnd = -1;
  private lastBeatEnd = -Infinity;
  /** Every how many hops the tempo is re-estimated (0.34 s). */
  private readonly tempoEvery = 64;

  constructor(
    readonly source: PcmSource,
    settings: Partial<AnalyserSettings> = {},
  ) {
    this.rate = source.rate;
    this.settings = checkSettings(settings, this.rate);
    let wp = 0;
    for (const w of this.frameWin) wp += w * w;
    this.frameWinPower = wp;
    let ws = 0;
    for (const w of this.gridWin) ws += w;
    this.gridAmp = 2 / ws;
    const bins = SPECTRUM_FFT / 2 + 1;
    this.binHz = Float64Array.from({ length: bins }, (_, k) => (k * this.rate) / SPECTRUM_FFT);
    this.chromaBins = [Math.max(2, Math.ceil((CHROMA_RANGE[0] * SPECTRUM_FFT) / this.rate)), Math.min(bins - 2, Math.floor((CHROMA_RANGE[1] * SPECTRUM_FFT) / this.rate))];
    // Flux bands: BANDS_PER_OCTAVE a octave from FLUX_RANGE[0] to FLUX_RANGE[1], each at least one bin wide.
    this.fluxBand = new Int16Array(GRID_FFT / 2 + 1).fill(-1);
    const counts: number[] = [];
    let band = -1;
    let bandTop = 0;
    for (let k = 1; k <= GRID_FFT / 2; k++) {
      const f = (k * this.rate) / GRID_FFT;
      if (f < FLUX_RANGE[0] || f > FLUX_RANGE[1]) continue;
      if (band < 0 || f >= bandTop) {
        band++;
        counts.push(0);
        bandTop = Math.max(f * 2 ** (1 / BANDS_PER_OCTAVE), f + 1);
      }
      this.fluxBand[k] = band;
      counts[band]!++;
    }
    this.bandBins = Float64Array.from(counts);
    this.bandPower = new Float64Array(counts.length);
    this.prev2Log = new Float64Array(counts.length);
    this.prevLog = new Float64Array(counts.length);
    this.curLog = new Float64Array(counts.length);
    this.meanHops = Math.round((MEAN_SECONDS * this.rate) / HOP);
    this.beats = new BeatTracker({ hopRate: this.rate / HOP });
    this.env = new Float64Array(Math.max(this.beats.span, this.meanHops) + 4);
    this.setBands();
  }

  get current(): Readonly<AnalyserSettings> {
    return this.settings;
  }

  /** Changes settings from the next query on; a bad value throws and changes nothing. */
  configure(s: Partial<AnalyserSettings>): void {
    this.settings = checkSettings({ ...this.settings, ...s }, this.rate);
    this.setBands();
  }

  /** Onsets found on the grid so far, as hop indices (for measuring: hop h ends at sample h * HOP). */
  readonly onsetHops: number[] = [];

  /** The features of the windows ending at `time` (seconds of show time). Times should not go back. */
  at(time: number): AudioFeatureValues {
    const end = Math.round(time * this.rate);
    if (end < this.prevEnd) this.restart(end);
    while (this.nextHop * HOP <= end) this.gridStep(this.nextHop++);
    const out = this.frameFeatures(time, end);
    this.prevEnd = end;
    return out;
  }

  /** Forgets the grid (onsets, tempo): the next query starts afresh, from the samples the source still holds. */
  restart(at = 0): void {
    this.nextHop = Math.max(0, Math.ceil(Math.max(at - this.env.length * HOP, this.source.first) / HOP));
    this.lastOnsetHop = -Infinity;
    this.onsetsSinceQuery = 0;
    this.fluxSinceQuery = 0;
    this.newHops = 0;
    this.prevEnd = -1;
    this.lastBeatEnd = -Infinity;
    this.env.fill(0);
    this.prevLog.fill(0);
    this.prev2Log.fill(0);
    this.onsetHops.length = 0;
    this.beats.reset();
  }

  private setBands(): void {
    const binOf = (hz: number) => Math.round((hz * SPECTRUM_FFT) / this.rate);
    this.bandEdges = [binOf(this.settings.lowMid), binOf(this.settings.midHigh)];
  }

  private envAt(hop: number): number {
    return hop < 0 ? 0 : this.env[hop % this.env.length]!;
  }

  private gridStep(hop: number): void {
    const buf = this.gridRaw;
    this.source.read(hop * HOP, buf);
    for (let i = 0; i < GRID_FFT; i++) buf[i]! *= this.gridWin[i]!;
    this.gridFft.power(buf, this.gridPower);
    [this.prev2Log, this.prevLog, this.curLog] = [this.prevLog, this.curLog, this.prev2Log];
    const cur = this.curLog;
    const prev = this.prevLog;
    const prev2 = this.prev2Log;
    const bp = this.bandPower.fill(0);
    for (let k = 1; k < this.gridPower.length; k++) {
      const b = this.fluxBand[k]!;
      if (b >= 0) bp[b]! += this.gridPower[k]!;
    }
    let flux = 0;
    for (let b = 0; b < cur.length; b++) cur[b] = Math.log1p(LOG_GAMMA * this.gridAmp * Math.sqrt(bp[b]! / this.bandBins[b]!));
    // SuperFlux's reference: the two previous hops' bands, each the largest of itself and its neighbours,
    // so a held noise (whose bands jitter) hardly rises above it while a new sound does.
    for (let b = 0; b < cur.length; b++) {
      const ref = Math.max(prev[b]!, prev[b - 1] ?? 0, prev[b + 1] ?? 0, prev2[b]!, prev2[b - 1] ?? 0, prev2[b + 1] ?? 0);
      const d = cur[b]! - ref;
      if (d > 0) flux += d;
    }
    flux /= cur.length;
    this.env[hop % this.env.length] = flux;
    this.fluxSinceQuery = this.newHops++ === 0 ? flux : Math.max(this.fluxSinceQuery, flux);
    // Peak-picking one hop back: the candidate must beat both neighbours and the adaptive threshold.
    const c = hop - 1;
    const f = this.envAt(c);
    if (c >= 1 && f > this.envAt(c - 1) && f >= flux) {
      let mean = 0;
      for (let h = c - this.meanHops; h < c; h++) mean += this.envAt(h);
      mean /= this.meanHops;
      const gapHops = (this.settings.gap * this.rate) / HOP;
      if (f > this.settings.threshold * (mean + ONSET_FLOOR) && c - this.lastOnsetHop >= gapHops) {
        this.lastOnsetHop = c;
        this.onsetsSinceQuery++;
        this.onsetHops.push(c);
        if (this.onsetHops.length > MAX_KEPT_ONSETS) this.onsetHops.shift();
      }
    }
    if (hop > 0 && hop % this.tempoEvery === 0) this.beats.update(hop, (h) => this.envAt(h));
  }

  /**
   * Chroma from spectral peaks: each local maximum's frequency found between bins (a parabola
   * through the log power of it and its neighbours), its three bins' power given to that pitch
   * class. Bins are 23 Hz wide, wider than a semitone below 400 Hz; the peak's own frequency is not.
   */
  private foldChroma(chroma: number[]): void {
    const p = this.power;
    const [lo, hi] = this.chromaBins;
    for (let k = lo; k <= hi; k++) {
      const b = p[k]!;
      if (!(b > p[k - 1]! && b >= p[k + 1]!)) continue;
      const [a, c] = [Math.log(p[k - 1]! + 1e-30), Math.log(p[k + 1]! + 1e-30)];
      const curve = a - 2 * Math.log(b + 1e-30) + c;
      const delta = curve < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / curve)) : 0;
      const f = ((k + delta) * this.rate) / SPECTRUM_FFT;
      const pc = (((Math.round(12 * Math.log2(f / 440)) + 9) % 12) + 12) % 12;
      chroma[pc]! += p[k - 1]! + b + p[k + 1]!;
    }
  }

  private frameFeatures(time: number, end: number): AudioFeatureValues {
    const { raw, windowed, power } = this;
    this.source.read(end, raw);
    let sq = 0;
    let peak = 0;
    for (let i = SPECTRUM_FFT - LEVEL_WINDOW; i < SPECTRUM_FFT; i++) {
      const v = raw[i]!;
      sq += v * v;
      if (Math.abs(v) > peak) peak = Math.abs(v);
    }
    for (let i = 0; i < SPECTRUM_FFT; i++) windowed[i] = raw[i]! * this.frameWin[i]!;
    this.frameFft.power(windowed, power);
    const toMeanSquare = 2 / (SPECTRUM_FFT * this.frameWinPower);
    const [b1, b2] = this.bandEdges;
    const bands = [0, 0, 0];
    const chroma = new Array<number>(12).fill(0);
    let total = 0;
    let magSum = 0;
    let freqSum = 0;
    for (let k = 1; k < power.length; k++) {
      const p = power[k]!;
      total += p;
      bands[k < b1 ? 0 : k < b2 ? 1 : 2]! += p;
      const m = Math.sqrt(p);
      magSum += m;
      freqSum += m * this.binHz[k]!;
    }
    this.foldChroma(chroma);
    const silent = !(total * toMeanSquare > SILENCE);
    let centroid = 0;
    if (!silent && magSum > 0) centroid = Math.min(1, Math.max(0, Math.log(freqSum / magSum / 20) / Math.log(1000)));
    const top = Math.max(...chroma);
    for (let i = 0; i < 12; i++) chroma[i] = silent || !(top > 0) ? 0 : chroma[i]! / top;
    const est = this.beats.estimate;
    let phase = 0;
    let beat = 0;
    if (est.bpm > 0) {
      const beats = (end / HOP - est.anchor) / est.period;
      phase = beats - Math.floor(beats);
      const prevBeats = (this.prevEnd / HOP - est.anchor) / est.period;
      // A beat between the previous frame and this one, and not one already pulsed (a new anchor can shift the grid a little).
      if (this.prevEnd >= 0 && Math.floor(beats) > Math.floor(prevBeats) && end - this.lastBeatEnd > 0.5 * est.period * HOP) {
        beat = 1;
        this.lastBeatEnd = end;
      }
    }
    const out: AudioFeatureValues = {
      time,
      end,
      rms: Math.sqrt(sq / LEVEL_WINDOW),
      peak,
      low: Math.sqrt(bands[0]! * toMeanSquare),
      mid: Math.sqrt(bands[1]! * toMeanSquare),
      high: Math.sqrt(bands[2]! * toMeanSquare),
      flux: this.newHops > 0 ? this.fluxSinceQuery : this.envAt(this.nextHop - 1),
      onset: this.onsetsSinceQuery > 0 ? 1 : 0,
      centroid,
      chroma,
      bpm: est.bpm,
      phase,
      beat,
    };
    this.onsetsSinceQuery = 0;
    this.newHops = 0;
    return out;
  }
}
