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
  /** Hard bounds are clamped; soft ranges (blend amounts) only guide UI and MIDI scaling. */
  clamp?: boolean;
  step?: number;
  unit?: string;
  description?: string;
  options?: readonly string[];
  /** Seconds to glide to a new value (one-pole); 0 = jump. */
  smoothing?: number;
  /** Read-only values (stats, regression-net outputs) are set by the engine only. */
  readOnly?: boolean;
}

export interface ParamChange {
  address: string;
  value: ParamValue;
  source: ChangeSource;
}

export class ParamError extends Error {}

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
}> {
  private readonly entries = new Map<string, Entry>();

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
    const v = coerce(e.spec, value);
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
    throw new ParamError(`${spec.address}: ${why} (got ${JSON.stringify(value)})`);
  };
  switch (spec.type) {
    case 'float':
    case 'int': {
      const n = typeof value === 'boolean' ? Number(value) : typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) return fail('expected a finite number');
      let v = spec.type === 'int' ? Math.round(n) : n;
      if (spec.clamp !== false) {
        if (spec.min !== undefined && v < spec.min) v = spec.min;
        if (spec.max !== undefined && v > spec.max) v = spec.max;
      }
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
