// The moves of feature-map bending, as OSC addresses: /netbend/bend/add ,sss[f][s] (name or "-",
// layer, op, amount, channels), /netbend/bend/clear, and per op /netbend/bend/<name>/remove and
// /move ,i (its place in the order ops apply). Values are parameters; these change structure, so
// each is an undo step run through the show's one queue, like every structural move.
import { BEND_PREFIX } from '../core/addresses.ts';
import type { Engine } from '../engine/engine.ts';
import type { ActionArgValue, ActionRegistry } from './actions.ts';

export interface BendMovesHost {
  readonly actions: ActionRegistry;
  engine(): Engine;
  /** Runs a change as one undo step (the scene just before it) and tells the pages. */
  step<T>(change: () => T): T;
}

const PER_BEND = new RegExp(`^${BEND_PREFIX}([^/]+)/(remove|move)$`);

/** Defines the moves; returns `sync`, which makes the per-op moves follow the ops there are. */
export function defineBendMoves(host: BendMovesHost): () => void {
  const { actions } = host;
  const sync = () => {
    const names = new Set(
      host
        .engine()
        .bend.features.list()
        .map((b) => b.name),
    );
    for (const spec of actions.list()) {
      const m = PER_BEND.exec(spec.address);
      if (m && !names.has(m[1]!)) actions.remove(spec.address);
    }
    for (const name of names) defineOwn(name);
  };
  const defineOwn = (name: string) => {
    const root = `${BEND_PREFIX}${name}`;
    if (actions.has(`${root}/remove`)) return;
    actions.define({
      address: `${root}/remove`,
      args: [],
      description: `remove the feature-map op ${name}`,
      run: () =>
        host.step(() => {
          host.engine().removeBend(name);
          sync();
        }),
    });
    actions.define({
      address: `${root}/move`,
      args: [{ name: 'index', type: 'i' }],
      description: `move the feature-map op ${name} to another place in the order ops apply (0 first)`,
      run: ([index]) => host.step(() => host.engine().moveBend(name, Number(index))),
    });
  };
  actions.define({
    address: `${BEND_PREFIX}add`,
    args: [
      { name: 'name', type: 's' },
      { name: 'layer', type: 's' },
      { name: 'op', type: 's' },
      { name: 'amount', type: 'f', optional: true },
      { name: 'channels', type: 's', optional: true },
    ],
    description: 'add a feature-map op after a layer: name (or "-" to derive it), layer, op, amount, channels (all, share:0.3, range:0-15, list:1,5,9, cluster:2, pc:0)',
    run: ([name, layer, op, amount, channels]: ActionArgValue[]) =>
      host.step(() => {
        const values: Record<string, unknown> = {};
        if (amount !== undefined) values.amount = Number(amount);
        if (channels !== undefined) values.channels = String(channels);
        const added = host.engine().addBend(String(layer), String(op), values, name === '-' ? undefined : String(name));
        defineOwn(added);
        return added;
      }),
  });
  actions.define({
    address: `${BEND_PREFIX}clear`,
    args: [],
    description: 'remove every feature-map op',
    run: () =>
      host.step(() => {
        for (const b of host.engine().bend.features.list()) host.engine().removeBend(b.name);
        sync();
      }),
  });
  return sync;
}
