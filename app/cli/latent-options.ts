// The W-space flags shared by `play` and `render`: --truncation, --mix-seed/--mix-from and
// --direction <k>=<amount>[@<from>-<to>], set through the same parameters OSC and MIDI move.
import type { Engine } from '../engine/engine.ts';
import { UsageError } from './bend-options.ts';
import { loadDirectionSet, saveDirectionSet } from '../control/direction-sets.ts';

export interface LatentOptions {
  truncation?: number;
  mixSeed?: number;
  mixFrom?: number;
  direction?: string[];
  /** A direction set (.json) to play instead of the estimated directions. */
  directions?: string;
  /** Where to save the directions played (estimated, or loaded) with their layer ranges. */
  saveDirections?: string;
}

/** "<k>=<amount>[@<from>-<to>]": direction k by amount (standard deviations) on layers from..to-1. */
export function parseDirection(spec: string): { k: number; amount: number; layers?: [number, number] } {
  const m = /^(\d+)=(-?[\d.eE+-]+)(?:@(\d+)-(\d+))?$/.exec(spec.trim());
  const amount = Number(m?.[2]);
  if (!m || !Number.isFinite(amount)) throw new UsageError(`--direction "${spec}": expected <k>=<amount>[@<from>-<to>], e.g. "0=1.5" or "2=-1@0-4"`);
  return { k: Number(m[1]), amount, ...(m[3] !== undefined ? { layers: [Number(m[3]), Number(m[4])] as [number, number] } : {}) };
}

export async function applyLatentOptions(engine: Engine, o: LatentOptions): Promise<void> {
  const wanted = o.truncation !== undefined || o.mixSeed !== undefined || o.mixFrom !== undefined || !!o.direction?.length || !!o.directions || !!o.saveDirections;
  if (!wanted) return;
  const shape = engine.latent.shape;
  if (!shape) throw new UsageError(`--truncation, --mix-*, --direction and --*directions need W space: ${engine.latent.note}`);
  if (o.directions) await loadDirectionSet(engine, o.directions);
  const L = `${engine.ns}/latent`;
  if (o.truncation !== undefined) engine.params.set(`${L}/truncation`, o.truncation, 'cli');
  if (o.mixSeed !== undefined && o.mixFrom === undefined) throw new UsageError('--mix-seed needs --mix-from <layer> (the first layer the mix latent takes over)');
  if (o.mixSeed !== undefined) engine.params.set(`${L}/mix/seed`, o.mixSeed, 'cli');
  if (o.mixFrom !== undefined) {
    if (o.mixFrom > shape.numWs) throw new UsageError(`--mix-from ${o.mixFrom}: this model has ${shape.numWs} layers of w (0..${shape.numWs}, ${shape.numWs} = no mixing)`);
    engine.params.set(`${L}/mix/from`, o.mixFrom, 'cli');
  }
  for (const spec of o.direction ?? []) {
    const d = parseDirection(spec);
    if (!engine.params.has(`${L}/direction/${d.k}/amount`)) throw new UsageError(`--direction "${spec}": no direction ${d.k} (directions 0..${engine.latent.count - 1})`);
    if (d.layers) {
      const [from, to] = d.layers;
      if (from > to || to > shape.numWs) throw new UsageError(`--direction "${spec}": layers ${from}-${to} are not within 0-${shape.numWs}`);
      engine.params.set(`${L}/direction/${d.k}/from`, from, 'cli');
      engine.params.set(`${L}/direction/${d.k}/to`, to, 'cli');
    }
    engine.params.set(`${L}/direction/${d.k}/amount`, d.amount, 'cli');
  }
  if (o.saveDirections) await saveDirectionSet(engine, o.saveDirections);
}
