// A show that no input can stop, at the HTTP/WebSocket edge of a real `netbend serve`:
//  - malformed WebSocket frames, hand-built over raw TCP after a real handshake, close that client
//    with the right code and leave the server and the other pages running;
//  - bad commands are answered with a readable error and change nothing;
//  - pages of other sites (in a real Chromium) cannot drive the show or read its values, unless
//    --allow-origin lists them; clients that send no Origin (controllers, scripts) still work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import WebSocket from 'ws';
import type { Browser } from 'playwright-core';
import { fixture, startServe, tempDir, until } from './helpers.ts';
import { wsPage } from './ws-page.ts';
import type { ServerMessage } from '../app/core/protocol.ts';
import { launch, noChromium, oscValue } from './ui-helpers.ts';

const MODEL = fixture('stylegan2-64-tiny.onnx');
const BLACKOUT = '/netbend/output/blackout';

/** helpers' stop() waits for an exit that already happened when the server died: don't wait then. */
const stop = (s: { child: import('node:child_process').ChildProcess; stop: () => Promise<void> }) => (s.child.exitCode === null && s.child.signalCode === null ? s.stop() : Promise.resolve());
/** Every test fails rather than hangs. */
const LIMIT = { timeout: 120_000 };

// --- raw WebSocket over TCP ------------------------------------------------------------------

interface RawResult {
  /** HTTP status of the handshake answer. */
  status: number;
  /** Close code of the server's close frame, if it sent one. */
  code?: number;
}

/** One client frame, built by hand so it can break every rule. */
function frame(o: { fin?: boolean; rsv?: number; opcode: number; payload?: Buffer; masked?: boolean; length?: bigint }): Buffer {
  const payload = o.payload ?? Buffer.alloc(0);
  const masked = o.masked ?? true;
  const len = o.length ?? BigInt(payload.length);
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | o.opcode];
  const m = masked ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126n) head.push(m | Number(len));
  else if (len < 65536n) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(len));
  } else {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(len);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), ext, payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i & 3]!));
  return Buffer.concat([Buffer.from(head), ext, key, body]);
}

/** Server frames after the handshake (unmasked): returns the close code once a close frame is in. */
function closeCode(buf: Buffer): number | undefined | null {
  let at = 0;
  while (at + 2 <= buf.length) {
    const opcode = buf[at]! & 0x0f;
    let len = buf[at + 1]! & 0x7f;
    let p = at + 2;
    if (len === 126) {
      if (p + 2 > buf.length) return null;
      len = buf.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (p + 8 > buf.length) return null;
      len = Number(buf.readBigUInt64BE(p));
      p += 8;
    }
    if (p + len > buf.length) return null;
    if (opcode === 0x8) return len >= 2 ? buf.readUInt16BE(p) : undefined;
    at = p + len;
  }
  return null; // no close frame yet
}

/**
 * Opens a WebSocket by hand on `path` (extra headers such as Origin or Host), sends `bad` after
 * the 101, and resolves when the server has closed: its status and the close frame's code.
 */
function rawClient(port: number, path: string, bad: Buffer | undefined, headers: Record<string, string> = {}, ms = 15_000): Promise<RawResult> {
  return new Promise((ok, fail) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let status = 0;
    let code: number | undefined;
    let headEnd = -1;
    const timer = setTimeout(() => {
      sock.destroy();
      fail(new Error(`${path}: the server neither answered nor closed in ${ms} ms (status ${status})`));
    }, ms);
    sock.on('error', () => {}); // the server may reset us mid-write: that is a close too
    sock.on('connect', () => {
      const h = { host: `127.0.0.1:${port}`, upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': randomBytes(16).toString('base64'), 'sec-websocket-version': '13', ...headers };
      sock.write(
        `GET ${path} HTTP/1.1\r\n${Object.entries(h)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n`,
      );
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (headEnd < 0) {
        headEnd = buf.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        status = Number(/^HTTP\/1\.1 (\d+)/.exec(buf.subarray(0, headEnd).toString('latin1'))?.[1] ?? 0);
        if (status !== 101) return; // an HTTP refusal: the server ends the connection
        if (bad) sock.write(bad);
        else sock.end();
      }
      const c = closeCode(buf.subarray(headEnd + 4));
      if (c !== null) {
        code = c;
        sock.destroy(); // a real client would answer the close; hanging up is enough here
      }
    });
    sock.on('close', () => {
      clearTimeout(timer);
      ok({ status, code });
    });
  });
}

