// The bending flags shared by `play` and `render`: --edit, --blend, --blend-amount, --blend-layer,
// --tap and --animate, applied to an engine through the same API the UI and controls use.
import type { Engine } from '../engine/engine.ts';
import { EDIT_OPS, type EditOp } from '../engine/bend/edit-ops.ts';
import { BLEND_ALL } from '../engine/bend/bend-plan.ts';
import { findAddress } from '../control/find-address.ts';
import { FEATURE_OP_NAMES, FEATURE_OPS, isFeatureOp, type FeatureOp } from '../engine/bend/feature-ops.ts';
import { parseChannels } from '../engine/bend/channel-select.ts';

export interface BendOptions {
  edit?: string[];
  bend?: string[];
  blend?: string;
  blendAmount?: number;
  blendLayer?: string[];
  tap?: string[];
  animate?: string[];
}

export class UsageError extends Error {}

/** "<name|glob|layer>:<op>=<amount>", the target may itself contain ':' only before the last one. */
export function parseEdit(spec: string): { target: string; op: EditOp; amount: number } {
  const m = /^(.+):(\w+)=(-?[\d.eE+-]+)$/.exec(spec.trim());
  if (!m) throw new UsageError(`--edit "${spec}": expected <weight|glob|layer>:<op>=<amount>, e.g. "L6_84_128:scale=0.5"`);
  const op = m[2] as EditOp;
  if (!EDIT_OPS.includes(op)) throw new UsageError(`--edit "${spec}": unknown op "${op}"; use one of ${EDIT_OPS.join(', ')}`);
  const amount = Number(m[3]);
  if (!Number.isFinite(amount)) throw new UsageError(`--edit "${spec}": amount "${m[3]}" is not a number`);
  return { target: m[1]!, op, amount };
}

/**
 * "<layer>:<op>=<amount>[,<second>][@<channels>]": the second value is the op's next number
 * (translate's y, threshold's level); channels as all, share:0.3, range:0-15, list:1,5,9, cluster:2, pc:0.
 */
export function parseBend(spec: string): { layer: string; op: FeatureOp; values: Record<string, number | string> } {
  const m = /^(.+):([a-z]+)=([^@]+?)(?:@(.+))?$/.exec(spec.trim());
  if (!m) throw new UsageError(`--bend "${spec}": expected <layer>:<op>=<amount>[@<channels>], e.g. "b32:rotate=90@share:0.5"`);
  const [, layer, op, amounts, channels] = m as unknown as [string, string, string, string, string | undefined];
  if (!isFeatureOp(op)) throw new UsageError(`--bend "${spec}": unknown op "${op}"; use one of ${FEATURE_OP_NAMES.join(', ')}`);
  const numbers = amounts.split(',').map((x) => Number(x.trim()));
  const second = FEATURE_OPS[op].extra.find((e) => e.spec.type === 'float');
  if (numbers.some((n) => !Number.isFinite(n)) || numbers.length > (second ? 2 : 1))
    throw new UsageError(`--bend "${spec}": "${amounts}" should be ${second ? `<amount>[,<${second.key}>]` : 'one number'}`);
  const values: Record<string, number | string> = { amount: numbers[0]! };
  if (numbers.length === 2) values[second!.key] = numbers[1]!;
  if (channels !== undefined) {
    try {
      parseChannels(channels);
    } catch (err) {
      throw new UsageError(`--bend "${spec}": ${(err as Error).message}`);
    }
    values.channels = channels;
  }
  return { layer, op, values };
}

function splitAssign(flag: string, spec: string): [string, string] {
  const i = spec.indexOf('=');
  if (i <= 0) throw new UsageError(`${flag} "${spec}": expected <name>=<value>`);
  return [spec.slice(0, i), spec.slice(i + 1)];
}

/** Applies the flags; returns a function that advances --animate modulators to a time. */
export async function applyBendOptions(engine: Engine, o: BendOptions): Promise<(time: number) => void> {
  for (const spec of o.edit ?? []) {
    const e = parseEdit(spec);
    engine.addEdit(e.target, e.op, e.amount);
  }
  for (const spec of o.bend ?? []) {
    const b = parseBend(spec);
    engine.addBend(b.layer, b.op, b.values);
  }
  if (o.blend) {
    await engine.loadPartner(o.blend);
    if (o.blendAmount !== undefined) engine.params.set(BLEND_ALL, o.blendAmount, 'cli');
    for (const spec of o.blendLayer ?? []) {
      const [layer, value] = splitAssign('--blend-layer', spec);
      const t = Number(value);
      if (!Number.isFinite(t)) throw new UsageError(`--blend-layer "${spec}": "${value}" is not a number`);
      engine.bend.setBlend(layer, t, 'cli');
    }
  } else if (o.blendAmount !== undefined || o.blendLayer?.length) {
    throw new UsageError('--blend-amount and --blend-layer need a partner model: --blend <partner.onnx>');
  }
  if (o.tap?.length) engine.setTaps(o.tap);
  if (!o.animate?.length) return () => {};
  const { parseLfo, lfoValue } = await import('../control/lfo.ts');
  const { Tempo } = await import('../control/tempo.ts');
  const tempo = new Tempo();
  const animations = o.animate.map((spec) => {
    const [name, lfo] = splitAssign('--animate', spec);
    return { address: findAddress(engine.params, name), lfo: parseLfo(lfo) };
  });
  return (time: number) => {
    for (const a of animations) engine.params.set(a.address, lfoValue(a.lfo, time, tempo), 'modulator');
  };
}
