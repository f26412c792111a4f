// OSCQuery over real HTTP and a real WebSocket client, with a real UDP OSC server beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import dgram from 'node:dgram';
import WebSocket from 'ws';
import { ParameterRegistry } from '../app/core/registry.ts';
import { OSC, OscServer, decodeOsc, type OscPacketMessage } from '../app/io/osc-server.ts';
import { UdpTransport } from '../app/io/osc-transport.ts';
import { oscQueryHandler, oscQueryUpgrade } from '../app/io/oscquery.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(ok: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await sleep(5);
}

/** A tiny server like the real one: OSCQuery first, then its own route (418, to see fall-through). */
async function setup(t: { after(fn: () => unknown): void }) {
  const params = new ParameterRegistry();
  params.define({ address: '/netbend/source/z/speed', type: 'float', default: 0.5, min: 0, max: 4, unit: 'Hz', description: 'latent walk speed' });
  params.define({ address: '/netbend/source/z/seed', type: 'int', default: 1, min: 0, max: 1000 });
  params.define({ address: '/netbend/blend/mix', type: 'float', default: 0, min: 0, max: 1, clamp: false });
  params.define({ address: '/netbend/output/on', type: 'bool', default: true });
  params.define({ address: '/netbend/output/mode', type: 'enum', default: 'rgb', options: ['rgb', 'pca'] });
  params.define({ address: '/netbend/tempo/tap', type: 'trigger', default: false });
  params.define({ address: '/netbend/outputs/v0', type: 'float', default: 0, readOnly: true });
  const osc = new OscServer(params, { transport: new UdpTransport(0) });
  const oscPort = await osc.start();
  const handler = oscQueryHandler(params, { oscPort: () => osc.port, host: '127.0.0.1' });
  const upgrade = oscQueryUpgrade(params, { osc });
  const server = http.createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(418).end('not OSCQuery');
  });
  server.on('upgrade', (req, socket, head) => upgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  t.after(async () => {
    upgrade.close();
    osc.close();
    await new Promise((r) => server.close(r));
  });
  const get = async (path: string) => {
    const res = await fetch(base + path);
    const text = await res.text();
    return { status: res.status, body: text && res.headers.get('content-type') === 'application/json' ? JSON.parse(text) : text };
  };
  return { params, osc, oscPort, base, get };
}

test('the namespace: nested containers with FULL_PATH, TYPE, RANGE, VALUE, ACCESS, DESCRIPTION, UNIT', async (t) => {
  const { get } = await setup(t);
  const { status, body: root } = await get('/');
  assert.equal(status, 200);
  assert.equal(root.FULL_PATH, '/');
  const nb = root.CONTENTS.netbend;
  assert.equal(nb.FULL_PATH, '/netbend');
  assert.deepEqual(Object.keys(nb.CONTENTS).sort(), ['blend', 'output', 'outputs', 'source', 'tempo']);
  assert.deepEqual(nb.CONTENTS.source.CONTENTS.z.CONTENTS.speed, {
    FULL_PATH: '/netbend/source/z/speed',
    TYPE: 'f',
    ACCESS: 3,
    DESCRIPTION: 'latent walk speed',
    VALUE: [0.5],
    RANGE: [{ MIN: 0, MAX: 4 }],
    CLIPMODE: ['both'],
    UNIT: ['Hz'],
  });
  const n = (p: string) =>
    p
      .split('/')
      .slice(1)
      .reduce((node, seg) => node.CONTENTS[seg], root);
  assert.deepEqual([n('/netbend/source/z/seed').TYPE, n('/netbend/source/z/seed').VALUE], ['i', [1]]);
  assert.deepEqual([n('/netbend/output/on').TYPE, n('/netbend/output/on').VALUE, n('/netbend/output/on').RANGE], ['T', [true], undefined]);
  assert.deepEqual([n('/netbend/output/mode').TYPE, n('/netbend/output/mode').RANGE], ['s', [{ VALS: ['rgb', 'pca'] }]]);
  assert.deepEqual([n('/netbend/tempo/tap').TYPE, n('/netbend/tempo/tap').ACCESS, 'VALUE' in n('/netbend/tempo/tap')], ['I', 2, false]);
  assert.equal(n('/netbend/outputs/v0').ACCESS, 1, 'read-only');
  assert.deepEqual(n('/netbend/blend/mix').CLIPMODE, ['none'], 'a soft range');

  const { body: source } = await get('/netbend/source');
  assert.equal(source.FULL_PATH, '/netbend/source');
  assert.deepEqual(source.CONTENTS.z.CONTENTS.seed.VALUE, [1]);
  assert.deepEqual((await get('/netbend/source/z/speed')).body.FULL_PATH, '/netbend/source/z/speed');
  assert.deepEqual((await get('/netbend/source/z/speed?TYPE')).body, { TYPE: 'f' });
  assert.deepEqual((await get('/netbend/source/z/speed?RANGE')).body, { RANGE: [{ MIN: 0, MAX: 4 }] });
  assert.deepEqual((await get('/netbend/output/mode?VALUE')).body, { VALUE: ['rgb'] });
  assert.deepEqual((await get('/netbend/output/mode?token=abc&value')).body, { VALUE: ['rgb'] }, 'a LAN token is not an attribute');
  assert.equal((await get('/netbend/tempo/tap?VALUE')).status, 204, 'a trigger has no value');
  assert.equal((await get('/netbend/source/z/speed?BOGUS')).status, 400);
  assert.equal((await get('/netbend/nothing/here')).status, 404);
  assert.equal((await get('/netbend/source/z/sp')).status, 404, 'a prefix of a name is not a path');
  assert.deepEqual(await get('/assets/app.js'), { status: 418, body: 'not OSCQuery' }, 'other routes fall through');
});