const text = (s: string | Buffer) => (typeof s === 'string' ? Buffer.from(s) : s);
/** Every kind of broken frame, with the close code ws answers it with. */
const BAD_FRAMES: Array<{ kind: string; bytes: () => Buffer; code: number }> = [
  { kind: 'invalid UTF-8 text', bytes: () => frame({ opcode: 0x1, payload: Buffer.from([0x68, 0xff, 0xfe, 0xc3, 0x28]) }), code: 1007 },
  { kind: 'reserved opcode 0x3', bytes: () => frame({ opcode: 0x3, payload: text('x') }), code: 1002 },
  { kind: 'RSV1 set, no extension', bytes: () => frame({ rsv: 0b100, opcode: 0x1, payload: text('{}') }), code: 1002 },
  { kind: 'unmasked client frame', bytes: () => frame({ opcode: 0x1, payload: text('{"ack":1}'), masked: false }), code: 1002 },
  { kind: 'length 2^62', bytes: () => frame({ opcode: 0x2, length: 1n << 62n }), code: 1009 },
  { kind: 'message over maxPayload', bytes: () => frame({ opcode: 0x1, payload: Buffer.alloc(64 * 1024 + 1, 0x20) }), code: 1009 },
  { kind: 'control frame of 126 bytes', bytes: () => frame({ opcode: 0x9, payload: Buffer.alloc(126, 1) }), code: 1002 },
  { kind: 'fragmented ping', bytes: () => frame({ fin: false, opcode: 0x9, payload: text('p') }), code: 1002 },
  { kind: 'continuation without a start', bytes: () => frame({ opcode: 0x0, payload: text('x') }), code: 1002 },
  { kind: 'new text frame inside a fragmented one', bytes: () => Buffer.concat([frame({ fin: false, opcode: 0x1, payload: text('a') }), frame({ opcode: 0x1, payload: text('b') })]), code: 1002 },
];

