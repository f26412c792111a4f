// The five weight edits and what "no change" means for each: an edit at its identity amount (or
// removed) leaves the weight exactly as it was.
import { gaussianArray } from '../../core/seeded-random.ts';

export type EditOp = 'scale' | 'offset' | 'set' | 'noise' | 'ablate';
export const EDIT_OPS: readonly EditOp[] = ['scale', 'offset', 'set', 'noise', 'ablate'];

/** Edit names are one OSC address segment: no space, '/', '#', '*', ',', '?', brackets or braces. */
export const EDIT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** A readable edit name from target and op: `b32.conv0` + `ablate` -> `b32.conv0-ablate`. */
export function deriveEditName(target: string, op: EditOp): string {
  const short = target
    .replace(/^G\.(synthesis\.)?/, '')
    .replace(/\.weight$/, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^[_.]+|[_.]+$/g, '');
  return `${(short || 'weights').slice(0, 48)}-${op}`;
}

/** Names for a list of edits in order: given ones kept, the others derived, `-2`, `-3` when taken. */
export function nameEdits(edits: ReadonlyArray<{ target: string; op: EditOp; name?: string }>): string[] {
  const names: string[] = [];
  for (const e of edits) {
    let name = e.name ?? deriveEditName(e.target, e.op);
    const base = name;
    for (let n = 2; names.includes(name) || (e.name === undefined && edits.some((o) => o.name === name)); n++) name = `${base}-${n}`;
    names.push(name);
  }
  return names;
}

/** Amounts that leave a weight untouched (`set` has none: it is switched off instead). */
export const IDENTITY: Record<Exclude<EditOp, 'set'>, number> = { scale: 1, offset: 0, noise: 0, ablate: 0 };

/** Output channels an ablate edit zeroes: the listed ones, or a seeded share of all of them. */
export function ablatedChannels(channels: number, share: number, seed: number, list?: number[]): number[] {
  if (list) return list.filter((c) => Number.isInteger(c) && c >= 0 && c < channels);
  const count = Math.round(Math.min(1, Math.max(0, share)) * channels);
  if (count === 0) return [];
  const key = gaussianArray(channels, seed); // a seeded shuffle: channels sorted by a random key
  return Array.from({ length: channels }, (_, i) => i)
    .sort((x, y) => key[x]! - key[y]!)
    .slice(0, count);
}
