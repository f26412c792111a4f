// The parameters every show has, beside the model's own: output, recording, preset recall,
// tempo and eight general knobs. The live session and a take's re-render define the same set, so
// a value logged live lands on the same parameter when the take renders again.
import type { ParameterRegistry } from '../core/registry.ts';
import { BLACKOUT, BPM, FIT_MODES, LOCK, OUTPUT_FADE, OUTPUT_FIT, RECALL, RECORD, TAP_TEMPO } from '../core/addresses.ts';

export function defineShowParams(params: ParameterRegistry): void {
  // The pages fade (over OUTPUT_FADE) and fit the picture; the value here is the target, unsmoothed.
  params.define({ address: BLACKOUT, type: 'float', default: 0, min: 0, max: 1, description: 'fade the output to black (over /netbend/output/fade seconds)' });
  params.define({ address: OUTPUT_FADE, type: 'float', default: 0.5, min: 0, max: 10, unit: 's', description: 'seconds the blackout takes to fade out and back in (0 = cut)' });
  params.define({
    address: OUTPUT_FIT,
    type: 'enum',
    default: 'fit',
    options: FIT_MODES,
    description:
      'how every output window shows the picture: fit (whole, black bars), fill (covers, edges cropped), stretch (covers, aspect ignored); a window may override it (/output?fit=fill, or F there)',
  });
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
