// The one contract between the engine server and the web UI (browser or Electron). JSON text
// messages for state and commands, binary messages for pictures. Shared by both sides: keep it
// free of Node or DOM imports.

/** Binary picture packet: a 16-byte header then the pixels. */
export const PACKET_HEADER_BYTES = 16;
export enum PacketKind {
  /** RGBA8 output frame. */
  Output = 1,
  /** A layer tap as Float32 [channels, height, width]; the layer path is in the tap's id. */
  Tap = 2,
}
/**
 * Header layout (little-endian):
 *   u8  kind (PacketKind)   u8 tapId (0 for output)   u16 reserved
 *   u32 frame index
 *   u16 width   u16 height
 *   u16 channels (4 for RGBA8 output; C for taps)   u16 reserved
 */
export interface PacketHeader {
  kind: PacketKind;
  tapId: number;
  index: number;
  width: number;
  height: number;
  channels: number;
}

export function writeHeader(view: DataView, h: PacketHeader): void {
  view.setUint8(0, h.kind);
  view.setUint8(1, h.tapId);
  view.setUint16(2, 0, true);
  view.setUint32(4, h.index, true);
  view.setUint16(8, h.width, true);
  view.setUint16(10, h.height, true);
  view.setUint16(12, h.channels, true);
  view.setUint16(14, 0, true);
}

export function readHeader(view: DataView): PacketHeader {
  return {
    kind: view.getUint8(0) as PacketKind,
    tapId: view.getUint8(1),
    index: view.getUint32(4, true),
    width: view.getUint16(8, true),
    height: view.getUint16(10, true),
    channels: view.getUint16(12, true),
  };
}

// One declaration of what a parameter is, shared with the registry (pure TypeScript, no Node or DOM).
export type { ParamInfo, ParamValue } from './param-types.ts';
import type { ParamInfo, ParamValue } from './param-types.ts';

export interface LayerInfo {
  path: string;
  shape: (number | string)[] | undefined;
  weights: number;
  tappable: boolean;
  children: LayerInfo[];
}

/** A model file in the model folders, as the model browser lists it (GET /api/models). */
export interface ModelEntry {
  path: string;
  name: string;
  folder: string;
  bytes: number;
  modified: number;
  inputs: Array<{ name: string; dtype: string; shape: Array<number | string> }>;
  outputs: Array<{ name: string; dtype: string; shape: Array<number | string> }>;
  /** Picture size, when the model has an image output. */
  image: { width: number; height: number } | null;
  /** Whether it can blend with the playing model; `why` is one line, `details` every mismatch. */
  partner: { ok: boolean; why?: string; details?: string[] };
  /** Set when the file could not be read as a model (the entry still lists it). */
  error?: string;
}

/** A modulator as pages see it: `source` is an LFO spec (see app/control/lfo.ts) or an expression. */
export interface ModulatorInfo {
  id: string;
  target: string;
  kind: 'lfo' | 'expr';
  source: string;
  enabled: boolean;
}

/** The frame loop's own figures (app/engine/frame-loop.ts). */
export interface LoopStats {
  fps: number;
  targetFps: number;
  inferMs: number;
  frameMs: number;
  /** Slots dropped since the start. */
  dropped: number;
  /** Slots dropped in the last minute (what a performer can act on). */
  droppedPerMinute: number;
  frame: number;
  playing: boolean;
}

export interface EngineStats extends LoopStats {
  ep: string;
  /** Values refused since start (NaN, Inf, out of bounds), on every path. */
  refused: number;
  recording: { path: string; frames: number; filled: number } | null;
  /** Event-loop delay over the last stats window, in ms: how late timers and sockets are served. */
  loopDelay: { p99: number; max: number };
  /** Set while the show plays under half its target rate: why, and what would help. */
  slow: { text: string; remedies: string[] } | null;
}

/** How often the server sends `stats` and rolls the event-loop delay window. */
export const STATS_INTERVAL_MS = 500;

export interface EditInfo {
  /** The slot's stable name: its amount is /netbend/edit/<name>/amount. */
  name: string;
  target: string;
  op: string;
  address: string;
}

/** A feature-map op in place: its values are the parameters under `root` (amount, channels, bypass, ...). */
export interface BendInfo {
  name: string;
  /** The layer's full path. */
  layer: string;
  op: string;
  root: string;
}

