// Loading another model into a running show: the new engine is opened on the same registry beside
// the playing one; parameters the new model also has keep their values (and their mappings),
// the old model's own ones are removed. The show's source choices (`--source z=keyframes`) go
// with it, to each input of that name whose shape takes them, and a keyframe loop that meets a
// loop on an input of the same size plays on with its keyframes and its held latent. Used live
// and by a take's re-render alike.
import type { ParameterRegistry } from '../core/registry.ts';
import { MODEL_OWNED } from '../core/addresses.ts';
import { Engine, type EngineOptions } from '../engine/engine.ts';
import type { EpChoice } from '../engine/inference/protocol.ts';

export interface NextModelOptions extends Pick<EngineOptions, 'compact' | 'latent'> {
  /** The show's source choices, per input name; a choice that does not fit the new model's input is a warning. */
  sources?: Record<string, string>;
  /** The engine playing now: its keyframe loops' lists and held latents carry over. */
  from?: Engine;
}

/**
 * Opens `file` on `params`; resolves with the new engine once the old model's own parameters are
 * gone. The caller swaps it in and closes the old one. If opening fails, nothing changed.
 */
export async function openNextModel(params: ParameterRegistry, file: string, ep: EpChoice | undefined, extra: NextModelOptions = {}): Promise<{ engine: Engine; warnings: string[] }> {
  const { from, ...opts } = extra;
  const defined = new Set<string>();
  const off = params.on('define', (spec) => defined.add(spec.address));
  let opened: Awaited<ReturnType<typeof Engine.open>>;
  try {
    opened = await Engine.open({ model: file, ep, registry: params, ...opts, sourcesWhereFit: true });
  } finally {
    off();
  }
  for (const prefix of MODEL_OWNED) for (const spec of params.list()) if (spec.address.startsWith(prefix) && !defined.has(spec.address)) params.remove(spec.address);
  if (from) carryLoops(from, opened.engine);
  return opened;
}

/** Keyframe lists and held latents onto the new engine's loops of the same input and size. */
function carryLoops(from: Engine, to: Engine): void {
  const lists = from.keyframes();
  const held = from.held();
  for (const input of to.keyframeInputs()) {
    const list = lists[input];
    if (!list) continue;
    try {
      to.checkKeyframes({ [input]: list });
      to.checkHeld(held[input] ? { [input]: held[input] } : {});
    } catch {
      continue; // latents of another size: the new loop starts empty, on its seed
    }
    to.setKeyframes(input, list);
    to.setHeld(input, held[input]);
  }
}
