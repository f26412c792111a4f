// The one place live state changes. UI, OSC, MIDI, presets, modulators and the CLI all write here;
// the engine reads a consistent snapshot once per frame (latest wins: nothing queues).
import { Emitter } from './emitter.ts';

import { coerce, ParamError, type ParamSpec, type ParamValue } from './param-types.ts';

export { coerce, DEFAULT_LIMITS, hardBounds, isTransient, ParamError, ParamRefused, type ParamSpec, type ParamType, type ParamValue } from './param-types.ts';
/** Who changed a value: feedback paths (MIDI out, OSC out) skip echoing to their own source. */
export type ChangeSource = 'api' | 'ui' | 'osc' | 'midi' | 'preset' | 'modulator' | 'cli' | 'engine' | 'undo';

export interface ParamChange {
  address: string;
  value: ParamValue;
  /** The target before this change (undo steps restore it); a trigger's is false. */
  previous: ParamValue;
  source: ChangeSource;
  /** The glide asked for with this value (a MIDI mapping's smoothing), when not the spec's own. */
  glide?: number;
}

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
  /** A value is about to change (after it was checked): the scene as it is now is the one before it. */
  beforeChange: { address: string; value: ParamValue; source: ChangeSource };
  /** A set that left the value as it was (it still says someone set it: a blend layer becomes its own). */
  touch: { address: string; source: ChangeSource };
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
    if (e.spec.readOnly && source !== 'engine' && !(source === 'osc' && e.spec.oscWritable)) throw new ParamError(`${address} is read-only`);
    let v: ParamValue;
    try {
      v = coerce(e.spec, value);
    } catch (err) {
      this.refused++;
      this.emit('refuse', { address, value, source, reason: (err as Error).message });
      throw err;
    }
    if (e.spec.type === 'trigger') {
      this.emit('change', { address, value: true, previous: false, source });
      return;
    }
    if (v === e.target) return void this.emit('touch', { address, source });
    // Before anything moves: an undo step captures the scene exactly as it was.
    this.emit('beforeChange', { address, value: v, source });
    const previous = e.target;
    e.target = v;
    e.glide = smoothing !== undefined && Number.isFinite(smoothing) && smoothing >= 0 ? smoothing : undefined;
    if (!(e.glide ?? e.spec.smoothing) || typeof v !== 'number') e.current = v;
    this.emit('change', { address, value: v, previous, source, ...(e.glide !== undefined ? { glide: e.glide } : {}) });
  }

  /** The value `set` would store, or a ParamRefused naming why not; changes and counts nothing. */
  check(address: string, value: unknown): ParamValue {
    const e = this.entries.get(address);
    if (!e) throw new ParamError(`no parameter ${address}`);
    return coerce(e.spec, value);
  }

  /** Where a value is in its glide right now, put back as it was (a take re-rendered from its start). */
  setCurrent(address: string, value: ParamValue): void {
    const e = this.entries.get(address);
    if (e) e.current = value;
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
