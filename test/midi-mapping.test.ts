// MIDI mappings driven by real MIDI byte sequences, as a controller sends them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParameterRegistry } from '../app/core/registry.ts';
import { MidiRouter, type MidiRouterOptions } from '../app/control/midi-mapping.ts';

function setup(opts: MidiRouterOptions = {}) {
  const params = new ParameterRegistry();
  params.define({ address: '/netbend/a', type: 'float', default: 0, min: 0, max: 10 });
  params.define({ address: '/netbend/b', type: 'float', default: 0.5, min: 0, max: 1 });
  params.define({ address: '/netbend/n', type: 'int', default: 0, min: 0, max: 3 });
  params.define({ address: '/netbend/on', type: 'bool', default: false });
  params.define({ address: '/netbend/hit', type: 'trigger', default: false });
  params.define({ address: '/netbend/mode', type: 'enum', default: 'a', options: ['a', 'b', 'c', 'd'] });
  params.define({ address: '/netbend/out', type: 'float', default: 0, readOnly: true });
  const sent: number[][] = [];
  const programs: number[] = [];
  const clock: string[] = [];
  let now = 0;
  const router = new MidiRouter(params, { send: (b) => sent.push(b), onProgram: (p) => programs.push(p), onClock: (k) => clock.push(k), now: () => now, ...opts });
  const hits: number[] = [];
  params.on('change', (c) => c.address === '/netbend/hit' && hits.push(1));
  return { params, router, sent, programs, clock, hits, tick: (s: number) => (now += s), num: (a: string) => params.number(a) };
}
const near = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-9, `${msg ?? ''} ${a} != ${b}`);

test('CC 7-bit: 0 is min, 127 is max, 64 is mid; channel filter', () => {
  const { router, num } = setup();
  router.add({ param: '/netbend/a', kind: 'cc', channel: 2, number: 7 });
  router.handle([0xb2, 7, 127]);
  assert.equal(num('/netbend/a'), 10);
  router.handle([0xb2, 7, 0]);
  assert.equal(num('/netbend/a'), 0);
  router.handle([0xb2, 7, 64]);
  near(num('/netbend/a'), (64 / 127) * 10);
  router.handle([0xb3, 7, 0]); // another channel
  router.handle([0xb2, 8, 0]); // another controller
  near(num('/netbend/a'), (64 / 127) * 10, 'other channels and controllers leave it');
});

test('curves bend the right way; invert and a custom range', () => {
  const at64 = (curve: 'lin' | 'exp' | 'log') => {
    const { router, num } = setup();
    router.add({ param: '/netbend/a', type: 'cc', channel: 'any', number: 1, curve });
    router.handle([0xb5, 1, 64]);
    return num('/netbend/a');
  };
  const lin = at64('lin');
  assert.ok(at64('exp') < lin - 2, 'exp: slow at the bottom, below the middle');
  assert.ok(at64('log') > lin + 2, 'log: fast at the bottom, above the middle');
  const { router, num } = setup();
  router.add({ param: '/netbend/a', kind: 'cc', channel: 'any', number: 1, invert: true, min: 2, max: 4 });
  router.handle([0xb0, 1, 127]);
  assert.equal(num('/netbend/a'), 2, 'inverted: top of travel is the bottom of the range');
  router.handle([0xb0, 1, 0]);
  assert.equal(num('/netbend/a'), 4);
});

test('14-bit CC pairs give 16384 distinct steps; a repeated MSB keeps its LSB', () => {
  const { params, router, num } = setup();
  router.add({ param: '/netbend/b', kind: 'cc14', channel: 0, number: 1 });
  const seen = new Set<number>();
  for (let v = 0; v < 16384; v++) {
    router.handle([0xb0, 1, v >> 7, 0xb0, 33, v & 0x7f]);
    seen.add(num('/netbend/b'));
  }
  assert.equal(seen.size, 16384);
  assert.equal(params.get('/netbend/b'), 1);
  router.handle([0xb0, 1, 64, 33, 100]); // running status for the LSB
  const v = num('/netbend/b');
  near(v, ((64 << 7) | 100) / 16383);
  const values: number[] = [];
  params.on('change', (c) => values.push(c.value as number));
  router.handle([0xb0, 1, 64]);
  assert.deepEqual(values, [], 'same MSB again: no dip to LSB 0');
  router.handle([0xb0, 1, 65]);
  near(num('/netbend/b'), (65 << 7) / 16383, 'a new MSB resets the LSB');
});

