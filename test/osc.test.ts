// OSC over real UDP sockets: a separate client socket sends, the server sets parameters; values
// go out to targets; garbage changes nothing. Plus one end-to-end check through `netbend serve`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { ParameterRegistry } from '../app/core/registry.ts';
import { OSC, OscServer, decodeOsc, packBundle, type OscPacket, type OscPacketMessage } from '../app/io/osc-server.ts';
import { UdpTransport } from '../app/io/osc-transport.ts';
import { fixture, startServe } from './helpers.ts';

/** A message with exactly these type tags (osc-js guesses i/f from the number otherwise). */
function msg(address: string, types = '', args: unknown[] = []): Uint8Array {
  const m = new OSC.Message(address);
  m.types = types;
  m.args = args as typeof m.args;
  return m.pack();
}
/** A bundle due at `ms` (JavaScript time); 1 = the "immediately" timetag. */
function bundle(ms: number, ...elements: Uint8Array[]): Uint8Array {
  const b = packBundle(elements);
  const view = new DataView(b.buffer, b.byteOffset);
  if (ms !== 1) {
    const s = ms / 1000 + 2208988800;
    view.setUint32(8, Math.floor(s));
    view.setUint32(12, Math.floor((s % 1) * 2 ** 32));
  }
  return b;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(ok: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await sleep(5);
}

async function setup(t: { after(fn: () => unknown): void }, targets: Array<{ host: string; port: number }> = []) {
  const params = new ParameterRegistry();
  for (const x of ['x', 'y', 'z']) params.define({ address: `/netbend/source/${x}/speed`, type: 'float', default: 0, min: 0, max: 10 });
  params.define({ address: '/netbend/source/z/seed', type: 'int', default: 0, min: 0, max: 1000 });
  params.define({ address: '/netbend/source/z/amp', type: 'float', default: 0, min: 0, max: 10 });
  params.define({ address: '/netbend/edit/e1/amount', type: 'float', default: 0, min: -1, max: 1 });
  params.define({ address: '/netbend/edit/e2/amount', type: 'float', default: 0, min: -1, max: 1 });
  params.define({ address: '/netbend/edit/ea/amount', type: 'float', default: 0, min: -1, max: 1 });
  params.define({ address: '/netbend/on', type: 'bool', default: false });
  params.define({ address: '/netbend/mode', type: 'enum', default: 'a', options: ['a', 'b'] });
  params.define({ address: '/netbend/hit', type: 'trigger', default: false });
  params.define({ address: '/netbend/outputs/v0', type: 'float', default: 0, readOnly: true });
  const osc = new OscServer(params, { transport: new UdpTransport(0), targets });
  const port = await osc.start();
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  t.after(() => {
    osc.close();
    client.close();
  });
  const send = (b: Uint8Array) => new Promise<void>((r) => client.send(b, port, '127.0.0.1', () => r()));
  /** Sends and waits until the server has taken the datagram in. */
  const deliver = async (b: Uint8Array) => {
    const n = osc.stats.received;
    await send(b);
    await until(() => osc.stats.received > n);
  };
  const hits: number[] = [];
  params.on('change', (c) => c.address === '/netbend/hit' && hits.push(1));
  return { params, osc, port, client, send, deliver, hits, get: (a: string) => params.get(a) };
}

/** A socket that collects every message it receives (bundles flattened). */
async function listener(t: { after(fn: () => unknown): void }) {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const got: Array<OscPacketMessage & { bundled: boolean }> = [];
  let datagrams = 0;
  sock.on('message', (b) => {
    datagrams++;
    const walk = (p: OscPacket, bundled: boolean): void => void ('elements' in p ? p.elements.forEach((e) => walk(e, true)) : got.push({ ...p, bundled }));
    walk(decodeOsc(b)!, false);
  });
  t.after(() => sock.close());
  return { sock, got, port: sock.address().port, datagrams: () => datagrams };
}

test('a UDP message from another socket sets the parameter; type tags f i d T F s, triggers', async (t) => {
  const { deliver, get, hits, osc } = await setup(t);
  await deliver(msg('/netbend/source/x/speed', 'f', [1.25]));
  assert.equal(get('/netbend/source/x/speed'), 1.25);
  await deliver(msg('/netbend/source/x/speed', 'i', [3]));
  assert.equal(get('/netbend/source/x/speed'), 3);
  await deliver(msg('/netbend/source/x/speed', 'd', [2.000000001]));
  assert.equal(get('/netbend/source/x/speed'), 2.000000001, 'double precision kept');
  await deliver(msg('/netbend/on', 'T', [true]));
  assert.equal(get('/netbend/on'), true);
  await deliver(msg('/netbend/on', 'F', [false]));
  assert.equal(get('/netbend/on'), false);
  await deliver(msg('/netbend/mode', 's', ['b']));
  assert.equal(get('/netbend/mode'), 'b');
  await deliver(msg('/netbend/source/z/seed', 'f', [41.6]));
  assert.equal(get('/netbend/source/z/seed'), 42, 'ints round');
  await deliver(msg('/netbend/hit'));
  await deliver(msg('/netbend/hit', 'I', [Infinity]));
  await deliver(msg('/netbend/hit', 'f', [1]));
  await deliver(msg('/netbend/hit', 'f', [0])); // a button's release
  assert.equal(hits.length, 3, 'no args, impulse and a press fire; a release does not');
  const before = { ...osc.stats };
  await deliver(msg('/netbend/nothing', 'f', [1]));
  await deliver(msg('/netbend/outputs/v0', 'f', [1])); // read-only
  await deliver(msg('/netbend/source/x/speed', 's', ['fast'])); // wrong kind of value
  await deliver(msg('/netbend/source/x/speed')); // no value
  assert.deepEqual([osc.stats.unknown - before.unknown, osc.stats.rejected - before.rejected], [1, 3]);
  assert.equal(get('/netbend/source/x/speed'), 2.000000001);
  assert.equal(get('/netbend/outputs/v0'), 0);
});

test('OSC 1.0 address patterns set every match', async (t) => {
  const { deliver, get, osc } = await setup(t);
  const speeds = () => ['x', 'y', 'z'].map((s) => get(`/netbend/source/${s}/speed`));
  const amounts = () => ['e1', 'e2', 'ea'].map((e) => get(`/netbend/edit/${e}/amount`));
  await deliver(msg('/netbend/source/*/speed', 'f', [1]));
  assert.deepEqual(speeds(), [1, 1, 1]);
  await deliver(msg('/netbend/*/speed', 'f', [9])); // * stays inside one segment
  assert.deepEqual(speeds(), [1, 1, 1]);
  await deliver(msg('/netbend/source/?/speed', 'f', [2]));
  assert.deepEqual(speeds(), [2, 2, 2]);
  await deliver(msg('/netbend/source/[xy]/speed', 'f', [3]));
  assert.deepEqual(speeds(), [3, 3, 2]);
  await deliver(msg('/netbend/source/[!x]/speed', 'f', [4]));
  assert.deepEqual(speeds(), [3, 4, 4]);
  await deliver(msg('/netbend/edit/e[1-9]/amount', 'f', [0.5]));
  assert.deepEqual(amounts(), [0.5, 0.5, 0]);
  await deliver(msg('/netbend/edit/e[a-z]/amount', 'f', [-0.5]));
  assert.deepEqual(amounts(), [0.5, 0.5, -0.5]);
  await deliver(msg('/netbend/source/z/{speed,amp}', 'f', [7]));
  assert.deepEqual([get('/netbend/source/z/speed'), get('/netbend/source/z/amp'), get('/netbend/source/z/seed')], [7, 7, 0]);
  const unknown = osc.stats.unknown;
  await deliver(msg('/netbend/source/*/colour', 'f', [1]));
  assert.equal(osc.stats.unknown, unknown + 1, 'a pattern that matches nothing counts as unknown');
});

test('bundles: immediate now, future at their time (not before), nested, atomic', async (t) => {
  const { params, deliver, get, osc } = await setup(t);
  await deliver(bundle(1, msg('/netbend/source/x/speed', 'f', [1]), msg('/netbend/source/y/speed', 'f', [1])));
  assert.deepEqual([get('/netbend/source/x/speed'), get('/netbend/source/y/speed')], [1, 1]);

  // When each value changed, by the server's own events: lower bounds only, so a busy machine
  // can make it late but never makes the test wrong.
  const changedAt: Record<string, number> = {};
  params.on('change', (c) => (changedAt[c.address] ??= Date.now()));
  const sentAt = Date.now();
  await deliver(bundle(sentAt + 400, msg('/netbend/source/x/speed', 'f', [5]), bundle(sentAt + 600, msg('/netbend/source/y/speed', 'f', [6]))));
  assert.equal(osc.stats.scheduled, 1);
  await sleep(200);
  assert.equal(get('/netbend/source/x/speed'), 1, 'not yet');
  await until(() => get('/netbend/source/y/speed') === 6);
  assert.deepEqual([get('/netbend/source/x/speed'), get('/netbend/source/y/speed')], [5, 6]);
  const x = changedAt['/netbend/source/x/speed']! - sentAt;
  const y = changedAt['/netbend/source/y/speed']! - sentAt;
  assert.ok(x >= 399, `the bundle applied at its time, not before (${x} ms)`);
  assert.ok(y >= 599, `the nested bundle waited for its own, later time (${y} ms)`);

  // One bad element drops the whole bundle: none of it applies.
  const good = msg('/netbend/source/z/speed', 'f', [8]);
  const bad = bundle(1, good, good);
  new DataView(bad.buffer, bad.byteOffset).setInt32(16 + 4 + good.byteLength, 9999); // second size overruns
  const dropped = osc.stats.dropped;
  await deliver(bad);
  assert.equal(osc.stats.dropped, dropped + 1);
  assert.equal(get('/netbend/source/z/speed'), 0);
});

test('2000 random-byte datagrams: no crash, nothing changes, counted; OSC still works after', async (t) => {
  const { params, osc, send, deliver, get } = await setup(t);
  const before = params.values();
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 24;
  const prefix = new TextEncoder().encode('/netbend/source/x/speed\0,');
  for (let i = 0; i < 2000; i++) {
    const junk = Uint8Array.from({ length: 1 + ((rnd() << 1) | (rnd() & 1)) }, rnd);
    // Every third looks like OSC at first: a real address, a ',' then garbage.
    if (i % 3 === 0 && junk.length > prefix.length) junk.set(prefix, 0);
    if (i % 3 === 1 && junk.length >= 8) junk.set(new TextEncoder().encode('#bundle\0'), 0);
    await send(junk);
    // A few in flight at a time: the server reads them all and the socket buffer never overflows.
    if (i % 25 === 24) await until(() => osc.stats.received === i + 1, 5000);
  }
  assert.equal(osc.stats.received, 2000);
  assert.equal(osc.stats.applied, 0);
  assert.equal(osc.stats.dropped, 2000, 'every one dropped as malformed');
  assert.deepEqual(params.values(), before, 'no value changed');
  await deliver(msg('/netbend/source/x/speed', 'f', [0.5]));
  assert.equal(get('/netbend/source/x/speed'), 0.5, 'OSC still works');
});

test('changes go out to targets once per flush, typed, and never back to the peer that sent them', async (t) => {
  const a = await listener(t);
  const b = await listener(t);
  // Peer A both sends from and listens on its socket (the usual two-way controller setup).
  const { params, osc, port } = await setup(t, [
    { host: '127.0.0.1', port: a.port },
    { host: 'localhost', port: b.port },
  ]);
  assert.equal(osc.flush(), 0, 'nothing changed, nothing sent');
  params.set('/netbend/source/x/speed', 1, 'ui');
  params.set('/netbend/source/x/speed', 2, 'ui');
  params.set('/netbend/source/x/speed', 3, 'modulator');
  params.set('/netbend/outputs/v0', 0.25, 'engine');
  params.set('/netbend/on', true, 'midi');
  params.set('/netbend/mode', 'b', 'preset');
  params.set('/netbend/source/z/seed', 7, 'ui');
  params.set('/netbend/hit', true, 'ui');
  assert.equal(osc.flush(), 2, 'one datagram per target');
  await until(() => a.got.length >= 6 && b.got.length >= 6);
  for (const r of [a, b]) {
    const byAddress = Object.fromEntries(r.got.map((m) => [m.address, [m.types, ...m.args]]));
    assert.deepEqual(byAddress, {
      '/netbend/source/x/speed': [',f', 3],
      '/netbend/outputs/v0': [',f', 0.25],
      '/netbend/on': [',T', true],
      '/netbend/mode': [',s', 'b'],
      '/netbend/source/z/seed': [',i', 7],
      '/netbend/hit': [',I', Infinity],
    });
    assert.equal(r.got.length, 6, 'once per address per flush');
    assert.ok(
      r.got.every((m) => m.bundled),
      'batched into a bundle',
    );
  }
  // A value from peer A goes to B, not back to A.
  const aCount = a.got.length;
  await new Promise<void>((r) => a.sock.send(msg('/netbend/source/y/speed', 'f', [4]), port, '127.0.0.1', () => r()));
  await until(() => params.get('/netbend/source/y/speed') === 4);
  assert.equal(osc.flush(), 1, 'only to B');
  await until(() => b.got.some((m) => m.address === '/netbend/source/y/speed'));
  await sleep(50);
  assert.equal(a.got.length, aCount, 'no echo to the sender');
  assert.deepEqual(b.got.at(-1), { address: '/netbend/source/y/speed', types: ',f', args: [4], bundled: false });
});

test('Wekinator /wek/inputs: N numbers define and set /netbend/wek/inputs/0..N-1; malformed ones change nothing', async (t) => {
  const { deliver, get, params, osc } = await setup(t);
  assert.equal(params.has('/netbend/wek/inputs/0'), false, 'nothing before the first message');
  await deliver(msg('/wek/inputs', 'fid', [2.5, -3, 0.125]));
  assert.deepEqual(
    [0, 1, 2].map((i) => get(`/netbend/wek/inputs/${i}`)),
    [2.5, -3, 0.125],
  );
  assert.equal(params.has('/netbend/wek/inputs/3'), false);
  const spec = params.spec('/netbend/wek/inputs/0')!;
  assert.equal(spec.readOnly, true, 'read-only for the page');
  assert.throws(() => params.set('/netbend/wek/inputs/0', 1, 'ui'), /read-only/);
  assert.throws(() => params.set('/netbend/wek/inputs/0', 1, 'midi'), /read-only/);
  // More numbers later define the rest; fewer set only those they carry.
  await deliver(msg('/wek/inputs', 'ffff', [1, 2, 3, 4]));
  assert.equal(get('/netbend/wek/inputs/3'), 4);
  await deliver(msg('/wek/inputs', 'f', [9]));
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => get(`/netbend/wek/inputs/${i}`)),
    [9, 2, 3, 4],
  );

  const count = () => params.list().filter((s) => s.address.startsWith('/netbend/wek/')).length;
  const before = { ...osc.stats };
  const refusedBefore = params.refused;
  // Wrong types, nothing, 10,000 numbers: refused whole, nothing defined, nothing moved.
  await deliver(msg('/wek/inputs', 'fsf', [1, 'x', 2]));
  await deliver(msg('/wek/inputs', 'fT', [1, true]));
  await deliver(msg('/wek/inputs'));
  await deliver(
    msg(
      '/wek/inputs',
      'f'.repeat(10_000),
      Array.from({ length: 10_000 }, (_, i) => i),
    ),
  );
  // A 10,000-number datagram may be dropped past the turn's time on a busy machine: counted either way.
  assert.equal(osc.stats.rejected + osc.stats.dropped - before.rejected - before.dropped, 4);
  assert.equal(count(), 4, 'no parameter defined by a refused message');
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => get(`/netbend/wek/inputs/${i}`)),
    [9, 2, 3, 4],
  );
  // NaN and Inf are refused by their parameter (counted like any refused value); the others apply.
  await deliver(msg('/wek/inputs', 'ffff', [Number.NaN, 5, Number.POSITIVE_INFINITY, 7]));
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => get(`/netbend/wek/inputs/${i}`)),
    [9, 5, 3, 7],
  );
  assert.equal(params.refused - refusedBefore, 2);
  assert.equal(osc.stats.rejected + osc.stats.dropped - before.rejected - before.dropped, 6);
  // 256 is the most a message may carry.
  await deliver(
    msg(
      '/wek/inputs',
      'f'.repeat(256),
      Array.from({ length: 256 }, (_, i) => i / 2),
    ),
  );
  assert.equal(count(), 256);
  assert.equal(get('/netbend/wek/inputs/255'), 127.5);
  await deliver(
    msg(
      '/wek/inputs',
      'f'.repeat(257),
      Array.from({ length: 257 }, () => 1),
    ),
  );
  assert.equal(count(), 256);
  assert.equal(get('/netbend/wek/inputs/0'), 0);
});

