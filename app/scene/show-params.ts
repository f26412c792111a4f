// The parameters every show has, beside the model's own: output, recording, preset recall,
// tempo and eight general knobs. The live session and a take's re-render define the same set, so
// a value logged live lands on the same parameter when the take renders again.
import type { ParameterRegistry } from '../core/registry.ts';
import { BLACKOUT, BPM, LOCK, RECALL, RECORD, TAP_TEMPO } from '../core/addresses.ts';

export function defineShowParams(params: ParameterRegistry): void {
  params.define({ address: BLACKOUT, type: 'float', default: 0, min: 0, max: 1, smoothing: 0.15, description: 'fade the output to black' });
  params.define({ address: RECORD, type: 'bool', default: false, transient: true, description: 'record the output to video' });
  params.define({ address: RECALL, type: 'int', default: 0, min: 0, max: 127, transient: true, description: 'recall the preset at this position in the list' });
  params.define({ address: BPM, type: 'float', default: 120, min: 20, max: 300, unit: 'bpm', description: 'tempo for beat-synced modulators' });
  params.define({ address: TAP_TEMPO, type: 'trigger', default: false, description: 'tap tempo' });
  params.define({
    address: LOCK,
    type: 'bool',
    default: false,
    transient: true,
    description: 'performance lock: preset recalls and model switches from the page ask first; from OSC and MIDI they are refused',
  });
  // General-purpose knobs: for MIDI/OSC to land on, and for expressions and controller nets to read.
  for (let k = 1; k <= 8; k++) params.define({ address: `/netbend/knobs/k${k}`, type: 'float', default: 0, min: 0, max: 1, description: `knob ${k}` });
}
