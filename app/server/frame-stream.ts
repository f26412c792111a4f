// Pictures to a WebSocket client, latest wins: a page acknowledges each frame it has drawn, at most
// MAX_FRAMES_IN_FLIGHT are unacknowledged, and newer frames replace the pending one instead of
// queueing. Socket buffers alone would hold seconds of small frames; acks keep a slow page current
// and the engine never waits for it.
import type { WebSocket } from 'ws';
import { MAX_FRAMES_IN_FLIGHT, PACKET_HEADER_BYTES, PacketKind, writeHeader } from '../core/protocol.ts';
import type { Frame } from '../engine/frame.ts';

/** Bytes the socket may hold before we stop adding frames (about two 1024px frames). */
const HIGH_WATER = 8 * 1024 * 1024;

export class FrameStream {
  private pending: Frame | undefined;
  private inFlight = 0;
  private retry: NodeJS.Timeout | undefined;
  sent = 0;
  skipped = 0;
  /** tap layer -> id used in packets */
  taps = new Map<string, number>();

  constructor(private readonly ws: WebSocket) {}

  push(frame: Frame): void {
    if (this.pending) this.skipped++;
    this.pending = frame;
    this.flush();
  }

  /** The page drew a frame: room for the next one. */
  ack(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.flush();
  }

  close(): void {
    clearTimeout(this.retry);
    this.pending = undefined;
  }

  private flush(): void {
    const frame = this.pending;
    if (!frame || this.inFlight >= MAX_FRAMES_IN_FLIGHT || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > HIGH_WATER) {
      // By the time the socket drains, a newer frame may have replaced this one.
      this.retry ??= setTimeout(() => ((this.retry = undefined), this.flush()), 4);
      return;
    }
    this.pending = undefined;
    this.inFlight++;
    this.sent++;
    if (frame.rgba) this.ws.send(outputPacket(frame), { binary: true });
    for (const [layer, t] of Object.entries(frame.taps)) {
      const id = this.taps.get(layer);
      if (id === undefined) continue;
      const [c, h, w] = chw(t.dims);
      this.ws.send(packet(PacketKind.Tap, id, frame.index, w, h, c, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)), { binary: true });
    }
  }
}

export function chw(dims: number[]): [number, number, number] {
  if (dims.length >= 3) {
    const [c, h, w] = dims.slice(-3) as [number, number, number];
    const lead = dims.slice(0, -3).reduce((a, b) => a * b, 1);
    return [c * lead, h, w];
  }
  const n = dims.reduce((a, b) => a * b, 1);
  return [n, 1, 1];
}

/** Each frame's picture packet, made once for every page that gets it. */
const outputPackets = new WeakMap<Frame, Uint8Array>();

/**
 * The picture as a packet: the header goes in the room the engine leaves in front of the pixels
 * (RGBA_LEAD_BYTES), so a 1024x1024 frame reaches any number of pages without one copy of its 4 MB.
 */
function outputPacket(frame: Frame): Uint8Array {
  let p = outputPackets.get(frame);
  if (p) return p;
  const px = frame.rgba!;
  const header = { kind: PacketKind.Output, tapId: 0, index: frame.index, width: frame.width, height: frame.height, channels: 4 };
  if (px.byteOffset >= PACKET_HEADER_BYTES) {
    p = new Uint8Array(px.buffer, px.byteOffset - PACKET_HEADER_BYTES, PACKET_HEADER_BYTES + px.byteLength);
    writeHeader(new DataView(p.buffer, p.byteOffset, PACKET_HEADER_BYTES), header);
  } else p = packet(header.kind, 0, frame.index, frame.width, frame.height, 4, px);
  outputPackets.set(frame, p);
  return p;
}

function packet(kind: PacketKind, tapId: number, index: number, width: number, height: number, channels: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(PACKET_HEADER_BYTES + data.byteLength);
  writeHeader(new DataView(out.buffer), { kind, tapId, index, width, height, channels });
  out.set(data, PACKET_HEADER_BYTES);
  return out;
}
