// The one place live state changes. UI, OSC, MIDI, presets, modulators and the CLI all write here;
// the engine reads a consistent snapshot once per frame (latest wins: nothing queues).
import { Emitter } from './emitter.ts';

export type ParamType = 'float' | 'int' | 'bool' | 'enum' | 'trigger' | 'string';
export type ParamValue = number | boolean | string;
/** Who changed a value: feedback paths (MIDI out, OSC out) skip echoing to their own source. */
export type ChangeSource = 'api' | 'ui' | 'osc' | 'midi' | 'preset' | 'modulator' | 'cli' | 'engine';

export interface ParamSpec {
  /** OSC-style address under /netbend, e.g. /netbend/source/z/speed */
  address: string;
  type: ParamType;
  default: ParamValue;
  min?: number;
  max?: number;
  /** Hard ranges are clamped; soft ranges (blend amounts) only guide UI and MIDI scaling. */
  clamp?: boolean;
  /**
   * Hard bounds of a soft range: values beyond them are refused. Every number parameter has
   * finite ones (DEFAULT_LIMITS when not given), so no edge can park a value at 1e308.
   */
  limit?: readonly [number, number];
  step?: number;
  unit?: string;
  description?: string;
  options?: readonly string[];
  /** Seconds to glide to a new value (one-pole); 0 = jump. */
  smoothing?: number;
  /** Read-only values (stats, regression-net outputs) are set by the engine only. */
  readOnly?: boolean;
  /**
   * An action, not a state (record, preset recall, play): never captured into a preset nor applied
   * from one, so loading a scene cannot start a recording or jump to another scene.
   */
  transient?: boolean;
}

/** Hard bounds of number parameters that do not state their own. */
export const DEFAULT_LIMITS = { float: [-1e6, 1e6], int: [-(2 ** 31), 2 ** 31 - 1] } as const;

/** Where a number parameter's value may lie: its hard range when it clamps, else its limit. */
export function hardBounds(spec: ParamSpec): [number, number] {
  const [lo, hi] = spec.limit ?? (spec.type === 'int' ? DEFAULT_LIMITS.int : DEFAULT_LIMITS.float);
  if (spec.clamp === false) return [lo, hi];
  return [spec.min ?? lo, spec.max ?? hi];
}

/** A transient parameter, or one that a preset must not hold (triggers have no state). */
export const isTransient = (spec: ParamSpec) => spec.transient === true || spec.type === 'trigger';

export interface ParamChange {
  address: string;
  value: ParamValue;
  source: ChangeSource;
}

export class ParamError extends Error {}

/** A value a parameter refused: not finite, out of its hard bounds, or of the wrong kind. */
export class ParamRefused extends ParamError {}

export interface ParamRefusal {
  address: string;
  value: unknown;
  source: ChangeSource;
  reason: string;
}

interface Entry {
  spec: ParamSpec;
  target: ParamValue;
  current: ParamValue;
  /** Glide time asked for by the last set() (a MIDI mapping's smoothing); undefined = the spec's. */
  glide?: number;
}

