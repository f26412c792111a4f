// Pictures to a WebSocket client, latest wins: while the socket still holds an unsent frame, newer
// frames replace the pending one instead of queueing, so a slow page drops stale frames and the
// engine never waits for it.
import type { WebSocket } from 'ws';
import { PACKET_HEADER_BYTES, PacketKind, writeHeader } from './protocol.ts';
import type { Frame } from '../engine/frame.ts';

/** Bytes the socket may hold before we stop adding frames (about two 1024px frames). */
const HIGH_WATER = 8 * 1024 * 1024;

export class FrameStream {
  private pending: Frame | undefined;
  private sending = false;
  sent = 0;
  skipped = 0;
  /** tap layer -> id used in packets */
  taps = new Map<string, number>();

  constructor(private readonly ws: WebSocket) {}

  push(frame: Frame): void {
    if (this.pending) this.skipped++;
    this.pending = frame;
    if (!this.sending) this.flush();
  }

  private flush(): void {
    const frame = this.pending;
    if (!frame || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > HIGH_WATER) {
      // Try again shortly; by then a newer frame may have replaced this one.
      this.sending = true;
      setTimeout(() => ((this.sending = false), this.flush()), 4);
      return;
    }
    this.pending = undefined;
    this.sending = true;
    const packets: Uint8Array[] = [];
    if (frame.rgba) packets.push(packet(PacketKind.Output, 0, frame.index, frame.width, frame.height, 4, frame.rgba));
    for (const [layer, t] of Object.entries(frame.taps)) {
      const id = this.taps.get(layer);
      if (id === undefined) continue;
      const [c, h, w] = chw(t.dims);
      packets.push(packet(PacketKind.Tap, id, frame.index, w, h, c, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)));
    }
    let left = packets.length;
    if (left === 0) {
      this.sending = false;
      return;
    }
    for (const p of packets)
      this.ws.send(p, { binary: true }, () => {
        if (--left === 0) {
          this.sent++;
          this.sending = false;
          if (this.pending) this.flush();
        }
      });
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

function packet(kind: PacketKind, tapId: number, index: number, width: number, height: number, channels: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(PACKET_HEADER_BYTES + data.byteLength);
  writeHeader(new DataView(out.buffer), { kind, tapId, index, width, height, channels });
  out.set(data, PACKET_HEADER_BYTES);
  return out;
}