test('pitch bend: 14-bit, centre is the middle', () => {
  const { router, num } = setup();
  router.add({ param: '/netbend/b', kind: 'pitchbend', channel: 0, number: 0 });
  router.handle([0xe0, 0x00, 0x40]);
  near(num('/netbend/b'), 8192 / 16383);
  router.handle([0xe0, 0x7f, 0x7f]);
  assert.equal(num('/netbend/b'), 1);
});

test('running status, realtime bytes, sysex, truncated messages and garbage', () => {
  const { params, router, clock, num } = setup();
  router.add({ param: '/netbend/a', kind: 'cc', channel: 0, number: 7 });
  router.handle([0x01, 0x02, 0x7f]); // data with no status
  assert.equal(num('/netbend/a'), 0);
  router.handle([0xb0, 7, 0xf8, 127]); // a clock byte inside a message
  assert.equal(num('/netbend/a'), 10);
  router.handle([7, 0]); // running status
  assert.equal(num('/netbend/a'), 0);
  router.handle([0xf0, 0x7e, 0x7f, 0x06, 0x01, 0x07, 100, 0xf7]); // sysex: its data is not a CC
  router.handle([7, 100]); // sysex cancelled running status
  assert.equal(num('/netbend/a'), 0);
  router.handle([0xf0, 0x01, 0x02, 0xb0, 7, 127]); // a lost F7: the next status byte ends the sysex
  assert.equal(num('/netbend/a'), 10);
  router.handle([0xb0, 7]);
  router.handle([0x90, 60, 100]); // truncated CC, then a note: the CC never happened
  assert.equal(num('/netbend/a'), 10);
  router.handle([0xb0, 7]);
  router.handle([3]); // split across chunks
  near(num('/netbend/a'), (3 / 127) * 10);
  router.handle(new Uint8Array([0xb0, 7, 0]));
  assert.equal(num('/netbend/a'), 0, 'Uint8Array works too');
  router.handle([300, -1, 1.5, NaN] as number[]);
  clock.splice(0);
  router.handle([0xf8, 0xfa, 0xfb, 0xfc]);
  assert.deepEqual(clock, ['tick', 'start', 'continue', 'stop']);
  // Random bytes: never throw, never leave the range, never touch unmapped parameters.
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const before = params.get('/netbend/b');
  for (let i = 0; i < 200; i++) router.handle(Array.from({ length: 50 }, rnd));
  assert.ok(num('/netbend/a') >= 0 && num('/netbend/a') <= 10);
  assert.equal(params.get('/netbend/b'), before);
});

test('soft takeover (pickup) ignores the control until it crosses the value', () => {
  const { params, router, num } = setup();
  router.add({ param: '/netbend/b', kind: 'cc', channel: 0, number: 1, takeover: 'pickup' });
  router.handle([0xb0, 1, 10, 0xb0, 1, 30]);
  assert.equal(num('/netbend/b'), 0.5, 'below the value: no jump');
  router.handle([0xb0, 1, 70]); // crosses 63.5
  near(num('/netbend/b'), 70 / 127);
  router.handle([0xb0, 1, 20]);
  near(num('/netbend/b'), 20 / 127, 'picked up: follows');
  params.set('/netbend/b', 0.9, 'ui'); // moved elsewhere: must be met again
  router.handle([0xb0, 1, 30]);
  near(num('/netbend/b'), 0.9);
  router.handle([0xb0, 1, 127, 0xb0, 1, 110]); // crosses from above too
  near(num('/netbend/b'), 110 / 127);
  const j = setup();
  j.router.add({ param: '/netbend/b', kind: 'cc', channel: 0, number: 1 });
  j.router.handle([0xb0, 1, 10]);
  near(j.num('/netbend/b'), 10 / 127, 'jump (the default) jumps');
});

