// A page-like client of /ws for tests (the `ws` package sends no Origin): it records messages,
// counts and acknowledges frames, and calls commands with a reply to wait for.
import WebSocket from 'ws';
import { PACKET_HEADER_BYTES, readHeader, type ServerMessage } from '../app/core/protocol.ts';

export function wsPage(url: string) {
  const ws = new WebSocket(url.replace(/^http/, 'ws').replace(/\/(\?|$)/, '/ws$1'));
  const messages: ServerMessage[] = [];
  let frames = 0;
  /** The last output picture's size, from its packet header. */
  let picture = { width: 0, height: 0 };
  let id = 0;
  const waiting = new Map<number, (m: Extract<ServerMessage, { type: 'reply' }>) => void>();
  ws.on('message', (data, binary) => {
    if (binary) {
      const b = data as Buffer;
      if (b.byteLength < PACKET_HEADER_BYTES) return;
      const h = readHeader(new DataView(b.buffer, b.byteOffset, b.byteLength));
      frames++;
      if (h.kind === 1) {
        picture = { width: h.width, height: h.height };
        if (b.byteLength !== PACKET_HEADER_BYTES + h.width * h.height * h.channels) throw new Error(`a ${h.width}x${h.height} packet of ${b.byteLength} bytes`);
        ws.send(JSON.stringify({ ack: h.index }));
      }
      return;
    }
    const m = JSON.parse(String(data)) as ServerMessage;
    messages.push(m);
    if (m.type === 'reply') waiting.get(m.id)?.(m);
  });
  const call = (cmd: Record<string, unknown>) =>
    new Promise<Extract<ServerMessage, { type: 'reply' }>>((ok, fail) => {
      const n = ++id;
      const timer = setTimeout(() => fail(new Error(`no reply to ${JSON.stringify(cmd)}`)), 10_000);
      waiting.set(n, (m) => (clearTimeout(timer), ok(m)));
      ws.send(JSON.stringify({ ...cmd, id: n }));
    });
  const opened = new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('error', fail);
  });
  const notices = () => messages.filter((m): m is Extract<ServerMessage, { type: 'notice' }> => m.type === 'notice').map((m) => m.text);
  return { ws, messages, call, opened, notices, frames: () => frames, picture: () => picture };
}
