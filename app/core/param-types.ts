// Parameter types own their behaviour, as theatre.js prop types do: how a value from any edge is
// validated and normalised, how it glides in a morph, how it reads to a person, how it travels in
// OSC and how a MIDI control's travel maps onto it. One table, one place per type; the registry,
// morphs, OSC, OSCQuery, MIDI and the UI all ask here. Pure TypeScript: the page imports it too.

export type ParamType = 'float' | 'int' | 'bool' | 'enum' | 'trigger' | 'string';
export type ParamValue = number | boolean | string;

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
  /** String parameters: the form every value must have (a regex source, anchored), checked at every edge. */
  pattern?: string;
  /** That form as a person reads it (`all, share:0.3, range:0-15`), named when a value is refused. */
  patternHint?: string;
  /** Seconds to glide to a new value (one-pole); 0 = jump. */
  smoothing?: number;
  /** Read-only values (stats, regression-net outputs) are set by the engine only. */
  readOnly?: boolean;
  /** A read-only value OSC feeds too (Wekinator inputs): the page, MIDI and presets still cannot set it. */
  oscWritable?: boolean;
  /**
   * An action, not a state (record, preset recall, play): never captured into a preset nor applied
   * from one, so loading a scene cannot start a recording or jump to another scene.
   */
  transient?: boolean;
}

/** A parameter as the page sees it: its spec and its value. */
export type ParamInfo = Omit<ParamSpec, 'smoothing' | 'limit' | 'clamp' | 'step' | 'transient'> & { value: ParamValue };

export class ParamError extends Error {}

/** A value a parameter refused: not finite, out of its hard bounds, or of the wrong kind. */
export class ParamRefused extends ParamError {}

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

/** An OSC message's type tags and arguments (osc-js's Message fields). */
export interface OscArgs {
  types: string;
  args: Array<number | boolean | string>;
}

export interface ParamKind {
  /** Validates and normalises a value from any edge; throws ParamRefused naming why. */
  coerce(spec: ParamSpec, value: unknown): ParamValue;
  /** Whether a morph glides it; the others switch when the morph ends. */
  continuous: boolean;
  /** The value at k (0..1) of the way from a to b. */
  interpolate(a: ParamValue, b: ParamValue, k: number): ParamValue;
  /** The value as a person reads it. */
  format(spec: ParamSpec, value: ParamValue): string;
  /** OSCQuery TYPE (also the tag of outgoing messages). */
  oscTag: string;
  /** One outgoing OSC value. */
  toOsc(value: ParamValue): OscArgs;
  /** A MIDI control's default travel in the parameter's units; undefined: not MIDI-mappable. */
  midiRange(spec: ParamSpec): [number, number] | undefined;
  /** The value as a number on that travel (an enum by its option index). */
  toNumber(spec: ParamSpec, value: ParamValue): number;
  /** A number on that travel as a value (rounded for ints and enums, thresholded for bools). */
  fromNumber(spec: ParamSpec, x: number): ParamValue;
}

function refuse(spec: ParamSpec, why: string, value: unknown): never {
  throw new ParamRefused(`${spec.address}: ${why} (got ${shown(value)})`);
}

/** A refused value as it goes into a message: short, and never a throw of its own (BigInt, cycles). */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

function coerceNumber(spec: ParamSpec, value: unknown): number {
  const n = typeof value === 'boolean' ? Number(value) : typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) return refuse(spec, 'expected a finite number', value);
  let v = spec.type === 'int' ? Math.round(n) : n;
  // A hard range holds its value at the edge (a fader overshooting 1.0); beyond the limits (a soft
  // range's, or the defaults) a value is refused instead of silently moved.
  if (spec.clamp !== false) {
    if (spec.min !== undefined && v < spec.min) v = spec.min;
    if (spec.max !== undefined && v > spec.max) v = spec.max;
  }
  const [lo, hi] = hardBounds(spec);
  if (v < lo || v > hi) return refuse(spec, `out of bounds ${lo}..${hi}`, value);
  return v;
}

function coerceBool(spec: ParamSpec, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value >= 0.5;
  if (value === 'true' || value === 'false') return value === 'true';
  return refuse(spec, 'expected a boolean', value);
}