test('pickup on an inverted mapping waits for the control where the inverted value is', () => {
  const { params, router, num } = setup();
  router.add({ param: '/netbend/a', kind: 'cc', channel: 0, number: 1, takeover: 'pickup', invert: true });
  params.set('/netbend/a', 9, 'ui'); // inverted: near the bottom of the travel (cc 13)
  router.handle([0xb0, 1, 110, 0xb0, 1, 60]);
  assert.equal(num('/netbend/a'), 9, 'far from it (where 9 would be without the invert, too): no jump');
  router.handle([0xb0, 1, 10]); // crosses cc 12.7 going down
  near(num('/netbend/a'), 10 * (1 - 10 / 127), 'met: follows, inverted');
});

test('relative encoders step up and down, clamp at the ends, ints step whole units', () => {
  for (const [encoder, up, down] of [
    ['relative-2c', 1, 127],
    ['relative-bin', 65, 63],
    ['relative-sign', 1, 65],
  ] as const) {
    const { params, router, num } = setup();
    params.set('/netbend/a', 5);
    router.add({ param: '/netbend/a', kind: 'cc', channel: 0, number: 16, encoder });
    router.handle([0xb0, 16, up, 0xb0, 16, up]);
    near(num('/netbend/a'), 5 + 20 / 127, `${encoder} up`);
    router.handle([0xb0, 16, down]);
    near(num('/netbend/a'), 5 + 10 / 127, `${encoder} down`);
  }
  const { router, num } = setup();
  router.add({ param: '/netbend/a', kind: 'cc', channel: 0, number: 16, encoder: 'relative-2c' });
  router.handle([0xb0, 16, 127 - 40]); // a fast spin down: -41 steps from 0
  assert.equal(num('/netbend/a'), 0, 'clamped at min');
  router.add({ param: '/netbend/n', kind: 'cc', channel: 0, number: 17, encoder: 'relative-bin', invert: true });
  router.handle([0xb0, 17, 63]); // one detent down, inverted: up one whole step
  assert.equal(num('/netbend/n'), 1);
});

test('notes: toggle, momentary, trigger; velocity 0 is a release', () => {
  const { params, router, hits, num } = setup();
  router.add({ param: '/netbend/on', kind: 'note', channel: 0, number: 36 }); // bool: toggle by default
  router.add({ param: '/netbend/a', kind: 'note', channel: 0, number: 37, mode: 'momentary' });
  router.add({ param: '/netbend/hit', kind: 'note', channel: 0, number: 38 });
  router.add({ param: '/netbend/b', kind: 'note', channel: 0, number: 39, mode: 'toggle', min: 0.2, max: 0.8 });
  router.handle([0x90, 36, 100, 0x80, 36, 0]);
  assert.equal(params.get('/netbend/on'), true);
  router.handle([0x90, 36, 100, 0x90, 36, 0]);
  assert.equal(params.get('/netbend/on'), false);
  router.handle([0x90, 37, 90]);
  assert.equal(num('/netbend/a'), 10, 'held');
  router.handle([0x80, 37, 0]);
  assert.equal(num('/netbend/a'), 0, 'released');
  router.handle([0x90, 38, 1, 0x80, 38, 0, 0x90, 38, 5]);
  assert.equal(hits.length, 2, 'one fire per press');
  params.set('/netbend/b', 0.3);
  router.handle([0x90, 39, 100]);
  assert.equal(num('/netbend/b'), 0.8, 'toggles away from the nearer end');
  router.handle([0x90, 39, 100]);
  assert.equal(num('/netbend/b'), 0.2);
});

test('program change: the callback always, and mapped parameters', () => {
  const { params, router, programs, num } = setup();
  router.add({ param: '/netbend/n', kind: 'program', channel: 'any', number: 0 });
  router.add({ param: '/netbend/mode', type: 'program', channel: 1 });
  router.handle([0xc1, 2]);
  assert.deepEqual(programs, [2]);
  assert.equal(num('/netbend/n'), 2, 'an int takes the program number');
  assert.equal(params.get('/netbend/mode'), 'c', 'an enum takes its nth option');
  router.handle([0xc0, 9]);
  assert.deepEqual(programs, [2, 9]);
  assert.equal(params.get('/netbend/mode'), 'c', 'other channel');
  assert.equal(num('/netbend/n'), 3, 'clamped to the range');
});