test('HOST_INFO names the OSC port and the extensions', async (t) => {
  const { get, oscPort } = await setup(t);
  const { body } = await get('/?HOST_INFO');
  assert.equal(body.NAME, 'netbend');
  assert.equal(body.OSC_PORT, oscPort);
  assert.equal(body.OSC_TRANSPORT, 'UDP');
  for (const e of ['ACCESS', 'VALUE', 'RANGE', 'DESCRIPTION', 'LISTEN', 'PATH_CHANGED', 'PATH_ADDED', 'PATH_REMOVED']) assert.equal(body.EXTENSIONS[e], true, e);
});

test('?VALUE reflects a change made through UDP OSC', async (t) => {
  const { get, oscPort } = await setup(t);
  const udp = dgram.createSocket('udp4');
  t.after(() => udp.close());
  const m = new OSC.Message('/netbend/source/z/speed');
  [m.types, m.args] = ['f', [2.5]];
  udp.send(m.pack(), oscPort, '127.0.0.1');
  let v: unknown;
  for (let i = 0; i < 200 && v !== 2.5; i++) v = (await get('/netbend/source/z/speed?VALUE')).body.VALUE[0];
  assert.equal(v, 2.5);
});

test('LISTEN over a WebSocket streams changes as binary OSC; IGNORE stops; path notices as JSON', async (t) => {
  const { params, base } = await setup(t);
  const ws = new WebSocket(base.replace(/^http/, 'ws') + '/');
  t.after(() => ws.close());
  await new Promise((r, f) => ws.once('open', r).once('error', f));
  const osc: OscPacketMessage[] = [];
  const notices: Array<{ COMMAND: string; DATA: string }> = [];
  ws.on('message', (data, binary) => {
    const b = data as Buffer;
    if (binary) osc.push(decodeOsc(b) as OscPacketMessage);
    else notices.push(JSON.parse(b.toString()));
  });
  ws.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: '/netbend/source/z/seed' }));
  ws.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: '/netbend/output/on' }));
  await sleep(50); // the commands travel before the changes they ask for
  params.set('/netbend/source/z/speed', 1, 'ui'); // not listened to
  params.set('/netbend/source/z/seed', 42, 'ui');
  params.set('/netbend/output/on', false, 'midi');
  await until(() => osc.length >= 2);
  assert.deepEqual(osc, [
    { address: '/netbend/source/z/seed', types: ',i', args: [42] },
    { address: '/netbend/output/on', types: ',F', args: [false] },
  ]);
  ws.send(JSON.stringify({ COMMAND: 'IGNORE', DATA: '/netbend/source/z/seed' }));
  await sleep(50);
  params.set('/netbend/source/z/seed', 43, 'ui');
  params.set('/netbend/output/on', true, 'ui');
  await until(() => osc.length >= 3);
  await sleep(30);
  assert.deepEqual(
    osc.slice(2).map((m) => m.address),
    ['/netbend/output/on'],
    'ignored path is quiet',
  );

  params.define({ address: '/netbend/edit/e1/amount', type: 'float', default: 0, min: -1, max: 1 });
  params.define({ address: '/netbend/edit/e1/amount', type: 'float', default: 0, min: -2, max: 2 });
  params.remove('/netbend/edit/e1/amount');
  await until(() => notices.length >= 3);
  assert.deepEqual(notices, [
    { COMMAND: 'PATH_ADDED', DATA: '/netbend/edit/e1/amount' },
    { COMMAND: 'PATH_CHANGED', DATA: '/netbend/edit/e1/amount' },
    { COMMAND: 'PATH_REMOVED', DATA: '/netbend/edit/e1/amount' },
  ]);

  // Binary OSC from the client sets values, as over UDP.
  const m = new OSC.Message('/netbend/source/z/speed');
  [m.types, m.args] = ['f', [3.5]];
  ws.send(m.pack());
  await until(() => params.get('/netbend/source/z/speed') === 3.5);
  assert.equal(params.get('/netbend/source/z/speed'), 3.5);
});

