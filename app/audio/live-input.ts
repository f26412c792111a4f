// The shape a live show takes audio in (app/server/audio-desk.ts feeds it a page's capture): blocks
// of mono PCM at AUDIO_RATE arrive stamped with the show-time sample index of their first sample
// and go into a ring; once per frame, before the modulators, update(frameTime) sets the features.
// A frame whose time is ahead of the newest sample (the capture's latency) is analysed at the
// newest sample instead, never on silence that has not arrived, and the lag is kept to be shown.
//
//   const input = new AudioInput(session.params, { tempo: session.tempo });
//   socket.on('pcm', (block, at) => input.push(block, at));      // the page's capture
//   loop.beforeFrame = (t) => { input.update(t); modulators.apply(t.time, t.index); ... };
import type { ParameterRegistry } from '../core/registry.ts';
import type { FrameTime } from '../engine/clock.ts';
import type { Tempo } from '../control/tempo.ts';
import { type AnalyserSettings, AudioAnalyser, type AudioFeatureValues } from './analyser.ts';
import { AudioParams } from './audio-params.ts';
import { AUDIO_RATE, PcmRing } from './pcm-source.ts';

export interface AudioInputOptions {
  /** Seconds of sound kept; the analyser needs a little over 6 (the tempo's window). Default 10. */
  seconds?: number;
  tempo?: Tempo;
  settings?: Partial<AnalyserSettings>;
  onWarning?: (text: string) => void;
  /** The features take OSC too (see AudioParamsOptions). */
  oscWritable?: boolean;
}

export class AudioInput {
  readonly ring: PcmRing;
  /** The ring's analyser (the features may be read from a track's meanwhile). */
  readonly analyser: AudioAnalyser;
  readonly features: AudioParams;
  /** Seconds the last frame was ahead of the newest sample (0 when the sound was there in time). */
  lag = 0;

  constructor(params: ParameterRegistry, o: AudioInputOptions = {}) {
    this.ring = new PcmRing(Math.round((o.seconds ?? 10) * AUDIO_RATE));
    this.analyser = new AudioAnalyser(this.ring, o.settings);
    this.features = new AudioParams(params, this.analyser, { tempo: o.tempo, onWarning: o.onWarning, oscWritable: o.oscWritable });
  }

  /** A block of the capture; `at` is its first sample's index in show time (default: right after the last). */
  push(block: Float32Array, at?: number): void {
    this.ring.push(block, at);
  }

  update(t: FrameTime): AudioFeatureValues {
    const newest = this.ring.end / this.ring.rate;
    this.lag = Math.max(0, t.time - newest);
    this.features.analyser = this.analyser;
    return this.features.update({ ...t, time: Math.min(t.time, newest) });
  }

  remove(): void {
    this.features.remove();
  }
}
