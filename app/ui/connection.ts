// The page's one link to the engine: a WebSocket speaking app/server/protocol.ts. State arrives as
// signals (params, layers, stats...), pictures as the latest packet, commands go out with ids.
import { signal } from '@preact/signals';
import { PACKET_HEADER_BYTES, PacketKind, readHeader, type Command, type EngineStats, type LayerInfo, type ParamInfo, type ServerMessage } from '../server/protocol.ts';

export interface Picture {
  index: number;
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Float32Array;
}

export const connected = signal(false);
export const model = signal('');
export const size = signal<[number, number]>([0, 0]);
export const layers = signal<LayerInfo[]>([]);
export const params = signal<Record<string, ParamInfo>>({});
export const stats = signal<EngineStats | null>(null);
export const partner = signal<string | null>(null);
export const edits = signal<Array<{ id: string; target: string; op: string; address: string }>>([]);
export const presets = signal<string[]>([]);
export const learning = signal<string | null>(null);
export const notices = signal<Array<{ level: string; text: string; at: number }>>([]);
export const taps = signal<Array<{ id: number; layer: string; shape: number[] }>>([]);

/** Newest pictures; renderers take them on their animation frame (latest wins). */
export const latest: { output: Picture | undefined; tap: Picture | undefined; version: number } = { output: undefined, tap: undefined, version: 0 };

let ws: WebSocket | undefined;
let nextId = 1;
const waiting = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();

export function connect(): void {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${location.search}`;
  ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => (connected.value = true);
  ws.onclose = () => {
    connected.value = false;
    setTimeout(connect, 1000);
  };
  ws.onmessage = (ev) => (typeof ev.data === 'string' ? onJson(JSON.parse(ev.data) as ServerMessage) : onPacket(ev.data as ArrayBuffer));
}

function onPacket(buf: ArrayBuffer): void {
  const h = readHeader(new DataView(buf));
  // Views into the received buffer: no copy of a 4 MB frame.
  const data = h.kind === PacketKind.Output ? new Uint8Array(buf, PACKET_HEADER_BYTES) : new Float32Array(buf, PACKET_HEADER_BYTES);
  const pic: Picture = { index: h.index, width: h.width, height: h.height, channels: h.channels, data };
  if (h.kind === PacketKind.Output) {
    latest.output = pic;
    // Acknowledge so the server sends the next one; a busy page simply acks later.
    requestAnimationFrame(() => ws?.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ ack: h.index })));
  } else latest.tap = pic;
  latest.version++;
}

function onJson(m: ServerMessage): void {
  switch (m.type) {
    case 'hello':
      model.value = m.model;
      size.value = [m.width, m.height];
      layers.value = m.layers;
      params.value = Object.fromEntries(m.params.map((p) => [p.address, p]));
      partner.value = m.partner;
      edits.value = m.edits;
      presets.value = m.presets;
      break;
    case 'params':
      params.value = Object.fromEntries(m.params.map((p) => [p.address, p]));
      break;
    case 'param': {
      const p = params.value[m.address];
      if (p) params.value = { ...params.value, [m.address]: { ...p, value: m.value } };
      break;
    }
    case 'stats':
      stats.value = m.stats;
      break;
    case 'state':
      partner.value = m.partner;
      edits.value = m.edits;
      presets.value = m.presets;
      learning.value = m.learning;
      break;
    case 'taps':
      taps.value = m.taps;
      break;
    case 'notice':
      notices.value = [...notices.value.slice(-4), { level: m.level, text: m.text, at: Date.now() }];
      break;
    case 'reply': {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.ok) w?.ok(m.result);
      else {
        notices.value = [...notices.value.slice(-4), { level: 'error', text: m.error ?? 'failed', at: Date.now() }];
        w?.fail(new Error(m.error));
      }
      break;
    }
  }
}

export function send(cmd: Command): Promise<unknown> {
  const id = nextId++;
  return new Promise((ok, fail) => {
    if (!ws || ws.readyState !== WebSocket.OPEN) return fail(new Error('not connected'));
    waiting.set(id, { ok, fail });
    ws.send(JSON.stringify({ ...cmd, id }));
  });
}

export const setParam = (address: string, value: number | boolean | string) => send({ cmd: 'set', address, value }).catch(() => {});

// Tests and the curious can look at what arrived (no control goes through this).
(globalThis as { netbend?: unknown }).netbend = { latest, params, stats };
