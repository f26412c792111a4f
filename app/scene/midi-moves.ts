// Each MIDI mapping's moves, at its own addresses: /netbend/midi/<id>/remove, /range ,ff (min max,
// in the parameter's units), /curve ,s (lin exp log), /invert ,i (0 1) and /takeover ,s (jump
// pickup). Like every structural move they are listed in OSCQuery, run through the show's one
// queue and are undo steps, so what a preset saves is the mappings as they were edited. The
// addresses follow the mappings there are, however they came (learn, a preset, an undo), and a
// mapping made by MIDI learn is an undo step too.
import type { MidiMappingEdit, MidiMappingSpec, MidiRouter } from '../control/midi-mapping.ts';
import { MIDI_PREFIX, midiMove, type MidiMove } from '../core/addresses.ts';
import type { ActionArg, ActionArgValue, ActionRegistry } from './actions.ts';

export interface MidiMovesHost {
  readonly actions: ActionRegistry;
  readonly midi: MidiRouter;
  /** Runs a change as one undo step (the scene just before it) and tells the pages. */
  step<T>(change: () => T): T;
  /** MIDI learn made a mapping: the scene as it was, with the mappings `before`, is an undo step. */
  learned(before: MidiMappingSpec[]): void;
}

const MOVES: Record<MidiMove, { args: ActionArg[]; what: string; edit?: (args: ActionArgValue[]) => MidiMappingEdit }> = {
  remove: { args: [], what: 'remove it' },
  range: {
    args: [
      { name: 'min', type: 'f' },
      { name: 'max', type: 'f' },
    ],
    what: "its target range, in the parameter's units (min above max inverts)",
    edit: ([min, max]) => ({ min: Number(min), max: Number(max) }),
  },
  curve: { args: [{ name: 'curve', type: 's' }], what: 'its curve: lin, exp (fine at the bottom) or log', edit: ([c]) => ({ curve: String(c) as MidiMappingEdit['curve'] }) },
  invert: {
    args: [{ name: 'on', type: 'i' }],
    what: 'invert it (1) or not (0)',
    edit: ([on]) => {
      if (on !== 0 && on !== 1) throw new Error(`invert takes 1 or 0 (got ${on})`);
      return { invert: on === 1 };
    },
  },
  takeover: {
    args: [{ name: 'mode', type: 's' }],
    what: 'its takeover: jump, or pickup (waits until the control meets the value)',
    edit: ([m]) => ({ takeover: String(m) as MidiMappingEdit['takeover'] }),
  },
};
const NAMES = Object.keys(MOVES) as MidiMove[];
const ADDRESS = new RegExp(`^${MIDI_PREFIX}([^/]+)/(${NAMES.join('|')})$`);

/** Defines the moves of every mapping and keeps them in step with the router; returns the unsubscribe. */
export function defineMidiMoves(host: MidiMovesHost): () => void {
  const { actions, midi } = host;
  const sync = () => {
    const ids = new Set(midi.list().map((m) => m.id));
    for (const spec of actions.list()) {
      const m = ADDRESS.exec(spec.address);
      if (m && !ids.has(m[1]!)) actions.remove(spec.address);
    }
    for (const id of ids) {
      for (const name of NAMES) {
        const address = midiMove(id, name);
        if (actions.has(address)) continue;
        const { args, what, edit } = MOVES[name];
        actions.define({
          address,
          args,
          description: `MIDI mapping ${id}: ${what}`,
          run: (a) =>
            host.step(() => {
              if (!midi.get(id)) throw new Error(`no MIDI mapping "${id}"`);
              if (!edit) return void midi.remove(id);
              return midi.update(id, edit(a));
            }),
        });
      }
    }
  };
  sync();
  return midi.on('change', (c) => {
    sync();
    if (c.cause === 'learn') host.learned(c.before);
  });
}