/** Digits after the point: enough to see a move of 1/1000 of the range, no more. */
function decimals(spec: ParamSpec, value: number): number {
  if (spec.type === 'int') return 0;
  const span = spec.min !== undefined && spec.max !== undefined && spec.max > spec.min ? spec.max - spec.min : Math.max(1, Math.abs(value) * 2);
  return span <= 2.5 ? 3 : span <= 25 ? 2 : span <= 250 ? 1 : 0;
}

function formatNumber(spec: ParamSpec, value: ParamValue): string {
  const v = Number(value);
  if (!Number.isFinite(v)) return String(value);
  const s = v.toFixed(decimals(spec, v));
  // "-0.000" reads as a glitch.
  return /^-0(\.0+)?$/.test(s) ? s.slice(1) : s;
}

const switchAtEnd = (a: ParamValue, b: ParamValue, k: number) => (k >= 1 ? b : a);

const number = (oscTag: 'f' | 'i'): ParamKind => ({
  coerce: coerceNumber,
  continuous: true,
  interpolate: (a, b, k) => (typeof a === 'number' && typeof b === 'number' ? (k >= 1 ? b : a + (b - a) * k) : switchAtEnd(a, b, k)),
  format: formatNumber,
  oscTag,
  toOsc: (v) => (oscTag === 'i' ? { types: 'i', args: [Math.round(Number(v)) | 0] } : { types: 'f', args: [Number(v)] }),
  midiRange: (spec) => [spec.min ?? 0, spec.max ?? 1],
  toNumber: (_spec, v) => Number(v),
  fromNumber: (spec, x) => (spec.type === 'int' ? Math.round(x) : x),
});

export const PARAM_KINDS: Record<ParamType, ParamKind> = {
  float: number('f'),
  int: number('i'),
  bool: {
    coerce: coerceBool,
    continuous: false,
    interpolate: switchAtEnd,
    format: (_spec, v) => (v === true ? 'on' : 'off'),
    oscTag: 'T', // T/F: a boolean, whose value is true or false
    toOsc: (v) => ({ types: v === true ? 'T' : 'F', args: [v === true] }),
    midiRange: () => [0, 1],
    toNumber: (_spec, v) => (v === true ? 1 : 0),
    fromNumber: (_spec, x) => x >= 0.5,
  },
  trigger: {
    coerce: coerceBool,
    continuous: false,
    interpolate: switchAtEnd,
    format: () => 'fire',
    oscTag: 'I', // an impulse: no value
    toOsc: () => ({ types: 'I', args: [Infinity] }),
    midiRange: () => [0, 1],
    toNumber: () => 0,
    fromNumber: (_spec, x) => x >= 0.5,
  },
  enum: {
    coerce: (spec, value) => {
      if (typeof value === 'string' && spec.options?.includes(value)) return value;
      if (typeof value === 'number' && spec.options && Number.isInteger(value) && value >= 0 && value < spec.options.length) return spec.options[value]!;
      return refuse(spec, `expected one of ${spec.options?.join(', ')}`, value);
    },
    continuous: false,
    interpolate: switchAtEnd,
    format: (_spec, v) => String(v),
    oscTag: 's', // with VALS in its RANGE
    toOsc: (v) => ({ types: 's', args: [String(v)] }),
    midiRange: (spec) => [0, (spec.options?.length ?? 1) - 1],
    toNumber: (spec, v) => Math.max(0, spec.options?.indexOf(String(v)) ?? 0),
    fromNumber: (_spec, x) => Math.round(x),
  },
  string: {
    coerce: (spec, value) => {
      if (typeof value !== 'string') return refuse(spec, 'expected a string', value);
      if (value.length > 1024) return refuse(spec, 'a string of at most 1024 characters', value);
      if (spec.pattern !== undefined && !new RegExp(`^(?:${spec.pattern})$`).test(value)) return refuse(spec, `expected ${spec.patternHint ?? `the form ${spec.pattern}`}`, value);
      return value;
    },
    continuous: false,
    interpolate: switchAtEnd,
    format: (_spec, v) => String(v),
    oscTag: 's',
    toOsc: (v) => ({ types: 's', args: [String(v)] }),
    midiRange: () => undefined,
    toNumber: () => 0,
    fromNumber: (_spec, x) => String(x),
  },
};

export const kindOf = (spec: Pick<ParamSpec, 'type'>): ParamKind => PARAM_KINDS[spec.type];

/** Validates and normalises a value for a parameter; throws ParamRefused naming why. */
export const coerce = (spec: ParamSpec, value: unknown): ParamValue => kindOf(spec).coerce(spec, value);