/** One MIDI mapping as a page sees it (the fields of a preset's mapping; see control/midi-mapping.ts). */
export interface MidiMappingInfo {
  id: string;
  param: string;
  kind: 'cc' | 'cc14' | 'note' | 'pitchbend' | 'program';
  channel: number | 'any';
  number: number;
  min?: number;
  max?: number;
  curve?: MidiCurve;
  invert?: boolean;
  mode?: 'toggle' | 'momentary' | 'trigger';
  encoder?: 'absolute' | 'relative-2c' | 'relative-bin' | 'relative-sign';
  takeover?: MidiTakeover;
  smoothing?: number;
}
export type MidiCurve = 'lin' | 'exp' | 'log';
export type MidiTakeover = 'jump' | 'pickup';

/** MIDI learn: waiting for a control (`left` of `seconds`), or how the last one ended (`n` counts learns). */
export type MidiLearnInfo =
  | { state: 'idle'; n: number }
  | { state: 'waiting'; n: number; param: string; seconds: number; left: number }
  | { state: 'learned'; n: number; param: string; mapping: MidiMappingInfo }
  | { state: 'timeout'; n: number; param: string; seconds: number }
  | { state: 'cancelled'; n: number; param: string };

/** The show's MIDI: the ports it opened (or why there are none), learn, and every mapping. */
export interface MidiInfo {
  available: boolean;
  /** Why MIDI is unavailable, in one sentence that says what still works; null when available. */
  reason: string | null;
  /** Inputs opened: named ones and the virtual one. */
  inputs: string[];
  /** The output feedback goes to (motorised faders, LED rings), if one was opened. */
  output: string | null;
  learn: MidiLearnInfo;
  mappings: MidiMappingInfo[];
}

/** Where a training run is (app/learn/fit.ts reports it; pages and the CLI show it). */
export interface TrainProgress {
  stage: 'preparing' | 'training' | 'exporting';
  epoch?: number;
  epochs?: number;
  loss?: number;
  validationLoss?: number;
  /** 'validate': the fit measured on held-back examples; 'refit': the fit again on all of them. */
  pass?: 'validate' | 'refit';
}

/** Live learning as pages see it (see app/scene/learn-desk.ts): the examples, training, the mapping. */
export interface LearnInfo {
  inputs: string[];
  targets: string[];
  /** How many examples there are. */
  examples: number;
  /** The newest examples, oldest first: the first few values of their inputs and of their targets. */
  recent: Array<{ index: number; inputs: number[]; targets: number[] }>;
  /** The name the examples were saved as or loaded from. */
  name: string | null;
  /** Saved example sets and trained mappers, by name. */
  datasets: string[];
  mappers: string[];
  training: ({ name: string; kind: string } & TrainProgress) | null;
  /** The mapping trained or played last: what its card says. */
  mapping: { name: string; model: string; inputs: number; targets: number; examples: number; validationRmse: number; validationRmsePerTarget: number[] } | null;
  /** The mapping that drives its targets now. */
  playing: string | null;
}

/** The learn moves a page may make: /netbend/learn/<move>, with the arguments OSC would send. */
export const LEARN_MOVES = ['inputs', 'targets', 'record', 'delete', 'clear', 'save', 'load', 'train', 'cancel', 'play'] as const;
export type LearnMove = (typeof LEARN_MOVES)[number];

/** Server -> client JSON messages. */
export type ServerMessage =
  | {
      type: 'hello';
      model: string;
      width: number;
      height: number;
      layers: LayerInfo[];
      params: ParamInfo[];
      partner: string | null;
      edits: EditInfo[];
      bends: BendInfo[];
      taps: string[];
      presets: string[];
      modulators: ModulatorInfo[];
      /** Image inputs the sketch pad can feed. */
      sketches: Array<{ input: string; width: number; height: number; channels: number }>;
      midi: MidiInfo;
      learn: LearnInfo;
      /** The direction set W space plays (its name), or null: the directions found from sampled z. */
      directionSet: string | null;
    }
  | { type: 'param'; address: string; value: ParamValue; source: string }
  | { type: 'params'; params: ParamInfo[] }
  | { type: 'stats'; stats: EngineStats }
  | { type: 'taps'; taps: Array<{ id: number; layer: string; shape: number[] }> }
  | {
      type: 'state';
      partner: string | null;
      edits: EditInfo[];
      bends: BendInfo[];
      presets: string[];
      learning: string | null;
      modulators: ModulatorInfo[];
      midi: MidiInfo;
      learn: LearnInfo;
      directionSet: string | null;
    }
  | { type: 'reply'; id: number; ok: boolean; result?: unknown; error?: string }
  | { type: 'notice'; level: 'info' | 'warning' | 'error'; text: string }
  /** To one page: its audio capture was ended here (another page took over). */
  | { type: 'capture'; on: false; text: string };

