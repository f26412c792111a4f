// MIDI mappings, driven by raw MIDI bytes (a port, a test, a virtual device all look the same):
// CC 7-bit and 14-bit pairs, notes (toggle, momentary, trigger), pitch bend, program change; curves,
// ranges, invert, soft takeover, relative encoders; MIDI learn; and feedback to motorised faders
// and LED rings when a value changes by other means.
import type { ParameterRegistry, ParamSpec } from './registry.ts';

export type MidiKind = 'cc' | 'cc14' | 'note' | 'pitchbend';
export type Curve = 'lin' | 'exp' | 'log';
export type Encoder = 'absolute' | 'relative-2c' | 'relative-bin' | 'relative-sign';

export interface MidiMappingSpec {
  id: string;
  param: string;
  kind: MidiKind;
  /** 0..15, or 'any'. */
  channel: number | 'any';
  /** CC or note number (the MSB controller for cc14). */
  number: number;
  min?: number;
  max?: number;
  curve?: Curve;
  invert?: boolean;
  /** Notes: what a press does. */
  mode?: 'toggle' | 'momentary' | 'trigger';
  encoder?: Encoder;
  /** 'pickup': ignore the control until it crosses the parameter's value (no jumps). */
  takeover?: 'jump' | 'pickup';
}

export interface MidiRouterOptions {
  /** Bytes to send back out (feedback); absent = no feedback. */
  send?: (bytes: number[]) => void;
  onProgram?: (program: number, channel: number) => void;
  onClock?: (kind: 'tick' | 'start' | 'stop') => void;
  /** A mapping was made by MIDI learn. */
  onLearn?: (mapping: MidiMappingSpec) => void;
  now?: () => number;
}

const SHAPE: Record<Curve, [(x: number) => number, (y: number) => number]> = {
  lin: [(x) => x, (y) => y],
  exp: [(x) => x * x, (y) => Math.sqrt(y)],
  log: [(x) => Math.sqrt(x), (y) => y * y],
};

/** Data bytes each channel message carries, by status high nibble. */
const DATA_BYTES: Record<number, number> = { 0x80: 2, 0x90: 2, 0xa0: 2, 0xb0: 2, 0xc0: 1, 0xd0: 1, 0xe0: 2 };

export class MidiRouter {
  private readonly mappings = new Map<string, MidiMappingSpec>();
  private readonly picked = new Map<string, boolean>();
  private readonly lastIn = new Map<string, number>();
  private readonly msb = new Map<string, number>();
  private running = 0;
  private pending: number[] = [];
  private inSysex = false;
  private nextId = 1;
  learning: string | undefined;
  private learned: { spec: MidiMappingSpec; at: number } | undefined;
  private readonly now: () => number;

  constructor(
    private readonly params: ParameterRegistry,
    private readonly opts: MidiRouterOptions = {},
  ) {
    this.now = opts.now ?? (() => performance.now() / 1000);
    params.on('change', (c) => {
      if (c.source === 'midi' || !opts.send) return;
      for (const m of this.mappings.values()) if (m.param === c.address) this.feedback(m);
    });
  }

  add(spec: Omit<MidiMappingSpec, 'id'> & { id?: string }): MidiMappingSpec {
    const s = validate(spec, this.params);
    const full = { ...s, id: spec.id ?? `midi${this.nextId++}` };
    this.mappings.set(full.id, full);
    this.picked.delete(full.id);
    return full;
  }

  remove(id: string): void {
    this.mappings.delete(id);
  }

  list(): MidiMappingSpec[] {
    return [...this.mappings.values()];
  }

  toJSON(): MidiMappingSpec[] {
    return this.list();
  }

  /** Replaces all mappings; every entry is validated first, so a bad list changes nothing. */
  fromJSON(list: unknown[]): void {
    const specs = list.map((x, i) => {
      try {
        return validate(x as MidiMappingSpec, this.params);
      } catch (err) {
        throw new Error(`midi mapping ${i}: ${(err as Error).message}`);
      }
    });
    this.mappings.clear();
    specs.forEach((s) => this.add(s));
  }

  /** Arms learn: the next CC, note or pitch bend is mapped to `address`. */
  learn(address: string | undefined): void {
    if (address && !this.params.has(address)) throw new Error(`no parameter ${address}`);
    this.learning = address;
  }

