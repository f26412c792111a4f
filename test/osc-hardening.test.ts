// Issue 9, the OSC edge: no datagram may stall the show, and on a LAN bind only allowed senders
// drive it. Bombs go over real UDP from a worker thread into a real OscServer in this process,
// whose event-loop delay is measured; the allow list is checked against a real `netbend serve`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import WebSocket from 'ws';
import { existsSync } from 'node:fs';
import { ParameterRegistry } from '../app/core/registry.ts';
import { OSC, OscServer, decodeOsc, packBundle, type OscPacketMessage } from '../app/io/osc-server.ts';
import { UdpTransport } from '../app/io/osc-transport.ts';
import { oscQueryUpgrade } from '../app/io/oscquery.ts';
import { AddressTree, compilePattern, matches, MAX_ADDRESS, PatternError } from '../app/io/osc-pattern.ts';
import { cli, fixture, ROOT } from './helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls until ok() or fails after ms. */
async function until(ok: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function msg(address: string, types = '', args: unknown[] = []): Uint8Array {
  const m = new OSC.Message(address);
  m.types = types;
  m.args = args as typeof m.args;
  return m.pack();
}

/** The matcher this replaces (a backtracking regex), kept as the reference on small, tame inputs. */
function referenceRegex(pattern: string): RegExp {
  const esc = (s: string) => s.replace(/[.+^${}()|\\/[\]*?]/g, '\\$&');
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    // The one intended difference: the old [!...] could match a `/`; OSC 1.0 matches part by part.
    else if (c === '[' && pattern[i + 1] === '!') {
      const end = pattern.indexOf(']', i);
      if (end < 0) throw new Error('unclosed [');
      re += `(?!/)[^${pattern.slice(i + 2, end).replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else if (c === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) throw new Error('unclosed [');
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else if (c === '{') {
      const end = pattern.indexOf('}', i);
      if (end < 0) throw new Error('unclosed {');
      re += `(?:${pattern
        .slice(i + 1, end)
        .split(',')
        .map(esc)
        .join('|')})`;
      i = end;
    } else re += esc(c);
  }
  return new RegExp(`^${re}$`);
}

const match = (pattern: string, address: string) => matches(compilePattern(pattern), address);

test('matcher: OSC 1.0 cases written out', () => {
  const cases: Array<[string, string, boolean]> = [
    ['/a/*/c', '/a/b/c', true],
    ['/a/*/c', '/a//c', true], // * matches nothing too
    ['/a/*', '/a/b/c', false], // * never crosses /
    ['/a/*/c', '/a/b/x/c', false],
    ['/a/?', '/a/b', true],
    ['/a/?', '/a/', false],
    ['/a/?', '/a/bc', false],
    ['/a/b?d', '/a/b/d', false], // ? never matches /
    ['/x/[abc]', '/x/b', true],
    ['/x/[abc]', '/x/d', false],
    ['/x/[!abc]', '/x/d', true],
    ['/x/[!abc]', '/x/a', false],
    ['/e/e[1-9]', '/e/e5', true],
    ['/e/e[1-9]', '/e/e0', false],
    ['/e/e[a-z0-9]', '/e/e7', true],
    ['/e/e[-a]', '/e/e-', true], // a leading - is itself
    ['/e/e[a-]', '/e/e-', true], // so is a trailing one
    ['/e/e[!-]', '/e/ea', true],
    ['/z/{speed,amp}', '/z/amp', true],
    ['/z/{speed,amp}', '/z/seed', false],
    ['/z/{speed,amp}x', '/z/ampx', true],
    ['/z/{,s}peed', '/z/peed', true], // an empty alternative
    ['/z/{a*,b}', '/z/a*', true], // wildcards inside braces are literal
    ['/z/{a*,b}', '/z/ab', false],
    ['/z/[*]', '/z/*', true],
    ['/z/a]}', '/z/a]}', true], // stray closers are literal
    ['/netbend/source/*/speed', '/netbend/source/z/speed', true],
    ['/netbend/*/speed', '/netbend/source/z/speed', false],
    ['/*/*/*/*', '/netbend/source/z/speed', true],
    ['/*/*/*', '/netbend/source/z/speed', false],
    ['/n*d/s*e/?/s*d', '/netbend/source/z/speed', true],
    ['/n*d/s*e/?/s*dx', '/netbend/source/z/speed', false],
    ['/a/**b*', '/a/xxbyy', true],
    ['/a/*ab', '/a/aab', true], // the star must give back what the literal needs
    ['/a/*a*a*a*a*a*a*a*a*a*b', '/a/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', false],
    ['/a/' + '*'.repeat(40) + 'X', '/a/' + 'a'.repeat(40), false],
  ];
  for (const [p, a, want] of cases) assert.equal(match(p, a), want, `${p} vs ${a}`);
  // Malformed: unclosed [ or {, reversed ranges, and a / inside brackets or braces (no part of an
  // address can hold one; the spec matches part by part).
  for (const bad of ['/a/[ab', '/a/{x,y', '/a/[z-a]', '/a/{b/c,d}', '/a/[/]', 'a/b']) assert.throws(() => compilePattern(bad), PatternError, bad);
});

test('matcher: same answers as the old regex on 20000 small random patterns and addresses', () => {
  let seed = 9;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 8) % n;
  const pick = <T>(xs: readonly T[]) => xs[rnd(xs.length)]!;
  const word = (max: number) => Array.from({ length: rnd(max + 1) }, () => pick(['a', 'b', 'c', '-'])).join('');
  const patternPart = () =>
    Array.from({ length: 1 + rnd(4) }, () => {
      switch (rnd(6)) {
        case 0:
          return '*';
        case 1:
          return '?';
        case 2:
          return `[${pick(['', '!'])}${pick(['a', 'ab', 'a-c', 'b-', '-a', 'c', ''])}]`;
        case 3:
          return `{${Array.from({ length: 1 + rnd(3) }, () => word(2)).join(',')}}`;
        default:
          return word(3);
      }
    }).join('');
  let agreed = 0;
  let hits = 0;
  for (let i = 0; i < 20000; i++) {
    const parts = 1 + rnd(3);
    const pattern = '/' + Array.from({ length: parts }, patternPart).join('/');
    const address = '/' + Array.from({ length: Math.max(1, parts + rnd(3) - 1) }, () => word(5)).join('/');
    const want = referenceRegex(pattern).test(address);
    assert.equal(match(pattern, address), want, `${pattern} vs ${address}`);
    agreed++;
    if (want) hits++;
  }
  assert.equal(agreed, 20000);
  assert.ok(hits > 500, `the cases include matches, not only misses (${hits})`);
});

test('address tree: a pattern across a registry gives what the reference gives', () => {
  const addrs = ['/netbend/source/z/speed', '/netbend/source/z/seed', '/netbend/source/w/speed', '/netbend/edit/e1/amount', '/netbend/knobs/k1', '/netbend/knobs'];
  const tree = new AddressTree(addrs);
  for (const p of ['/netbend/source/*/speed', '/netbend/*/*/*', '/netbend/knobs', '/netbend/knobs/*', '/*', '/*/*', '/netbend/source/z/s{pe,e}ed', '/netbend/source/?/[!s]*', '/netbend/nothing/*']) {
    assert.deepEqual(tree.match(compilePattern(p)).sort(), addrs.filter((a) => referenceRegex(p).test(a)).sort(), p);
  }
});

test('decoder: the types osc-js knew; a blob inside a bundle reads its own bytes', () => {
  const m = msg('/netbend/b', 'bhtdsTFNI', [Uint8Array.of(1, 2, 3), -5n, 7n, 0.1, 'x', true, false, null, Infinity]);
  const p = decodeOsc(packBundle([msg('/netbend/a', 'f', [1]), m]));
  assert.ok(p && 'elements' in p);
  const got = p.elements[1] as OscPacketMessage;
  assert.equal(got.types, ',bhtdsTFNI');
  assert.deepEqual(got.args, [Uint8Array.of(1, 2, 3), -5n, 7n, 0.1, 'x', true, false, null, Infinity]);
  // Strict: a truncated argument, a missing ',', trailing bytes or an unknown type tag is no message.
  for (const bad of [m.slice(0, m.byteLength - 4), msg('/netbend/x', 'f', [1]).slice(0, 12), Uint8Array.from([...msg('/netbend/x', 'f', [1]), 0, 0, 0, 0]), msg('/x', 'q', [])]) {
    assert.equal(decodeOsc(bad), undefined);
  }
});

/** A registry like a real show's: sources, a few hundred blend layers and edits, knobs, outputs. */
function showRegistry(): ParameterRegistry {
  const params = new ParameterRegistry();
  for (const s of ['z', 'w', 'noise']) for (const p of ['speed', 'amplitude', 'seed']) params.define({ address: `/netbend/source/${s}/${p}`, type: 'float', default: 0, min: 0, max: 1000 });
  for (let b = 4; b <= 256; b *= 2)
    for (const l of ['conv0', 'conv1', 'torgb'])
      for (const w of ['weight', 'bias', 'affine.weight', 'affine.bias', 'noise_strength'])
        params.define({ address: `/netbend/blend/G.synthesis.b${b}.${l}.${w}`, type: 'float', default: 0, clamp: false });
  for (let e = 1; e <= 120; e++) params.define({ address: `/netbend/edit/e${e}/amount`, type: 'float', default: 0, min: -4, max: 4 });
  for (let k = 1; k <= 8; k++) params.define({ address: `/netbend/knobs/k${k}`, type: 'float', default: 0, min: 0, max: 1 });
  for (let o = 0; o < 32; o++) params.define({ address: `/netbend/outputs/mlp/${o}`, type: 'float', default: 0, readOnly: true });
  return params;
}

/** A sender on its own thread, so its work is not charged to the loop being measured. */
async function senderThread(port: number): Promise<{ send(batch: Uint8Array[]): Promise<void>; close(): Promise<number> }> {
  const code = `
    const dgram = require('node:dgram');
    const { parentPort, workerData } = require('node:worker_threads');
    const sock = dgram.createSocket('udp4');
    sock.bind(0, '127.0.0.1', () => parentPort.postMessage('ready'));
    parentPort.on('message', async (batch) => {
      for (const d of batch) await new Promise((r) => sock.send(d, workerData.port, '127.0.0.1', r));
      parentPort.postMessage('sent');
    });`;
  const w = new Worker(code, { eval: true, workerData: { port } });
  let failed: Error | undefined;
  w.on('error', (err) => (failed = err));
  const next = () => new Promise<void>((ok, fail) => (failed ? fail(failed) : w.once('message', () => ok())));
  await next();
  return {
    async send(batch) {
      const done = next();
      w.postMessage(batch);
      await done;
    },
    close: () => w.terminate(),
  };
}

const pad = (n: number) => 'a'.repeat(n);

/**
 * Sends a few hundred bombs through `send` (batches of datagrams) into `osc`, measuring this
 * process's event-loop delay, then checks what they did and that OSC still works.
 */
async function bombard(t: { diagnostic(s: string): void }, params: ParameterRegistry, osc: OscServer, send: (batch: Uint8Array[]) => Promise<void>): Promise<void> {
  assert.ok(params.list().length > 250, 'a realistic registry');
  // Each bomb is unique, so the pattern cache cannot hide the cost. `dropped` says what must be
  // refused outright; the rest are legal patterns that must simply be cheap.
  const bombs: Array<{ bytes: Uint8Array; dropped: boolean }> = [];
  const add = (address: string, dropped: boolean) => bombs.push({ bytes: msg(address, 'f', [0.25]), dropped });
  for (let i = 0; i < 60; i++) {
    add(`/netbend/source/z/${'*'.repeat(40)}X${i}`, false); // the reported freeze, worse
    add(`/netbend/blend/${'*?'.repeat(30)}X${i}`, false);
    add(`/netbend/${'*a'.repeat(60)}/${i}`, false);
    add(`/*/*/*/${'*'.repeat(30 + i)}Z`, false);
    add(`/netbend/source/z/${'{s,sp,spe,spee,speed,x}'.repeat(10)}${i}`, false); // 60 alternatives
    add(`/netbend/source/z/${'{a,b}'.repeat(40)}${i}`, true); // 80 alternatives: over the limit
    add(`/netbend/{a,{b,{c,{d,{e,{f${i}}}}}}}/x`, false); // "nested": the first } closes
    add(`/netbend/source/${'['.repeat(500)}${i}`, true); // unclosed [
    add(`/netbend/source/${'[a-z]'.repeat(150)}${i}`, true); // over the token limit
    add(`/netbend/edit/${'[!a][a-z]*'.repeat(50)}${i}`, true);
  }
  // 64 KB addresses and patterns: the largest a UDP datagram holds.
  for (let i = 0; i < 40; i++) {
    add(`/netbend/${pad(65400 + (i % 4))}`, true);
    add(`/netbend/${'*'.repeat(65000)}${i}`, true);
    add(`/netbend/${'{'.repeat(65000)}${i}`, true);
  }
  // Amplification: one bundle of ~2000 messages, each to every parameter under /netbend/*/*/*.
  const wide = msg('/netbend/*/*/*', 'f', [0.5]);
  const fat = packBundle(Array.from({ length: Math.floor(60000 / (wide.byteLength + 4)) }, () => wide));
  for (let i = 0; i < 10; i++) bombs.push({ bytes: fat, dropped: false });
  assert.ok(bombs.length >= 700);

  // A show has been running a while: code is warm and the address tree built before the bombs.
  await send([msg('/netbend/source/*/speed', 'f', [0.125])]);
  await until(() => params.get('/netbend/source/w/speed') === 0.125, 5000, 'the warm-up pattern');
  const before = params.values();
  const delay = monitorEventLoopDelay({ resolution: 2 });
  delay.enable();
  const start = { ...osc.stats };
  // In small batches: the kernel's receive buffer holds only a few 64 KB datagrams.
  for (let i = 0; i < bombs.length; ) {
    const batch: Uint8Array[] = [];
    for (let size = 0; i < bombs.length && batch.length < 16 && size < 150_000; i++) {
      batch.push(bombs[i]!.bytes);
      size += bombs[i]!.bytes.byteLength;
    }
    await send(batch);
    const want = start.received + i;
    await until(() => osc.stats.received >= want, 10_000, `datagram ${i} to arrive`);
  }
  delay.disable();
  const maxMs = delay.max / 1e6;
  t.diagnostic(`max event loop delay ${maxMs.toFixed(1)} ms over ${bombs.length} bombs; dropped ${osc.stats.dropped - start.dropped}, applied ${osc.stats.applied - start.applied}`);
  assert.equal(osc.stats.received - start.received, bombs.length, 'every bomb arrived');
  assert.ok(maxMs < 50, `event loop delay stayed under 50 ms (max ${maxMs.toFixed(1)} ms)`);
  const dropped = osc.stats.dropped - start.dropped;
  const mustDrop = bombs.filter((b) => b.dropped).length;
  assert.ok(dropped >= mustDrop, `every oversized or malformed bomb dropped (${dropped} >= ${mustDrop})`);
  // The fat bundles (2000 x 161 matches each) hit the per-turn budget of 2048 sets: at most one
  // budget's worth each applies, the rest is dropped.
  const applied = osc.stats.applied - start.applied;
  assert.ok(applied <= 10 * 2048, `the amplification was capped (${applied} sets)`);
  const changed = Object.keys(params.values()).filter((a) => params.values()[a] !== before[a]);
  assert.ok(
    changed.every((a) => /^\/netbend\/(source|edit|knobs)\/[^/]+\/[^/]+$/.test(a)),
    'only /netbend/*/*/* matches moved',
  );

  const n = osc.stats.received;
  await send([msg('/netbend/source/z/speed', 'f', [1.5])]);
  await until(() => osc.stats.received > n, 5000, 'the good message');
  assert.equal(params.get('/netbend/source/z/speed'), 1.5, 'a good message still applies');
  const others = [params.get('/netbend/edit/e1/amount'), params.get('/netbend/edit/e100/amount')];
  await send([msg('/netbend/edit/e1[0-9]/amount', 'f', [2])]);
  await until(() => params.get('/netbend/edit/e15/amount') === 2, 5000, 'a good pattern');
  assert.equal(params.get('/netbend/edit/e10/amount'), 2);
  assert.deepEqual([params.get('/netbend/edit/e1/amount'), params.get('/netbend/edit/e100/amount')], others, 'and only its matches');
}

test('pattern bombs over UDP: the loop never stalls 50 ms, bombs are counted, OSC works after', async (t) => {
  const params = showRegistry();
  const osc = new OscServer(params, { transport: new UdpTransport(0) });
  const port = await osc.start();
  const sender = await senderThread(port);
  t.after(async () => {
    osc.close();
    await sender.close();
  });
  await bombard(t, params, osc, (batch) => sender.send(batch));
});

test('the same bombs as binary over the OSCQuery WebSocket: no stall, OSC works after', async (t) => {
  const params = showRegistry();
  const osc = new OscServer(params, { transport: new UdpTransport(0) }); // not listening: the WebSocket hands datagrams over
  const upgrade = oscQueryUpgrade(params, { osc });
  const server = http.createServer((_req, res) => res.end());
  server.on('upgrade', (req, socket, head) => upgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await once(ws, 'open');
  t.after(async () => {
    ws.close();
    upgrade.close();
    osc.close();
    await new Promise((r) => server.close(r));
  });
  await bombard(t, params, osc, async (batch) => {
    for (const b of batch) await new Promise<void>((ok, fail) => ws.send(b, (err) => (err ? fail(err) : ok())));
  });
});

test('limits: a 1024-byte address is the longest taken; the budget caps sets per turn', async (t) => {
  const params = new ParameterRegistry();
  const long = `/netbend/${pad(MAX_ADDRESS - '/netbend/'.length)}`;
  params.define({ address: long, type: 'float', default: 0 });
  for (let i = 0; i < 10; i++) params.define({ address: `/netbend/p/${i}`, type: 'float', default: 0 });
  const osc = new OscServer(params, { transport: new UdpTransport(0), maxSetsPerTurn: 25 });
  t.after(() => osc.close());
  osc.receive(msg(long, 'f', [1]));
  assert.equal(params.get(long), 1, 'exactly MAX_ADDRESS is fine');
  const d = osc.stats.dropped;
  osc.receive(msg(long + 'a', 'f', [2]));
  assert.equal(osc.stats.dropped, d + 1, 'one more byte is dropped');
  // 25 sets this turn: two patterns of 10 fit, the third would exceed and applies nothing.
  osc.receive(packBundle([msg('/netbend/p/*', 'f', [1]), msg('/netbend/p/*', 'f', [2]), msg('/netbend/p/*', 'f', [3])]));
  assert.deepEqual(Object.values(params.values('/netbend/p/')), Array(10).fill(2));
  assert.equal(osc.stats.dropped, d + 2);
  await new Promise((r) => setImmediate(r));
  osc.receive(msg('/netbend/p/*', 'f', [3]));
  assert.deepEqual(Object.values(params.values('/netbend/p/')), Array(10).fill(3), 'the next turn has a fresh budget');
});

test('allow list in-process: UDP from outside is refused and counted; receive() without a sender is not filtered', async (t) => {
  const params = new ParameterRegistry();
  params.define({ address: '/netbend/a', type: 'float', default: 0 });
  params.define({ address: '/netbend/b', type: 'float', default: 0 });
  assert.throws(() => new OscServer(params, { transport: new UdpTransport(0), allow: ['127.0.0.1/33'] }), /prefix/);
  const osc = new OscServer(params, { transport: new UdpTransport(0), allow: ['127.0.0.1/32'] });
  const port = await osc.start();
  const outsider = dgram.createSocket('udp4');
  const insider = dgram.createSocket('udp4');
  await new Promise<void>((r) => outsider.bind(0, '127.0.0.2', () => r()));
  await new Promise<void>((r) => insider.bind(0, '127.0.0.1', () => r()));
  t.after(() => {
    osc.close();
    outsider.close();
    insider.close();
  });
  const send = (s: dgram.Socket, b: Uint8Array) => new Promise<void>((r) => s.send(b, port, '127.0.0.1', () => r()));
  await send(outsider, msg('/netbend/a', 'f', [1]));
  await send(outsider, msg('/netbend/*', 'f', [1]));
  await send(insider, msg('/netbend/b', 'f', [2]));
  await until(() => params.get('/netbend/b') === 2, 5000, 'the allowed message');
  assert.equal(params.get('/netbend/a'), 0, 'the refused message changed nothing');
  assert.equal(osc.stats.refused, 2);
  assert.equal(osc.stats.received, 3);
  osc.receive(msg('/netbend/a', 'f', [3])); // as the OSCQuery WebSocket hands it over
  assert.equal(params.get('/netbend/a'), 3);
  assert.equal(osc.stats.refused, 2);
});

const MODEL = fixture('stylegan2-64-tiny.onnx');

/** `netbend serve` as startServe runs it, keeping stderr: the allow list is printed there. */
async function serveLogged(extra: string[]) {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'netbend.js'), 'serve', MODEL, '--port', '0', '--osc-port', '0', '--no-open', '--ep', 'cpu', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /netbend: serving (\S+)/.exec(out);
      if (m) ok(m[1]!);
    });
    child.on('exit', (code) => fail(new Error(`serve exited ${code}: ${err}`)));
  });
  return { url, child, stderr: () => err, stop: () => new Promise<void>((r) => (child.once('exit', () => r()), child.kill('SIGTERM'))) };
}

test('serve on 0.0.0.0 --osc-allow 127.0.0.1/32: OSC from 127.0.0.2 changes nothing, from 127.0.0.1 it does', { skip: !existsSync(MODEL) && 'fixture model missing (NETBEND_FIXTURES)' }, async (t) => {
  const s = await serveLogged(['--host', '0.0.0.0', '--osc-allow', '127.0.0.1/32']);
  const outsider = dgram.createSocket('udp4');
  const insider = dgram.createSocket('udp4');
  t.after(async () => {
    outsider.close();
    insider.close();
    await s.stop();
  });
  await new Promise<void>((r) => outsider.bind(0, '127.0.0.2', () => r()));
  await new Promise<void>((r) => insider.bind(0, '127.0.0.1', () => r()));
  const url = new URL(s.url);
  const token = url.searchParams.get('token');
  assert.ok(token, 'a LAN bind prints a token');
  const base = `http://127.0.0.1:${url.port}`; // loopback only, whatever the bind
  const get = async (path: string, attr: string) => (await (await fetch(`${base}${path}?${attr}&token=${token}`)).json()) as Record<string, unknown[]>;
  const oscPort = (await get('/', 'HOST_INFO')).OSC_PORT as unknown as number;
  await until(() => /OSC on udp:\/\/0\.0\.0\.0:\d+ \(obeys 127\.0\.0\.1\/32\)/.test(s.stderr()), 5000, 'the OSC line on stderr');
  const value = async (p: string) => (await get(p, 'VALUE')).VALUE![0];
  const send = (sock: dgram.Socket, b: Uint8Array) => new Promise<void>((r) => sock.send(b, oscPort, '127.0.0.1', () => r()));
  const speed = await value('/netbend/source/z/speed');
  assert.notEqual(speed, 2.5);

  await send(outsider, msg('/netbend/source/z/speed', 'f', [2.5]));
  await send(outsider, msg('/netbend/source/z/{speed,amplitude}', 'f', [2.5]));
  await send(insider, msg('/netbend/source/z/amplitude', 'f', [0.375]));
  await until(async () => (await value('/netbend/source/z/amplitude')) === 0.375, 10_000, 'the allowed message to land');
  assert.equal(await value('/netbend/source/z/speed'), speed, 'the refused messages changed nothing');

  await send(insider, msg('/netbend/source/z/speed', 'f', [2.5]));
  await until(async () => (await value('/netbend/source/z/speed')) === 2.5, 10_000, 'the same message from 127.0.0.1');
});

test('serve --osc-allow with a bad CIDR: one error line, non-zero exit, nothing starts', async () => {
  const r = await cli(['serve', MODEL, '--port', '0', '--osc-port', '0', '--no-open', '--osc-allow', '127.0.0.1/8,10.0.0.300/8'], {}, 60_000);
  assert.notEqual(r.code, 0);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^netbend: --osc-allow "10\.0\.0\.300\/8" is not an IPv4 or IPv6 address or CIDR$/);
  assert.equal(r.stdout, '');
});
