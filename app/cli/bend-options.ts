// The bending flags shared by `play` and `render`: --edit, --blend, --blend-amount, --blend-layer,
// --tap and --animate, applied to an engine through the same API the UI and controls use.
// --animate moves a parameter per frame by an LFO or by an expression, which may read the audio
// features (`z/offset=0.5 + audio.low`).
import type { Engine } from '../engine/engine.ts';
import { EDIT_OPS, type EditOp } from '../engine/bend/edit-ops.ts';
import { BLEND_ALL } from '../engine/bend/bend-plan.ts';
import { findAddress } from '../control/find-address.ts';
import { FEATURE_OP_NAMES, FEATURE_OPS, isFeatureOp, type FeatureOp } from '../engine/bend/feature-ops.ts';
import { parseChannels } from '../engine/bend/channel-select.ts';
import { ParamRefused } from '../core/registry.ts';
import { LFO_SHAPES, lfoValue, parseLfo } from '../control/lfo.ts';
import { Tempo } from '../control/tempo.ts';
import { compileExpression } from '../control/expression.ts';
import { paramReader } from '../control/modulation.ts';
import { applyLatentOptions, type LatentOptions } from './latent-options.ts';

export interface BendOptions extends LatentOptions {
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

/** Applies the flags; returns a function that advances --animate modulators to a frame's time. */
export async function applyBendOptions(engine: Engine, o: BendOptions, ctx: { tempo?: Tempo } = {}): Promise<(time: number, frame: number) => void> {
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
  await applyLatentOptions(engine, o);
  if (!o.animate?.length) return () => {};
  const tempo = ctx.tempo ?? new Tempo();
  const animations = o.animate.map((spec) => {
    const [name, source] = splitAssign('--animate', spec);
    return { address: findAddress(engine.params, name), run: animation(engine, spec, source, tempo) };
  });
  return (time: number, frame: number) => {
    for (const a of animations) {
      try {
        engine.params.set(a.address, a.run(time, frame), 'modulator');
      } catch (err) {
        // A NaN this frame (log(0)) is refused and counted; the parameter holds its last good value.
        if (!(err instanceof ParamRefused)) throw err;
      }
    }
  };
}

/**
 * An --animate value: an LFO spec when it starts with an LFO shape ("sine:0.5hz"), else an
 * expression of t, beat, frame and parameters ("0.5 + audio.low", "z/speed * 2").
 */
function animation(engine: Engine, spec: string, source: string, tempo: Tempo): (time: number, frame: number) => number {
  const shape = source.trim().split(':')[0]!.toLowerCase();
  if ((LFO_SHAPES as readonly string[]).includes(shape)) {
    const lfo = parseLfo(source);
    return (time) => lfoValue(lfo, time, tempo);
  }
  try {
    const f = compileExpression(source, (n) => paramReader(engine.params, n));
    return (time, frame) => f({ t: time, beat: tempo.beats(time), frame });
  } catch (err) {
    const msg = (err as Error).message;
    const audio = /unknown name audio\./.test(msg) && !engine.params.list().some((s) => s.address.startsWith('/netbend/audio/')) ? ' (audio features need --audio <track>)' : '';
    throw new UsageError(`--animate "${spec}": ${msg}${audio}; expected an LFO like "sine:0.5hz" (${LFO_SHAPES.join(', ')}) or an expression like "0.5 + audio.low"`);
  }
}