export class ParameterRegistry extends Emitter<{
  change: ParamChange;
  define: ParamSpec;
  remove: string;
  /** A value refused on any path (OSC, MIDI, page, preset, modulator, model output). */
  refuse: ParamRefusal;
}> {
  private readonly entries = new Map<string, Entry>();
  /** Values refused since start, on every path. */
  refused = 0;

  define(spec: ParamSpec): ParamSpec {
    if (!spec.address.startsWith('/netbend/')) throw new ParamError(`parameter address must start with /netbend/: ${spec.address}`);
    const existing = this.entries.get(spec.address);
    const value = existing ? coerce(spec, existing.target) : coerce(spec, spec.default);
    this.entries.set(spec.address, { spec, target: value, current: existing ? coerce(spec, existing.current) : value });
    this.emit('define', spec);
    return spec;
  }

  remove(address: string): void {
    if (this.entries.delete(address)) this.emit('remove', address);
  }

  removeUnder(prefix: string): void {
    for (const address of [...this.entries.keys()]) if (address.startsWith(prefix)) this.remove(address);
  }

  has(address: string): boolean {
    return this.entries.has(address);
  }

  spec(address: string): ParamSpec | undefined {
    return this.entries.get(address)?.spec;
  }

  list(): ParamSpec[] {
    return [...this.entries.values()].map((e) => e.spec);
  }

  /** The value the engine uses this frame (smoothed). */
  get(address: string): ParamValue {
    const e = this.entries.get(address);
    if (!e) throw new ParamError(`no parameter ${address}`);
    return e.current;
  }

  /** The value last asked for, before smoothing. */
  target(address: string): ParamValue {
    const e = this.entries.get(address);
    if (!e) throw new ParamError(`no parameter ${address}`);
    return e.target;
  }

  number(address: string): number {
    const v = this.get(address);
    return typeof v === 'number' ? v : v === true ? 1 : 0;
  }

  /**
   * Validates and stores a new target. Throws ParamError naming the parameter on bad input.
   * `smoothing` (seconds) glides to this value instead of the spec's smoothing, until the next set.
   */
  set(address: string, value: unknown, source: ChangeSource = 'api', smoothing?: number): void {
    const e = this.entries.get(address);
    if (!e) throw new ParamError(`no parameter ${address}`);
    if (e.spec.readOnly && source !== 'engine') throw new ParamError(`${address} is read-only`);
    let v: ParamValue;
    try {
      v = coerce(e.spec, value);
    } catch (err) {
      this.refused++;
      this.emit('refuse', { address, value, source, reason: (err as Error).message });
      throw err;
    }
    if (e.spec.type === 'trigger') {
      this.emit('change', { address, value: true, source });
      return;
    }
    if (v === e.target) return;
    e.target = v;
    e.glide = smoothing !== undefined && Number.isFinite(smoothing) && smoothing >= 0 ? smoothing : undefined;
    if (!(e.glide ?? e.spec.smoothing) || typeof v !== 'number') e.current = v;
    this.emit('change', { address, value: v, source });
  }

  /** The value `set` would store, or a ParamRefused naming why not; changes and counts nothing. */
  check(address: string, value: unknown): ParamValue {
    const e = this.entries.get(address);
    if (!e) throw new ParamError(`no parameter ${address}`);
    return coerce(e.spec, value);
  }

  /** Advances smoothing by dt seconds; called by the engine once per frame before reading. */
  tick(dt: number): void {
    for (const e of this.entries.values()) {
      const s = e.glide ?? e.spec.smoothing;
      if (!s || typeof e.target !== 'number' || typeof e.current !== 'number' || e.current === e.target) continue;
      const k = 1 - Math.exp(-dt / s);
      const next = e.current + (e.target - e.current) * k;
      e.current = Math.abs(e.target - next) < 1e-6 * (1 + Math.abs(e.target)) ? e.target : next;
    }
  }

  /** Plain values of every parameter (or those under a prefix), for presets and snapshots. */
  values(prefix = '/netbend/'): Record<string, ParamValue> {
    const out: Record<string, ParamValue> = {};
    for (const [address, e] of this.entries) if (address.startsWith(prefix) && e.spec.type !== 'trigger') out[address] = e.target;
    return out;
  }
}

export function coerce(spec: ParamSpec, value: unknown): ParamValue {
  const fail = (why: string): never => {
    throw new ParamRefused(`${spec.address}: ${why} (got ${shown(value)})`);
  };
  switch (spec.type) {
    case 'float':
    case 'int': {
      const n = typeof value === 'boolean' ? Number(value) : typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) return fail('expected a finite number');
      let v = spec.type === 'int' ? Math.round(n) : n;
      // A hard range holds its value at the edge (a fader overshooting 1.0); beyond the limits
      // (a soft range's, or the defaults) a value is refused instead of silently moved.
      if (spec.clamp !== false) {
        if (spec.min !== undefined && v < spec.min) v = spec.min;
        if (spec.max !== undefined && v > spec.max) v = spec.max;
      }
      const [lo, hi] = hardBounds(spec);
      if (v < lo || v > hi) return fail(`out of bounds ${lo}..${hi}`);
      return v;
    }
    case 'bool':
    case 'trigger':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'number' && Number.isFinite(value)) return value >= 0.5;
      if (value === 'true' || value === 'false') return value === 'true';
      return fail('expected a boolean');
    case 'enum':
      if (typeof value === 'string' && spec.options?.includes(value)) return value;
      if (typeof value === 'number' && spec.options && Number.isInteger(value) && value >= 0 && value < spec.options.length) return spec.options[value]!;
      return fail(`expected one of ${spec.options?.join(', ')}`);
    case 'string':
      if (typeof value === 'string') return value;
      return fail('expected a string');
  }
}

/** A refused value as it goes into a message: short, and never a throw of its own (BigInt, cycles). */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
