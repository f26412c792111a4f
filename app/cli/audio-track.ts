// `--audio <track>` on play and render: the track decoded before the model opens (a bad file is
// said at once), its features defined on the engine's registry before a preset's scene is applied
// (so a preset's crossovers and gains take), and updated once per frame before the modulators.
import { resolve } from 'node:path';
import type { ParameterRegistry } from '../core/registry.ts';
import type { Tempo } from '../control/tempo.ts';
import { AudioAnalyser } from '../audio/analyser.ts';
import { AudioParams } from '../audio/audio-params.ts';
import { decodePcm } from '../audio/pcm-file.ts';
import type { PcmBuffer } from '../audio/pcm-source.ts';

export interface AudioOptions {
  audio?: string;
}

export interface Track {
  file: string;
  pcm: PcmBuffer;
  seconds: number;
  /** Defined by attach(). */
  features: AudioParams | undefined;
  attach(params: ParameterRegistry, tempo: Tempo): void;
}

export async function openTrack(o: AudioOptions): Promise<Track | undefined> {
  if (!o.audio) return undefined;
  const file = resolve(o.audio);
  const pcm = await decodePcm(file);
  const track: Track = {
    file,
    pcm,
    seconds: pcm.seconds,
    features: undefined,
    attach(params, tempo) {
      track.features = new AudioParams(params, new AudioAnalyser(pcm), { tempo, onWarning: (w) => console.error(`netbend: warning: ${w}`) });
    },
  };
  return track;
}