test('1,000 malformed frames on /ws and on the OSCQuery socket close those clients, never the show', LIMIT, async () => {
  const s = await startServe(MODEL);
  try {
    const port = Number(new URL(s.url).port);
    const watcher = wsPage(s.url);
    await watcher.opened;
    await until(() => watcher.frames() >= 3, 'first frames');
    const jobs: Array<{ path: string; kind: string; code: number; bytes: () => Buffer }> = [];
    // 50 rounds of every kind on both sockets: 1,000 bad clients.
    while (jobs.length < 1000) for (const path of ['/ws', '/']) for (const b of BAD_FRAMES) jobs.push({ path, ...b });
    const results: Array<RawResult & { path: string; kind: string; expected: number }> = [];
    const BATCH = 40; // connections in flight at once: enough to be a flood, few enough for 2 cores
    for (let i = 0; i < jobs.length; i += BATCH) {
      const batch = jobs.slice(i, i + BATCH);
      results.push(...(await Promise.all(batch.map(async (j) => ({ ...(await rawClient(port, j.path, j.bytes())), path: j.path, kind: j.kind, expected: j.code })))));
      assert.equal(s.child.exitCode, null, `the server is alive after ${i + batch.length} bad clients`);
    }
    assert.ok(results.length >= 1000);
    const wrong = results.filter((r) => r.status !== 101 || r.code !== r.expected);
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} bad clients were not closed with the expected code`);
    for (const path of ['/ws', '/'])
      for (const b of BAD_FRAMES)
        assert.ok(
          results.some((r) => r.path === path && r.kind === b.kind),
          `${b.kind} on ${path} was sent`,
        );

    // The show went on: the other page still gets pictures, and a new page can connect.
    assert.equal(watcher.ws.readyState, WebSocket.OPEN, 'the good page is still connected');
    const seen = watcher.frames();
    await until(() => watcher.frames() >= seen + 3, 'frames after the flood');
    const fresh = wsPage(s.url);
    await fresh.opened;
    assert.equal((await fresh.call({ cmd: 'set', address: '/netbend/knobs/k1', value: 0.25 })).ok, true);
    fresh.ws.close();
    watcher.ws.close();
  } finally {
    await stop(s);
  }
});

test('bad commands get a readable reply and change nothing; junk gets one notice; acks still work', LIMIT, async (t) => {
  const presets = tempDir(t);
  const s = await startServe(MODEL, ['--presets', presets]);
  const base = s.url.replace(/\/$/, '');
  try {
    const c = wsPage(s.url);
    await c.opened;
    await until(() => c.messages.some((m) => m.type === 'hello'), 'hello');
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ cmd: 'set', address: 5, value: true }, /^bad command: address: expected a string$/],
      [{ cmd: 'set', address: BLACKOUT, value: { on: true } }, /^bad command: value: expected a number, boolean or string$/],
      [{ cmd: 'set', address: BLACKOUT }, /^bad command: value: expected/],
      [{ cmd: 'explode' }, /^bad command: cmd: unknown command "explode" \(one of set, /],
      [{ address: BLACKOUT, value: true }, /^bad command: cmd: missing/],
      [{ cmd: 'savePreset' }, /^bad command: name: expected a string$/],
      [{ cmd: 'savePreset', name: ['x'] }, /^bad command: name: expected a string$/],
      [{ cmd: 'addEdit', target: 'b16', op: 'melt', amount: 2 }, /^bad command: op: expected one of "scale", /],
      [{ cmd: 'addEdit', target: 'b16', op: 'scale', amount: '2' }, /^bad command: amount: expected a number$/],
      [{ cmd: 'setTaps', layers: [32] }, /^bad command: layers\[0\]: expected a string$/],
      [{ cmd: 'loadPreset', name: 'x', morphSecond: 2 }, /^bad command: unknown field morphSecond$/],
      [{ cmd: 'transport', playing: 'no' }, /^bad command: playing: expected a boolean$/],
      [{ cmd: 'learn', move: 'explode', args: [] }, /^bad command: move: expected one of "inputs", /],
      [{ cmd: 'learn', move: 'record', args: [{}] }, /^bad command: args\[0\]: expected a string or number$/],
      [{ cmd: 'learn', move: 'train', args: ['knn', 'a', 'b', 'c', 'd'] }, /^bad command: args: /],
      [{ cmd: 'learn', move: 'delete', args: ['x'] }, /learn\/delete ,i \(index\): index must be a finite number$/],
      [{ cmd: 'learn', move: 'train', args: ['knn'] }, /choose inputs and targets, and record examples, before training$/],
      [{ cmd: 'learn', move: 'save', args: ['../../etc/passwd'] }, /is not a name to save under/],
    ];
    for (const [cmd, want] of cases) {
      const r = await c.call(cmd);
      assert.equal(r.ok, false, JSON.stringify(cmd));
      assert.match(r.error ?? '', want, JSON.stringify(cmd));
    }
    // Messages that are no command at all: one notice per kind, however many arrive.
    for (let i = 0; i < 20; i++) {
      c.ws.send('not json');
      c.ws.send('42');
      c.ws.send(Buffer.from([1, 2, 3]));
      c.ws.send(JSON.stringify({ cmd: 'set', address: BLACKOUT, value: true })); // no id
      c.ws.send(JSON.stringify({ ack: 'soon' }));
      c.ws.send(JSON.stringify({ preview: [-1, 1.5, 1e9, 'big', null][i % 5] }));
    }
    // A good command after the junk: its reply arrives after every notice the junk caused.
    assert.equal((await c.call({ cmd: 'set', address: '/netbend/knobs/k2', value: 0.5 })).ok, true);
    const notices = c.messages.filter((m): m is Extract<ServerMessage, { type: 'notice' }> => m.type === 'notice' && m.text.startsWith('bad message'));
    for (const want of [/not JSON/, /expected a JSON object, got a number/, /bad PCM frame/, /id: expected a whole number/, /bad frame ack/, /bad preview size/]) {
      assert.equal(notices.filter((n) => want.test(n.text)).length, 1, `one notice for ${want}: ${JSON.stringify(notices.map((n) => n.text))}`);
    }
    // Nothing changed: blackout is off, no preset was written, no edit was added.
    assert.equal(await oscValue(base, BLACKOUT), 0);
    assert.deepEqual(readdirSync(presets), []);
    assert.ok(!c.messages.some((m) => m.type === 'state' && m.edits.length > 0), 'no edit was added');
    // Frame acks still work: more frames than the two in flight an unacknowledged page gets.
    const seen = c.frames();
    await until(() => c.frames() >= seen + 5, 'frames keep coming (acks accepted)');
    assert.deepEqual(c.picture(), { width: 64, height: 64 }, 'full frames: no preview was asked for (the junk asked nothing)');
    // A preview drawn 30 pixels long gets the picture halved while it still covers that: 32x32.
    c.ws.send(JSON.stringify({ preview: 30 }));
    await until(() => c.picture().width === 32, 'preview pictures');
    assert.deepEqual(c.picture(), { width: 32, height: 32 });
    c.ws.send(JSON.stringify({ preview: 0 }));
    await until(() => c.picture().width === 64, 'full frames again');
    assert.equal(s.child.exitCode, null);
    c.ws.close();
  } finally {
    await stop(s);
  }
});

test('Origin: foreign pages are refused (403 before the handshake) on both sockets and on POST; no Origin, own origin and loopback spellings pass', LIMIT, async () => {
  const s = await startServe(MODEL);
  let stderr = '';
  s.child.stderr!.on('data', (d) => (stderr += d));
  try {
    const port = Number(new URL(s.url).port);
    for (const path of ['/ws', '/']) {
      assert.equal((await rawClient(port, path, undefined)).status, 101, `${path}: no Origin (a controller, a script) is let in`);
      for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`])
        assert.equal((await rawClient(port, path, undefined, { origin })).status, 101, `${path}: ${origin} is our own page`);
      for (const origin of ['http://evil.example', `http://127.0.0.1:${port + 1}`, `https://127.0.0.1:${port}`, 'null', 'file://'])
        assert.equal((await rawClient(port, path, undefined, { origin })).status, 403, `${path}: ${origin} is refused`);
      // DNS rebinding: a foreign name that resolves to 127.0.0.1 has Origin equal to its Host.
      assert.equal((await rawClient(port, path, undefined, { host: `evil.example:${port}`, origin: `http://evil.example:${port}` })).status, 403, `${path}: a rebinding page is refused`);
    }
    // The ws client from a browser's point of view: 'unexpected-response' with 403, never 'open'.
    const status = await new Promise<number>((ok, fail) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { origin: 'http://evil.example' });
      ws.on('open', () => fail(new Error('a foreign origin got a WebSocket')));
      ws.on('unexpected-response', (_req, res) => ok(res.statusCode ?? 0));
      ws.on('error', () => {});
    });
    assert.equal(status, 403);
    // State-changing HTTP requests from a foreign page are refused; reads are not.
    const post = await fetch(`http://127.0.0.1:${port}/netbend/output/blackout`, { method: 'POST', headers: { origin: 'http://evil.example' }, body: 'x' });
    assert.equal(post.status, 403);
    const postNoOrigin = await fetch(`http://127.0.0.1:${port}/netbend/output/blackout`, { method: 'POST', body: 'x' });
    assert.notEqual(postNoOrigin.status, 403);
    // CORS: never `*`; a foreign origin is answered with ours, which its browser will not match.
    const foreign = await fetch(`http://127.0.0.1:${port}${BLACKOUT}?VALUE`, { headers: { origin: 'http://evil.example', accept: 'application/json' } });
    assert.equal(foreign.status, 200);
    assert.equal(foreign.headers.get('access-control-allow-origin'), `http://127.0.0.1:${port}`);
    const sibling = await fetch(`http://127.0.0.1:${port}${BLACKOUT}?VALUE`, { headers: { origin: `http://localhost:${port}`, accept: 'application/json' } });
    assert.equal(sibling.headers.get('access-control-allow-origin'), `http://localhost:${port}`);
    // Each refused origin is told once, with the way to allow it.
    await until(() => /Origin "http:\/\/evil\.example".*--allow-origin http:\/\/evil\.example/.test(stderr), 'the refusal notice');
    assert.equal(stderr.match(/Origin "http:\/\/evil\.example"/g)?.length, 1, `told once: ${stderr}`);
    assert.equal(s.child.exitCode, null);
  } finally {
    await stop(s);
  }
});

