// The moves of W space's direction sets, as OSC addresses (listed in OSCQuery like every move):
//   /netbend/latent/directions/compute        the principal directions of w from sampled z (off
//                                              the frame path, once per model), played from now on
//   /netbend/latent/directions/save ,s <name>  the set played, with its layer ranges, saved by name
//   /netbend/latent/directions/load ,s <name>  a saved set played (checked whole first: a bad file
//                                              is refused with a sentence, the set played stays)
//   /netbend/latent/directions/list            the names saved (a notice for OSC, a reply for a page)
// Compute and load change what the direction amounts move: each is an undo step, run through the
// show's one queue. Saving changes no scene.
import type { DirectionFolder } from '../control/direction-sets.ts';
import type { ChangeSource } from '../core/registry.ts';
import type { Engine } from '../engine/engine.ts';
import type { ActionRegistry } from './actions.ts';

export const DIRECTIONS = '/netbend/latent/directions';

export interface DirectionMovesHost {
  readonly actions: ActionRegistry;
  readonly folder: DirectionFolder;
  engine(): Engine;
  /** Runs a change as one undo step (the scene just before it) and tells the pages. */
  step<T>(change: () => T): T;
  notice(level: 'info' | 'warning' | 'error', text: string): void;
}

/** What a page is told after a move: the names saved, and the set playing (null: the estimated directions). */
export interface DirectionSets {
  sets: string[];
  current: string | null;
}

export function defineDirectionMoves(host: DirectionMovesHost): void {
  const { actions, folder } = host;
  const needW = (): Engine => {
    const engine = host.engine();
    if (!engine.latent.shape) throw new Error(`no direction sets on this model: ${engine.latent.note}`);
    return engine;
  };
  const sets = async (): Promise<DirectionSets> => ({ sets: await folder.list(), current: host.engine().latent.loadedSet?.name ?? null });
  actions.define({
    address: `${DIRECTIONS}/compute`,
    args: [],
    description: 'find the principal directions of w from sampled z (once per model, off the frame path) and play them',
    run: async () => {
      const engine = needW();
      await engine.estimateLatent();
      if (engine.latent.error) throw new Error(engine.latent.error);
      if (host.engine() !== engine) throw new Error('the model changed while its directions were being found');
      host.step(() => engine.latent.unloadSet());
      return sets();
    },
  });
  actions.define({
    address: `${DIRECTIONS}/save`,
    args: [{ name: 'name', type: 's', max: 64 }],
    description: 'save the direction set played (with its layer ranges) under a name, beside the presets',
    run: async ([name]) => {
      const file = await folder.save(String(name), needW());
      host.notice('info', `direction set saved to ${file}`);
      return sets();
    },
  });
  actions.define({
    address: `${DIRECTIONS}/load`,
    args: [{ name: 'name', type: 's', max: 64 }],
    description: 'play a saved direction set (its directions and layer ranges); undoable',
    run: async ([name]) => {
      const engine = needW();
      const clean = String(name).trim();
      const set = await folder.read(clean);
      const refused = engine.latent.refuses(set);
      if (refused) throw new Error(`${folder.file(clean)}: ${refused}`);
      if (host.engine() !== engine) throw new Error('the model changed while the set was being read');
      host.step(() => engine.latent.loadSet(set, clean));
      return sets();
    },
  });
  actions.define({
    address: `${DIRECTIONS}/list`,
    args: [],
    description: 'the direction sets saved (OSC: said as a notice)',
    run: async (_args, source: ChangeSource) => {
      const got = await sets();
      if (source !== 'ui') host.notice('info', `direction sets: ${got.sets.join(', ') || 'none'}${got.current ? ` (playing ${got.current})` : ''}`);
      return got;
    },
  });
}
