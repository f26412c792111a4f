// Loading another model into a running show: the new engine is opened on the same registry beside
// the playing one; parameters the new model also has keep their values (and their mappings),
// the old model's own ones are removed. Used live and by a take's re-render alike.
import type { ParameterRegistry } from '../core/registry.ts';
import { MODEL_OWNED } from '../core/addresses.ts';
import { Engine, type EngineOptions } from '../engine/engine.ts';
import type { EpChoice } from '../engine/inference/protocol.ts';

/**
 * Opens `file` on `params`; resolves with the new engine once the old model's own parameters are
 * gone. The caller swaps it in and closes the old one. If opening fails, nothing changed.
 */
export async function openNextModel(params: ParameterRegistry, file: string, ep: EpChoice | undefined, extra: Pick<EngineOptions, 'compact'> = {}): Promise<{ engine: Engine; warnings: string[] }> {
  const defined = new Set<string>();
  const off = params.on('define', (spec) => defined.add(spec.address));
  let opened: Awaited<ReturnType<typeof Engine.open>>;
  try {
    opened = await Engine.open({ model: file, ep, registry: params, ...extra });
  } finally {
    off();
  }
  for (const prefix of MODEL_OWNED) for (const spec of params.list()) if (spec.address.startsWith(prefix) && !defined.has(spec.address)) params.remove(spec.address);
  return opened;
}