test('--allow-origin lets a listed origin in and rejects a malformed one', LIMIT, async () => {
  const s = await startServe(MODEL, ['--allow-origin', 'http://show.example:8080,http://127.0.0.1:3000/']);
  try {
    const port = Number(new URL(s.url).port);
    assert.equal((await rawClient(port, '/ws', undefined, { origin: 'http://show.example:8080' })).status, 101);
    assert.equal((await rawClient(port, '/', undefined, { origin: 'http://127.0.0.1:3000' })).status, 101);
    assert.equal((await rawClient(port, '/ws', undefined, { origin: 'http://show.example' })).status, 403, 'another port is another origin');
    const res = await fetch(`http://127.0.0.1:${port}${BLACKOUT}?VALUE`, { headers: { origin: 'http://show.example:8080', accept: 'application/json' } });
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://show.example:8080');
  } finally {
    await stop(s);
  }
  const { cli } = await import('./helpers.ts');
  const bad = await cli(['serve', MODEL, '--port', '0', '--no-open', '--allow-origin', 'http://x.example/path']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--allow-origin.*not an origin/);
});

// --- in a real browser ---------------------------------------------------------------------

const skip = noChromium;
let browser: Browser;
before(async () => {
  if (!skip) browser = await launch();
});
after(async () => browser?.close());

