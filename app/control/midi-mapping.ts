// MIDI mappings, driven by raw MIDI bytes (a port, a test, a virtual device all look the same):
// CC 7-bit and 14-bit pairs, notes (toggle, momentary, trigger), pitch bend, program change; curves,
// ranges, invert, soft takeover, relative encoders, smoothing; MIDI learn; and feedback to motorised
// faders and LED rings when a value changes by other means. No I/O here: midi-ports.ts is the edge.
import type { ParameterRegistry, ParamSpec } from '../core/registry.ts';
import { kindOf } from '../core/param-types.ts';
import { Emitter } from '../core/emitter.ts';

export type MidiKind = 'cc' | 'cc14' | 'note' | 'pitchbend' | 'program';
export type Curve = 'lin' | 'exp' | 'log';
export type Encoder = 'absolute' | 'relative-2c' | 'relative-bin' | 'relative-sign';
export type NoteMode = 'toggle' | 'momentary' | 'trigger';

export interface MidiMappingSpec {
  id: string;
  /** The parameter's address, e.g. /netbend/knobs/k1. */
  param: string;
  kind: MidiKind;
  /** 0..15, or 'any'. */
  channel: number | 'any';
  /** CC or note number (the MSB controller, 0..31, for cc14); 0 for pitch bend and program. */
  number: number;
  /** Target range in the parameter's units; defaults to the parameter's own range. */
  min?: number;
  max?: number;
  curve?: Curve;
  invert?: boolean;
  /** Notes: what a press does (default: trigger for triggers, toggle for bools, else momentary). */
  mode?: NoteMode;
  /** CC only: how the controller encodes its value (relative encoders send steps, not positions). */
  encoder?: Encoder;
  /** 'pickup': ignore the control until it crosses the parameter's value (no jumps). */
  takeover?: 'jump' | 'pickup';
  /** Seconds to glide to each new value (handed to the registry, which glides once per frame). */
  smoothing?: number;
}

/** The fields of a mapping a performer edits after it is made (update()); undefined puts one back to its default. */
export type MidiMappingEdit = Partial<Pick<MidiMappingSpec, 'min' | 'max' | 'curve' | 'invert' | 'takeover'>>;

/**
 * Why the mappings changed: a mapping added (or replaced), edited or removed, the whole list
 * replaced (a preset, an undo), one made by MIDI learn, or a learned CC upgraded to 14-bit by its
 * LSB partner (part of the same learn).
 */
export type MidiChangeCause = 'add' | 'update' | 'remove' | 'load' | 'learn' | 'upgrade';

/** What add() and fromJSON() accept: `type` is an alias of `kind`; the id is made if absent. */
export type MidiMappingInput = Omit<MidiMappingSpec, 'id' | 'kind' | 'number'> & { id?: string; kind?: MidiKind; type?: MidiKind; number?: number };

export interface MidiRouterOptions {
  /** Bytes to send back out, one complete message per call (feedback); absent = no feedback. */
  send?: (bytes: number[]) => void;
  /** Every program change (preset bank recall), mapped or not. */
  onProgram?: (program: number, channel: number) => void;
  /** MIDI clock (24 ticks per beat) and transport; 'continue' resumes without resetting the beat. */
  onClock?: (kind: 'tick' | 'start' | 'continue' | 'stop') => void;
  /** A mapping was made by MIDI learn (or upgraded to 14-bit by its LSB partner). */
  onLearn?: (mapping: MidiMappingSpec) => void;
  /** Seconds, for the 14-bit learn window; tests pass a fake clock. */
  now?: () => number;
  /** How soon after a learned CC n its LSB partner n+32 must come to make the mapping 14-bit. */
  learnWindow?: number;
}

// Curves shape the control's 0..1 travel; the second function is the inverse (for feedback, pickup).
const SHAPE: Record<Curve, [(x: number) => number, (y: number) => number]> = {
  lin: [(x) => x, (y) => y],
  exp: [(x) => x * x, (y) => Math.sqrt(y)], // slow at the bottom: fine control of small values
  log: [(x) => Math.sqrt(x), (y) => y * y], // fast at the bottom
};

/** Data bytes each channel message carries, by status high nibble. */
const DATA_BYTES: Record<number, number> = { 0x80: 2, 0x90: 2, 0xa0: 2, 0xb0: 2, 0xc0: 1, 0xd0: 1, 0xe0: 2 };

