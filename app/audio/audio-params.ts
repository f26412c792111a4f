// The analyser's features as parameters of the show: read-only values under /netbend/audio/
// (`/netbend/audio/low`, `/netbend/audio/onset`, `/netbend/audio/chroma/3`, ...), set by the
// engine once per frame from the windows ending at the frame's time, so modulators, expressions
// (`0.5 + audio.low`), MIDI/OSC mappings and regression nets read them like any other value. How
// each is shaped (gain, gate, attack, release), the band crossovers, the onset threshold and
// whether the tracked tempo drives the show's are ordinary settable parameters beside them.
//
// Live or offline, the host calls update(frameTime) before the frame's modulators run; a live host
// feeds the analyser's PcmRing from its capture and asks with the same frame times.
import { ParamRefused, type ParameterRegistry, type ParamSpec } from '../core/registry.ts';
import type { FrameTime } from '../engine/clock.ts';
import type { Tempo } from '../control/tempo.ts';
import type { AudioAnalyser, AudioFeatureValues } from './analyser.ts';
import { type Shape, Shaper } from './shaper.ts';

export const AUDIO_PREFIX = '/netbend/audio/';

/** Features with a shape of their own; chroma's twelve bins share one. */
export const SHAPED_FEATURES = ['rms', 'peak', 'low', 'mid', 'high', 'flux', 'onset', 'centroid', 'beat', 'chroma'] as const;
export type ShapedFeature = (typeof SHAPED_FEATURES)[number];

const DESCRIPTIONS: Record<ShapedFeature, string> = {
  rms: 'loudness: RMS of the last 2048 samples (a full-scale sine reads 0.71)',
  peak: 'largest |sample| of the last 2048 samples',
  low: 'RMS of the sound below the low/mid crossover',
  mid: 'RMS of the sound between the crossovers',
  high: 'RMS of the sound above the mid/high crossover',
  flux: 'spectral flux: how much the spectrum rose since the last hop (largest since the previous frame)',
  onset: '1 on the frame an onset was found (a flux peak over the threshold), then its release',
  centroid: 'spectral centroid on a log axis: 0 = 20 Hz, 0.5 = 630 Hz, 1 = 20 kHz',
  beat: '1 on the frame a tracked beat fell, then its release',
  chroma: '',
};

/** Levels fall back over 0.1 s, triggers over 0.15 s; the rest follow the sound as it is. */
const SHAPE_DEFAULTS: Record<ShapedFeature, Shape> = {
  rms: { gain: 1, gate: 0, attack: 0, release: 0.1 },
  peak: { gain: 1, gate: 0, attack: 0, release: 0.1 },
  low: { gain: 1, gate: 0, attack: 0, release: 0.1 },
  mid: { gain: 1, gate: 0, attack: 0, release: 0.1 },
  high: { gain: 1, gate: 0, attack: 0, release: 0.1 },
  flux: { gain: 1, gate: 0, attack: 0, release: 0 },
  onset: { gain: 1, gate: 0, attack: 0, release: 0.15 },
  centroid: { gain: 1, gate: 0, attack: 0, release: 0 },
  beat: { gain: 1, gate: 0, attack: 0, release: 0.15 },
  chroma: { gain: 1, gate: 0, attack: 0, release: 0 },
};

export const PITCH_CLASSES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'] as const;

export const audioAddress = (feature: string) => `${AUDIO_PREFIX}${feature}`;
export const shapeAddress = (feature: ShapedFeature, key: keyof Shape) => `${AUDIO_PREFIX}shape/${feature}/${key}`;
export const LOW_MID = `${AUDIO_PREFIX}bands/lowmid`;
export const MID_HIGH = `${AUDIO_PREFIX}bands/midhigh`;
export const ONSET_THRESHOLD = `${AUDIO_PREFIX}detect/threshold`;
export const ONSET_GAP = `${AUDIO_PREFIX}detect/gap`;
export const TEMPO_FOLLOW = `${AUDIO_PREFIX}tempo/follow`;
export const AUDIO_BPM = audioAddress('bpm');
export const AUDIO_PHASE = audioAddress('phase');

const FEATURE_LIMIT = [0, 1e6] as const;
const readOnly = (address: string, description: string, extra: Partial<ParamSpec> = {}): ParamSpec => ({
  address,
  type: 'float',
  default: 0,
  min: 0,
  max: 1,
  clamp: false,
  limit: FEATURE_LIMIT,
  readOnly: true,
  description,
  ...extra,
});

export interface AudioParamsOptions {
  /** The show's tempo, which the tracked beat drives while /netbend/audio/tempo/follow is on. */
  tempo?: Tempo;
  /** Said once per incident (crossovers that cross): the last good settings hold meanwhile. */
  onWarning?: (text: string) => void;
  /** The features take OSC too (an analyser elsewhere sends them while nothing here drives them). */
  oscWritable?: boolean;
}

export class AudioParams {
  /** The shaped values of the last frame (what the parameters hold). */
  last: AudioFeatureValues | undefined;
  private readonly shapers = new Map<string, Shaper>();
  private badSettings = '';