test('sendFloats: one message of floats to every target, now', async (t) => {
  const a = await listener(t);
  const b = await listener(t);
  const { osc } = await setup(t, [
    { host: '127.0.0.1', port: a.port },
    { host: '127.0.0.1', port: b.port },
  ]);
  assert.equal(osc.sendFloats('/wek/outputs', [0.5, -2, 3.25]), 2);
  await until(() => a.got.length >= 1 && b.got.length >= 1);
  for (const l of [a, b]) assert.deepEqual(l.got[0], { address: '/wek/outputs', types: ',fff', args: [0.5, -2, 3.25], bundled: false });
});

test('serve: HOST_INFO advertises the UDP port; OSC there is what OSCQuery reports', { skip: !existsSync(fixture('stylegan2-64-tiny.onnx')) && 'fixture model missing' }, async () => {
  const s = await startServe(fixture('stylegan2-64-tiny.onnx'));
  const udp = dgram.createSocket('udp4');
  try {
    const base = s.url.replace(/\/$/, '');
    const info = await (await fetch(`${base}/?HOST_INFO`)).json();
    assert.equal(info.OSC_TRANSPORT, 'UDP');
    const value = async () => (await (await fetch(`${base}/netbend/source/z/speed?VALUE`)).json()).VALUE[0];
    udp.send(msg('/netbend/source/z/speed', 'f', [1.25]), info.OSC_PORT, '127.0.0.1');
    for (let i = 0; i < 100 && (await value()) !== 1.25; i++) await sleep(20);
    assert.equal(await value(), 1.25);
  } finally {
    udp.close();
    await s.stop();
  }
});
