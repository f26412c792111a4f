// The issue's own check, against a running `netbend serve` over real UDP, HTTP and WebSocket:
// OSCQuery lists the parameters, UDP OSC sets them, 2000 garbage datagrams change nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import WebSocket from 'ws';
import oscModule from 'osc-js';
import { fixture, startServe } from './helpers.ts';

const OSC = ((oscModule as unknown as { default?: unknown }).default ?? oscModule) as unknown as typeof import('osc-js').default;
const json = async (url: string) => (await fetch(url)).json();
/** The namespace without the engine's own readings (event-loop delay), which change by themselves. */
const settable = async (url: string) => {
  const tree = await json(url);
  delete tree.CONTENTS.netbend.CONTENTS.stats;
  return tree;
};

test('serve: OSCQuery lists parameters, UDP OSC sets them, garbage changes nothing', async () => {
  const s = await startServe(fixture('stylegan2-64-tiny.onnx'));
  const udp = dgram.createSocket('udp4');
  try {
    const base = s.url.replace(/\/$/, '');
    const info = await json(`${base}/?HOST_INFO`);
    assert.equal(info.OSC_TRANSPORT, 'UDP');
    const port = info.OSC_PORT as number;
    assert.ok(port > 0);
    const tree = await json(`${base}/`);
    const speed = tree.CONTENTS.netbend.CONTENTS.source.CONTENTS.z.CONTENTS.speed;
    assert.equal(speed.FULL_PATH, '/netbend/source/z/speed');
    assert.equal(speed.TYPE, 'f');
    assert.equal(speed.ACCESS, 3);
    assert.ok(Array.isArray(speed.RANGE) && typeof speed.RANGE[0].MAX === 'number');
    assert.equal(typeof speed.DESCRIPTION, 'string');
    const send = (bytes: Uint8Array) => new Promise<void>((r) => udp.send(bytes, port, '127.0.0.1', () => r()));
    const value = async () => (await json(`${base}/netbend/source/z/speed?VALUE`)).VALUE[0] as number;
    const waitFor = async (want: number) => {
      for (let i = 0; i < 100 && (await value()) !== want; i++) await new Promise((r) => setTimeout(r, 20));
      return value();
    };

    await send(new OSC.Message('/netbend/source/z/speed', 1.25).pack());
    assert.equal(await waitFor(1.25), 1.25);

    // A pattern sets every matching parameter.
    await send(new OSC.Message('/netbend/source/z/{speed,amplitude}', 0.75).pack());
    assert.equal(await waitFor(0.75), 0.75);
    assert.equal((await json(`${base}/netbend/source/z/amplitude?VALUE`)).VALUE[0], 0.75);

    // A bundle timed 600 ms ahead applies then, not now.
    const bundle = new OSC.Bundle(Date.now() + 600);
    bundle.add(new OSC.Message('/netbend/source/z/speed', 3));
    await send(bundle.pack());
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await value(), 0.75, 'not yet');
    assert.equal(await waitFor(3), 3);

    // 2000 datagrams of random bytes: nothing crashes, nothing changes.
    const before = await settable(`${base}/`);
    for (let i = 0; i < 2000; i++) {
      const junk = new Uint8Array((i % 2 ? 40 : 1) + Math.floor(Math.random() * 200));
      for (let k = 0; k < junk.length; k++) junk[k] = Math.floor(Math.random() * 256);
      // Half of them look like OSC: a real address, then garbage.
      if (i % 2) junk.set(new TextEncoder().encode('/netbend/source/z/speed\0,'), 0);
      udp.send(junk, port, '127.0.0.1');
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.child.exitCode, null, 'server still running');
    const after = await settable(`${base}/`);
    assert.deepEqual(after, before, 'no value changed');
    await send(new OSC.Message('/netbend/source/z/speed', 0.5).pack());
    assert.equal(await waitFor(0.5), 0.5, 'OSC still works');

    assert.equal((await fetch(`${base}/netbend/nothing/here`)).status, 404);
  } finally {
    udp.close();
    await s.stop();
  }
});

test('OSCQuery LISTEN streams changes over the WebSocket as OSC', async () => {
  const s = await startServe(fixture('stylegan2-64-tiny.onnx'));
  const udp = dgram.createSocket('udp4');
  try {
    const base = s.url.replace(/\/$/, '');
    const port = (await json(`${base}/?HOST_INFO`)).OSC_PORT as number;
    const ws = new WebSocket(base.replace(/^http/, 'ws') + '/');
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ COMMAND: 'LISTEN', DATA: '/netbend/source/z/seed' }));
    const got = new Promise<{ address: string; args: unknown[] }>((ok) =>
      ws.on('message', (data, binary) => {
        if (!binary) return;
        const p = new OSC.Packet();
        const b = data as Buffer;
        p.unpack(new DataView(b.buffer, b.byteOffset, b.byteLength));
        ok(p.value as unknown as { address: string; args: unknown[] });
      }),
    );
    await new Promise((r) => setTimeout(r, 100));
    udp.send(new OSC.Message('/netbend/source/z/seed', 42).pack(), port, '127.0.0.1');
    const m = await got;
    assert.equal(m.address, '/netbend/source/z/seed');
    assert.equal(Math.round(m.args[0] as number), 42);
    ws.close();
  } finally {
    udp.close();
    await s.stop();
  }
});