/** Client -> server commands; each gets a `reply` with the same id. */
export type Command =
  | { cmd: 'set'; address: string; value: ParamValue }
  | { cmd: 'addEdit'; target: string; op: 'scale' | 'offset' | 'set' | 'noise' | 'ablate'; amount: number; name?: string }
  | { cmd: 'removeEdit'; edit: string }
  /** A feature-map op after a layer's output; `values` sets its parameters (amount, channels, ...) from the start. */
  | { cmd: 'addBend'; layer: string; op: string; name?: string; values?: Record<string, ParamValue> }
  | { cmd: 'removeBend'; bend: string }
  | { cmd: 'moveBend'; bend: string; index: number }
  | { cmd: 'clearBends' }
  | { cmd: 'restore' }
  | { cmd: 'loadPartner'; path: string | null }
  | { cmd: 'setTaps'; layers: string[] }
  | { cmd: 'savePreset'; name: string }
  | { cmd: 'loadPreset'; name: string; morphSeconds?: number; at?: 'start' | 'end'; confirm?: boolean }
  | { cmd: 'loadModel'; file: string; confirm?: boolean }
  | { cmd: 'undo' }
  | { cmd: 'redo' }
  | { cmd: 'addModulator'; target: string; kind: 'lfo' | 'expr'; source: string }
  | { cmd: 'setModulator'; mod: string; source: string }
  | { cmd: 'muteModulator'; mod: string; muted: boolean }
  | { cmd: 'removeModulator'; mod: string }
  /** The sketch pad's picture for an image input, as a base64 PNG. */
  | { cmd: 'sketch'; input: string; png: string }
  /** Renders an n x n seed grid off the frame path; replies with the cells as PNGs (GridCellPng[]). */
  | { cmd: 'seedGrid'; n: number; mode: 'seeds' | 'around'; seed?: number; spread?: number }
  /** Jumps to, glides to or keeps as a keyframe a cell of the last seed grid. */
  | { cmd: 'seedPick'; index: number; action: 'jump' | 'glide' | 'keep'; glide?: number }
  /** Direction sets (/netbend/latent/directions/*): replies with the names saved and the set playing. */
  | { cmd: 'directions'; action: 'compute' | 'save' | 'load' | 'list'; name?: string }
  | { cmd: 'midiLearn'; address: string | null }
  /** Edits one mapping: each field given is its own move (/netbend/midi/<id>/range, curve, invert, takeover). */
  | { cmd: 'midiEdit'; mapping: string; range?: [number, number]; curve?: MidiCurve; invert?: boolean; takeover?: MidiTakeover }
  | { cmd: 'midiRemove'; mapping: string }
  /** A learn move, as OSC makes it: /netbend/learn/<move> with these arguments (see LearnDesk). */
  | { cmd: 'learn'; move: LearnMove; args: Array<string | number> }
  | { cmd: 'record'; on: boolean }
  | { cmd: 'transport'; playing: boolean }
  /** This page starts or stops capturing audio (its blocks follow as binary messages); a second page is refused unless it takes over. */
  | { cmd: 'audioCapture'; on: boolean; takeover?: boolean }
  /** The show's track: load a file from the track folders, move to a position (seconds), or unload. */
  | { cmd: 'track'; load?: string; position?: number; unload?: boolean };

export type ClientMessage = (Command & { id: number }) | FrameAck | PreviewAsk;

/**
 * Sent by a page after it has drawn a frame (the index from the packet header). The server keeps
 * at most MAX_FRAMES_IN_FLIGHT unacknowledged frames per page: a slow page gets the newest frame
 * when it is ready for one, never a backlog queued in socket buffers.
 */
export interface FrameAck {
  ack: number;
}
export const MAX_FRAMES_IN_FLIGHT = 2;

/**
 * Sent by a page that shows the output picture small (the control page's preview): the longest
 * side, in device pixels, it draws the picture at; 0 asks for full frames again. The server then
 * sends that page the picture halved (2x2 box) while the halved picture still covers that side,
 * so a 1024x1024 show reaches a 400-pixel preview as 512x512: a quarter of the bytes. Pages that
 * never ask (/output, recorders) get every frame whole.
 */
export interface PreviewAsk {
  preview: number;
}
/** The largest side a page may name in a PreviewAsk (beyond any picture; means full frames). */
export const MAX_PREVIEW_SIDE = 1 << 16;