  /** Feeds raw MIDI bytes: any chunking, running status, interleaved realtime bytes. */
  handle(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (!Number.isInteger(b) || b < 0 || b > 255) continue;
      if (b >= 0xf8) {
        // Realtime bytes may appear anywhere, even inside other messages.
        if (b === 0xf8) this.opts.onClock?.('tick');
        else if (b === 0xfa || b === 0xfb) this.opts.onClock?.('start');
        else if (b === 0xfc) this.opts.onClock?.('stop');
        continue;
      }
      if (b === 0xf0) {
        this.inSysex = true;
        this.running = 0;
        continue;
      }
      if (b === 0xf7) {
        this.inSysex = false;
        continue;
      }
      if (this.inSysex) continue;
      if (b >= 0xf0) {
        // System common: not mapped; it cancels running status.
        this.running = 0;
        this.pending = [];
        continue;
      }
      if (b >= 0x80) {
        this.running = b;
        this.pending = [];
        continue;
      }
      if (!this.running) continue; // a data byte with no status: garbage
      this.pending.push(b);
      if (this.pending.length === DATA_BYTES[this.running & 0xf0]) {
        this.message(this.running & 0xf0, this.running & 0x0f, this.pending[0]!, this.pending[1] ?? 0);
        this.pending = [];
      }
    }
  }

  private message(type: number, ch: number, d1: number, d2: number): void {
    if (type === 0xc0) return this.opts.onProgram?.(d1, ch);
    if (type === 0x90 && d2 === 0) type = 0x80;
    if (this.learning && (type === 0xb0 || type === 0x90 || type === 0xe0)) return this.learnFrom(type, ch, d1);
    // A learned 7-bit CC upgrades to 14-bit when its LSB partner follows at once.
    if (this.learned && type === 0xb0 && d1 === this.learned.spec.number + 32 && this.learned.spec.kind === 'cc' && this.now() - this.learned.at < 0.05) {
      this.learned.spec.kind = 'cc14';
    }
    for (const m of this.mappings.values()) {
      if (m.channel !== 'any' && m.channel !== ch) continue;
      if (m.kind === 'cc' && type === 0xb0 && d1 === m.number) this.controlIn(m, d2, 127);
      else if (m.kind === 'cc14' && type === 0xb0 && d1 === m.number) {
        this.msb.set(m.id, d2);
        this.controlIn(m, d2 << 7, 16383);
      } else if (m.kind === 'cc14' && type === 0xb0 && d1 === m.number + 32) this.controlIn(m, ((this.msb.get(m.id) ?? 0) << 7) | d2, 16383);
      else if (m.kind === 'pitchbend' && type === 0xe0) this.controlIn(m, (d2 << 7) | d1, 16383);
      else if (m.kind === 'note' && (type === 0x90 || type === 0x80) && d1 === m.number) this.noteIn(m, type === 0x90);
    }
  }

  private learnFrom(type: number, ch: number, d1: number): void {
    const param = this.learning!;
    this.learning = undefined;
    const kind: MidiKind = type === 0xb0 ? 'cc' : type === 0x90 ? 'note' : 'pitchbend';
    const spec = this.add({ param, kind, channel: ch, number: kind === 'pitchbend' ? 0 : d1, takeover: 'pickup' });
    this.learned = { spec, at: this.now() };
    this.opts.onLearn?.(spec);
  }

  private range(m: MidiMappingSpec): { spec: ParamSpec; min: number; max: number } {
    const spec = this.params.spec(m.param)!;
    return { spec, min: m.min ?? spec.min ?? 0, max: m.max ?? spec.max ?? 1 };
  }

  private controlIn(m: MidiMappingSpec, raw: number, full: number): void {
    if (!this.params.has(m.param)) return;
    const { spec, min, max } = this.range(m);
    if (m.encoder && m.encoder !== 'absolute' && m.kind === 'cc') {
      const delta = relative(m.encoder, raw);
      const step = (max - min) / 127;
      const cur = this.params.number(m.param);
      this.set(m, spec, Math.min(max, Math.max(min, cur + delta * step)));
      return;
    }
    let x = raw / full;
    if (m.invert) x = 1 - x;
    if (m.takeover === 'pickup' && !this.picked.get(m.id)) {
      // Soft takeover: wait until the control meets the value, from either side.
      const target = this.normalized(m);
      const last = this.lastIn.get(m.id);
      this.lastIn.set(m.id, x);
      const crossed = Math.abs(x - target) <= 1.5 / 127 || (last !== undefined && (last - target) * (x - target) <= 0);
      if (!crossed) return;
      this.picked.set(m.id, true);
    }
    this.set(m, spec, min + SHAPE[m.curve ?? 'lin'][0](x) * (max - min));
  }

  private noteIn(m: MidiMappingSpec, on: boolean): void {
    if (!this.params.has(m.param)) return;
    const { spec, min, max } = this.range(m);
    const mode = m.mode ?? (spec.type === 'trigger' ? 'trigger' : spec.type === 'bool' ? 'toggle' : 'momentary');
    if (mode === 'trigger') {
      if (on) this.params.set(m.param, true, 'midi');
    } else if (mode === 'toggle') {
      if (!on) return;
      const cur = this.params.get(m.param);
      this.set(m, spec, spec.type === 'bool' ? (cur === true ? 0 : 1) : this.params.number(m.param) === max ? min : max);
    } else this.set(m, spec, on ? max : min);
  }

  private set(m: MidiMappingSpec, spec: ParamSpec, v: number): void {
    const value = spec.type === 'bool' ? v >= 0.5 : spec.type === 'int' ? Math.round(v) : v;
    try {
      this.params.set(m.param, value, 'midi');
    } catch {
      // A mapping to a parameter that no longer takes numbers: ignored, never thrown into MIDI input.
    }
  }

  /** Where the parameter sits on the control's 0..1 travel (inverse curve and invert). */
  private normalized(m: MidiMappingSpec): number {
    const { min, max } = this.range(m);
    const v = this.params.number(m.param);
    let y = max === min ? 0 : Math.min(1, Math.max(0, (v - min) / (max - min)));
    y = SHAPE[m.curve ?? 'lin'][1](y);
    return m.invert ? 1 - y : y;
  }

  private feedback(m: MidiMappingSpec): void {
    const ch = m.channel === 'any' ? 0 : m.channel;
    const x = this.normalized(m);
    // After a change elsewhere, the control must be picked up again.
    this.picked.delete(m.id);
    if (m.kind === 'cc' && (!m.encoder || m.encoder === 'absolute')) this.opts.send!([0xb0 | ch, m.number, Math.round(x * 127)]);
    else if (m.kind === 'cc14') {
      const v = Math.round(x * 16383);
      this.opts.send!([0xb0 | ch, m.number, v >> 7, m.number + 32, v & 0x7f]);
    } else if (m.kind === 'pitchbend') {
      const v = Math.round(x * 16383);
      this.opts.send!([0xe0 | ch, v & 0x7f, v >> 7]);
    } else if (m.kind === 'note') this.opts.send!([0x90 | ch, m.number, x >= 0.5 ? 127 : 0]);
  }
}

