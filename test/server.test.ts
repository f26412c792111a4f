// The live server over real sockets: hello, binary frames, commands, parameter echo, latest-wins
// streaming, and the token guard for LAN binds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { fixture, startServe } from './helpers.ts';
import { PACKET_HEADER_BYTES, readHeader, type ServerMessage } from '../app/core/protocol.ts';

function connect(
  url: string,
): Promise<{ ws: WebSocket; messages: ServerMessage[]; frames: Array<{ index: number; width: number; height: number; bytes: number }>; call: (cmd: object) => Promise<ServerMessage> }> {
  const ws = new WebSocket(url.replace(/^http/, 'ws').replace(/\/(\?|$)/, '/ws$1'));
  const messages: ServerMessage[] = [];
  const frames: Array<{ index: number; width: number; height: number; bytes: number }> = [];
  let id = 0;
  const waiting = new Map<number, (m: ServerMessage) => void>();
  ws.on('message', (data, binary) => {
    if (binary) {
      const b = data as Buffer;
      const h = readHeader(new DataView(b.buffer, b.byteOffset, b.byteLength));
      frames.push({ index: h.index, width: h.width, height: h.height, bytes: b.byteLength - PACKET_HEADER_BYTES });
      // Like the UI: acknowledge each drawn frame so the server sends the next one.
      if (h.kind === 1) ws.send(JSON.stringify({ ack: h.index }));
      return;
    }
    const m = JSON.parse(String(data)) as ServerMessage;
    messages.push(m);
    if (m.type === 'reply') waiting.get(m.id)?.(m);
  });
  const call = (cmd: object) =>
    new Promise<ServerMessage>((ok) => {
      const n = ++id;
      waiting.set(n, ok);
      ws.send(JSON.stringify({ ...cmd, id: n }));
    });
  return new Promise((ok, fail) => {
    ws.once('open', () => ok({ ws, messages, frames, call }));
    ws.once('error', fail);
  });
}

const until = async (cond: () => boolean, ms = 20_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('serve: hello, RGBA frames, commands and parameter echo over the WebSocket', async () => {
  const s = await startServe(fixture('stylegan2-64-tiny.onnx'));
  try {
    const c = await connect(s.url);
    await until(() => c.messages.some((m) => m.type === 'hello') && c.frames.length >= 3);
    const hello = c.messages.find((m) => m.type === 'hello') as Extract<ServerMessage, { type: 'hello' }>;
    assert.equal(hello.width, 64);
    assert.ok(hello.params.some((p) => p.address === '/netbend/source/z/speed'));
    assert.deepEqual({ w: c.frames[0]!.width, h: c.frames[0]!.height, bytes: c.frames[0]!.bytes }, { w: 64, h: 64, bytes: 64 * 64 * 4 });
    assert.ok(c.frames.at(-1)!.index > c.frames[0]!.index, 'frame indices advance');
    const reply = await c.call({ cmd: 'set', address: '/netbend/source/z/speed', value: 2.5 });
    assert.equal((reply as { ok: boolean }).ok, true);
    await until(() => c.messages.some((m) => m.type === 'param' && m.address === '/netbend/source/z/speed' && m.value === 2.5));
    const bad = await c.call({ cmd: 'set', address: '/netbend/nope', value: 1 });
    assert.match((bad as { error: string }).error, /no parameter \/netbend\/nope/);
    const edit = await c.call({ cmd: 'addEdit', target: 'b16', op: 'scale', amount: 0 });
    assert.equal((edit as { ok: boolean }).ok, true);
    const taps = await c.call({ cmd: 'setTaps', layers: ['b32'] });
    assert.deepEqual((taps as { result: string[] }).result, ['G.synthesis.b32']);
    c.ws.close();
  } finally {
    await s.stop();
  }
});

test('a page that stops reading does not slow the engine or build a backlog', async () => {
  const s = await startServe(fixture('stylegan2-64-tiny.onnx'), ['--fps', '60']);
  try {
    const fast = await connect(s.url);
    const slow = await connect(s.url);
    // The slow client stops reading its socket: the kernel buffers fill, the server must drop.
    (slow.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    await new Promise((r) => setTimeout(r, 3000));
    const stats = fast.messages.filter((m) => m.type === 'stats').at(-1) as Extract<ServerMessage, { type: 'stats' }>;
    assert.ok(stats.stats.fps > 30, `engine keeps its pace (fps ${stats.stats.fps.toFixed(1)})`);
    assert.ok(fast.frames.length > 60, `the reading client keeps receiving (${fast.frames.length})`);
    // Reading again, the slow page gets the newest frames, not a backlog of every stale one.
    (slow.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(slow.frames.length > 0, 'the slow page gets pictures again');
    assert.ok(slow.frames.length < fast.frames.length / 2, `stale frames were dropped (slow ${slow.frames.length}, fast ${fast.frames.length})`);
    const latest = fast.frames.at(-1)!.index;
    assert.ok(latest - slow.frames.at(-1)!.index < 30, 'the slow page is showing a recent frame');
    fast.ws.close();
    slow.ws.terminate();
  } finally {
    await s.stop();
  }
});

test('a preset of another model switches the model live; pages get a new hello, show-wide values survive', async (t) => {
  const { tempDir, ROOT } = await import('./helpers.ts');
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const dir = tempDir(t);
  writeFileSync(
    join(dir, 'other.json'),
    JSON.stringify({ netbend: 'preset', version: 1, name: 'other', model: { path: join(ROOT, 'models', 'default.onnx') }, params: { '/netbend/source/z/seed': 5 } }),
  );
  const s = await startServe(fixture('stylegan2-64-tiny.onnx'), ['--presets', dir]);
  try {
    const c = await connect(s.url);
    await until(() => c.frames.length > 2);
    await c.call({ cmd: 'set', address: '/netbend/knobs/k1', value: 0.75 });
    const reply = await c.call({ cmd: 'loadPreset', name: 'other' });
    assert.equal((reply as { ok: boolean }).ok, true, JSON.stringify(reply));
    await until(() => c.messages.filter((m) => m.type === 'hello').length === 2);
    const hello = c.messages.filter((m) => m.type === 'hello').at(-1) as Extract<ServerMessage, { type: 'hello' }>;
    assert.equal(hello.width, 256);
    assert.ok(hello.model.endsWith('default.onnx'));
    assert.ok(hello.layers.some((l) => l.path === 'G'));
    assert.ok(!hello.params.some((p) => p.address.startsWith('/netbend/blend/G.synthesis.b16')), "the old model's own parameters are gone");
    assert.equal(hello.params.find((p) => p.address === '/netbend/knobs/k1')?.value, 0.75, 'show-wide values survive');
    await until(() => c.messages.some((m) => m.type === 'param' && m.address === '/netbend/source/z/seed' && m.value === 5));
    const n = c.frames.length;
    await until(() => c.frames.length > n + 2 && c.frames.at(-1)!.width === 256);
    c.ws.close();
  } finally {
    await s.stop();
  }
});