/** Mapping ids are one OSC address segment: each mapping's moves live at /netbend/midi/<id>/... */
export const MIDI_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export class MidiRouter extends Emitter<{ change: { cause: MidiChangeCause; before: MidiMappingSpec[] } }> {
  private readonly mappings = new Map<string, MidiMappingSpec>();
  /** Pickup mappings that have met their parameter since it last moved by other means. */
  private readonly picked = new Set<string>();
  /** Last normalised input per mapping: pickup looks for a crossing between two readings. */
  private readonly lastIn = new Map<string, number>();
  /** 14-bit state per mapping: the last MSB and LSB seen. */
  private readonly pair = new Map<string, { msb: number; lsb: number }>();
  /** The channel an 'any'-channel mapping last heard, so feedback goes back there. */
  private readonly lastChannel = new Map<string, number>();
  private running = 0;
  private pending: number[] = [];
  private inSysex = false;
  /** Armed by learn(): the next CC, note or pitch bend maps to this address. */
  learning: string | undefined;
  private learned: { spec: MidiMappingSpec; at: number; value: number } | undefined;
  private readonly now: () => number;
  private readonly unlisten: () => void;
  /** Inside a change (learn replaces, then adds): only the outermost one is announced. */
  private changing = 0;

  constructor(
    private readonly params: ParameterRegistry,
    private readonly opts: MidiRouterOptions = {},
  ) {
    super();
    this.now = opts.now ?? (() => performance.now() / 1000);
    this.unlisten = params.on('change', (c) => {
      if (c.source === 'midi') return; // no echo: the controller already shows what it sent
      for (const m of this.mappings.values()) {
        if (m.param !== c.address) continue;
        this.picked.delete(m.id); // moved elsewhere: a pickup control must meet it again
        this.lastIn.delete(m.id);
        if (opts.send) this.feedback(m);
      }
    });
  }

  /** Adds a mapping (or replaces the one with the same id). Throws a readable error if invalid. */
  add(input: MidiMappingInput): MidiMappingSpec {
    const spec = parseMapping(input, this.params);
    return this.change('add', () => {
      spec.id ??= this.freeId();
      this.mappings.set(spec.id, spec as MidiMappingSpec);
      this.forget(spec.id);
      return { ...spec } as MidiMappingSpec;
    });
  }

  /**
   * Edits a mapping's range, curve, invert or takeover (undefined: back to the default); the
   * control then has to meet its parameter again if it picks up. Throws a readable error, changing
   * nothing, if there is no such mapping or the result is invalid.
   */
  update(id: string, edit: MidiMappingEdit): MidiMappingSpec {
    const old = this.mappings.get(id);
    if (!old) throw new Error(`no MIDI mapping "${id}"`);
    const spec = parseMapping({ ...old, ...edit }, this.params) as MidiMappingSpec;
    return this.change('update', () => {
      this.mappings.set(id, spec);
      this.forget(id);
      return { ...spec };
    });
  }

  remove(id: string): boolean {
    if (!this.mappings.has(id)) return false;
    return this.change('remove', () => {
      this.forget(id);
      return this.mappings.delete(id);
    });
  }

  get(id: string): MidiMappingSpec | undefined {
    const m = this.mappings.get(id);
    return m && { ...m };
  }

  list(): MidiMappingSpec[] {
    return [...this.mappings.values()].map((m) => ({ ...m }));
  }

  /** Plain objects for presets. */
  toJSON(): MidiMappingSpec[] {
    return this.list();
  }

  /** Replaces all mappings; every entry is validated first, so a bad list changes nothing. */
  fromJSON(list: unknown): void {
    if (!Array.isArray(list)) throw new Error(`midi mappings: expected an array (got ${describe(list)})`);
    const ids = new Set<string>();
    const specs = list.map((x, i) => {
      try {
        const s = parseMapping(x, this.params);
        if (s.id !== undefined && ids.has(s.id)) throw new Error(`duplicate id "${s.id}"`);
        if (s.id !== undefined) ids.add(s.id);
        return s;
      } catch (err) {
        throw new Error(`midi mapping ${i}: ${(err as Error).message}`);
      }
    });
    this.change('load', () => {
      this.mappings.clear();
      this.picked.clear();
      this.lastIn.clear();
      this.pair.clear();
      // Ids from the file first, so made-up ids never take one of theirs.
      for (const s of specs) if (s.id !== undefined) this.mappings.set(s.id, s as MidiMappingSpec);
      for (const s of specs) if (s.id === undefined) this.add(s);
    });
  }

  /** Runs a mutation and announces it once, with the list as it was before (an undo step's). */
  private change<T>(cause: MidiChangeCause, fn: () => T): T {
    const before = this.changing === 0 ? this.list() : [];
    this.changing++;
    let result: T;
    try {
      result = fn();
    } finally {
      this.changing--;
    }
    if (this.changing === 0) this.emit('change', { cause, before });
    return result;
  }

  /** Arms learn: the next CC, note or pitch bend is mapped to `address`. undefined cancels. */
  learn(address: string | undefined): void {
    if (address === undefined) return this.cancelLearn();
    const spec = this.params.spec(address);
    if (!spec) throw new Error(`no parameter ${address}`);
    if (spec.readOnly || !kindOf(spec).midiRange(spec)) throw new Error(`${address} cannot be MIDI-mapped (${spec.readOnly ? 'read-only' : `a ${spec.type}`})`);
    this.learning = address;
  }

  cancelLearn(): void {
    this.learning = undefined;
  }

  /** Stops listening to the registry (feedback). */
  dispose(): void {
    this.unlisten();
  }

  /**
   * Feeds raw MIDI bytes in any chunking: running status, realtime bytes inside messages, sysex
   * skipped, data bytes without a status and truncated messages dropped. Never throws.
   */
  handle(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (!Number.isInteger(b) || b < 0 || b > 255) continue;
      if (b >= 0xf8) {
        // Realtime bytes may appear anywhere, even inside other messages, and change nothing else.
        if (b === 0xf8) this.call(() => this.opts.onClock?.('tick'));
        else if (b === 0xfa) this.call(() => this.opts.onClock?.('start'));
        else if (b === 0xfb) this.call(() => this.opts.onClock?.('continue'));
        else if (b === 0xfc) this.call(() => this.opts.onClock?.('stop'));
        continue;
      }
      if (b >= 0x80) {
        // Any status byte ends a sysex (a lost F7 must not swallow the rest of the show) and a
        // half-received message; system common messages also cancel running status.
        this.inSysex = b === 0xf0;
        this.running = b < 0xf0 ? b : 0;
        this.pending = [];
        continue;
      }
      if (this.inSysex || !this.running) continue; // sysex payload, or a data byte with no status
      this.pending.push(b);
      if (this.pending.length === DATA_BYTES[this.running & 0xf0]) {
        const [d1 = 0, d2 = 0] = this.pending;
        this.pending = [];
        this.call(() => this.message(this.running & 0xf0, this.running & 0x0f, d1, d2));
      }
    }
  }

  /** A throwing callback must not break byte parsing; the rest of the stream still counts. */
  private call(fn: () => void): void {
    try {
      fn();
    } catch {
      // The callback's owner reports its own errors; MIDI input goes on.
    }
  }

  private message(type: number, ch: number, d1: number, d2: number): void {
    if (type === 0x90 && d2 === 0) type = 0x80; // note on, velocity 0: a note off
    if (type === 0xc0) this.opts.onProgram?.(d1, ch);
    if (this.learning && (type === 0xb0 || type === 0x90 || type === 0xe0)) return this.learnFrom(type, ch, d1, d2);
    const l = this.learned;
    if (l && type === 0xb0 && l.spec.kind === 'cc' && l.spec.channel === ch && d1 === l.spec.number + 32 && this.now() - l.at <= (this.opts.learnWindow ?? 0.05)) {
      // The LSB partner right after a learned CC: a 14-bit control.
      this.change('upgrade', () => {
        l.spec.kind = 'cc14';
        this.pair.set(l.spec.id, { msb: l.value, lsb: d2 });
      });
      this.learned = undefined;
      this.opts.onLearn?.({ ...l.spec });
      return;
    }
    for (const m of this.mappings.values()) {
      if (m.channel !== 'any' && m.channel !== ch) continue;
      if (m.kind === 'cc' && type === 0xb0 && d1 === m.number) this.ccIn(m, d2, ch);
      else if (m.kind === 'cc14' && type === 0xb0 && (d1 === m.number || d1 === m.number + 32)) this.cc14In(m, d1 === m.number, d2, ch);
      else if (m.kind === 'pitchbend' && type === 0xe0) this.controlIn(m, ((d2 << 7) | d1) / 16383, ch);
      else if (m.kind === 'note' && (type === 0x90 || type === 0x80) && d1 === m.number) this.noteIn(m, type === 0x90, ch);
      else if (m.kind === 'program' && type === 0xc0) this.programIn(m, d1, ch);
    }
  }

  private learnFrom(type: number, ch: number, d1: number, d2: number): void {
    if (type === 0x80) return; // a release is not a gesture to learn from
    const param = this.learning!;
    this.learning = undefined;
    const kind: MidiKind = type === 0xb0 ? 'cc' : type === 0x90 ? 'note' : 'pitchbend';
    // One change (one undo step): the parameter's old mappings out, the learned one in.
    const spec = this.change('learn', () => {
      // Re-learning a parameter replaces its old mappings; a knob may still drive several parameters.
      for (const m of [...this.mappings.values()]) if (m.param === param) this.remove(m.id);
      // Pickup, so the first touch of a freshly learned knob does not jump the value.
      return this.add({ param, kind, channel: ch, number: kind === 'pitchbend' ? 0 : d1, ...(kind === 'note' ? {} : { takeover: 'pickup' as const }) });
    });
    this.learned = kind === 'cc' && d1 < 32 ? { spec: this.mappings.get(spec.id)!, at: this.now(), value: d2 } : undefined;
    this.opts.onLearn?.(spec);
  }

  private ccIn(m: MidiMappingSpec, v: number, ch: number): void {
    if (!m.encoder || m.encoder === 'absolute') return this.controlIn(m, v / 127, ch);
    const r = this.range(m);
    if (!r) return;
    this.lastChannel.set(m.id, ch);
    let delta = relative(m.encoder, v);
    if (m.invert) delta = -delta;
    // One detent moves 1/127 of the range; whole steps for ints and enums so small ranges still move.
    let step = (r.max - r.min) / 127;
    if (r.spec.type === 'int' || r.spec.type === 'enum') step = Math.sign(step) * Math.max(1, Math.round(Math.abs(step)));
    const lo = Math.min(r.min, r.max);
    const hi = Math.max(r.min, r.max);
    this.set(m, r.spec, Math.min(hi, Math.max(lo, this.numeric(m.param, r.spec) + delta * step)));
  }

  private cc14In(m: MidiMappingSpec, isMsb: boolean, v: number, ch: number): void {
    const p = this.pair.get(m.id) ?? { msb: 0, lsb: 0 };
    // Per the MIDI spec a new MSB resets the LSB; an MSB repeated unchanged keeps it (no dip).
    if (isMsb) {
      if (v !== p.msb) p.lsb = 0;
      p.msb = v;
    } else p.lsb = v;
    this.pair.set(m.id, p);
    this.controlIn(m, ((p.msb << 7) | p.lsb) / 16383, ch);
  }

  /** An absolute position x in 0..1 (CC, 14-bit CC, pitch bend). */
  private controlIn(m: MidiMappingSpec, x: number, ch: number): void {
    const r = this.range(m);
    if (!r) return;
    this.lastChannel.set(m.id, ch);
    if (m.invert) x = 1 - x;
    const last = this.lastIn.get(m.id);
    this.lastIn.set(m.id, x);
    if (r.spec.type === 'trigger') {
      // A knob or fader fires a trigger when it passes the middle going up.
      if (x >= 0.5 && (last === undefined || last < 0.5)) this.fire(m);
      return;
    }
    if (m.takeover === 'pickup' && !this.picked.has(m.id)) {
      // Soft takeover: wait until the control meets the value, from either side. x is past the
      // invert, and so must the value's place be (normalized() gives the control's own travel).
      const at = m.invert ? 1 - this.normalized(m) : this.normalized(m);
      const crossed = Math.abs(x - at) <= 1 / 127 || (last !== undefined && (last - at) * (x - at) <= 0);
      if (!crossed) return;
      this.picked.add(m.id);
    }
    this.set(m, r.spec, r.min + SHAPE[m.curve ?? 'lin'][0](x) * (r.max - r.min));
  }

  private noteIn(m: MidiMappingSpec, on: boolean, ch: number): void {
    const r = this.range(m);
    if (!r) return;
    this.lastChannel.set(m.id, ch);
    const mode = m.mode ?? (r.spec.type === 'trigger' ? 'trigger' : r.spec.type === 'bool' ? 'toggle' : 'momentary');
    const [lo, hi] = m.invert ? [r.max, r.min] : [r.min, r.max];
    if (mode === 'trigger' || r.spec.type === 'trigger') {
      if (on) this.fire(m);
    } else if (mode === 'toggle') {
      if (!on) return;
      const cur = this.numeric(m.param, r.spec);
      this.set(m, r.spec, Math.abs(cur - hi) < Math.abs(cur - lo) ? lo : hi);
    } else this.set(m, r.spec, on ? hi : lo);
  }

  /** Program n: an int takes n, an enum its nth option; floats and bools scale n like a CC. */
  private programIn(m: MidiMappingSpec, n: number, ch: number): void {
    const r = this.range(m);
    if (!r) return;
    this.lastChannel.set(m.id, ch);
    if (r.spec.type === 'int' || r.spec.type === 'enum') this.set(m, r.spec, n);
    else if (r.spec.type === 'trigger') this.fire(m);
    else this.controlIn(m, n / 127, ch);
  }

  private range(m: MidiMappingSpec): { spec: ParamSpec; min: number; max: number } | undefined {
    const spec = this.params.spec(m.param);
    if (!spec) return undefined; // its parameter was removed (an edit deleted): the mapping sleeps
    const [bottom, top] = kindOf(spec).midiRange(spec) ?? [0, 1];
    return { spec, min: m.min ?? bottom, max: m.max ?? top };
  }

  /** The parameter as a number on the mapping's scale (an enum by its option index). */
  private numeric(address: string, spec: ParamSpec): number {
    return kindOf(spec).toNumber(spec, this.params.target(address));
  }

  private set(m: MidiMappingSpec, spec: ParamSpec, v: number): void {
    const value = kindOf(spec).fromNumber(spec, v);
    // Another control on the same parameter just moved it: a pickup control must meet it again.
    for (const o of this.mappings.values()) if (o.param === m.param && o.id !== m.id) this.picked.delete(o.id);
    try {
      this.params.set(m.param, value, 'midi', m.smoothing);
    } catch {
      // A value the parameter refuses (an enum index past its options): ignored, never thrown into MIDI input.
    }
  }

  private fire(m: MidiMappingSpec): void {
    try {
      this.params.set(m.param, true, 'midi');
    } catch {
      // As in set().
    }
  }

  /** Where the parameter sits on the control's 0..1 travel (inverse curve and invert). */
  private normalized(m: MidiMappingSpec): number {
    const r = this.range(m);
    if (!r) return 0;
    const v = this.numeric(m.param, r.spec);
    let y = r.max === r.min ? 0 : Math.min(1, Math.max(0, (v - r.min) / (r.max - r.min)));
    y = SHAPE[m.curve ?? 'lin'][1](y);
    return m.invert ? 1 - y : y;
  }

  private feedback(m: MidiMappingSpec): void {
    const spec = this.params.spec(m.param);
    // Triggers have no position to show; a program change out would switch the device's own program.
    if (!spec || spec.type === 'trigger' || m.kind === 'program') return;
    const ch = m.channel === 'any' ? (this.lastChannel.get(m.id) ?? 0) : m.channel;
    const x = this.normalized(m);
    const send = this.opts.send!;
    if (m.kind === 'cc')
      send([0xb0 | ch, m.number, Math.round(x * 127)]); // relative encoders: ring position
    else if (m.kind === 'cc14') {
      const v = Math.round(x * 16383);
      this.pair.set(m.id, { msb: v >> 7, lsb: v & 0x7f });
      send([0xb0 | ch, m.number, v >> 7]);
      send([0xb0 | ch, m.number + 32, v & 0x7f]);
    } else if (m.kind === 'pitchbend') {
      const v = Math.round(x * 16383);
      send([0xe0 | ch, v & 0x7f, v >> 7]);
    } else send([0x90 | ch, m.number, x >= 0.5 ? 127 : 0]); // note: the pad's LED
  }

  private forget(id: string): void {
    this.picked.delete(id);
    this.lastIn.delete(id);
    this.pair.delete(id);
    this.lastChannel.delete(id);
  }

  private freeId(): string {
    let n = this.mappings.size + 1;
    while (this.mappings.has(`midi${n}`)) n++;
    return `midi${n}`;
  }
}

