// MIDI mappings driven by real MIDI byte sequences, as a controller sends them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { ParameterRegistry } from '../app/control/registry.ts';
import { MidiRouter } from '../app/control/midi-mapping.ts';
import { openMidi } from '../app/control/midi-ports.ts';

function setup() {
  const params = new ParameterRegistry();
  params.define({ address: '/netbend/a', type: 'float', default: 0, min: 0, max: 10 });
  params.define({ address: '/netbend/b', type: 'float', default: 0.5, min: 0, max: 1 });
  params.define({ address: '/netbend/on', type: 'bool', default: false });
  params.define({ address: '/netbend/hit', type: 'trigger', default: false });
  const sent: number[][] = [];
  const programs: number[] = [];
  let now = 0;
  const router = new MidiRouter(params, { send: (b) => sent.push(b), onProgram: (p) => programs.push(p), now: () => now });
  return { params, router, sent, programs, tick: (s: number) => (now += s) };
}

test('CC 7-bit: range, curves, invert, channel filter', () => {
  const { params, router } = setup();
  router.add({ param: '/netbend/a', kind: 'cc', channel: 2, number: 7 });
  router.handle([0xb2, 7, 0]);
  assert.equal(params.get('/netbend/a'), 0);
  router.handle([0xb2, 7, 127]);
  assert.equal(params.get('/netbend/a'), 10);
  router.handle([0xb2, 7, 64]);
  assert.ok(Math.abs(params.number('/netbend/a') - (64 / 127) * 10) < 1e-9);
  router.handle([0xb3, 7, 0]); // another channel
  assert.ok(params.number('/netbend/a') > 5);
  const lin = params.number('/netbend/a');
  const r2 = setup();
  r2.router.add({ param: '/netbend/a', kind: 'cc', channel: 'any', number: 1, curve: 'exp' });
  r2.router.handle([0xb0, 1, 64]);
  assert.ok(r2.params.number('/netbend/a') < lin, 'exp bends low');
  const r3 = setup();
  r3.router.add({ param: '/netbend/a', kind: 'cc', channel: 'any', number: 1, curve: 'log', invert: true, min: 2, max: 4 });
  r3.router.handle([0xb0, 1, 127]);
  assert.equal(r3.params.get('/netbend/a'), 2, 'inverted: top of travel is the bottom of the range');
  r3.router.handle([0xb0, 1, 64]);
  assert.ok(r3.params.number('/netbend/a') > 3, 'log bends high');
});

test('14-bit CC pairs resolve 16384 steps', () => {
  const { params, router } = setup();
  router.add({ param: '/netbend/b', kind: 'cc14', channel: 0, number: 1 });
  const seen = new Set<number>();
  for (let v = 0; v < 16384; v += 1) {
    router.handle([0xb0, 1, v >> 7, 33, v & 0x7f]);
    seen.add(params.number('/netbend/b'));
  }
  assert.equal(seen.size, 16384);
  assert.equal(params.get('/netbend/b'), 1);
});

test('running status, interleaved clock, sysex and garbage bytes', () => {
  const { params, router } = setup();
  router.add({ param: '/netbend/a', kind: 'cc', channel: 0, number: 7 });
  router.handle([0x01, 0x02, 0x7f]); // data with no status: ignored
  assert.equal(params.get('/netbend/a'), 0);
  router.handle([0xb0, 7, 0xf8, 127]); // a clock byte inside a message
  assert.equal(params.get('/netbend/a'), 10);
  router.handle([7, 0]); // running status
  assert.equal(params.get('/netbend/a'), 0);
  router.handle([0xf0, 0x7e, 0xb0, 7, 100, 0xf7]); // CC-looking bytes inside sysex
  assert.equal(params.get('/netbend/a'), 0);
  router.handle([0xb0, 7]);
  router.handle([127]); // split across chunks
  assert.equal(params.get('/netbend/a'), 10);
  router.handle([300, -1, 1.5, NaN] as number[]);
});

test('soft takeover (pickup) ignores the control until it crosses the value', () => {
  const { params, router } = setup();
  params.set('/netbend/b', 0.5);
  router.add({ param: '/netbend/b', kind: 'cc', channel: 0, number: 1, takeover: 'pickup' });
  router.handle([0xb0, 1, 10]);
  router.handle([0xb0, 1, 30]);
  assert.equal(params.get('/netbend/b'), 0.5, 'below the value: no jump');
  router.handle([0xb0, 1, 70]); // crosses 63.5
  assert.ok(Math.abs(params.number('/netbend/b') - 70 / 127) < 1e-9);
  router.handle([0xb0, 1, 20]);
  assert.ok(Math.abs(params.number('/netbend/b') - 20 / 127) < 1e-9, 'picked up: follows');
});