  constructor(
    private readonly params: ParameterRegistry,
    /** What the features are read from: a live show swaps between its capture's and its track's. */
    public analyser: AudioAnalyser,
    private readonly o: AudioParamsOptions = {},
  ) {
    for (const f of SHAPED_FEATURES) {
      const d = SHAPE_DEFAULTS[f];
      const of = f === 'chroma' ? 'the chroma bins' : f;
      params.define({ address: shapeAddress(f, 'gain'), type: 'float', default: d.gain, min: 0, max: 16, description: `gain of ${of}` });
      params.define({ address: shapeAddress(f, 'gate'), type: 'float', default: d.gate, min: 0, max: 1, description: `${of} below this (after gain) reads 0` });
      params.define({ address: shapeAddress(f, 'attack'), type: 'float', default: d.attack, min: 0, max: 10, unit: 's', description: `seconds ${of} takes to rise` });
      params.define({ address: shapeAddress(f, 'release'), type: 'float', default: d.release, min: 0, max: 10, unit: 's', description: `seconds ${of} takes to fall` });
    }
    const s = analyser.current;
    const hz = { type: 'float' as const, min: 20, max: 20_000, clamp: false, limit: [20, 20_000] as const, unit: 'Hz' };
    params.define({ address: LOW_MID, default: s.lowMid, ...hz, description: 'crossover between the low and mid bands (below mid/high)' });
    params.define({ address: MID_HIGH, default: s.midHigh, ...hz, description: 'crossover between the mid and high bands (above low/mid)' });
    params.define({ address: ONSET_THRESHOLD, type: 'float', default: s.threshold, min: 0, max: 100, description: 'onset threshold over the mean flux of the last 0.25 s (higher: fewer onsets)' });
    params.define({ address: ONSET_GAP, type: 'float', default: s.gap, min: 0, max: 10, unit: 's', description: 'shortest time between two onsets' });
    params.define({ address: TEMPO_FOLLOW, type: 'bool', default: false, description: 'the tracked beat sets the show tempo (beside tap tempo and MIDI clock)' });
    const osc = o.oscWritable ? { oscWritable: true } : {};
    for (const f of SHAPED_FEATURES) if (f !== 'chroma') params.define(readOnly(audioAddress(f), DESCRIPTIONS[f], osc));
    PITCH_CLASSES.forEach((name, i) => params.define(readOnly(audioAddress(`chroma/${i}`), `chroma: share of the sound on ${name} (0..1 of the strongest class)`, osc)));
    params.define(readOnly(AUDIO_BPM, 'tempo tracked from the onsets; 0 until a steady pulse is heard', { max: 300, unit: 'bpm', ...osc }));
    params.define(readOnly(AUDIO_PHASE, 'where in the tracked beat this frame is: 0 on a beat, rising to 1', osc));
  }

  /**
   * Analyses the windows ending at the frame's time and sets the features; call once per frame,
   * before modulators. `showTime` is the frame's time on the show clock where `t.time` is another
   * (a live track's): the followed tempo's beats are placed on the show clock.
   */
  update(t: FrameTime, showTime = t.time): AudioFeatureValues {
    this.applySettings();
    const raw = this.analyser.at(t.time);
    const shaped: AudioFeatureValues = { ...raw, chroma: raw.chroma.slice() };
    for (const f of SHAPED_FEATURES) {
      const shape = this.shape(f);
      if (f === 'chroma') {
        raw.chroma.forEach((v, i) => {
          shaped.chroma[i] = this.step(`chroma/${i}`, v, shape, t.dt);
        });
      } else shaped[f] = this.step(f, raw[f], shape, t.dt);
    }
    this.set(AUDIO_BPM, raw.bpm);
    this.set(AUDIO_PHASE, raw.phase);
    const tempo = this.o.tempo;
    if (tempo && raw.bpm > 0 && this.params.get(TEMPO_FOLLOW) === true) {
      tempo.bpm = raw.bpm;
      tempo.origin = showTime - (raw.phase * 60) / raw.bpm;
    }
    this.last = shaped;
    return shaped;
  }

  /** Where each feature's envelope stands (after the last frame): a take starts its re-render from there. */
  shaperState(): Record<string, number> {
    return Object.fromEntries([...this.shapers].map(([name, s]) => [name, s.value]));
  }

  /** Sets the envelopes to where a live show had them. */
  seedShapers(state: Readonly<Record<string, number>>): void {
    for (const [name, v] of Object.entries(state)) {
      let s = this.shapers.get(name);
      if (!s) this.shapers.set(name, (s = new Shaper()));
      s.value = v;
    }
  }

  /** Removes every /netbend/audio/ parameter (the track was closed). */
  remove(): void {
    this.params.removeUnder(AUDIO_PREFIX);
  }

  private step(name: string, raw: number, shape: Shape, dt: number): number {
    let s = this.shapers.get(name);
    if (!s) this.shapers.set(name, (s = new Shaper()));
    const v = s.step(raw, shape, dt);
    this.set(audioAddress(name), v);
    return v;
  }

  private set(address: string, v: number): void {
    try {
      this.params.set(address, v, 'engine');
    } catch (err) {
      if (!(err instanceof ParamRefused)) throw err;
    }
  }

  private shape(f: ShapedFeature): Shape {
    const n = (key: keyof Shape) => this.params.number(shapeAddress(f, key));
    return { gain: n('gain'), gate: n('gate'), attack: n('attack'), release: n('release') };
  }

  private applySettings(): void {
    const want = { lowMid: this.params.number(LOW_MID), midHigh: this.params.number(MID_HIGH), threshold: this.params.number(ONSET_THRESHOLD), gap: this.params.number(ONSET_GAP) };
    const have = this.analyser.current;
    if (want.lowMid === have.lowMid && want.midHigh === have.midHigh && want.threshold === have.threshold && want.gap === have.gap) return;
    try {
      this.analyser.configure(want);
      this.badSettings = '';
    } catch (err) {
      const text = `${(err as Error).message}; the analyser keeps ${have.lowMid} Hz / ${have.midHigh} Hz`;
      if (text !== this.badSettings) this.o.onWarning?.(text);
      this.badSettings = text;
    }
  }
}
