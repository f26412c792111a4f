// LFOs as pure functions of time, so the offline renderer and the live show agree frame for frame.
// Spec grammar (CLI `--animate`, presets):  <shape>[:<rate>][:depth=<d>][:center=<c>][:phase=<p>][:seed=<s>]
//   shape  sine | triangle | saw | square | sh (sample and hold) | random (smooth random)
//   rate   "0.5hz" (cycles per second, the default unit) or "4beats" (one cycle per 4 beats)
// The value is center + depth * wave, wave in [-1, 1]; sine starts at its center, rising.
import { createNoise2D } from 'simplex-noise';
import { mulberry32 } from '../core/seeded-random.ts';
import type { Tempo } from './tempo.ts';

export const LFO_SHAPES = ['sine', 'triangle', 'saw', 'square', 'sh', 'random'] as const;
export type LfoShape = (typeof LFO_SHAPES)[number];

export interface LfoSpec {
  shape: LfoShape;
  rate: number;
  unit: 'hz' | 'beats';
  depth: number;
  center: number;
  /** Fraction of a cycle, 0..1. */
  phase: number;
  seed: number;
}

export class LfoSpecError extends Error {}

export function parseLfo(text: string): LfoSpec {
  const parts = text.trim().split(':');
  const shape = parts[0]?.toLowerCase() as LfoShape;
  if (!LFO_SHAPES.includes(shape)) throw new LfoSpecError(`LFO "${text}": unknown shape "${parts[0]}"; use ${LFO_SHAPES.join(', ')}`);
  const spec: LfoSpec = { shape, rate: 1, unit: 'hz', depth: 1, center: 0, phase: 0, seed: 0 };
  for (const part of parts.slice(1)) {
    const kv = /^(depth|center|phase|seed)=(-?[\d.]+(?:e-?\d+)?)$/i.exec(part);
    const rate = /^(-?[\d.]+(?:e-?\d+)?)(hz|beats?)?$/i.exec(part);
    if (kv) {
      const key = kv[1]!.toLowerCase() as 'depth' | 'center' | 'phase' | 'seed';
      spec[key] = Number(kv[2]);
    } else if (rate && Number.isFinite(Number(rate[1]))) {
      spec.rate = Number(rate[1]);
      spec.unit = rate[2]?.toLowerCase().startsWith('beat') ? 'beats' : 'hz';
    } else {
      throw new LfoSpecError(`LFO "${text}": cannot read "${part}"; expected a rate like 0.5hz or 4beats, or depth=, center=, phase=, seed=`);
    }
  }
  if (spec.unit === 'beats' && spec.rate <= 0) throw new LfoSpecError(`LFO "${text}": beats per cycle must be > 0`);
  return spec;
}

/** The spec as the grammar writes it (parseLfo(formatLfo(s)) is s); defaults are left out. */
export function formatLfo(s: LfoSpec): string {
  const num = (v: number) => String(Number(v.toPrecision(6)));
  const parts: string[] = [s.shape, `${num(s.rate)}${s.unit === 'beats' ? 'beats' : 'hz'}`, `depth=${num(s.depth)}`];
  if (s.center !== 0) parts.push(`center=${num(s.center)}`);
  if (s.phase !== 0) parts.push(`phase=${num(s.phase)}`);
  if (s.seed !== 0) parts.push(`seed=${s.seed}`);
  return parts.join(':');
}

const noises = new Map<number, (x: number, y: number) => number>();

/** The LFO's cycle position (in cycles) at a time. */
export function lfoCycles(spec: LfoSpec, time: number, tempo?: Tempo): number {
  const cycles = spec.unit === 'hz' ? time * spec.rate : (tempo ? tempo.beats(time) : (time * 120) / 60) / spec.rate;
  return cycles + spec.phase;
}

export function lfoValue(spec: LfoSpec, time: number, tempo?: Tempo): number {
  const c = lfoCycles(spec, time, tempo);
  const f = c - Math.floor(c);
  let wave: number;
  switch (spec.shape) {
    case 'sine':
      wave = Math.sin(2 * Math.PI * c);
      break;
    case 'triangle':
      wave = f < 0.25 ? 4 * f : f < 0.75 ? 2 - 4 * f : 4 * f - 4;
      break;
    case 'saw':
      wave = 2 * f - 1;
      break;
    case 'square':
      wave = f < 0.5 ? 1 : -1;
      break;
    case 'sh':
      wave = 2 * mulberry32((spec.seed * 7919 + Math.floor(c)) | 0)() - 1;
      break;
    case 'random': {
      let n = noises.get(spec.seed);
      if (!n) noises.set(spec.seed, (n = createNoise2D(mulberry32(spec.seed))));
      wave = n(c, 0.5);
      break;
    }
  }
  return spec.center + spec.depth * wave;
}