test('CC onto enums and triggers', () => {
  const { params, router, hits } = setup();
  router.add({ param: '/netbend/mode', kind: 'cc', channel: 0, number: 1 });
  router.add({ param: '/netbend/hit', kind: 'cc', channel: 0, number: 2 });
  router.handle([0xb0, 1, 0]);
  assert.equal(params.get('/netbend/mode'), 'a');
  router.handle([0xb0, 1, 127]);
  assert.equal(params.get('/netbend/mode'), 'd');
  router.handle([0xb0, 1, 50]);
  assert.equal(params.get('/netbend/mode'), 'b');
  router.handle([0xb0, 2, 20, 0xb0, 2, 100, 0xb0, 2, 127, 0xb0, 2, 0, 0xb0, 2, 90]);
  assert.equal(hits.length, 2, 'fires when passing the middle going up');
});

test('MIDI learn maps the next control; a quick LSB partner makes it 14-bit', () => {
  const learned: string[] = [];
  const { router, tick, num } = setup({ onLearn: (m) => learned.push(`${m.kind} ${m.channel} ${m.number} ${m.param}`) });
  router.learn('/netbend/a');
  assert.equal(router.learning, '/netbend/a');
  router.handle([0xb4, 80, 64]);
  assert.deepEqual(learned, ['cc 4 80 /netbend/a']);
  assert.equal(router.learning, undefined);
  assert.equal(num('/netbend/a'), 0, 'the learning move itself sets nothing');
  router.handle([0xb4, 80, 0, 0xb4, 80, 127]); // learned mappings pick up softly
  assert.equal(num('/netbend/a'), 10);
  router.learn('/netbend/a'); // re-learn replaces
  router.handle([0x84, 40, 0]); // a release is not a gesture
  router.handle([0x94, 40, 100]);
  assert.deepEqual(
    router.list().map((m) => [m.kind, m.number]),
    [['note', 40]],
  );

  router.learn('/netbend/b');
  router.handle([0xb0, 2, 10]);
  tick(0.005);
  router.handle([0xb0, 34, 5]);
  assert.equal(router.list().find((m) => m.param === '/netbend/b')!.kind, 'cc14');
  router.learn('/netbend/n');
  router.handle([0xb0, 3, 10]);
  tick(0.5);
  router.handle([0xb0, 35, 5]);
  assert.equal(router.list().find((m) => m.param === '/netbend/n')!.kind, 'cc', 'too late for a partner');

  router.learn('/netbend/on');
  router.cancelLearn();
  router.handle([0xb0, 9, 1]);
  assert.equal(
    router.list().some((m) => m.param === '/netbend/on'),
    false,
    'cancelled',
  );
  router.learn('/netbend/b');
  router.learn(undefined);
  assert.equal(router.learning, undefined);
  assert.throws(() => router.learn('/netbend/none'), /no parameter \/netbend\/none/);
  assert.throws(() => router.learn('/netbend/out'), /read-only/);
});

test('feedback: other sources send bytes back (inverse curve), MIDI changes do not echo', () => {
  const { params, router, sent } = setup();
  router.add({ param: '/netbend/a', kind: 'cc', channel: 1, number: 7, curve: 'exp' });
  router.add({ param: '/netbend/on', kind: 'note', channel: 0, number: 40 });
  router.add({ param: '/netbend/b', kind: 'cc14', channel: 'any', number: 3 });
  router.add({ param: '/netbend/hit', kind: 'note', channel: 0, number: 41 });
  params.set('/netbend/a', 2.5, 'osc'); // exp: a quarter of the range sits at the middle of travel
  assert.deepEqual(sent.splice(0), [[0xb1, 7, 64]]);
  router.handle([0xb1, 7, 100]);
  assert.deepEqual(sent, [], 'no echo of MIDI input');
  params.set('/netbend/on', true, 'ui');
  assert.deepEqual(sent.splice(0), [[0x90, 40, 127]]);
  router.handle([0xb5, 3, 0, 0xb5, 35, 0]); // heard on channel 5
  params.set('/netbend/b', 1, 'preset');
  assert.deepEqual(
    sent.splice(0),
    [
      [0xb5, 3, 127],
      [0xb5, 35, 127],
    ],
    '14-bit, back on the channel it was heard on',
  );
  params.set('/netbend/hit', true, 'ui');
  params.set('/netbend/n', 2, 'ui');
  assert.deepEqual(sent, [], 'triggers and unmapped parameters send nothing');
});

