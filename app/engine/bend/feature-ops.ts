// The feature-map ops: what each one does to the activations leaving a layer, the live values it
// takes (each a parameter under /netbend/bend/<name>/), and when it leaves them untouched. Pure
// data, read by the plan (parameters), the graph writer (nodes) and the worker (host tensors).
import type { ParamSpec } from '../../core/registry.ts';

export type FeatureOp =
  | 'translate'
  | 'rotate'
  | 'zoom'
  | 'flip'
  | 'mirror'
  | 'erode'
  | 'dilate'
  | 'blur'
  | 'sharpen'
  | 'edges'
  | 'threshold'
  | 'invert'
  | 'multiply'
  | 'add'
  | 'noise'
  | 'ablate'
  | 'swap';

/**
 * How an op is computed in the graph. `grid` ops resample the map through a sampling grid the
 * worker computes from their values; the others are fixed node chains whose per-channel factors
 * the worker feeds, so every value (and the channel selection) changes without a new session.
 */
export type FeatureKind = 'grid' | 'morph' | 'blur' | 'sharpen' | 'edges' | 'threshold' | 'invert' | 'multiply' | 'add' | 'noise' | 'swap';

interface OpValue {
  key: string;
  spec: Omit<ParamSpec, 'address' | 'description'>;
  description: string;
}

export interface FeatureOpInfo {
  op: FeatureOp;
  kind: FeatureKind;
  /** What the op does, for pages and OSCQuery. */
  description: string;
  /** The main value, `amount`; its default is the neutral one. */
  amount: OpValue['spec'];
  /** Further live values, after the amount (translate's y, threshold's level, flip's axis). */
  extra: OpValue[];
}

/** A mix from the map as it is (0) to the op's result (1). */
const MIX: OpValue['spec'] = { type: 'float', default: 0, min: 0, max: 1, clamp: true };
const WRAP: OpValue = { key: 'wrap', spec: { type: 'bool', default: false }, description: 'wrap around the edges (tile) instead of filling with zeros' };