/** A tiny site on another loopback port: the kind of page a performer might have open. */
async function foreignSite(t: { after(fn: () => unknown): void }): Promise<{ url: string; port: number }> {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>another site</title><p>hello'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise((r) => server.close(r)));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/`, port };
}

/** What a page's own script can do against netbend on `port`: drive the show, read its values. */
type Attempt = { opened: boolean; closeCode?: number; replies: Array<{ id: number; ok: boolean }>; read: { ok: boolean; body?: string; error?: string } };
function attack(p: import('playwright-core').Page, port: number): Promise<Attempt> {
  return p.evaluate(async (port) => {
    const ws = await new Promise<{ opened: boolean; closeCode?: number; replies: Array<{ id: number; ok: boolean }> }>((ok) => {
      const sock = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      const replies: Array<{ id: number; ok: boolean }> = [];
      let opened = false;
      sock.onopen = () => {
        opened = true;
        sock.send(JSON.stringify({ cmd: 'set', address: '/netbend/output/blackout', value: 1, id: 1 }));
        sock.send(JSON.stringify({ cmd: 'savePreset', name: 'stolen', id: 2 }));
      };
      sock.onmessage = (e) => {
        if (typeof e.data !== 'string') return;
        const m = JSON.parse(e.data);
        if (m.type !== 'reply') return;
        replies.push({ id: m.id, ok: m.ok });
        if (replies.length === 2) {
          sock.close();
          ok({ opened, replies });
        }
      };
      sock.onclose = (e) => ok({ opened, closeCode: e.code, replies });
    });
    let read: { ok: boolean; body?: string; error?: string };
    try {
      const res = await fetch(`http://127.0.0.1:${port}/netbend/output/blackout?VALUE`);
      read = { ok: true, body: await res.text() };
    } catch (err) {
      read = { ok: false, error: String(err) };
    }
    return { ...ws, read };
  }, port);
}

