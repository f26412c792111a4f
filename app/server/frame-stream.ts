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
  private later: NodeJS.Immediate | undefined;
  sent = 0;
  skipped = 0;
  /** tap layer -> id used in packets */
  taps = new Map<string, number>();
  /** The longest side this page draws the picture at (a PreviewAsk); 0: full frames. */
  previewSide = 0;

  constructor(private readonly ws: WebSocket) {}

  push(frame: Frame): void {
    if (this.pending) this.skipped++;
    this.pending = frame;
    // A preview is halved here, on the main thread: after the frame loop has sent the engine off
    // on the next frame (push is called from its 'frame' event), so the loop never waits on it.
    if (this.previewSide > 0) this.later ??= setImmediate(() => ((this.later = undefined), this.flush()));
    else this.flush();
  }

  /** The page drew a frame: room for the next one. */
  ack(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.flush();
  }

  close(): void {
    clearTimeout(this.retry);
    clearImmediate(this.later);
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
    if (frame.rgba) this.ws.send(outputPacket(frame, previewHalvings(frame.width, frame.height, this.previewSide)), { binary: true });
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

/**
 * How many times a picture of w x h may be halved for a page that draws it at most `side` pixels
 * long: while the halved picture still covers that side (so the preview is never upscaled from
 * less than it shows) and both sides stay whole. 0 when the page asked for nothing.
 */
export function previewHalvings(w: number, h: number, side: number): number {
  if (!(side > 0)) return 0;
  let n = 0;
  while (w % 2 === 0 && h % 2 === 0 && Math.max(w, h) / 2 >= side && Math.min(w, h) > 1) (w /= 2), (h /= 2), n++;
  return n;
}

/**
 * RGBA8 w x h (w, h even) to (w/2) x (h/2), each pixel the mean of its 2x2 block, four channels at
 * once in 32-bit words (SWAR): each row pair's means rounded down, their mean rounded up, so every
 * value is within half a level of the exact mean (about 2 ms a 1024x1024 frame here). `out` holds
 * (w/2) * (h/2) words.
 */
export function halve(src: Uint32Array, w: number, h: number, out: Uint32Array): void {
  const ow = w >> 1;
  const oh = h >> 1;
  const M = 0xfefefefe;
  for (let y = 0, o = 0; y < oh; y++) {
    let i = 2 * y * w;
    for (let x = 0; x < ow; x++, i += 2) {
      const a = src[i]!;
      const b = src[i + 1]!;
      const c = src[i + w]!;
      const d = src[i + w + 1]!;
      const top = (a & b) + (((a ^ b) & M) >>> 1);
      const bottom = (c & d) + (((c ^ d) & M) >>> 1);
      out[o++] = (top | bottom) - (((top ^ bottom) & M) >>> 1);
    }
  }
}

/** Each frame's picture packets (whole, and halved for previews), made once for every page that gets them. */
const outputPackets = new WeakMap<Frame, Map<number, Uint8Array>>();

/**
 * The picture as a packet: the header goes in the room the engine leaves in front of the pixels
 * (RGBA_LEAD_BYTES), so a 1024x1024 frame reaches any number of pages without one copy of its 4 MB.
 * Halved `halvings` times for a preview: built from the next larger one, into a packet of its own.
 */
function outputPacket(frame: Frame, halvings = 0): Uint8Array {
  let sizes = outputPackets.get(frame);
  if (!sizes) outputPackets.set(frame, (sizes = new Map()));
  let p = sizes.get(halvings);
  if (p) return p;
  const header = { kind: PacketKind.Output, tapId: 0, index: frame.index, width: frame.width >> halvings, height: frame.height >> halvings, channels: 4 };
  if (halvings > 0) {
    const from = outputPacket(frame, halvings - 1);
    const [w, h] = [frame.width >> (halvings - 1), frame.height >> (halvings - 1)];
    p = new Uint8Array(PACKET_HEADER_BYTES + header.width * header.height * 4);
    writeHeader(new DataView(p.buffer, 0, PACKET_HEADER_BYTES), header);
    const src = from.byteOffset % 4 === 0 ? new Uint32Array(from.buffer, from.byteOffset + PACKET_HEADER_BYTES, w * h) : new Uint32Array(from.slice(PACKET_HEADER_BYTES).buffer);
    halve(src, w, h, new Uint32Array(p.buffer, PACKET_HEADER_BYTES, header.width * header.height));
  } else {
    const px = frame.rgba!;
    if (px.byteOffset >= PACKET_HEADER_BYTES) {
      p = new Uint8Array(px.buffer, px.byteOffset - PACKET_HEADER_BYTES, PACKET_HEADER_BYTES + px.byteLength);
      writeHeader(new DataView(p.buffer, p.byteOffset, PACKET_HEADER_BYTES), header);
    } else p = packet(header.kind, 0, frame.index, frame.width, frame.height, 4, px);
  }
  sizes.set(halvings, p);
  return p;
}
function packet(kind: PacketKind, tapId: number, index: number, width: number, height: number, channels: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(PACKET_HEADER_BYTES + data.byteLength);
  writeHeader(new DataView(out.buffer), { kind, tapId, index, width, height, channels });
  out.set(data, PACKET_HEADER_BYTES);
  return out;
}