export const FEATURE_OPS: Record<FeatureOp, FeatureOpInfo> = {
  translate: {
    op: 'translate',
    kind: 'grid',
    description: 'move the map: amount = x as a share of its width (+ right), y = share of its height (+ down)',
    amount: { type: 'float', default: 0, min: -1, max: 1, clamp: false, limit: [-100, 100] },
    extra: [
      { key: 'y', spec: { type: 'float', default: 0, min: -1, max: 1, clamp: false, limit: [-100, 100] }, description: 'move down, as a share of the height' },
      { ...WRAP, spec: { type: 'bool', default: true } },
    ],
  },
  rotate: {
    op: 'rotate',
    kind: 'grid',
    description: 'rotate the map about its centre by amount degrees (+ clockwise)',
    amount: { type: 'float', default: 0, min: -180, max: 180, clamp: false, limit: [-3600, 3600], unit: 'deg' },
    extra: [WRAP],
  },
  zoom: {
    op: 'zoom',
    kind: 'grid',
    description: 'scale the map about its centre (amount > 1 zooms in)',
    amount: { type: 'float', default: 1, min: 0.25, max: 4, clamp: false, limit: [0.01, 100] },
    extra: [WRAP],
  },
  flip: {
    op: 'flip',
    kind: 'grid',
    description: 'flip the map (amount mixes from none to flipped)',
    amount: MIX,
    extra: [{ key: 'axis', spec: { type: 'enum', default: 'h', options: ['h', 'v', 'hv'] }, description: 'h: left-right, v: top-bottom, hv: both' }],
  },
  mirror: {
    op: 'mirror',
    kind: 'grid',
    description: 'mirror one half of the map onto the other (amount mixes it in)',
    amount: MIX,
    extra: [{ key: 'axis', spec: { type: 'enum', default: 'h', options: ['h', 'v'] }, description: 'h: the left half onto the right, v: the top onto the bottom' }],
  },
  erode: {
    op: 'erode',
    kind: 'morph',
    description: 'shrink bright regions: amount = radius in pixels of the map (0-3)',
    amount: { type: 'float', default: 0, min: 0, max: 3, clamp: true },
    extra: [],
  },
  dilate: {
    op: 'dilate',
    kind: 'morph',
    description: 'grow bright regions: amount = radius in pixels of the map (0-3)',
    amount: { type: 'float', default: 0, min: 0, max: 3, clamp: true },
    extra: [],
  },
  blur: { op: 'blur', kind: 'blur', description: 'Gaussian blur: amount = sigma in pixels of the map (0-3)', amount: { type: 'float', default: 0, min: 0, max: 3, clamp: true }, extra: [] },
  sharpen: { op: 'sharpen', kind: 'sharpen', description: 'unsharp mask: amount = strength', amount: { type: 'float', default: 0, min: 0, max: 4, clamp: false, limit: [-10, 10] }, extra: [] },
  edges: { op: 'edges', kind: 'edges', description: 'Sobel edge magnitude (amount mixes it in)', amount: MIX, extra: [] },
  threshold: {
    op: 'threshold',
    kind: 'threshold',
    description: 'binary threshold: 1 above level, 0 below (amount mixes it in)',
    amount: MIX,
    extra: [{ key: 'level', spec: { type: 'float', default: 0, min: -3, max: 3, clamp: false, limit: [-1000, 1000] }, description: 'the activation level that splits 0 from 1' }],
  },
  invert: { op: 'invert', kind: 'invert', description: 'invert each channel about its own mean (amount mixes it in)', amount: MIX, extra: [] },
  multiply: {
    op: 'multiply',
    kind: 'multiply',
    description: 'multiply the activations by amount',
    amount: { type: 'float', default: 1, min: -2, max: 4, clamp: false, limit: [-100, 100] },
    extra: [],
  },
  add: { op: 'add', kind: 'add', description: 'add amount to the activations', amount: { type: 'float', default: 0, min: -2, max: 2, clamp: false, limit: [-100, 100] }, extra: [] },
  noise: {
    op: 'noise',
    kind: 'noise',
    description: 'add seeded Gaussian noise of amount (standard deviation)',
    amount: { type: 'float', default: 0, min: 0, max: 2, clamp: false, limit: [-100, 100] },
    extra: [],
  },
  ablate: { op: 'ablate', kind: 'multiply', description: 'zero the channels (amount fades them out)', amount: MIX, extra: [] },
  swap: { op: 'swap', kind: 'swap', description: 'swap the chosen channels among themselves, seeded (amount mixes it in)', amount: MIX, extra: [] },
};

export const FEATURE_OP_NAMES = Object.keys(FEATURE_OPS) as FeatureOp[];

/** The values every op has besides its own: which channels, a seed (share, noise, swap) and a bypass. */
export const COMMON_VALUES: OpValue[] = [
  { key: 'seed', spec: { type: 'int', default: 0, min: 0, max: 9999, limit: [0, 2 ** 31 - 1] }, description: 'seed of the random share, the noise and the swap' },
  { key: 'bypass', spec: { type: 'bool', default: false }, description: 'leave the map untouched (the op stays in place)' },
];

/** Values of one op as the worker gets them: numbers (bools 0/1, enums as option index). */
export type FeatureValues = Record<string, number>;

/** Whether these values leave the map exactly as it is (the untouched session then plays). */
export function isNeutral(op: FeatureOp, v: FeatureValues): boolean {
  if (v.bypass === 1) return true;
  const amount = v.amount ?? Number(FEATURE_OPS[op].amount.default);
  if (op === 'translate') return amount === 0 && (v.y ?? 0) === 0;
  return amount === Number(FEATURE_OPS[op].amount.default);
}

export function isFeatureOp(op: string): op is FeatureOp {
  return Object.hasOwn(FEATURE_OPS, op);
}