function relative(encoder: Encoder, v: number): number {
  if (encoder === 'relative-2c') return v < 64 ? v : v - 128;
  if (encoder === 'relative-bin') return v - 64;
  return v & 0x40 ? -(v & 0x3f) : v & 0x3f;
}

function validate<T extends Omit<MidiMappingSpec, 'id'>>(s: T, params: ParameterRegistry): T {
  if (typeof s !== 'object' || s === null) throw new Error('a mapping is an object');
  if (!params.has(s.param)) throw new Error(`no parameter ${s.param}`);
  if (!['cc', 'cc14', 'note', 'pitchbend'].includes(s.kind)) throw new Error(`kind must be cc, cc14, note or pitchbend (got ${JSON.stringify(s.kind)})`);
  if (s.channel !== 'any' && !(Number.isInteger(s.channel) && s.channel >= 0 && s.channel <= 15)) throw new Error(`channel must be 0..15 or "any" (got ${JSON.stringify(s.channel)})`);
  const maxNumber = s.kind === 'cc14' ? 31 : 127;
  if (!(Number.isInteger(s.number) && s.number >= 0 && s.number <= maxNumber)) throw new Error(`number must be 0..${maxNumber} (got ${JSON.stringify(s.number)})`);
  for (const k of ['min', 'max'] as const) if (s[k] !== undefined && !Number.isFinite(s[k])) throw new Error(`${k} must be a number`);
  if (s.curve && !['lin', 'exp', 'log'].includes(s.curve)) throw new Error(`curve must be lin, exp or log`);
  if (s.encoder && !['absolute', 'relative-2c', 'relative-bin', 'relative-sign'].includes(s.encoder)) throw new Error('unknown encoder mode');
  return { ...s };
}