test("in Chromium: a page of another site cannot drive the show or read it; netbend's own page can; --allow-origin lets it", { skip, timeout: 180_000 }, async (t) => {
  const site = await foreignSite(t);
  const presets = tempDir(t);
  const s = await startServe(MODEL, ['--presets', presets]);
  const base = s.url.replace(/\/$/, '');
  const port = Number(new URL(s.url).port);
  const tab = await browser.newPage();
  try {
    await tab.goto(site.url);
    const foreign = await attack(tab, port);
    assert.equal(foreign.opened, false, `the foreign page got no WebSocket: ${JSON.stringify(foreign)}`);
    assert.equal(foreign.read.ok, false, `the foreign page could not read the value: ${JSON.stringify(foreign.read)}`);
    assert.equal(await oscValue(base, BLACKOUT), 0, 'blackout unchanged');
    assert.deepEqual(readdirSync(presets), [], 'no preset saved');

    // netbend's own control page, same browser: it drives the show.
    await tab.goto(s.url);
    const own = await attack(tab, port);
    assert.equal(own.opened, true);
    assert.deepEqual(
      own.replies.map((r) => r.ok),
      [true, true],
    );
    assert.equal(own.read.ok, true);
    assert.equal(await oscValue(base, BLACKOUT), 1, 'our own page turned blackout on');
    assert.ok(existsSync(`${presets}/stolen.json`));

    // Even our own page cannot end the show with one huge message: that page is closed with 1009.
    const huge = await tab.evaluate(
      (port) =>
        new Promise<number>((ok) => {
          const sock = new WebSocket(`ws://127.0.0.1:${port}/ws`);
          sock.onopen = () => sock.send('x'.repeat(2 << 20));
          sock.onclose = (e) => ok(e.code);
        }),
      port,
    );
    assert.equal(huge, 1009, 'a 2 MiB message closes that page with 1009 (message too big)');
    assert.equal(s.child.exitCode, null, 'the server is alive');
    assert.equal(await oscValue(base, BLACKOUT), 1);
  } finally {
    await tab.close();
    await stop(s);
  }

  // The same foreign page, now listed: it may.
  const presets2 = tempDir(t);
  const s2 = await startServe(MODEL, ['--presets', presets2, '--allow-origin', `http://127.0.0.1:${site.port}`]);
  const tab2 = await browser.newPage();
  try {
    await tab2.goto(site.url);
    const listed = await attack(tab2, Number(new URL(s2.url).port));
    assert.equal(listed.opened, true, JSON.stringify(listed));
    assert.deepEqual(
      listed.replies.map((r) => r.ok),
      [true, true],
    );
    assert.equal(listed.read.ok, true, JSON.stringify(listed.read));
    assert.equal(JSON.parse(listed.read.body!).VALUE[0], 1);
    assert.equal(await oscValue(s2.url.replace(/\/$/, ''), BLACKOUT), 1);
    assert.ok(existsSync(`${presets2}/stolen.json`));
  } finally {
    await tab2.close();
    await stop(s2);
  }
});