test('smoothing is handed to the registry: the value glides, the target jumps', () => {
  const { params, router } = setup();
  router.add({ param: '/netbend/a', kind: 'cc', channel: 0, number: 1, smoothing: 0.5 });
  router.handle([0xb0, 1, 127]);
  assert.equal(params.target('/netbend/a'), 10);
  assert.equal(params.get('/netbend/a'), 0, 'not there yet');
  params.tick(0.5);
  const mid = params.number('/netbend/a');
  assert.ok(mid > 5 && mid < 7, `one time constant in: ${mid}`);
  params.set('/netbend/a', 3, 'ui'); // other sources keep the parameter's own (no) smoothing
  assert.equal(params.get('/netbend/a'), 3);
});

test('mappings round-trip through JSON; bad ones are refused whole with clear errors', () => {
  const { router } = setup();
  router.add({ param: '/netbend/a', kind: 'cc', channel: 0, number: 7, curve: 'exp', takeover: 'pickup', smoothing: 0.1 });
  router.add({ id: 'pad', param: '/netbend/on', kind: 'note', channel: 'any', number: 36, mode: 'toggle' });
  const json = JSON.parse(JSON.stringify(router.toJSON()));
  const r2 = setup().router;
  r2.fromJSON(json);
  assert.deepEqual(r2.list(), router.list());
  const bad: Array<[unknown, RegExp]> = [
    [{ param: '/netbend/a', kind: 'cc', channel: 16, number: 1 }, /midi mapping 2: channel must be 0\.\.15/],
    [{ param: '/netbend/a', kind: 'cc', channel: 0, number: 1, chanel: 2 }, /unknown field "chanel"/],
    [{ param: '/netbend/zz', kind: 'cc', channel: 0, number: 1 }, /no parameter \/netbend\/zz/],
    [{ param: '/netbend/a', kind: 'cc14', channel: 0, number: 40 }, /number must be 0\.\.31 for cc14/],
    [{ param: '/netbend/a', kind: 'note', channel: 0, number: 1, encoder: 'relative-2c' }, /7-bit CC only/],
    [{ param: '/netbend/a', kind: 'knob', channel: 0, number: 1 }, /kind must be one of/],
    [{ param: '/netbend/a', kind: 'cc', channel: 0, number: 1, curve: 'cubic' }, /curve must be one of lin, exp, log/],
    [{ id: 'pad', param: '/netbend/a', kind: 'cc', channel: 0, number: 1 }, /duplicate id "pad"/],
  ];
  for (const [entry, err] of bad) assert.throws(() => r2.fromJSON([...json, entry]), err);
  assert.throws(() => r2.fromJSON({}), /expected an array/);
  assert.deepEqual(r2.list(), router.list(), 'unchanged by the refused lists');
  r2.fromJSON([
    { param: '/netbend/b', kind: 'cc', channel: 0, number: 1 },
    { id: 'midi1', param: '/netbend/a', kind: 'cc', channel: 0, number: 2 },
  ]);
  assert.deepEqual(
    r2
      .list()
      .map((m) => m.id)
      .sort(),
    ['midi1', 'midi2'],
    'made-up ids never take a saved one',
  );
});

test('a callback that throws does not stop the byte stream', () => {
  const { router, num } = setup({
    onProgram: () => {
      throw new Error('boom');
    },
  });
  router.add({ param: '/netbend/a', kind: 'cc', channel: 0, number: 7 });
  router.handle([0xc0, 1, 0xb0, 7, 127]);
  assert.equal(num('/netbend/a'), 10);
});
