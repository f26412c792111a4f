// The page's one link to the engine: a WebSocket speaking app/server/protocol.ts.
//  - State arrives as signals. Each parameter has its own signal, so a modulator moving one value
//    at frame rate re-renders one control, not the page.
//  - Pictures: only the newest packet of each kind is kept (latest wins); views take it on their
//    animation frame, and the frame is acknowledged after that animation frame, drawn or superseded.
//  - Commands go out with ids and resolve on their reply. Every control goes through `set`; what a
//    control shows is the server's value, except while the performer is dragging it (and until the
//    server has answered those moves), so a slider never jumps back under the hand.
import { batch, signal, type Signal } from '@preact/signals';
import {
  MAX_PREVIEW_SIDE,
  PACKET_HEADER_BYTES,
  PacketKind,
  readHeader,
  type Command,
  type BendInfo,
  type EditInfo,
  type EngineStats,
  type LayerInfo,
  type ModulatorInfo,
  type ParamInfo,
  type ParamValue,
  type PreviewAsk,
  type ServerMessage,
} from '../core/protocol.ts';
import type { LearnInfo, MidiInfo } from '../core/protocol.ts';
import { BLEND_ALL, BLEND_PREFIX } from '../core/addresses.ts';

export interface Picture {
  /** Frame index from the packet header. */
  index: number;
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Float32Array;
  /** Increases with every packet of any kind: views compare it to what they drew. */
  seq: number;
}

export const connected = signal(false);
/** False until the first hello: the page shows a placeholder instead of empty panels. */
export const ready = signal(false);
export const model = signal('');
export const size = signal<[number, number]>([0, 0]);
export const layers = signal<LayerInfo[]>([]);
export const stats = signal<EngineStats | null>(null);
export const partner = signal<string | null>(null);
export const edits = signal<EditInfo[]>([]);
/** Feature-map ops in the order they apply. */
export const bends = signal<BendInfo[]>([]);
export const presets = signal<string[]>([]);
/** The direction set W space plays, or null: the directions found from sampled z. */
export const directionSet = signal<string | null>(null);
export const learning = signal<string | null>(null);
export const modulators = signal<ModulatorInfo[]>([]);
/** Image inputs of the playing model the sketch pad can feed. */
export const sketches = signal<Array<{ input: string; width: number; height: number; channels: number }>>([]);
/** The show's MIDI: ports (or why none), learn, mappings; null until the first hello. */
export const midi = signal<MidiInfo | null>(null);
/** Live learning: the examples, training, the mapping; null until the first hello. */
export const learn = signal<LearnInfo | null>(null);
export const taps = signal<Array<{ id: number; layer: string; shape: number[] }>>([]);
export const notices = signal<Array<{ id: number; level: 'info' | 'warning' | 'error'; text: string }>>([]);

/**
 * Per-layer blend addresses that have their own amount (the others follow their parent, then
 * /netbend/blend/all). The server does not say which (see the report's protocol note); this follows
 * what the page sees: a layer amount the server changed is owned, until a restore (source 'engine')
 * puts it back to 0; at hello, the non-zero ones.
 */
export const blendOwn = signal<ReadonlySet<string>>(new Set());
function ownBlend(address: string, own: boolean): void {
  if (!address.startsWith(BLEND_PREFIX) || address === BLEND_ALL) return;
  const cur = blendOwn.peek();
  if (cur.has(address) === own) return;
  const next = new Set(cur);
  if (own) next.add(address);
  else next.delete(address);
  blendOwn.value = next;
}

/** Every parameter address in the server's order; changes only when parameters come or go. */
export const paramList = signal<string[]>([]);
const paramSignals = new Map<string, Signal<ParamInfo | undefined>>();

/** The signal of one parameter (undefined while the server has no such parameter). */
export function param(address: string): Signal<ParamInfo | undefined> {
  let s = paramSignals.get(address);
  if (!s) paramSignals.set(address, (s = signal<ParamInfo | undefined>(undefined)));
  return s;
}

/** A parameter's current value without subscribing (for key handlers and draw loops). */
export const currentValue = (address: string): ParamValue | undefined => paramSignals.get(address)?.peek()?.value;

// --- pictures -------------------------------------------------------------------------------