/** A relative encoder's byte as a signed step count. */
function relative(encoder: Encoder, v: number): number {
  if (encoder === 'relative-2c') return v < 64 ? v : v - 128; // 1 = +1, 127 = -1
  if (encoder === 'relative-bin') return v - 64; // 65 = +1, 63 = -1
  return v & 0x40 ? -(v & 0x3f) : v & 0x3f; // relative-sign: 1 = +1, 65 = -1
}

const KINDS: readonly MidiKind[] = ['cc', 'cc14', 'note', 'pitchbend', 'program'];
const KEYS = new Set(['id', 'param', 'kind', 'type', 'channel', 'number', 'min', 'max', 'curve', 'invert', 'mode', 'encoder', 'takeover', 'smoothing']);
const describe = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/** Validates one mapping (from code or a preset file) into a clean spec; errors name the field. */
export function parseMapping(x: unknown, params: ParameterRegistry): Omit<MidiMappingSpec, 'id'> & { id?: string } {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error(`a mapping is an object (got ${describe(x)})`);
  const o = x as Record<string, unknown>;
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (!allowed.includes(v as T)) throw new Error(`${key} must be one of ${allowed.join(', ')} (got ${describe(v)})`);
    return v as T;
  };
  const num = (key: string): number | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${key} must be a finite number (got ${describe(v)})`);
    return v;
  };
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw new Error(`unknown field "${k}"`);
  if (o.id !== undefined && (typeof o.id !== 'string' || !MIDI_ID.test(o.id))) throw new Error(`id must be one address segment of 1-64 letters, digits, '_', '.' or '-' (got ${describe(o.id)})`);
  if (typeof o.param !== 'string') throw new Error(`param must be a parameter address (got ${describe(o.param)})`);
  const spec = params.spec(o.param);
  if (!spec) throw new Error(`no parameter ${o.param}`);
  if (spec.readOnly || !kindOf(spec).midiRange(spec)) throw new Error(`${o.param} cannot be MIDI-mapped (${spec.readOnly ? 'read-only' : `a ${spec.type}`})`);
  if (o.kind !== undefined && o.type !== undefined && o.kind !== o.type) throw new Error(`kind and type disagree (${describe(o.kind)} vs ${describe(o.type)})`);
  const kind = oneOf('kind', KINDS) ?? oneOf('type', KINDS);
  if (!kind) throw new Error(`kind must be one of ${KINDS.join(', ')} (got nothing)`);
  const channel = o.channel;
  if (channel !== 'any' && !(Number.isInteger(channel) && (channel as number) >= 0 && (channel as number) <= 15)) throw new Error(`channel must be 0..15 or "any" (got ${describe(channel)})`);
  let number = o.number;
  if (kind === 'pitchbend' || kind === 'program')
    number = 0; // one per channel: no number
  else if (number === undefined) throw new Error(`number is required for ${kind}`);
  const maxNumber = kind === 'cc14' ? 31 : 127;
  if (!(Number.isInteger(number) && (number as number) >= 0 && (number as number) <= maxNumber)) throw new Error(`number must be 0..${maxNumber} for ${kind} (got ${describe(o.number)})`);
  const encoder = oneOf('encoder', ['absolute', 'relative-2c', 'relative-bin', 'relative-sign'] as const);
  if (encoder && encoder !== 'absolute' && kind !== 'cc') throw new Error(`encoder ${encoder} is for 7-bit CC only (this is ${kind})`);
  if (o.invert !== undefined && typeof o.invert !== 'boolean') throw new Error(`invert must be true or false (got ${describe(o.invert)})`);
  const smoothing = num('smoothing');
  if (smoothing !== undefined && smoothing < 0) throw new Error(`smoothing must be >= 0 seconds (got ${smoothing})`);
  const out: Omit<MidiMappingSpec, 'id'> & { id?: string } = { param: o.param, kind, channel: channel as number | 'any', number: number as number };
  if (o.id !== undefined) out.id = o.id as string;
  const optional = {
    min: num('min'),
    max: num('max'),
    curve: oneOf('curve', ['lin', 'exp', 'log'] as const),
    invert: o.invert as boolean | undefined,
    mode: oneOf('mode', ['toggle', 'momentary', 'trigger'] as const),
    encoder,
    takeover: oneOf('takeover', ['jump', 'pickup'] as const),
    smoothing,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}
