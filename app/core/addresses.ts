// The show's addresses, named once for the engine, the server, the scene and the page. A model's
// own parameters live under /netbend/source/<input>/..., /netbend/edit/<name>/amount,
// /netbend/blend/<layer> and /netbend/outputs/<output>/<i>; the rest belong to the show.

export const PLAY = '/netbend/transport/play';
export const FPS = '/netbend/transport/fps';
export const BLACKOUT = '/netbend/output/blackout';
export const OUTPUT_RANGE = '/netbend/output/range';
/** How every output window shows the picture (a window may override it for itself). */
export const OUTPUT_FIT = '/netbend/output/fit';
/** Seconds the blackout takes to fade out, and back in. */
export const OUTPUT_FADE = '/netbend/output/fade';
/** Fit: the whole picture, black bars (contain). Fill: covers, edges cropped. Stretch: covers, aspect ignored. */
export const FIT_MODES = ['fit', 'fill', 'stretch'] as const;
export type FitMode = (typeof FIT_MODES)[number];
export const RECORD = '/netbend/record/on';
/** Recalls the Nth preset of the list (MIDI program change and OSC both land here). */
export const RECALL = '/netbend/preset/recall';
export const TAP_TEMPO = '/netbend/tempo/tap';
export const BPM = '/netbend/tempo/bpm';
/** A performance lock: preset keys and model switches ask first. */
export const LOCK = '/netbend/lock';
export const LOOP_DELAY_P99 = '/netbend/stats/loop_delay_p99';
export const LOOP_DELAY_MAX = '/netbend/stats/loop_delay_max';

export const SOURCE_PREFIX = '/netbend/source/';
export const EDIT_PREFIX = '/netbend/edit/';
export const BLEND_PREFIX = '/netbend/blend/';
/** Feature-map ops: /netbend/bend/<name>/amount, /channels, /bypass, ... */
export const BEND_PREFIX = '/netbend/bend/';
export const OUTPUTS_PREFIX = '/netbend/outputs/';
export const BLEND_ALL = `${BLEND_PREFIX}all`;

/** An edit slot's amount. */
export const editAmount = (name: string) => `${EDIT_PREFIX}${name}/amount`;
/** An edit slot's remove action. */
export const editRemove = (name: string) => `${EDIT_PREFIX}${name}/remove`;
/** A layer's own blend amount (its full path), or `all`. */
export const blendAmount = (layer: string) => `${BLEND_PREFIX}${layer}`;

/** Parameters that belong to one model and go with it on a switch. */
export const MODEL_OWNED = [SOURCE_PREFIX, EDIT_PREFIX, BLEND_PREFIX, BEND_PREFIX, OUTPUTS_PREFIX];

export const MIDI_PREFIX = '/netbend/midi/';
/** A MIDI mapping's moves: /netbend/midi/<id>/remove, range ,ff, curve ,s, invert ,i, takeover ,s. */
export type MidiMove = 'remove' | 'range' | 'curve' | 'invert' | 'takeover';
export const midiMove = (id: string, move: MidiMove) => `${MIDI_PREFIX}${id}/${move}`;

/** Wekinator's messages: N numbers in, a playing mapping's M outputs out (to the OSC targets). */
export const WEK_INPUTS = '/wek/inputs';
export const WEK_OUTPUTS = '/wek/outputs';
/** Where /wek/inputs lands: /netbend/wek/inputs/0 ... (read-only from the page; OSC feeds them). */
export const WEK_INPUT_PREFIX = '/netbend/wek/inputs/';
export const MAX_WEK_INPUTS = 256;
export const wekInput = (i: number) => `${WEK_INPUT_PREFIX}${i}`;

/** Live learning: its moves live under here (/netbend/learn/record, /train ...), and these values. */
export const LEARN_PREFIX = '/netbend/learn/';
/** Held on, one example is recorded every frame. */
export const LEARN_RECORDING = `${LEARN_PREFIX}recording`;
export const LEARN_EXAMPLES = `${LEARN_PREFIX}examples`;
export const LEARN_PROGRESS = `${LEARN_PREFIX}progress`;
export const LEARN_RMSE = `${LEARN_PREFIX}rmse`;