let seq = 0;
/** Newest output picture and newest tap per layer. */
export const latest: { output: Picture | undefined; taps: Map<string, Picture>; version: number } = { output: undefined, taps: new Map(), version: 0 };
const tapLayers = new Map<number, string>();
/** Output frames received since the last animation frame: acknowledged after it. */
const unacked: number[] = [];

// --- socket ---------------------------------------------------------------------------------

let ws: WebSocket | undefined;
let nextId = 1;
let retryMs = 500;
const waiting = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();

export function connect(): void {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${location.search}`;
  const socket = (ws = new WebSocket(url));
  socket.binaryType = 'arraybuffer';
  socket.onopen = () => {
    connected.value = true;
    retryMs = 500;
    if (previewSide) socket.send(JSON.stringify({ preview: previewSide } satisfies PreviewAsk));
  };
  socket.onclose = () => {
    if (ws !== socket) return;
    connected.value = false;
    unacked.length = 0;
    for (const w of waiting.values()) w.fail(new Error('disconnected'));
    waiting.clear();
    outstanding.clear();
    setTimeout(connect, retryMs);
    retryMs = Math.min(5000, retryMs * 2);
  };
  socket.onmessage = (ev) => {
    if (typeof ev.data === 'string') onJson(JSON.parse(ev.data) as ServerMessage);
    else onPacket(ev.data as ArrayBuffer);
  };
  startFrames();
}

function onPacket(buf: ArrayBuffer): void {
  if (buf.byteLength < PACKET_HEADER_BYTES) return;
  const h = readHeader(new DataView(buf));
  latest.version++;
  if (h.kind === PacketKind.Output) {
    latest.output = { index: h.index, width: h.width, height: h.height, channels: h.channels, data: new Uint8Array(buf, PACKET_HEADER_BYTES), seq: ++seq };
    unacked.push(h.index);
  } else if (h.kind === PacketKind.Tap) {
    const layer = tapLayers.get(h.tapId);
    // The header offset (16) keeps the floats aligned: a view, no copy.
    if (layer)
      latest.taps.set(layer, {
        index: h.index,
        width: h.width,
        height: h.height,
        channels: h.channels,
        data: new Float32Array(buf, PACKET_HEADER_BYTES, (buf.byteLength - PACKET_HEADER_BYTES) >> 2),
        seq: ++seq,
      });
  }
}

function setParams(list: ParamInfo[]): void {
  const seen = new Set<string>();
  for (const p of list) {
    seen.add(p.address);
    showFromServer(p.address, p);
  }
  for (const [a, s] of paramSignals) if (!seen.has(a) && s.peek()) s.value = undefined;
  const order = list.map((p) => p.address);
  const prev = paramList.peek();
  if (prev.length !== order.length || prev.some((a, i) => a !== order[i])) paramList.value = order;
}

function onJson(m: ServerMessage): void {
  batch(() => {
    switch (m.type) {
      case 'hello':
        blendOwn.value = new Set(m.params.filter((p) => p.address.startsWith(BLEND_PREFIX) && p.address !== BLEND_ALL && p.value !== 0).map((p) => p.address));
        model.value = m.model;
        size.value = [m.width, m.height];
        layers.value = m.layers;
        setParams(m.params);
        partner.value = m.partner;
        edits.value = m.edits;
        bends.value = m.bends;
        sketches.value = m.sketches;
        modulators.value = m.modulators;
        presets.value = m.presets;
        directionSet.value = m.directionSet;
        midi.value = m.midi;
        learn.value = m.learn;
        ready.value = true;
        break;
      case 'params':
        setParams(m.params);
        break;
      case 'param': {
        ownBlend(m.address, !(m.source === 'engine' && m.value === 0));
        const p = paramSignals.get(m.address)?.peek() ?? serverValues.get(m.address);
        if (p) showFromServer(m.address, { ...p, value: m.value });
        break;
      }
      case 'stats':
        stats.value = m.stats;
        break;
      case 'state':
        partner.value = m.partner;
        edits.value = m.edits;
        bends.value = m.bends;
        presets.value = m.presets;
        directionSet.value = m.directionSet;
        learning.value = m.learning;
        modulators.value = m.modulators;
        midi.value = m.midi;
        learn.value = m.learn;
        break;
      case 'taps':
        tapLayers.clear();
        for (const t of m.taps) tapLayers.set(t.id, t.layer);
        for (const l of [...latest.taps.keys()]) if (!m.taps.some((t) => t.layer === l)) latest.taps.delete(l);
        taps.value = m.taps;
        break;
      case 'notice':
        notice(m.level, m.text);
        break;
      case 'capture':
        for (const fn of captureEnded) fn(m.text);
        break;
      case 'reply': {
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        if (m.ok) w?.ok(m.result);
        else w?.fail(new Error(m.error ?? 'failed'));
        break;
      }
    }
  });
}

/** Told when the engine ends this page's audio capture (another page took it over). */
export const captureEnded = new Set<(text: string) => void>();

/** A binary message (a block of audio); false when not connected or the socket is backed up. */
export function sendBinary(buf: ArrayBuffer): boolean {
  if (!ws || ws.readyState !== WebSocket.OPEN || ws.bufferedAmount > 1 << 20) return false;
  ws.send(buf);
  return true;
}

let noticeId = 0;
export function notice(level: 'info' | 'warning' | 'error', text: string): void {
  const id = ++noticeId;
  notices.value = [...notices.value.slice(-3), { id, level, text }];
  setTimeout(() => (notices.value = notices.value.filter((n) => n.id !== id)), level === 'error' ? 9000 : 5000);
}

/** Sends a command and resolves with its result; a failure rejects, without a notice. */
function request(cmd: Command): Promise<unknown> {
  const id = nextId++;
  return new Promise<unknown>((ok, fail) => {
    if (!ws || ws.readyState !== WebSocket.OPEN) return fail(new Error('not connected to the engine'));
    waiting.set(id, { ok, fail });
    ws.send(JSON.stringify({ ...cmd, id }));
  });
}

const shown = (err: Error): never => {
  notice('error', err.message);
  throw err;
};

/** Sends a command; resolves with its result. Failures are shown as notices and rethrown. */
export function send(cmd: Command): Promise<unknown> {
  return request(cmd).catch(shown);
}

/** Commands the performance lock may hold back until the performer confirms. */
export type ConfirmableCommand = Extract<Command, { confirm?: boolean }>;

/** Refused by the lock ("locked: ... ? confirm to go ahead"). */
const LOCKED = /^locked: /;

/**
 * Sends a move the performance lock may hold back (a preset, a model switch): when the server
 * answers "locked: ...", asks the performer and sends it again with `confirm`. Resolves with the
 * result; rejects when it failed (shown as a notice) or the performer said no (no notice).
 */
export function sendConfirming(cmd: ConfirmableCommand): Promise<unknown> {
  return request(cmd).catch((err: Error) => {
    if (!LOCKED.test(err.message)) return shown(err);
    const question = `${err.message.replace(LOCKED, '').replace(/\? confirm to go ahead$/, '')}?`;
    if (!window.confirm(question)) throw err;
    return send({ ...cmd, confirm: true });
  });
}

/** Fire and forget: errors already became notices. */
export const run = (cmd: Command): void => void send(cmd).catch(() => {});

// --- parameters: set through the server, shown from the server -----------------------------

/** Addresses a control is dragging right now. */
const held = new Set<string>();
/** Sets sent and not yet answered, per address. */
const outstanding = new Map<string, number>();
/** What the server said last, for addresses whose control is held. */
const serverValues = new Map<string, ParamInfo>();
/** Coalesced continuous sets: one per address per animation frame. */
const pendingSets = new Map<string, ParamValue>();

function guarded(address: string): boolean {
  return held.has(address) || (outstanding.get(address) ?? 0) > 0;
}

function showFromServer(address: string, p: ParamInfo): void {
  if (guarded(address)) {
    serverValues.set(address, p);
    // Range, type and description still update; the value stays where the hand is.
    const shown = param(address).peek();
    if (shown && (shown.min !== p.min || shown.max !== p.max || shown.type !== p.type)) param(address).value = { ...p, value: shown.value };
    return;
  }
  serverValues.delete(address);
  const s = param(address);
  const cur = s.peek();
  if (!cur || cur.value !== p.value || cur.min !== p.min || cur.max !== p.max || cur.type !== p.type || cur.options !== p.options) s.value = p;
}

function release(address: string): void {
  if (guarded(address)) return;
  const p = serverValues.get(address);
  if (p) showFromServer(address, p);
}

/** Shows `value` at once and sends it; `continuous` coalesces a drag to one set per frame. */
export function setParam(address: string, value: ParamValue, continuous = false): void {
  const s = param(address);
  const cur = s.peek();
  if (cur) s.value = { ...cur, value };
  ownBlend(address, true);
  if (continuous) {
    pendingSets.set(address, value);
    return;
  }
  pendingSets.delete(address);
  sendSet(address, value);
}

function sendSet(address: string, value: ParamValue): void {
  outstanding.set(address, (outstanding.get(address) ?? 0) + 1);
  const done = () => {
    outstanding.set(address, Math.max(0, (outstanding.get(address) ?? 1) - 1));
    release(address);
  };
  send({ cmd: 'set', address, value }).then(done, () => {
    done();
    // Refused (out of range, read-only...): show the server's value again.
    const p = serverValues.get(address);
    if (p) param(address).value = p;
  });
}

/** A control takes (true) or lets go of (false) its parameter. */
export function hold(address: string, on: boolean): void {
  if (on) {
    held.add(address);
    const cur = param(address).peek();
    if (cur) serverValues.set(address, cur);
  } else {
    held.delete(address);
    const v = pendingSets.get(address);
    if (v !== undefined) {
      pendingSets.delete(address);
      sendSet(address, v);
    }
    release(address);
  }
}

/** The side this page asked its output pictures at (0: full frames); asked again on every connection. */
let previewSide = 0;

/**
 * For a page that shows the output small (the control page's preview): asks the server for
 * pictures about `side` pixels long instead of full frames. Rounded up to 64 pixels, so a pane
 * being resized says so a few times, not on every animation frame.
 */
export function askPreview(side: number): void {
  const want = side > 0 ? Math.min(MAX_PREVIEW_SIDE, Math.ceil(side / 64) * 64) : 0;
  if (want === previewSide) return;
  previewSide = want;
  if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ preview: want } satisfies PreviewAsk));
}

// --- the animation frame --------------------------------------------------------------------

const frameListeners = new Set<(now: number) => void>();
/** Called on every animation frame; views draw there if something new arrived. */
export function onFrame(fn: (now: number) => void): () => void {
  frameListeners.add(fn);
  return () => frameListeners.delete(fn);
}

let framesStarted = false;
function startFrames(): void {
  if (framesStarted) return;
  framesStarted = true;
  const tick = (now: number) => {
    requestAnimationFrame(tick);
    for (const [a, v] of pendingSets) sendSet(a, v);
    pendingSets.clear();
    for (const fn of frameListeners) fn(now);
    // Every output packet that arrived is now drawn or superseded by a newer one that was: tell
    // the server there is room for the next. A hidden page has no animation frames, acks nothing
    // and so gets nothing until it is shown again.
    if (ws?.readyState === WebSocket.OPEN) for (const index of unacked) ws.send(JSON.stringify({ ack: index }));
    unacked.length = 0;
  };
  requestAnimationFrame(tick);
}

// Tests, benches and the curious can look at what arrived (no control goes through this). The
// Electron preload's API is `netbendShell`, so this name stays free.
(globalThis as { netbend?: unknown }).netbend = {
  latest,
  stats,
  value: (address: string) => currentValue(address),
  server: (address: string) => (serverValues.get(address) ?? param(address).peek())?.value,
  drawn: { output: -1, pictures: 0, side: 0, blackout: 1, fit: '', box: [0, 0, 0, 0] as number[], tap: '' as string, tapSize: [0, 0, 0] as number[], view: [0, 0] as number[] },
};

export interface DebugDrawn {
  output: number;
  /** Output pictures the view has drawn (each arrived packet it showed, once). */
  pictures: number;
  /** The longest side the output view drew the picture at, in canvas pixels. */
  side: number;
  /** The output view's blackout, fit mode and output window (x, y, width, height) on screen. */
  blackout: number;
  fit: string;
  box: number[];
  tap: string;
  tapSize: number[];
  view: number[];
}
export const debugDrawn = (globalThis as unknown as { netbend: { drawn: DebugDrawn } }).netbend.drawn;
