// What `play`, `render` and `serve` were pointed at: a model, or a preset that names its model and
// the whole scene around it.
import { Engine } from '../engine/engine.ts';
import type { EpChoice } from '../engine/inference/protocol.ts';
import { loadPreset } from '../control/preset-store.ts';
import { applyScene } from '../control/scene.ts';
import { ModulationBank } from '../control/modulation.ts';
import { Tempo } from '../control/tempo.ts';
import type { Preset } from '../control/preset.ts';

export interface Opened {
  engine: Engine;
  preset: Preset | undefined;
  modulators: ModulationBank;
  warnings: string[];
}

/** `prepare` runs once the engine is open, before a preset's scene: parameters it defines (the audio features) take the preset's values. */
export async function openTarget(target: string, o: { ep?: EpChoice; seed?: number }, tempo = new Tempo(), prepare?: (engine: Engine) => void): Promise<Opened> {
  const preset = target.toLowerCase().endsWith('.json') ? await loadPreset(target) : undefined;
  const { engine, warnings } = await Engine.open({ model: preset?.model.path ?? target, ep: o.ep ?? (preset?.model.ep as EpChoice | undefined), seed: o.seed });
  const modulators = new ModulationBank(engine.params, tempo);
  try {
    prepare?.(engine);
    if (preset) {
      warnings.push(...(await applyScene(engine, preset)));
      // --seed on the command line wins over the preset's own.
      if (o.seed !== undefined) for (const s of engine.params.list()) if (s.address.startsWith('/netbend/source/') && s.address.endsWith('/seed')) engine.params.set(s.address, o.seed, 'cli');
      for (const m of preset.modulators) modulators.add(m);
    }
  } catch (err) {
    await engine.close();
    throw new Error(`${target}: ${(err as Error).message}`);
  }
  return { engine, preset, modulators, warnings };
}