test('relative encoders step up and down', () => {
  for (const [encoder, up, down] of [['relative-2c', 1, 127], ['relative-bin', 65, 63], ['relative-sign', 1, 65]] as const) {
    const { params, router } = setup();
    params.set('/netbend/a', 5);
    router.add({ param: '/netbend/a', kind: 'cc', channel: 0, number: 16, encoder });
    router.handle([0xb0, 16, up, 0xb0, 16, up]);
    assert.ok(Math.abs(params.number('/netbend/a') - (5 + 20 / 127)) < 1e-9, `${encoder} up`);
    router.handle([0xb0, 16, down]);
    assert.ok(Math.abs(params.number('/netbend/a') - (5 + 10 / 127)) < 1e-9, `${encoder} down`);
  }
});

test('notes: toggle, momentary, trigger; pitch bend; program change', () => {
  const { params, router, programs } = setup();
  router.add({ param: '/netbend/on', kind: 'note', channel: 0, number: 36, mode: 'toggle' });
  router.add({ param: '/netbend/a', kind: 'note', channel: 0, number: 37, mode: 'momentary' });
  router.add({ param: '/netbend/b', kind: 'pitchbend', channel: 0, number: 0 });
  const hits: boolean[] = [];
  params.on('change', (c) => c.address === '/netbend/hit' && hits.push(true));
  router.add({ param: '/netbend/hit', kind: 'note', channel: 0, number: 38 });
  router.handle([0x90, 36, 100, 0x80, 36, 0]);
  assert.equal(params.get('/netbend/on'), true);
  router.handle([0x90, 36, 100, 0x90, 36, 0]); // note on velocity 0 is a note off
  assert.equal(params.get('/netbend/on'), false);
  router.handle([0x90, 37, 90]);
  assert.equal(params.get('/netbend/a'), 10);
  router.handle([0x80, 37, 0]);
  assert.equal(params.get('/netbend/a'), 0);
  router.handle([0x90, 38, 1]);
  assert.equal(hits.length, 1);
  router.handle([0xe0, 0x00, 0x40]); // centre
  assert.ok(Math.abs(params.number('/netbend/b') - 8192 / 16383) < 1e-9);
  router.handle([0xc0, 5]);
  assert.deepEqual(programs, [5]);
});

test('MIDI learn maps the next control; a quick LSB partner makes it 14-bit', () => {
  const { params, router, tick } = setup();
  router.learn('/netbend/a');
  router.handle([0xb4, 21, 64]);
  const [m] = router.list();
  assert.deepEqual([m!.kind, m!.channel, m!.number, m!.param], ['cc', 4, 21, '/netbend/a']);
  assert.equal(router.learning, undefined);
  // Learned mappings pick up softly: move through the current value first.
  router.handle([0xb4, 21, 0, 0xb4, 21, 127]);
  assert.equal(params.get('/netbend/a'), 10);
  router.learn('/netbend/b');
  router.handle([0xb0, 2, 10]);
  tick(0.01);
  router.handle([0xb0, 34, 5]);
  assert.equal(router.list()[1]!.kind, 'cc14');
  assert.throws(() => router.learn('/netbend/none'), /no parameter/);
});

test('feedback: other sources send the CC back, MIDI changes do not echo', () => {
  const { params, router, sent } = setup();
  router.add({ param: '/netbend/a', kind: 'cc', channel: 1, number: 7 });
  router.add({ param: '/netbend/on', kind: 'note', channel: 0, number: 40 });
  params.set('/netbend/a', 5, 'osc');
  assert.deepEqual(sent.pop(), [0xb1, 7, 64]);
  router.handle([0xb1, 7, 100]);
  assert.equal(sent.length, 0, 'no echo of MIDI input');
  params.set('/netbend/on', true, 'ui');
  assert.deepEqual(sent.pop(), [0x90, 40, 127]);
});

test('mappings round-trip through JSON and bad ones are refused whole', () => {
  const { params, router } = setup();
  router.add({ param: '/netbend/a', kind: 'cc', channel: 0, number: 7, curve: 'exp', takeover: 'pickup' });
  const json = JSON.parse(JSON.stringify(router.toJSON()));
  const { router: r2 } = setup();
  r2.fromJSON(json);
  assert.deepEqual(r2.list(), router.list());
  assert.throws(() => r2.fromJSON([...json, { param: '/netbend/a', kind: 'cc', channel: 16, number: 1 }]), /midi mapping 1: channel must be 0\.\.15/);
  assert.equal(r2.list().length, 1, 'unchanged');
  void params;
});

test('MIDI ports: without an ALSA sequencer, MIDI is unavailable with one clear message', () => {
  const ports = openMidi(() => {}, { virtualName: 'netbend' });
  if (existsSync('/dev/snd/seq')) {
    assert.equal(ports.available, true);
    ports.close();
  } else {
    assert.equal(ports.available, false);
    assert.match(ports.reason!, /MIDI unavailable: no ALSA sequencer/);
  }
});
