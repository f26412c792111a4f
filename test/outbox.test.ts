// The per-page outbox over a real WebSocket pair on loopback, then a real `netbend serve` with a
// page that never reads under an OSC flood: memory stays bounded, reading pages stay current.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { CLOSE_NOT_READING, DEFAULT_OUTBOX_LIMITS, PageOutbox, type OutboxLimits } from '../app/server/page-outbox.ts';
import type { ServerMessage } from '../app/core/protocol.ts';
import { OSC, packBundle } from '../app/io/osc-server.ts';
import { fixture, startServe } from './helpers.ts';

async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket;

/** A server-side socket with an outbox, and the page (client) at the other end. */
async function pair(t: { after(fn: () => unknown): void }, limits: Partial<OutboxLimits> = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const serverSide = new Promise<WebSocket>((r) => wss.once('connection', (ws) => r(ws)));
  const page = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
  const received: ServerMessage[] = [];
  page.on('message', (d) => received.push(JSON.parse(String(d)) as ServerMessage));
  await new Promise((ok, fail) => page.once('open', ok).once('error', fail));
  const ws = await serverSide;
  const outbox = new PageOutbox(ws, { ...DEFAULT_OUTBOX_LIMITS, ...limits });
  t.after(async () => {
    outbox.close();
    page.terminate();
    ws.terminate();
    await new Promise((r) => wss.close(r));
  });
  return { ws, page, outbox, received };
}

/** Stops the page reading and fills the socket until the outbox has to hold messages. */
function stall(page: WebSocket, ws: WebSocket, outbox: PageOutbox, highWater: number): void {
  socketOf(page).pause();
  const pad = JSON.stringify({ type: 'params', params: [], pad: 'x'.repeat(64 * 1024) });
  for (let i = 0; ws.bufferedAmount < highWater; i++) {
    assert.ok(i < 20_000, 'the socket filled up');
    outbox.push({ type: 'params', params: [] }, pad);
  }
}

const param = (address: string, value: number): ServerMessage => ({ type: 'param', address, value, source: 'osc' });