/** A LISTEN client, and a way to know the server has handled everything sent so far. */
async function listener(t: { after(fn: () => unknown): void }, base: string, params: ParameterRegistry) {
  const ws = new WebSocket(base.replace(/^http/, 'ws') + '/');
  t.after(() => ws.close());
  await new Promise((r, f) => ws.once('open', r).once('error', f));
  const osc: OscPacketMessage[] = [];
  ws.on('message', (data, binary) => {
    if (binary) osc.push(decodeOsc(data as Buffer) as OscPacketMessage);
  });
  /** Binary OSC over the same socket is handled in order after the JSON sent before it. */
  const handled = async () => {
    const mark = params.number('/netbend/source/z/seed') === 999 ? 998 : 999;
    const m = new OSC.Message('/netbend/source/z/seed');
    [m.types, m.args] = ['i', [mark]];
    ws.send(m.pack());
    const end = Date.now() + 5000;
    while (params.get('/netbend/source/z/seed') !== mark) {
      if (Date.now() > end) throw new Error('the server did not handle the commands');
      await sleep(5);
    }
  };
  const listen = (path: string, command = 'LISTEN') => ws.send(JSON.stringify({ COMMAND: command, DATA: path }));
  return { ws, osc, handled, listen };
}

test('LISTEN to an unknown path does nothing, even once the path appears', async (t) => {
  const { params, base } = await setup(t);
  const c = await listener(t, base, params);
  c.listen('/netbend/later/x');
  c.listen('/netbend/source/z/speed');
  await c.handled();
  params.define({ address: '/netbend/later/x', type: 'float', default: 0 });
  params.set('/netbend/later/x', 1, 'ui');
  params.set('/netbend/source/z/speed', 2, 'ui');
  await until(() => c.osc.some((m) => m.address === '/netbend/source/z/speed'));
  assert.deepEqual(
    c.osc.map((m) => m.address),
    ['/netbend/source/z/speed'],
    'changes go out in order: the unknown path sent nothing before',
  );
});

test('LISTEN beyond the per-client cap is refused', async (t) => {
  const { params, base } = await setup(t);
  const { MAX_LISTEN_PATHS } = await import('../app/io/oscquery.ts');
  for (let i = 0; i <= MAX_LISTEN_PATHS; i++) params.define({ address: `/netbend/many/p${i}`, type: 'float', default: 0 });
  const c = await listener(t, base, params);
  for (let i = 0; i <= MAX_LISTEN_PATHS; i++) c.listen(`/netbend/many/p${i}`);
  await c.handled();
  params.set(`/netbend/many/p${MAX_LISTEN_PATHS}`, 1, 'ui'); // one past the cap
  params.set(`/netbend/many/p${MAX_LISTEN_PATHS - 1}`, 1, 'ui'); // the last one that fits
  await until(() => c.osc.length > 0);
  assert.deepEqual(
    c.osc.map((m) => m.address),
    [`/netbend/many/p${MAX_LISTEN_PATHS - 1}`],
  );
  // IGNORE makes room again.
  c.listen('/netbend/many/p0', 'IGNORE');
  c.listen(`/netbend/many/p${MAX_LISTEN_PATHS}`);
  await c.handled();
  params.set(`/netbend/many/p${MAX_LISTEN_PATHS}`, 2, 'ui');
  await until(() => c.osc.length > 1);
  assert.equal(c.osc[1]!.address, `/netbend/many/p${MAX_LISTEN_PATHS}`);
});

test('a removed parameter leaves every LISTEN set: its namesake later is not streamed', async (t) => {
  const { params, base } = await setup(t);
  params.define({ address: '/netbend/edit/e1/amount', type: 'float', default: 0, min: -1, max: 1 });
  const a = await listener(t, base, params);
  const b = await listener(t, base, params);
  for (const c of [a, b]) {
    c.listen('/netbend/edit/e1/amount');
    c.listen('/netbend/source/z/speed');
    await c.handled();
  }
  params.set('/netbend/edit/e1/amount', 0.5, 'ui');
  await until(() => a.osc.length > 0 && b.osc.length > 0);
  params.remove('/netbend/edit/e1/amount');
  params.define({ address: '/netbend/edit/e1/amount', type: 'float', default: 0, min: -1, max: 1 });
  params.set('/netbend/edit/e1/amount', 0.25, 'ui');
  params.set('/netbend/source/z/speed', 3, 'ui');
  for (const c of [a, b]) {
    await until(() => c.osc.some((m) => m.address === '/netbend/source/z/speed'));
    assert.deepEqual(
      c.osc.map((m) => m.address),
      ['/netbend/edit/e1/amount', '/netbend/source/z/speed'],
    );
  }
});