test('a page that does not read gets the latest value per address, bounded notices, every reply', async (t) => {
  const highWater = 64 * 1024;
  const { ws, page, outbox, received } = await pair(t, { highWater, maxNotices: 8, stuckMs: 60_000 });
  stall(page, ws, outbox, highWater);
  const addresses = Array.from({ length: 50 }, (_, i) => `/netbend/knobs/k${i}`);
  for (let n = 0; n < 100_000; n++) outbox.push(param(addresses[n % 50]!, n));
  for (let n = 0; n < 100; n++) outbox.push({ type: 'notice', level: 'info', text: `notice ${n}` });
  for (let n = 0; n < 20; n++) outbox.push({ type: 'reply', id: n, ok: true });
  for (let n = 0; n < 100; n++) outbox.push({ type: 'stats', stats: { frame: n } as never });
  // 50 addresses + 8 notices + 20 replies + stats, whatever was pushed.
  assert.ok(outbox.size <= 50 + 8 + 20 + 1 + 1, `outbox holds ${outbox.size}`);
  assert.equal(outbox.droppedNotices, 92);

  socketOf(page).resume();
  await until(() => received.filter((m) => m.type === 'reply').length === 20, 10_000, 'all replies');
  await until(() => outbox.size === 0, 5000, 'outbox drained');
  const last = new Map<string, number>();
  for (const m of received) if (m.type === 'param') last.set(m.address, m.value as number);
  for (const [i, a] of addresses.entries()) assert.equal(last.get(a), 100_000 - 50 + i, `${a} ends at its latest value`);
  const params = received.filter((m) => m.type === 'param').length;
  assert.ok(params < 10_000, `coalesced, not a backlog (${params} param messages of 100000)`);
  assert.deepEqual(
    received.filter((m) => m.type === 'notice').map((m) => (m as { text: string }).text),
    ['92 older notices were dropped while this page was not reading', ...Array.from({ length: 8 }, (_, i) => `notice ${92 + i}`)],
    'the newest notices, in order, after word of the dropped ones',
  );
  assert.deepEqual(
    received.filter((m) => m.type === 'reply').map((m) => (m as { id: number }).id),
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.equal((received.filter((m) => m.type === 'stats').at(-1) as { stats: { frame: number } }).stats.frame, 99, 'the latest stats');
});

test('a hello makes pending parameter messages stale; order follows the last push', async (t) => {
  const highWater = 64 * 1024;
  const { ws, page, outbox, received } = await pair(t, { highWater, stuckMs: 60_000 });
  stall(page, ws, outbox, highWater);
  outbox.push(param('/netbend/knobs/k1', 1));
  outbox.push({ type: 'taps', taps: [] });
  outbox.push({
    type: 'hello',
    model: 'm',
    width: 1,
    height: 1,
    layers: [],
    params: [],
    partner: null,
    edits: [],
    bends: [],
    taps: [],
    presets: [],
    modulators: [],
    sketches: [],
    midi: { available: false, reason: 'none here', inputs: [], output: null, learn: { state: 'idle', n: 0 }, mappings: [] },
    learn: { inputs: [], targets: [], examples: 0, recent: [], name: null, datasets: [], mappers: [], training: null, mapping: null, playing: null },
    directionSet: null,
  });
  outbox.push(param('/netbend/knobs/k2', 2));
  outbox.push({ type: 'params', params: [] });
  outbox.push(param('/netbend/knobs/k3', 3));
  outbox.push({ type: 'reply', id: 7, ok: true });
  socketOf(page).resume();
  await until(() => received.some((m) => m.type === 'reply'), 10_000, 'the reply');
  const after = received.slice(received.findIndex((m) => m.type === 'hello'));
  assert.deepEqual(
    after.map((m) => (m.type === 'param' ? `param ${m.address}` : m.type)),
    ['hello', 'params', 'param /netbend/knobs/k3', 'reply'],
    'k1 and taps went with the hello, k2 with the params',
  );
  assert.ok(!received.some((m) => m.type === 'param' && m.address === '/netbend/knobs/k1'));
});

test('a page stuck for too long is closed with 1008 and a reason; the outbox then holds nothing', async (t) => {
  const highWater = 64 * 1024;
  const { ws, page, outbox } = await pair(t, { highWater, stuckMs: 300 });
  const closed = new Promise<{ code: number; reason: string }>((r) => page.once('close', (code, reason) => r({ code, reason: String(reason) })));
  stall(page, ws, outbox, highWater);
  // Traffic goes on; the outbox retries on its own timer and gives up after stuckMs.
  const pushing = setInterval(() => outbox.push(param('/netbend/knobs/k1', Math.random())), 20);
  t.after(() => clearInterval(pushing));
  await until(() => ws.readyState === ws.CLOSING || ws.readyState === ws.CLOSED, 10_000, 'the server to close the page');
  assert.equal(outbox.size, 0);
  // Reading again before the cut, the page reads through to the close frame.
  socketOf(page).resume();
  const { code, reason } = await closed;
  assert.equal(code, CLOSE_NOT_READING);
  assert.match(reason, /not reading/);
});

test('a page that lets replies pile up past the bound is closed at once', async (t) => {
  const highWater = 64 * 1024;
  const { ws, page, outbox } = await pair(t, { highWater, maxReplies: 10, stuckMs: 60_000 });
  stall(page, ws, outbox, highWater);
  for (let n = 0; n < 11; n++) outbox.push({ type: 'reply', id: n, ok: true });
  assert.equal(ws.readyState, ws.CLOSING);
  assert.equal(outbox.size, 0);
});

const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

test('serve: an OSC flood with a page that never reads keeps memory bounded and other pages current', async () => {
  const s = await startServe(fixture('stylegan2-64-tiny.onnx'));
  const udp = dgram.createSocket('udp4');
  try {
    const base = s.url.replace(/\/$/, '');
    const wsUrl = s.url.replace(/^http/, 'ws').replace(/\/(\?|$)/, '/ws$1');
    const oscPort = ((await (await fetch(`${base}/?HOST_INFO`)).json()) as { OSC_PORT: number }).OSC_PORT;
    const tree = (await (await fetch(`${base}/netbend`)).json()) as Record<string, unknown>;
    const floats: string[] = [];
    const walk = (n: Record<string, unknown>) => {
      // W-space values build the latent session the first time they leave identity: a session's
      // memory, once, which is not what this flood measures (the never-reading page's buffer).
      if (n.TYPE === 'f' && n.ACCESS === 3 && !String(n.FULL_PATH).startsWith('/netbend/latent/')) floats.push(n.FULL_PATH as string);
      for (const c of Object.values((n.CONTENTS ?? {}) as Record<string, Record<string, unknown>>)) walk(c);
    };
    walk(tree);
    assert.ok(floats.length >= 10, `float parameters to flood (${floats.length})`);

    const reading = new WebSocket(wsUrl);
    const seen = { params: 0, frames: 0, last: new Map<string, unknown>() };
    reading.on('message', (d, binary) => {
      if (binary) {
        seen.frames++;
        reading.send(JSON.stringify({ ack: 0 }));
        return;
      }
      const m = JSON.parse(String(d)) as ServerMessage;
      if (m.type === 'param') seen.params++, seen.last.set(m.address, m.value);
    });
    const never = new WebSocket(wsUrl);
    const neverSeen = { params: 0, closed: 0, last: new Map<string, unknown>() };
    never.on('close', (code) => (neverSeen.closed = code));
    never.on('message', (d, binary) => {
      if (binary) return;
      const m = JSON.parse(String(d)) as ServerMessage;
      if (m.type === 'param') neverSeen.params++, neverSeen.last.set(m.address, m.value);
    });
    await Promise.all([reading, never].map((w) => new Promise((ok, fail) => w.once('open', ok).once('error', fail))));
    socketOf(never).pause();
    await until(() => seen.frames > 5, 20_000, 'frames on the reading page');

    // Bundles of 500 messages each ("immediately"), so the flood is large and UDP carries it.
    const datagrams = 600;
    const perBundle = 500;
    const send = (bytes: Uint8Array) => new Promise<void>((r) => udp.send(bytes, oscPort, '127.0.0.1', () => r()));
    const flood = async () => {
      for (let n = 0; n < datagrams; n++) {
        await send(packBundle(Array.from({ length: perBundle }, (_, i) => new OSC.Message(floats[(n * perBundle + i) % floats.length]!, Math.random()).pack())));
        // A breath now and then, so the kernel's UDP buffer is not simply overrun.
        if (n % 20 === 19) await new Promise((r) => setTimeout(r, 5));
      }
    };
    // A first flood grows the heap to its working size (garbage not yet collected, not kept), so
    // the second one measures what is kept: the never-reading page's buffer, were it unbounded.
    await flood();
    const settled = seen.frames;
    await until(() => seen.frames > settled + 3, 20_000, 'frames after the first flood');
    const before = rss(s.child.pid!);
    await flood();
    const messages = datagrams * perBundle;
    const params = seen.params;
    const frames = seen.frames;
    console.log(`# after the flood: ${params} param messages, ${frames} frames on the reading page`);
    // One known last value, so the reading page's currency can be checked; sent until it lands,
    // as UDP may drop it behind the flood.
    const mark = floats[0]!;
    const resend = setInterval(() => void send(new OSC.Message(mark, 0.123).pack()), 100);
    try {
      await until(() => Math.abs(Number(seen.last.get(mark)) - 0.123) < 1e-6, 20_000, `the reading page to get ${mark} = 0.123 (has ${seen.last.get(mark)})`);
    } finally {
      clearInterval(resend);
    }
    await until(() => seen.frames > frames + 3, 20_000, 'frames after the flood');
    const after = rss(s.child.pid!);
    const growth = after - before;
    assert.equal(s.child.exitCode, null, 'the show runs on');
    assert.ok(params > 1000, `the reading page got parameter messages during the flood (${params})`);
    // Unbounded, every one of the flood's messages sits in the never-reading page's buffer.
    assert.ok(growth < 40 * 1024 * 1024, `RSS grew ${(growth / 1024 / 1024).toFixed(1)} MB`);
    console.log(`# RSS ${(before / 1024 / 1024).toFixed(0)} -> ${(after / 1024 / 1024).toFixed(0)} MB over ${messages} OSC messages; reading page got ${seen.params} param messages`);
    // Reading again, the page that never read gets the latest values, not the flood (or it was
    // closed for not reading, which is as good for the show).
    socketOf(never).resume();
    await until(() => neverSeen.closed !== 0 || Math.abs(Number(neverSeen.last.get(mark)) - 0.123) < 1e-6, 20_000, 'the page that never read to catch up or close');
    // 1008 when the close frame got through, 1006 when the server had to cut the socket.
    if (neverSeen.closed) assert.ok([CLOSE_NOT_READING, 1006].includes(neverSeen.closed), `closed with ${neverSeen.closed}`);
    assert.equal(s.child.exitCode, null, 'the show still runs');
    assert.ok(neverSeen.params < messages / 4, `the page that never read got ${neverSeen.params} param messages, not a backlog of ${messages}`);
    reading.close();
    never.terminate();
  } finally {
    udp.close();
    await s.stop();
  }
});
